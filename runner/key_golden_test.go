package runner_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/pcamflow/pcamflow/internal/state"
	"github.com/pcamflow/pcamflow/runner"
)

// goldenKeys are the keys of the nodes of keysSource after a run, as pcamflow computed them when
// this test was written: a key that changes loses every cache entry of every workspace. The
// pipeline covers for_each over a map and a range, map outputs, env, numbers, a parameter not in
// the key (description), an input file, a script path, upstream outputs as inputs and a join.
var goldenKeys = map[string]string{
	`command.prep["large"]`: "b459085123c202360e0bd8e73ccc0ea84df0f1c9c57a66e2c963ecf80838d3be",
	`command.prep["small"]`: "ddf4b9c0360e665cb3aef4661375abe0dc904b6a97b2992ec0ca0a5a17193489",
	`command.fan["0"]`:      "00b0344ae899390a66c224d424b6b5ea1645f8c899137e764e72e35397c06d45",
	`command.fan["1"]`:      "e929464b64147fb739bf4c7b086394b33cf04c91493d78ff3f6d4021f75930c1",
	`command.fan["2"]`:      "fc089e9fc00ffea32aed06e3896780b159dce96498f451582353ce566246b342",
	`command.join`:          "2752acd5803cf728a7e2d53fd47f9cdd21f98c6a097f1658f621cf1405d5e02d",
}

const keysSource = `
variable "n" {
  default = 3
}
pipeline "keys" {
  seed = 7
}
command "prep" {
  for_each    = { small = 1, large = 20 }
  run         = ["sh", "-c", "mkdir -p out && echo ${each.value} > out/${each.key}.txt"]
  inputs      = ["data/in.txt"]
  outputs     = { result = "out/${each.key}.txt" }
  env         = { SIZE = "${each.value}", NAME = "x<&>\"é" }
  description = "prep ${each.key}"
}
command "fan" {
  for_each = range(var.n)
  run      = ["sh", "script.sh", "${each.value * 1.5}", "${each.key}"]
  outputs  = ["fan-${each.key}.txt"]
  workdir  = "."
}
command "join" {
  run     = ["sh", "-c", "cat fan-*.txt out/small.txt > all.txt"]
  inputs  = concat([for s in command.fan : s.outputs[0]], [command.prep["small"].outputs.result])
  outputs = ["all.txt"]
}
`

func TestKeysUnchanged(t *testing.T) {
	p := newProject(t)
	if err := os.MkdirAll(filepath.Join(p.dir, "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string]string{"data/in.txt": "hello\n", "script.sh": "echo \"$1\" > \"fan-$2.txt\"\n"} {
		if err := os.WriteFile(filepath.Join(p.dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p.run(keysSource, runner.Options{Jobs: 1})
	r, _ := p.runner(keysSource, runner.Options{})
	plan, err := r.Plan(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(plan) != 6 {
		t.Fatalf("%d planned nodes, want 6", len(plan))
	}
	for _, pn := range plan {
		if pn.State != state.Cached {
			t.Errorf("%s is %s after the run, want cached (%v)", pn.Node, pn.State, pn.Reasons)
		}
		if pn.Key != goldenKeys[pn.Node] {
			t.Errorf("key of %s: %q, want %q", pn.Node, pn.Key, goldenKeys[pn.Node])
		}
	}
}
