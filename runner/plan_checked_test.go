package runner

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/pcamflow/pcamflow/cache"
	"github.com/pcamflow/pcamflow/pipelines"
	"github.com/pcamflow/pcamflow/stages/builtin"
)

// TestPlanReusesCheckedConfiguration: a node whose upstream nodes all will run takes the
// configuration loading evaluated; the plan, the prepared tasks and the exposed values are those
// of evaluating it again.
func TestPlanReusesCheckedConfiguration(t *testing.T) {
	const src = `
variable "n" {
  default = 4
}
command "shard" {
  for_each = range(var.n)
  run      = ["sh", "-c", "echo ${each.key} > out/${each.key}.txt"]
  outputs  = ["out/${each.key}.txt"]
}
command "join" {
  run     = ["sh", "-c", "cat out/*.txt > all.txt"]
  inputs  = [for s in command.shard : s.outputs[0]]
  outputs = { all = "all.txt" }
}
command "report" {
  for_each = ["a", "b"]
  run      = ["echo", each.key, command.join.outputs.all]
  inputs   = [command.join.outputs.all]
}
command "last" {
  run    = ["true"]
  inputs = [for r in command.report : r.outputs == [] ? "all.txt" : "x"]
}
`
	type result struct {
		plan    []PlannedNode
		tasks   map[string]string
		exposed map[string]cty.Value
	}
	planWith := func(reuse bool) result {
		reuseChecked = reuse
		defer func() { reuseChecked = true }()
		dir := t.TempDir()
		p, diags := pipelines.Load(filepath.Join(dir, "p.hcl"), []byte(src), builtin.Registry(), pipelines.Options{})
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		store, err := cache.Open(filepath.Join(dir, ".pcamflow"))
		if err != nil {
			t.Fatal(err)
		}
		defer store.Close()
		r, err := New(p, store, nil, dir, Options{})
		if err != nil {
			t.Fatal(err)
		}
		pl := newPlanner(r, len(p.Nodes))
		w := &walk{nodes: p.Nodes, limit: 1, visit: pl.visit, settled: func(*NodeResult) {}}
		if err := w.run(context.Background()); err != nil {
			t.Fatal(err)
		}
		tasks := map[string]string{}
		for addr, task := range r.tasks {
			tasks[addr] = fmtTask(task.Inputs, task.Optional, task.OutputNames())
		}
		if reuse && !pl.asChecked["command.join"] {
			t.Error("the join did not reuse the configuration loading evaluated")
		}
		return result{plan: pl.plan, tasks: tasks, exposed: pl.exposed.nodes}
	}
	with, without := planWith(true), planWith(false)
	if !reflect.DeepEqual(with.plan, without.plan) {
		t.Errorf("plans differ:\n%+v\n%+v", with.plan, without.plan)
	}
	if !reflect.DeepEqual(with.tasks, without.tasks) {
		t.Errorf("tasks differ:\n%v\n%v", with.tasks, without.tasks)
	}
	if len(with.exposed) != len(without.exposed) {
		t.Fatalf("%d exposed values, want %d", len(with.exposed), len(without.exposed))
	}
	for addr, v := range without.exposed {
		if !with.exposed[addr].RawEquals(v) {
			t.Errorf("%s exposes %#v, want %#v", addr, with.exposed[addr], v)
		}
	}
}

func fmtTask(inputs, optional, outputs []string) string {
	return "inputs=" + joinAll(inputs) + " optional=" + joinAll(optional) + " outputs=" + joinAll(outputs)
}

func joinAll(a []string) string {
	s := ""
	for _, x := range a {
		s += x + ","
	}
	return s
}
