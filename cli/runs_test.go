package cli_test

import (
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pcamflow/pcamflow/track"
)

// runsFixture is a workspace with three pipeline runs recorded through the track API, as the
// runner and the train stage record them.
type runsFixture struct {
	ws string
	// node-run ids
	dataA, mlpA, dataB, mlpB, cnnB, mlpC int64
}

// Run ids of the fixture (one hour apart).
const (
	runA = "20261127T080000Z-aaaaaa"
	runB = "20261127T090000Z-bbbbbb"
	runC = "20261127T100000Z-cccccc"
)

// epochMetrics returns the metrics the train stage logs at one epoch, with per-layer gradient
// norms for layers fc1 and out.
func epochMetrics(auc, loss, lr, gradScale float64) map[string]float64 {
	return map[string]float64{
		"train_loss": loss + 0.05, "val_loss": loss, "val_roc_auc": auc, "val_f_beta": auc - 0.1,
		"val_accuracy": auc - 0.05, "lr": lr, "epoch_seconds": 12.5, "images_per_second": 20480,
		"data_wait_share":    0.02,
		"grad_norm_mean/fc1": 0.5 * gradScale, "grad_norm_max/fc1": 2 * gradScale,
		"grad_norm_mean/out": 0.05 * gradScale, "grad_norm_max/out": 0.25 * gradScale,
	}
}

// newRunsFixture records:
//
//	run A: dataset.synth (no metrics), train.mlp (lr 0.01, hidden [128], 3 epochs)
//	run B: dataset.synth cached from A, train.mlp (lr 0.001, hidden [256, 64], 2 epochs, NaN grad
//	       norm at epoch 2), train.cnn failed
//	run C: train.mlp cached from run B's
func newRunsFixture(t *testing.T) *runsFixture {
	t.Helper()
	f := &runsFixture{ws: filepath.Join(t.TempDir(), "ws")}
	db, err := track.Open(filepath.Join(f.ws, "pcamflow.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	t0 := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	node := func(run, addr, kind, key string, start time.Time, params string) *track.NodeRun {
		n := &track.NodeRun{RunID: run, Node: addr, Kind: kind, Key: key, Started: start, Host: "h1",
			Params: json.RawMessage(params), LogPath: "logs/" + addr + ".log", Executor: "local"}
		must(db.StartNode(n))
		return n
	}
	finish := func(n *track.NodeRun, state track.NodeState, d time.Duration) {
		n.State, n.Finished = state, n.Started.Add(d)
		if state == track.NodeSucceeded {
			n.Outputs = json.RawMessage(`{"checkpoint":{"type":"file","digest":"` + strings.Repeat("ab", 32) + `","size":1234,"files":1,"path":"out/` + n.Node + `.ckpt"}}`)
		}
		must(db.FinishNode(n))
	}
	cached := func(run string, of *track.NodeRun, at time.Time) int64 {
		n := &track.NodeRun{RunID: run, Node: of.Node, Kind: of.Kind, Key: of.Key, State: track.NodeCached,
			Reason: "produced by run " + of.RunID, Params: of.Params, Started: at, Finished: at, Outputs: of.Outputs}
		must(db.InsertNode(n))
		return n.ID
	}
	dataParams := `{"format":"pcam_h5","dir":"data/pcam"}`
	mlpParams := func(lr, hidden string) string {
		return `{"arch":"mlp","hidden_units":` + hidden + `,"optimizer":{"name":"adam","learning_rate":` + lr + `},"normalize":{"mean":[0.7,0.55,0.7]},"note":"a > b"}`
	}

	must(db.BeginRun(track.Run{ID: runA, Pipeline: "demo", File: "p.hcl", Host: "h1", PID: 1, Started: t0}))
	d := node(runA, "dataset.synth", "dataset", "k-data", t0, dataParams)
	finish(d, track.NodeSucceeded, 2*time.Second)
	m := node(runA, "train.mlp", "train", "k-mlp-a", t0.Add(2*time.Second), mlpParams("0.01", "[128]"))
	for ep, auc := range []float64{0.61, 0.72, 0.8125} {
		must(db.LogMetrics(m.ID, ep+1, epochMetrics(auc, 0.6-0.1*float64(ep), 0.01, 1)))
	}
	finish(m, track.NodeSucceeded, 90*time.Second)
	must(db.FinishRun(runA, track.RunSucceeded, t0.Add(time.Minute)))
	f.dataA, f.mlpA = d.ID, m.ID

	tB := t0.Add(time.Hour)
	must(db.BeginRun(track.Run{ID: runB, Pipeline: "demo", File: "p.hcl", Host: "h1", PID: 2, Started: tB, Args: []string{"run", "-var", "lr=0.001"}}))
	f.dataB = cached(runB, d, tB)
	mb := node(runB, "train.mlp", "train", "k-mlp-b", tB, mlpParams("0.001", "[256, 64]"))
	must(db.LogMetrics(mb.ID, 1, epochMetrics(0.65, 0.55, 0.001, 1)))
	e2 := epochMetrics(0.7, 0.5, 0.001, 3)
	e2["grad_norm_max/out"] = math.NaN()
	must(db.LogMetrics(mb.ID, 2, e2))
	finish(mb, track.NodeSucceeded, 30*time.Second)
	cb := node(runB, "train.cnn", "train", "k-cnn", tB.Add(time.Minute), `{"arch":"cnn","channels":[16,32]}`)
	cb.Error = "divergence: loss is NaN at epoch 1, batch 7"
	cb.ExitStatus = 1
	finish(cb, track.NodeFailed, time.Second)
	must(db.FinishRun(runB, track.RunFailed, tB.Add(2*time.Minute)))
	f.mlpB, f.cnnB = mb.ID, cb.ID

	tC := t0.Add(2 * time.Hour)
	must(db.BeginRun(track.Run{ID: runC, Pipeline: "demo", File: "p.hcl", Host: "h1", PID: 3, Started: tC}))
	f.mlpC = cached(runC, mb, tC)
	must(db.FinishRun(runC, track.RunSucceeded, tC))
	return f
}

// TestRunsCommand runs `pcamflow runs` against the fixture and checks exit codes and output.
func TestRunsCommand(t *testing.T) {
	f := newRunsFixture(t)
	id := func(n int64) string { return fmt.Sprint(n) }
	cases := []struct {
		name   string
		args   []string
		code   int
		want   []string // regular expressions stdout must match
		unwant []string // regular expressions stdout must not match
		stderr string   // regular expression stderr must match
	}{
		{name: "ls newest first, cached hidden, final key metrics",
			args: []string{"runs"},
			want: []string{
				`(?m)^  ID +RUN +NODE +STATE +STARTED +DURATION +EPOCHS +val_roc_auc +val_f_beta +val_loss$`,
				`(?s)train\.cnn.*train\.mlp.*dataset\.synth`,
				`(?m)^  ` + id(f.mlpA) + ` +` + runA + ` +train\.mlp +succeeded .* 1m30s +3 +0\.8125 +0\.7125 +0\.4$`,
				`(?m)^  ` + id(f.cnnB) + ` +` + runB + ` +train\.cnn +failed .* 1s +- +- +- +-$`},
			unwant: []string{`cached`, `(?m)^  ` + id(f.mlpC) + ` `}},
		{name: "ls with cache hits shows their producer",
			args: []string{"runs", "ls", "--cached"},
			want: []string{`(?m)^  ` + id(f.mlpC) + ` +` + runC + ` +train\.mlp +cached\(#` + id(f.mlpB) + `\) .* - +2 +0\.7 +0\.6 +0\.5$`,
				`(?m)^  ` + id(f.dataB) + ` .*dataset\.synth +cached\(#` + id(f.dataA) + `\)`}},
		{name: "ls --kind",
			args:   []string{"runs", "--kind", "dataset"},
			want:   []string{`dataset\.synth`},
			unwant: []string{`train\.`, `EPOCHS`}},
		{name: "ls --node prefix",
			args:   []string{"runs", "--node", "train"},
			want:   []string{`train\.mlp`, `train\.cnn`},
			unwant: []string{`dataset`}},
		{name: "ls --node glob",
			args:   []string{"runs", "--node", "*.mlp"},
			want:   []string{`train\.mlp`},
			unwant: []string{`dataset`, `train\.cnn`}},
		{name: "ls --node exact does not match a longer name",
			args: []string{"runs", "--node", "train.ml"},
			want: []string{`^no node runs match\n$`}},
		{name: "ls --limit",
			args:   []string{"runs", "--limit", "1"},
			want:   []string{`train\.cnn`},
			unwant: []string{`train\.mlp`}},
		{name: "show a node run: facts, outputs, parameters, history with gradient summary",
			args: []string{"runs", "show", id(f.mlpA)},
			want: []string{
				`(?m)^node run ` + id(f.mlpA) + `  train\.mlp  \(kind train\)  succeeded$`,
				`(?m)^  run +` + runA + `  pipeline demo$`,
				`(?m)^  took +1m30s$`,
				`(?m)^  checkpoint +out/train\.mlp\.ckpt +file +1234 +abababababab$`,
				`(?m)^ +"learning_rate": 0\.01,$`,
				`"note": "a > b"`,
				`(?m)^metrics \(3 epochs\):$`,
				`(?m)^  epoch +train_loss +val_loss +val_roc_auc +val_f_beta +val_accuracy +lr +epoch_seconds +images_per_second +data_wait_share +grad_norm_mean\(min-max\) +grad_norm_max\(layer\)$`,
				`(?m)^ +1 +0\.65 +0\.6 +0\.61 +0\.51 +0\.56 +0\.01 +12\.5 +20480 +0\.02 +0\.05-0\.5 +2 fc1$`,
				`(?m)^ +3 +0\.45 +0\.4 +0\.8125 `},
			unwant: []string{`grad_norm_mean/`, `cached`}},
		{name: "show --metrics all has one column per layer",
			args:   []string{"runs", "show", id(f.mlpA), "--metrics", "all"},
			want:   []string{`grad_norm_mean/fc1 +grad_norm_mean/out`, `grad_norm_max/out`},
			unwant: []string{`\(min-max\)`}},
		{name: "show --metrics list",
			args: []string{"runs", "show", id(f.mlpA), "--metrics", "val_loss,lr"},
			want: []string{`(?m)^  epoch +val_loss +lr$`, `(?m)^ +2 +0\.5 +0\.01$`}},
		{name: "show --metrics unknown",
			args: []string{"runs", "show", id(f.mlpA), "--metrics", "val_los"}, code: 1,
			stderr: `node run \d+: metric "val_los" was not logged \(logged: data_wait_share, .*val_roc_auc\)`},
		{name: "show a NaN gradient",
			args: []string{"runs", "show", id(f.mlpB)},
			want: []string{`(?m)^ +2 .* 0\.15-1\.5 +NaN out$`}},
		{name: "show a cache hit: metrics of the execution it reused",
			args: []string{"runs", "show", id(f.mlpC)},
			want: []string{`(?m)^  cached +reused the outputs of node run ` + id(f.mlpB) + `; metrics below are from it$`,
				`(?m)^metrics \(2 epochs\):$`}},
		{name: "show a failed node",
			args: []string{"runs", "show", id(f.cnnB)},
			want: []string{`(?m)^  error +divergence: loss is NaN at epoch 1, batch 7$`, `(?m)^  exit +1$`, `metrics: none logged`}},
		{name: "show a pipeline run by prefix",
			args: []string{"runs", "show", "20261127T09"},
			want: []string{`(?m)^run ` + runB + `  pipeline demo  failed  started .* took 2m0s  on h1$`,
				`(?m)^command: pcamflow run -var lr=0\.001$`,
				`(?s)dataset\.synth +cached\(#\d+\).*train\.mlp .*train\.cnn +failed`},
			unwant: []string{`(?m)^  ID +RUN`}},
		{name: "show an unknown id",
			args: []string{"runs", "show", "999"}, code: 1,
			stderr: `pcamflow: unknown id "999": no node run has this id and no pipeline run id starts with it`},
		{name: "show an ambiguous prefix",
			args: []string{"runs", "show", "20261127T"}, code: 1,
			stderr: `run id prefix "20261127T" is ambiguous: matches ` + runA + `, ` + runB + `, ` + runC + `; give more characters`},
		{name: "show needs one id",
			args: []string{"runs", "show"}, code: 2, stderr: `runs show needs exactly one ID`},
		{name: "compare two node runs: final metrics and differing parameters",
			args: []string{"runs", "compare", id(f.mlpA), id(f.mlpB)},
			want: []string{
				`(?m)^  ID +RUN +NODE +STATE +EPOCHS +train_loss +val_loss +val_roc_auc +val_f_beta .* grad_norm_max\(layer\)$`,
				`(?m)^  ` + id(f.mlpA) + ` +` + runA + ` +train\.mlp +succeeded +3 +0\.45 +0\.4 +0\.8125 .* 2 fc1$`,
				`(?m)^  ` + id(f.mlpB) + ` +` + runB + ` +train\.mlp +succeeded +2 +0\.55 +0\.5 +0\.7 .* NaN out$`,
				`(?m)^parameters that differ:$`,
				`(?m)^  PARAMETER +#` + id(f.mlpA) + ` +#` + id(f.mlpB) + `$`,
				`(?m)^  hidden_units +\[128\] +\[256,64\]$`,
				`(?m)^  optimizer\.learning_rate +0\.01 +0\.001$`},
			unwant: []string{`arch`, `normalize`, `note`}},
		{name: "compare pipeline runs expands them, filtered by kind",
			args:   []string{"runs", "compare", runA, "20261127T09", "--kind", "train"},
			want:   []string{`train\.cnn +failed`, `(?m)^  arch +mlp +mlp +cnn$`, `(?m)^  channels +\(absent\) +\(absent\) +\[16,32\]$`},
			unwant: []string{`dataset`}},
		{name: "compare identical parameters (a cache hit and its producer)",
			args: []string{"runs", "compare", id(f.mlpB), id(f.mlpC)},
			want: []string{`(?m)^parameters: identical$`, `cached\(#` + id(f.mlpB) + `\)`}},
		{name: "compare needs two node runs",
			args: []string{"runs", "compare", id(f.mlpA), id(f.mlpA)}, code: 1, stderr: `compare needs at least two node runs`},
		{name: "compare without ids", args: []string{"runs", "compare"}, code: 2, stderr: `runs compare needs node-run or run ids`},
		{name: "compare with an unknown id",
			args: []string{"runs", "compare", id(f.mlpA), "nope"}, code: 1, stderr: `unknown id "nope"`},
		{name: "unknown subcommand", args: []string{"runs", "shwo"}, code: 2, stderr: `unknown runs subcommand "shwo". Did you mean "show"\?`},
		{name: "bad limit", args: []string{"runs", "--limit", "0"}, code: 2, stderr: `--limit must be at least 1`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, append([]string{"--workspace", f.ws}, c.args...)...)
			if code != c.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, c.code, out, errOut)
			}
			for _, re := range c.want {
				if !regexp.MustCompile(re).MatchString(out) {
					t.Errorf("stdout does not match %s:\n%s", re, out)
				}
			}
			for _, re := range c.unwant {
				if regexp.MustCompile(re).MatchString(out) {
					t.Errorf("stdout matches %s but must not:\n%s", re, out)
				}
			}
			if c.stderr != "" && !regexp.MustCompile(c.stderr).MatchString(errOut) {
				t.Errorf("stderr does not match %s:\n%s", c.stderr, errOut)
			}
			if strings.Contains(errOut, "goroutine") {
				t.Errorf("stack trace on stderr:\n%s", errOut)
			}
		})
	}
}

// TestRunsJSON checks the JSON forms of ls, show and compare, including NaN metrics.
func TestRunsJSON(t *testing.T) {
	f := newRunsFixture(t)
	decode := func(v any, args ...string) {
		t.Helper()
		code, out, errOut := runCLI(t, append([]string{"--workspace", f.ws}, args...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errOut)
		}
		if err := json.Unmarshal([]byte(out), v); err != nil {
			t.Fatalf("%v: not JSON: %v\n%s", args, err, out)
		}
	}
	var ls []struct {
		ID           int64          `json:"id"`
		Node         string         `json:"node"`
		Epochs       int            `json:"epochs"`
		CachedFrom   int64          `json:"cached_from"`
		FinalMetrics map[string]any `json:"final_metrics"`
	}
	decode(&ls, "runs", "--json", "--cached")
	if len(ls) != 6 || ls[0].ID != f.mlpC || ls[0].CachedFrom != f.mlpB || ls[0].Epochs != 2 {
		t.Fatalf("ls --json: %+v", ls)
	}
	if v := ls[0].FinalMetrics["grad_norm_max/out"]; v != "NaN" {
		t.Errorf("final NaN metric encodes as %v, want the string NaN", v)
	}
	if v := ls[0].FinalMetrics["val_roc_auc"]; v != 0.7 {
		t.Errorf("final val_roc_auc %v, want 0.7", v)
	}

	var show struct {
		NodeRun    track.NodeRun     `json:"node_run"`
		Pipeline   string            `json:"pipeline"`
		CachedFrom int64             `json:"cached_from"`
		Metrics    []track.MetricRow `json:"metrics"`
	}
	decode(&show, "runs", "show", fmt.Sprint(f.mlpC), "--json")
	if show.NodeRun.ID != f.mlpC || show.CachedFrom != f.mlpB || show.Pipeline != "demo" || len(show.Metrics) != 2*13 {
		t.Errorf("show --json: node %d cached_from %d pipeline %q, %d metric rows", show.NodeRun.ID, show.CachedFrom, show.Pipeline, len(show.Metrics))
	}

	var cmp struct {
		NodeRuns  []struct{ ID int64 } `json:"node_runs"`
		ParamDiff []struct {
			Path   string `json:"path"`
			Values []any  `json:"values"`
		} `json:"param_diff"`
	}
	decode(&cmp, "runs", "compare", fmt.Sprint(f.mlpA), fmt.Sprint(f.cnnB), "--json")
	var paths []string
	for _, d := range cmp.ParamDiff {
		paths = append(paths, d.Path)
	}
	want := "arch channels hidden_units normalize.mean note optimizer.learning_rate optimizer.name"
	if got := strings.Join(paths, " "); got != want || len(cmp.NodeRuns) != 2 {
		t.Errorf("compare --json: %d node runs, differing paths %q, want %q", len(cmp.NodeRuns), got, want)
	}
	if len(cmp.ParamDiff) > 1 && fmt.Sprint(cmp.ParamDiff[1].Values) != "[<nil> [16 32]]" {
		t.Errorf("channels values %v, want null and [16,32]", cmp.ParamDiff[1].Values)
	}
}

// TestRunsEmptyWorkspace checks the messages when nothing was recorded.
func TestRunsEmptyWorkspace(t *testing.T) {
	ws := filepath.Join(t.TempDir(), "none")
	if code, out, _ := runCLI(t, "--workspace", ws, "runs"); code != 0 || !strings.Contains(out, "no runs yet") {
		t.Errorf("runs on a missing workspace: exit %d, %q", code, out)
	}
	if code, _, errOut := runCLI(t, "--workspace", ws, "runs", "show", "1"); code != 1 || !strings.Contains(errOut, "does not exist") {
		t.Errorf("runs show on a missing workspace: exit %d, %q", code, errOut)
	}
	if code, out, _ := runCLI(t, "--workspace", ws, "runs", "--json"); code != 0 || out != "[]\n" {
		t.Errorf("runs --json on a missing workspace: exit %d, %q, want []", code, out)
	}
}
