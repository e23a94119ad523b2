package pipelines_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/pcamflow/pcamflow/pipelines"
	"github.com/pcamflow/pcamflow/stages/builtin"
)

// FuzzLoad feeds arbitrary bytes to the loader: it must never panic, and a nil pipeline must come
// with at least one error diagnostic. Seeds are every test pipeline plus testdata/fuzz/FuzzLoad.
// Run it longer with: go test ./pipelines -run '^$' -fuzz FuzzLoad -fuzztime 60s
func FuzzLoad(f *testing.F) {
	files, _ := filepath.Glob("testdata/*/*.hcl")
	for _, name := range files {
		src, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	f.Add(pipelines.Quickstart)
	reg := builtin.Registry()
	f.Fuzz(func(t *testing.T, src []byte) {
		p, diags := pipelines.Load("fuzz.hcl", src, reg, pipelines.Options{Vars: []string{"count=3"}})
		if p == nil && !diags.HasErrors() {
			t.Fatalf("nil pipeline without an error diagnostic")
		}
		if p != nil {
			_ = len(p.Order)
		}
	})
}
