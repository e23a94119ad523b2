package cli_test

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// ashaSlurmPipeline is ashaPipeline cut to 4 trials with the trials on Slurm: with 3 epochs and
// rungs at epochs 1 and 2, each wave of 2 trials goes out as one array to epoch 1, then one array of
// its promoted trials to epoch 2, then one to epoch 3. The base and the dataset stay local.
var ashaSlurmPipeline = strings.Replace(strings.Replace(ashaPipeline, "trials         = 6", "trials         = 4", 1),
	"  space = {", "  resources {\n    executor = \"slurm\"\n  }\n  space = {", 1)

// ashaLadder is the budget ladder of every trial of ashaSlurmPipeline: the rungs, then the full
// configuration's epochs.
var ashaLadder = []int{1, 2, 3}

// ashaTrial is one row of a sweep's trials.csv.
type ashaTrial struct {
	index  int
	state  string
	epochs int
}

// ashaTrials reads the trial table of sweep.a in the project dir.
func ashaTrials(t *testing.T, dir string) []ashaTrial {
	t.Helper()
	rows, err := csv.NewReader(strings.NewReader(readFile(dir, ".pcamflow/out/sweep.a/trials.csv"))).ReadAll()
	if err != nil || len(rows) < 2 {
		t.Fatalf("%s: trials.csv: %v (%d rows)", dir, err, len(rows))
	}
	col := func(name string) int {
		i := slices.Index(rows[0], name)
		if i < 0 {
			t.Fatalf("trials.csv has no %q column: %q", name, rows[0])
		}
		return i
	}
	iIndex, iState, iEpochs := col("index"), col("state"), col("epochs")
	var trials []ashaTrial
	for _, r := range rows[1:] {
		idx, err1 := strconv.Atoi(r[iIndex])
		ep, err2 := strconv.Atoi(r[iEpochs])
		if err1 != nil || err2 != nil {
			t.Fatalf("trials.csv row %q: index or epochs is not a number", r)
		}
		trials = append(trials, ashaTrial{index: idx, state: r[iState], epochs: ep})
	}
	return trials
}

// executions is how many times trial tr's child ran: once per step of the ladder up to the epochs
// it reached (a pruned trial stops at its rung, a complete one runs every step).
func (tr ashaTrial) executions(t *testing.T) int {
	t.Helper()
	k := slices.Index(ashaLadder, tr.epochs)
	if k < 0 {
		t.Fatalf("trial %d ran %d epochs, which is no step of the ladder %v", tr.index, tr.epochs, ashaLadder)
	}
	return k + 1
}

// wantArrays returns the --array option of every sbatch call the sweep should make, in order: per
// wave of `parallel` trials, one array per step of the ladder holding the trials still running.
func wantArrays(t *testing.T, trials []ashaTrial, parallel int) []string {
	t.Helper()
	var want []string
	for from := 0; from < len(trials); from += parallel {
		wave := trials[from:min(from+parallel, len(trials))]
		for k := 0; ; k++ {
			n := 0
			for _, tr := range wave {
				if tr.executions(t) > k {
					n++
				}
			}
			if n == 0 {
				break
			}
			a := "0"
			if n > 1 {
				a = "0-" + strconv.Itoa(n-1)
			}
			want = append(want, "--array="+a+"%"+strconv.Itoa(parallel))
		}
	}
	return want
}

// submittedArrays returns the --array option of every script in an sbatch log ("" for a script
// that is no array), in submission order.
func submittedArrays(log string) []string {
	var out []string
	for _, s := range strings.Split(log, "SBATCH CALL")[1:] {
		a := ""
		for _, l := range strings.Split(s, "\n") {
			if v, ok := strings.CutPrefix(l, "#SBATCH --array="); ok {
				a = "--array=" + v
			}
		}
		out = append(out, a)
	}
	return out
}

// trialLogs returns how a training starts in each trial log of the only run recorded in dir: the
// lines about the budget, the resume checkpoint and the model, each headed by the log's file name.
func trialLogs(t *testing.T, dir string) string {
	t.Helper()
	logs, _ := filepath.Glob(filepath.Join(dir, ".pcamflow/logs/*/sweep.a.trial.*.log"))
	if len(logs) == 0 {
		t.Fatalf("%s: no trial log under .pcamflow/logs", dir)
	}
	var b strings.Builder
	for _, p := range logs {
		data, _ := os.ReadFile(p)
		for _, l := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(l, "budget:") || strings.HasPrefix(l, "train ") || strings.Contains(l, "resum") || strings.HasPrefix(l, "note:") {
				fmt.Fprintf(&b, "%s: %s\n", filepath.Base(p), l)
			}
		}
	}
	return b.String()
}

// slurmOutTails returns the last lines of every Slurm job output file of the project dir, to
// explain a failed run.
func slurmOutTails(dir string) string {
	outs, _ := filepath.Glob(filepath.Join(dir, ".pcamflow/slurm/*/*.out"))
	var b strings.Builder
	for _, p := range outs {
		data, _ := os.ReadFile(p)
		lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
		fmt.Fprintf(&b, "==> %s (last lines) <==\n%s\n", filepath.Base(p), strings.Join(lines[max(0, len(lines)-15):], "\n"))
	}
	return b.String()
}

// TestSlurmSweepASHA runs a TPE sweep with ASHA over a train base on the real cluster and locally:
// the Slurm run makes one job array per wave and rung (promoted trials go out as further arrays),
// promoted trials resume from their checkpoint of the previous rung in a new Slurm job, the trial
// table and the champion's checkpoint are those of the local run, bit for bit, and a rerun submits
// nothing.
func TestSlurmSweepASHA(t *testing.T) {
	needSlurm(t)
	start := time.Now()
	defer func() { t.Logf("took %s after the cluster lock", time.Since(start).Round(time.Millisecond)) }()
	dir, local := t.TempDir(), t.TempDir()
	for _, d := range []string{dir, local} {
		writeFile(t, filepath.Join(d, "p.hcl"), ashaSlurmPipeline)
	}
	if out, err := runIn(t, local, nil, "run", "--executor", "local", "p.hcl"); err != nil {
		t.Fatalf("local run: %v\n%s", err, out)
	}
	env, log := slurmEnv(t, dir)
	out, err := runIn(t, dir, env, "run", "p.hcl")
	if err != nil {
		t.Fatalf("Slurm run: %v\n%s\n%s", err, out, slurmOutTails(dir))
	}

	// The trial table: a pruned trial and a promoted one, and the same table on both executors
	// (node keys differ between the projects: the dataset's managed path is in the training
	// configuration).
	trials := ashaTrials(t, local)
	var pruned, promoted, promotions int
	for _, tr := range trials {
		if tr.state == "pruned" {
			pruned++
		}
		if n := tr.executions(t); n > 1 {
			promoted++
			promotions += n - 1
		}
	}
	if len(trials) != 4 || pruned == 0 || promoted == 0 {
		t.Fatalf("the local sweep has %d trials, %d pruned and %d promoted; the test needs 4 with at least one of each:\n%s",
			len(trials), pruned, promoted, readFile(local, ".pcamflow/out/sweep.a/trials.csv"))
	}
	keys := regexp.MustCompile(`[0-9a-f]{64}|trial\[""?[0-9a-f]{8}""?\]|trial\[\\"[0-9a-f]{8}\\"\]`)
	for _, f := range []string{"trials.csv", "summary.json", "best_params.json"} {
		a := keys.ReplaceAllString(readFile(local, ".pcamflow/out/sweep.a/"+f), "KEY")
		b := keys.ReplaceAllString(readFile(dir, ".pcamflow/out/sweep.a/"+f), "KEY")
		if a == "" || a != b {
			t.Errorf("%s of the Slurm sweep differs from the local one's:\n%s\nvs local\n%s", f, b, a)
		}
	}
	a, _ := os.ReadFile(filepath.Join(local, ".pcamflow/out/sweep.a/champion/best.ckpt"))
	b, _ := os.ReadFile(filepath.Join(dir, ".pcamflow/out/sweep.a/champion/best.ckpt"))
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Errorf("the champion's best.ckpt on Slurm (%d bytes) is not the local one (%d bytes), bit for bit", len(b), len(a))
	}

	// The submissions: every sbatch call is one array of a wave's trials at one rung, in order.
	got, want := submittedArrays(readFile(dir, "sbatch.log")), wantArrays(t, trials, 2)
	if !slices.Equal(got, want) {
		t.Errorf("sbatch calls %q, want %q (per wave of 2, one array per rung of its trials still running):\n%s",
			got, want, strings.Join(sbatchCalls(t, log), "\n"))
	}
	t.Logf("%d trials (%d pruned, %d promoted, %d promotions); sbatch arrays %q", len(trials), pruned, promoted, promotions, got)
	if n := strings.Count(out, "ran      sweep.a.trial["); n != len(trials)+promotions {
		t.Errorf("%d trial executions on Slurm, want %d (%d trials, %d promotions):\n%s", n, len(trials)+promotions, len(trials), promotions, out)
	}

	// Promoted trials continue from their checkpoint at the rung, on both executors: one
	// "resuming from epoch e" per promotion past epoch e, and none trains again from the start.
	for name, d := range map[string]string{"local": local, "Slurm": dir} {
		logs := trialLogs(t, d)
		for k, e := range ashaLadder[:len(ashaLadder)-1] {
			wantN := 0
			for _, tr := range trials {
				if tr.executions(t) > k+1 {
					wantN++
				}
			}
			if n := strings.Count(logs, fmt.Sprintf("resuming from epoch %d (checkpoint", e)); n != wantN {
				t.Errorf("%s run: %d trial logs say they resumed from epoch %d, want %d (the trials promoted past it):\n%s", name, n, e, wantN, logs)
			}
		}
		if strings.Contains(logs, "training from the start") || strings.Contains(logs, "unusable resume checkpoint") {
			t.Errorf("%s run: a trial did not resume from its checkpoint:\n%s", name, logs)
		}
	}

	// A rerun finds every trial in the cache and submits nothing.
	calls := len(sbatchCalls(t, log))
	again, err := runIn(t, dir, env, "run", "p.hcl")
	if err != nil || len(sbatchCalls(t, log)) != calls || !strings.Contains(again, " 0 ran, ") {
		t.Errorf("the rerun was not fully cached (%d sbatch calls after %d): %v\n%s", len(sbatchCalls(t, log)), calls, err, again)
	}
}
