package runner

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// keyOfReference is keyOf as it was written first (fmt into the hash); keyOf must give the same
// keys, or every cache entry of every workspace would be lost.
func keyOfReference(comp map[string]string) string {
	h := sha256.New()
	h.Write([]byte(keyFormat + "\n"))
	keys := make([]string, 0, len(comp))
	for k := range comp {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(h, "%d:%s=%d:%s\n", len(k), k, len(comp[k]), comp[k])
	}
	return hex.EncodeToString(h.Sum(nil))
}

func TestKeyOfMatchesReference(t *testing.T) {
	comps := []map[string]string{
		{},
		{"kind": "command", "version": "1", "seed": "1", "param.run": `["sh","-c","echo é > out/1.txt"]`},
		{"a": "", "": "b", "dep:command.x[\"1\"]": strings.Repeat("f", 64), "input:data/a b.txt": "file:" + strings.Repeat("0", 64)},
		{"long": strings.Repeat("x\n=:", 10000)},
	}
	// More names than keyOf keeps on the stack, and buffers just below and above its stack buffer.
	many := map[string]string{}
	for i := range 40 {
		many[fmt.Sprintf("param.p%02d", i)] = strings.Repeat("v", i)
	}
	comps = append(comps, many)
	for _, n := range []int{1990, 2000, 2010, 2030} {
		comps = append(comps, map[string]string{"kind": "command", "param.run": strings.Repeat("r", n)})
	}
	for _, c := range comps {
		if got, want := keyOf(c), keyOfReference(c); got != want {
			t.Errorf("keyOf(%d components) = %s, want %s", len(c), got, want)
		}
	}
}

// manyDeps returns n dep components, and the same with the first changed of them changed.
func manyDeps(n, changed int) (prev, cur map[string]string) {
	prev, cur = map[string]string{"kind": "command"}, map[string]string{"kind": "command"}
	for i := 0; i < n; i++ {
		k := fmt.Sprintf(`dep:command.shard["%05d"]`, i)
		prev[k], cur[k] = rep('a'), rep('a')
		if i < changed {
			cur[k] = rep('b')
		}
	}
	return prev, cur
}

func TestWhySummarisesManyChanges(t *testing.T) {
	prev, cur := manyDeps(100000, 99998)
	cur["param.run"] = `["true"]`
	cur["input:big/1.txt"], cur["input:big/2.txt"] = "file:"+rep('c'), "file:"+rep('c')
	for i := 0; i < 7; i++ {
		prev[fmt.Sprintf("input:old/%d.txt", i)] = "file:" + rep('d')
	}
	got := why(prev, cur)
	want := []string{
		`outputs changed: 99,998 of 100,000 upstream nodes (command.shard["00000"], command.shard["00001"], command.shard["00002"] and 99,995 more)`,
		"new input big/1.txt", "new input big/2.txt",
		"inputs no longer read: 7 inputs (old/0.txt, old/1.txt, old/2.txt and 4 more)",
		`parameter run added: ["true"]`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("why() =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if n := len(strings.Join(got, "; ")); n > 1000 {
		t.Errorf("the reason is %d bytes long", n)
	}
}

func TestWhyListsFewChanges(t *testing.T) {
	prev, cur := manyDeps(10, maxListed)
	got := why(prev, cur)
	if len(got) != maxListed || got[0] != `outputs of command.shard["00000"] changed` {
		t.Errorf("why() = %q, want each of %d changes listed", got, maxListed)
	}
	prev, cur = manyDeps(10, maxListed+1)
	if got := why(prev, cur); len(got) != 1 || !strings.HasPrefix(got[0], "outputs changed: 6 of 10 upstream nodes (") {
		t.Errorf("why() = %q, want one summary", got)
	}
}

func TestWaitingReason(t *testing.T) {
	many := make([]string, 100000)
	for i := range many {
		many[i] = fmt.Sprintf(`command.shard["%d"]`, i)
	}
	cases := []struct {
		in   []string
		want string
	}{
		{nil, "inputs from upstream stages will be recomputed first"},
		{[]string{"command.a"}, "inputs from command.a will be recomputed first"},
		{many[:5], `inputs from command.shard["0"], command.shard["1"], command.shard["2"], command.shard["3"], command.shard["4"] will be recomputed first`},
		{many, `inputs from 100,000 upstream nodes will be recomputed first (command.shard["0"], command.shard["1"], command.shard["2"] and 99,997 more)`},
	}
	for _, c := range cases {
		if got := waitingReason(c.in); got != c.want {
			t.Errorf("waitingReason(%d) = %q, want %q", len(c.in), got, c.want)
		}
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int]string{0: "0", 7: "7", 999: "999", 1000: "1,000", 99998: "99,998", 1234567: "1,234,567", -1500: "-1,500"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}
