package pipelines_test

import (
	"strings"
	"testing"

	"github.com/pcamflow/pcamflow/pipelines"
	"github.com/pcamflow/pcamflow/stages/builtin"
)

// TestForEachInstances checks the instances for_each yields (their order and keys) and the
// problems it reports, for lists, sets, tuples, maps and objects.
func TestForEachInstances(t *testing.T) {
	cases := []struct {
		forEach string
		addrs   []string // instance keys in order
		err     string   // a diagnostic containing this, instead
	}{
		{forEach: `range(3)`, addrs: []string{"0", "1", "2"}},
		{forEach: `range(4, 0, -2)`, addrs: []string{"2", "4"}},
		{forEach: `["b", "10", "a", "9", "1.5"]`, addrs: []string{"1.5", "9", "10", "a", "b"}},
		{forEach: `setunion(["y"], ["x"])`, addrs: []string{"x", "y"}},
		{forEach: `[for i in range(70) : i * 2]`, addrs: nil}, // 70 instances, checked below
		{forEach: `{ small = 64, large = 256 }`, addrs: []string{"large", "small"}},
		{forEach: `zipmap(["b", "a"], ["1", "2"])`, addrs: []string{"a", "b"}},
		{forEach: `["a", "a"]`, err: `for_each yields the key "a" twice`},
		{forEach: `[1, 1.0]`, err: `for_each yields the key "1" twice`},
		{forEach: `["a", true]`, err: "for_each must be a list or set of strings or numbers"},
		{forEach: `["a", null]`, err: "for_each must be a list or set of strings or numbers"},
		{forEach: `"a"`, err: "for_each must be a list or set of strings or numbers"},
	}
	for _, c := range cases {
		src := "command \"s\" {\n  for_each = " + c.forEach + "\n  run = [\"echo\", \"${each.key}\"]\n}\n"
		p, diags := pipelines.Load("p.hcl", []byte(src), builtin.Registry(), pipelines.Options{})
		if c.err != "" {
			if !diags.HasErrors() || !strings.Contains(diags.Error(), c.err) {
				t.Errorf("for_each = %s: %v, want an error containing %q", c.forEach, diags, c.err)
			}
			continue
		}
		if diags.HasErrors() {
			t.Errorf("for_each = %s: %s", c.forEach, diags.Error())
			continue
		}
		s, _ := p.Stage("command.s")
		var keys []string
		for _, n := range s.Nodes {
			keys = append(keys, n.Key)
			cfg, _, _ := n.Static()
			if run := cfg.GetAttr("run").AsValueSlice(); run[1].AsString() != n.Key {
				t.Errorf("for_each = %s: %s ran with each.key %q", c.forEach, n.Addr, run[1].AsString())
			}
		}
		if c.addrs == nil {
			if len(keys) != 70 || keys[69] != "138" {
				t.Errorf("for_each = %s: keys %v", c.forEach, keys)
			}
			continue
		}
		if strings.Join(keys, ",") != strings.Join(c.addrs, ",") {
			t.Errorf("for_each = %s: keys %v, want %v", c.forEach, keys, c.addrs)
		}
	}
}
