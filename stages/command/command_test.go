package command

import (
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

func cfg(run []string, outputs cty.Value, workdir string) cty.Value {
	r := []cty.Value{}
	for _, a := range run {
		r = append(r, cty.StringVal(a))
	}
	runV := cty.ListValEmpty(cty.String)
	if len(r) > 0 {
		runV = cty.ListVal(r)
	}
	return cty.ObjectVal(map[string]cty.Value{
		"run": runV, "inputs": cty.ListValEmpty(cty.String), "outputs": outputs,
		"env": cty.MapValEmpty(cty.String), "workdir": cty.StringVal(workdir), "description": cty.StringVal(""),
	})
}

func at(string) *hcl.Range { return &hcl.Range{Filename: "p.hcl"} }

func TestPrepare(t *testing.T) {
	list := func(p ...string) cty.Value {
		var vs []cty.Value
		for _, s := range p {
			vs = append(vs, cty.StringVal(s))
		}
		return cty.TupleVal(vs)
	}
	cases := []struct {
		name    string
		cfg     cty.Value
		wantErr string
		outputs map[string]string
		scripts []string
	}{
		{"list outputs named by path", cfg([]string{"python3", "train.py", "--fast"}, list("out/a.txt", "./out/b"), "."), "",
			map[string]string{"out/a.txt": "out/a.txt", "out/b": "out/b"}, []string{"python3", "train.py"}},
		{"map outputs", cfg([]string{"true"}, cty.ObjectVal(map[string]cty.Value{"m": cty.StringVal("r/m.json")}), "."), "",
			map[string]string{"m": "r/m.json"}, []string{"true"}},
		{"empty run", cfg(nil, list(), "."), "Empty command", nil, nil},
		{"absolute output", cfg([]string{"true"}, list("/etc/x"), "."), "is absolute", nil, nil},
		{"escaping output", cfg([]string{"true"}, list("../x"), "."), "leaves the project", nil, nil},
		{"output in the workspace", cfg([]string{"true"}, list(".pcamflow/x"), "."), "inside the workspace", nil, nil},
		{"duplicate output", cfg([]string{"true"}, list("a", "./a"), "."), "declared twice", nil, nil},
		{"duplicate output in a map", cfg([]string{"true"}, cty.ObjectVal(map[string]cty.Value{"a": cty.StringVal("x"), "b": cty.StringVal("./x")}), "."),
			`Output "./x" is declared twice`, nil, nil},
		{"list value outputs", cfg([]string{"true"}, cty.ListVal([]cty.Value{cty.StringVal("o/a"), cty.StringVal("o//b")}), "."), "",
			map[string]string{"o/a": "o/a", "o/b": "o/b"}, []string{"true"}},
		{"set outputs", cfg([]string{"true"}, cty.SetVal([]cty.Value{cty.StringVal("o/a"), cty.StringVal("o/b")}), "."), "",
			map[string]string{"o/a": "o/a", "o/b": "o/b"}, []string{"true"}},
		{"unknown outputs skipped", cfg([]string{"true"}, cty.TupleVal([]cty.Value{cty.StringVal("a"), cty.UnknownVal(cty.String)}), "."), "",
			map[string]string{"a": "a"}, []string{"true"}},
		{"unknown map output skipped", cfg([]string{"true"}, cty.ObjectVal(map[string]cty.Value{"a": cty.UnknownVal(cty.String), "b": cty.StringVal("x")}), "."), "",
			map[string]string{"b": "x"}, []string{"true"}},
		{"output not a string", cfg([]string{"true"}, cty.TupleVal([]cty.Value{cty.True}), "."), "Every output must be a path string", nil, nil},
		{"bad workdir", cfg([]string{"true"}, list(), "/tmp"), "Invalid workdir", nil, nil},
		{"outputs not a collection", cfg([]string{"true"}, cty.StringVal("a"), "."), "list of paths", nil, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			task, diags := Kind{}.Prepare(c.cfg, at)
			if c.wantErr != "" {
				if !diags.HasErrors() || !strings.Contains(diags.Error(), c.wantErr) {
					t.Fatalf("want an error containing %q, got %v", c.wantErr, diags)
				}
				return
			}
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			if len(task.Outputs) != len(c.outputs) {
				t.Fatalf("outputs %v, want %v", task.Outputs, c.outputs)
			}
			for name, p := range c.outputs {
				if task.Outputs[name].Path != p {
					t.Errorf("output %s = %q, want %q", name, task.Outputs[name].Path, p)
				}
			}
			if strings.Join(task.Optional, ",") != strings.Join(c.scripts, ",") {
				t.Errorf("script candidates %v, want %v", task.Optional, c.scripts)
			}
		})
	}
}
