package runner_test

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/pcamflow/pcamflow/internal/state"
	"github.com/pcamflow/pcamflow/runner"
)

// TestTrainBudgetsContinue runs the train kind as the base of budgeted children: a child of the
// base configuration at budget 1, then one at budget 3 (the configured epochs), which resumes from
// epoch 1 in the shared resume folder and publishes outputs bit-identical to the base node's
// straight run of 3 epochs.
func TestTrainBudgetsContinue(t *testing.T) {
	p := newProject(t)
	src := func(budgets string) string {
		return `
dataset "d" {
  synthetic = { train = 64, valid = 32, test = 16, seed = 1, defects = false }
}

train "t" {
  dataset    = dataset.d
  model      = { arch = "mlp", hidden_units = [4] }
  epochs     = 3
  batch_size = 16
  scheduler  = { name = "cosine", t_max = 3 }
}

fanout "f" {
  base_ref = train.t
  count    = 1
  budgets  = ` + budgets + `
}
`
	}
	digestsOf := func(outs map[string]string) string {
		var parts []string
		for name, d := range outs {
			parts = append(parts, name+"="+d)
		}
		sort.Strings(parts)
		return strings.Join(parts, ",")
	}
	childLine := func(sum *runner.Summary) (string, runner.NodeResult) {
		kids := children(sum, "fanout.f")
		if len(kids) != 1 || kids[0].State != state.Succeeded {
			t.Fatalf("children %+v", kids)
		}
		line := strings.TrimSpace(p.read(strings.TrimPrefix(result(t, sum, "fanout.f").Outputs["digests.txt"].Path, p.dir+"/")))
		return line, kids[0]
	}

	sum1, out1 := p.run(src("[1]"), runner.Options{})
	if !sum1.OK() {
		t.Fatalf("budget 1:\n%s", out1)
	}
	line1, kid1 := childLine(sum1)
	sum3, out3 := p.run(src("[3]"), runner.Options{})
	if !sum3.OK() {
		t.Fatalf("budget 3:\n%s", out3)
	}
	line3, kid3 := childLine(sum3)
	if kid1.Key == kid3.Key || kid3.Key == result(t, sum3, "train.t").Key {
		t.Fatalf("keys: budget 1 %s, budget 3 %s, base %s; want three different keys", kid1.Key, kid3.Key, result(t, sum3, "train.t").Key)
	}
	log3, err := os.ReadFile(kid3.LogPath)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(log3), "resuming from epoch 1") {
		t.Errorf("the budget-3 child did not resume from the budget-1 child's epoch:\n%s", log3)
	}
	// The child's outputs: its line in digests.txt is "ADDR name=type:digest12,...".
	base, ok, err := p.store.GetRecord(result(t, sum3, "train.t").Key)
	if err != nil || !ok {
		t.Fatalf("the base node's record: %v %v", ok, err)
	}
	want := map[string]string{}
	for name, o := range base.Outputs {
		want[name] = o.Type + ":" + o.Digest[:12]
	}
	if got := strings.TrimPrefix(line3, kid3.Node+" "); got != digestsOf(want) {
		t.Errorf("budget 1 then 3 published\n  %s\nthe straight run of 3 epochs\n  %s", got, digestsOf(want))
	}
	if strings.TrimPrefix(line1, kid1.Node+" ") == digestsOf(want) {
		t.Error("the budget-1 child published the outputs of 3 epochs")
	}
	if _, err := os.Stat(filepath.Join(p.ws, "resume")); err != nil {
		t.Errorf("the shared resume folder is gone after a budgeted child: %v", err)
	}
}
