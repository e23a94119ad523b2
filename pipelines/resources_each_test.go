package pipelines_test

import (
	"strings"
	"testing"

	"github.com/pcamflow/pcamflow/pipelines"
	"github.com/pcamflow/pcamflow/stages/builtin"
)

// TestResourcesPerInstance checks that a for_each stage's resources block may use each: every
// instance gets its own partition and GPUs, the stage keeps the executor.
func TestResourcesPerInstance(t *testing.T) {
	src := `
command "bench" {
  for_each = { cpu = "cpu", gpu = "gpu" }
  run      = ["true"]
  resources {
    executor  = "slurm"
    partition = each.value
    gpus      = each.key == "gpu" ? 1 : 0
    time      = "00:10:00"
  }
}
command "plain" {
  for_each = ["a", "b"]
  run      = ["true"]
  resources {
    partition = "cpu"
  }
}
`
	p, diags := pipelines.Load("each.hcl", []byte(src), builtin.Registry(), pipelines.Options{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	for _, tc := range []struct {
		addr, partition string
		gpus            int
	}{{`command.bench["cpu"]`, "cpu", 0}, {`command.bench["gpu"]`, "gpu", 1}} {
		n, ok := p.Node(tc.addr)
		if !ok || n.Resources == nil {
			t.Fatalf("%s: no node or no resources of its own", tc.addr)
		}
		if r := n.Resources; r.Partition != tc.partition || r.GPUs != tc.gpus || r.Executor != "slurm" || r.Time != "00:10:00" {
			t.Errorf("%s: resources %+v", tc.addr, r)
		}
	}
	n, _ := p.Node(`command.bench["gpu"]`)
	if s := n.Stage; s.Resources == nil || s.Resources.Executor != "slurm" {
		t.Errorf("the stage's resources = %+v, want the executor", s.Resources)
	}
	a, _ := p.Node(`command.plain["a"]`)
	if a.Resources != nil || a.Stage.Resources.Partition != "cpu" {
		t.Errorf("a block without each: node resources %+v, stage %+v", a.Resources, a.Stage.Resources)
	}
}

// TestResourcesPerInstanceErrors checks the diagnostics: a bad value in one instance names its
// position once, and an executor that differs between instances is refused.
func TestResourcesPerInstanceErrors(t *testing.T) {
	for _, tc := range []struct{ name, src, want string }{
		{"executor varies", `
command "x" {
  for_each = { a = "local", b = "slurm" }
  run      = ["true"]
  resources {
    executor = each.value
  }
}`, "every instance of a stage runs on the same executor"},
		{"bad partition", `
command "x" {
  for_each = { a = "bad name", b = "bad name" }
  run      = ["true"]
  resources {
    partition = each.value
  }
}`, "partition"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, diags := pipelines.Load("each.hcl", []byte(tc.src), builtin.Registry(), pipelines.Options{})
			if !diags.HasErrors() {
				t.Fatal("no error")
			}
			if len(diags) != 1 || diags[0].Subject == nil || !strings.Contains(diags[0].Error(), tc.want) {
				t.Errorf("diagnostics = %v, want one with a range mentioning %q", diags, tc.want)
			}
		})
	}
}
