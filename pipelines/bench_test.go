package pipelines_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/pcamflow/pcamflow/pipelines"
	"github.com/pcamflow/pcamflow/stages/builtin"
)

// fanout returns a pipeline of n trivial command stages joined by one stage that reads them all.
func fanout(n int) []byte {
	var b strings.Builder
	b.WriteString("pipeline \"fanout\" {\n  seed = 1\n}\n\n")
	refs := make([]string, n)
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "command \"n%d\" {\n  run     = [\"sh\", \"-c\", \"echo %d > out/%d.txt\"]\n  outputs = [\"out/%d.txt\"]\n}\n\n", i, i, i, i)
		refs[i] = fmt.Sprintf("command.n%d.outputs[0]", i)
	}
	fmt.Fprintf(&b, "command \"join\" {\n  run     = [\"sh\", \"-c\", \"ls out | wc -l > all.txt\"]\n  inputs  = [%s]\n  outputs = [\"all.txt\"]\n}\n", strings.Join(refs, ", "))
	return []byte(b.String())
}

// BenchmarkLoad10k measures parsing and checking a 10,001-stage pipeline.
func BenchmarkLoad10k(b *testing.B) {
	src := fanout(10000)
	reg := builtin.Registry()
	b.SetBytes(int64(len(src)))
	for i := 0; i < b.N; i++ {
		if _, diags := pipelines.Load("fanout.hcl", src, reg, pipelines.Options{}); diags.HasErrors() {
			b.Fatal(diags.Error())
		}
	}
}

// BenchmarkLoadForEach measures loading a for_each fan-out of 30,000 command instances and one
// stage that reads them all (the shape of issue 13 item 5, without planning).
func BenchmarkLoadForEach(b *testing.B) {
	src := []byte(`command "shard" {
  for_each = range(30000)
  run      = ["sh", "-c", "echo ${each.key} > out/${each.key}.txt"]
  outputs  = ["out/${each.key}.txt"]
}

command "join" {
  run     = ["sh", "-c", "cat out/*.txt | wc -l > all.txt"]
  inputs  = [for s in command.shard : s.outputs[0]]
  outputs = ["all.txt"]
}
`)
	reg := builtin.Registry()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, diags := pipelines.Load("fan.hcl", src, reg, pipelines.Options{}); diags.HasErrors() {
			b.Fatal(diags.Error())
		}
	}
}
