package cli_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// bowlScript is a command base for sweeps: a quadratic bowl in X and Y, a little slow, logging
// every execution to executions.log.
const bowlScript = `X=${X:-0.5}
Y=${Y:-1}
out=${PCAMFLOW_METRICS:-out/metrics.json}
mkdir -p "$(dirname "$out")"
echo "trial X=$X" >> executions.log
sleep ${SLEEP:-0.3}
awk -v x="$X" -v y="$Y" 'BEGIN { l = (x-0.3)^2 + (y-2)^2/10; printf "{\"epochs\": [{\"epoch\": 1, \"loss\": %.17g}], \"final\": {\"loss\": %.17g}}\n", l, l }' > "$out"
`

// sweepPipeline is a TPE sweep of 8 trials, 2 at once, over the bowl.
const sweepPipeline = `
pipeline "bowl" {
  seed = 5
}

command "bowl" {
  run     = ["sh", "bowl.sh"]
  outputs = { metrics = "out/metrics.json" }
}

sweep "s" {
  base      = command.bowl
  sampler   = "tpe"
  trials    = 8
  parallel  = 2
  objective = { metric = "loss", goal = "minimize" }
  space = {
    X = uniform(0, 1)
    Y = int_uniform(0, 4)
  }
}
`

// trialRuns counts the trial executions logged in dir (the base itself logs X=0.5, never sampled).
func trialRuns(dir string) int {
	n := 0
	for _, l := range strings.Split(readFile(dir, "executions.log"), "\n") {
		if strings.HasPrefix(l, "trial X=") && l != "trial X=0.5" {
			n++
		}
	}
	return n
}

// TestSweepResumeAfterKill kills pcamflow (SIGKILL) in the middle of a TPE sweep: the rerun
// proposes the same trials, finds the finished ones in the cache, and ends with the same trial
// table and champion as an uninterrupted sweep.
func TestSweepResumeAfterKill(t *testing.T) {
	killed, clean := t.TempDir(), t.TempDir()
	for _, d := range []string{killed, clean} {
		writeFile(t, filepath.Join(d, "p.hcl"), sweepPipeline)
		writeFile(t, filepath.Join(d, "bowl.sh"), bowlScript)
	}
	if out, err := pcamflow(t, clean, "run", "p.hcl").CombinedOutput(); err != nil {
		t.Fatalf("uninterrupted run: %v\n%s", err, out)
	}
	cmd, out := startIn(t, killed, nil, "run", "p.hcl")
	waitUntil(t, 60*time.Second, func() bool { return trialRuns(killed) >= 4 },
		func() string { return "the trials did not start:\n" + out.String() })
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	time.Sleep(400 * time.Millisecond)
	if _, err := os.Stat(filepath.Join(killed, ".pcamflow/out/sweep.s/trials.json")); err == nil {
		t.Fatalf("the sweep finished before it was killed; make the trials slower:\n%s", out.String())
	}
	rerun, err := pcamflow(t, killed, "run", "p.hcl").CombinedOutput()
	if err != nil {
		t.Fatalf("rerun: %v\n%s", err, rerun)
	}
	cached := strings.Count(string(rerun), "cached   sweep.s.trial[")
	ran := strings.Count(string(rerun), "ran      sweep.s.trial[")
	if cached < 2 || cached+ran != 8 {
		t.Errorf("the rerun found %d trials cached and ran %d; want the finished ones (at least 2) cached and only the rest run:\n%s", cached, ran, rerun)
	}
	for _, f := range []string{"trials.json", "trials.csv", "summary.json", "best_params.json", "champion/metrics"} {
		a := readFile(clean, ".pcamflow/out/sweep.s/"+f)
		b := readFile(killed, ".pcamflow/out/sweep.s/"+f)
		if a == "" || a != b {
			t.Errorf("%s after kill -9 and rerun differs from an uninterrupted sweep's:\n%s\nvs\n%s", f, b, a)
		}
	}
}

// slurmSweep puts the bowl sweep's trials on Slurm.
func slurmSweep(sampler string, trials int) string {
	p := strings.Replace(sweepPipeline, `sampler   = "tpe"`, `sampler   = "`+sampler+`"`, 1)
	p = strings.Replace(p, "trials    = 8", "trials    = "+strconv.Itoa(trials), 1)
	return strings.Replace(p, "  space = {", "  resources {\n    executor = \"slurm\"\n  }\n  space = {", 1)
}

// TestSlurmSweep runs sweeps on the real cluster: TPE proposes in waves of `parallel`, each wave
// ONE sbatch --array throttled to parallel; random proposes all trials in one array; a rerun
// submits nothing; the Slurm sweep's table equals the local one's.
func TestSlurmSweep(t *testing.T) {
	needSlurm(t)
	dir, local := t.TempDir(), t.TempDir()
	for _, d := range []string{dir, local} {
		writeFile(t, filepath.Join(d, "bowl.sh"), strings.Replace(bowlScript, "${SLEEP:-0.3}", "0", 1))
	}
	writeFile(t, filepath.Join(local, "p.hcl"), slurmSweep("tpe", 6))
	if out, err := runIn(t, local, nil, "run", "--executor", "local", "p.hcl"); err != nil {
		t.Fatalf("local run: %v\n%s", err, out)
	}
	writeFile(t, filepath.Join(dir, "p.hcl"), slurmSweep("tpe", 6))
	env, log := slurmEnv(t, dir)
	out, err := runIn(t, dir, env, "run", "p.hcl")
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out)
	}
	calls := sbatchCalls(t, log)
	if len(calls) != 3 || strings.Count(out, "ran      sweep.s.trial[") != 6 {
		t.Fatalf("%d sbatch calls for 6 TPE trials, 2 at once; want 3 waves, one array each:\n%s\n%s", len(calls), strings.Join(calls, "\n"), out)
	}
	scripts := readFile(dir, "sbatch.log")
	if strings.Count(scripts, "#SBATCH --array=0-1%2") != 3 {
		t.Errorf("the waves are not arrays of 2 throttled to 2:\n%s", scripts)
	}
	if a, b := readFile(local, ".pcamflow/out/sweep.s/trials.csv"), readFile(dir, ".pcamflow/out/sweep.s/trials.csv"); a == "" || a != b {
		t.Errorf("the Slurm sweep's table differs from the local one's:\n%s\nvs\n%s", b, a)
	}
	if out, err = runIn(t, dir, env, "run", "p.hcl"); err != nil || len(sbatchCalls(t, log)) != 3 || !strings.Contains(out, "0 ran") {
		t.Errorf("a rerun submitted again (%d calls): %v\n%s", len(sbatchCalls(t, log)), err, out)
	}
	writeFile(t, filepath.Join(dir, "p.hcl"), strings.Replace(slurmSweep("random", 10), "seed = 5", "seed = 6", 1))
	if out, err = runIn(t, dir, env, "run", "p.hcl"); err != nil {
		t.Fatalf("random run: %v\n%s", err, out)
	}
	if calls := sbatchCalls(t, log); len(calls) != 4 || !strings.Contains(readFile(dir, "sbatch.log"), "#SBATCH --array=0-9%2") {
		t.Errorf("random: %d sbatch calls in all, want 4 (one array of all 10 trials):\n%s", len(calls), out)
	}
}

// ashaPipeline is a TPE sweep with ASHA over a tiny MLP: trials run to rungs at epochs 1 and 2, and
// promoted ones continue from their checkpoint.
const ashaPipeline = `
pipeline "asha" {
  seed = 4
}

dataset "d" {
  synthetic = { train = 96, valid = 48, test = 16, seed = 1, defects = false }
}

train "m" {
  dataset    = dataset.d
  model      = { arch = "mlp", hidden_units = [4] }
  epochs     = 3
  batch_size = 32
}

sweep "a" {
  base           = train.m
  sampler        = "tpe"
  trials         = 6
  parallel       = 2
  objective      = { metric = "val_roc_auc", goal = "maximize" }
  early_stopping = { method = "asha", min_epochs = 1, reduction_factor = 2 }
  space = {
    "optimizer.learning_rate" = log_uniform(1e-4, 1e-1)
    "model.hidden_units"      = choice([4], [8])
  }
}
`

// TestSweepASHAResumeAfterKill kills pcamflow (SIGKILL) in the middle of an ASHA sweep over a train
// stage: the rerun ends with the trial table and the champion's checkpoint of an uninterrupted sweep.
func TestSweepASHAResumeAfterKill(t *testing.T) {
	killed, clean := t.TempDir(), t.TempDir()
	for _, d := range []string{killed, clean} {
		writeFile(t, filepath.Join(d, "p.hcl"), ashaPipeline)
	}
	if out, err := pcamflow(t, clean, "run", "p.hcl").CombinedOutput(); err != nil {
		t.Fatalf("uninterrupted run: %v\n%s", err, out)
	} else if !strings.Contains(string(out), "pruned   sweep.a.trial[") {
		t.Fatalf("ASHA pruned no trial; the test needs one:\n%s", out)
	}
	cmd, out := startIn(t, killed, nil, "run", "p.hcl")
	waitUntil(t, 120*time.Second, func() bool { return strings.Count(out.String(), "ran      sweep.a.trial[") >= 3 },
		func() string { return "the trials did not run:\n" + out.String() })
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if _, err := os.Stat(filepath.Join(killed, ".pcamflow/out/sweep.a/trials.json")); err == nil {
		t.Fatalf("the sweep finished before it was killed:\n%s", out.String())
	}
	rerun, err := pcamflow(t, killed, "run", "p.hcl").CombinedOutput()
	if err != nil {
		t.Fatalf("rerun: %v\n%s", err, rerun)
	}
	if !strings.Contains(string(rerun), "cached   sweep.a.trial[") {
		t.Errorf("the rerun found no finished trial in the cache:\n%s", rerun)
	}
	// Node keys differ between the two projects (the dataset's managed path is in the training
	// configuration, and each project has its own folder): compare everything else.
	keys := regexp.MustCompile(`[0-9a-f]{64}|trial\[""?[0-9a-f]{8}""?\]|trial\[\\"[0-9a-f]{8}\\"\]`)
	for _, f := range []string{"trials.csv", "summary.json", "best_params.json", "champion/best.ckpt"} {
		a := keys.ReplaceAllString(readFile(clean, ".pcamflow/out/sweep.a/"+f), "KEY")
		b := keys.ReplaceAllString(readFile(killed, ".pcamflow/out/sweep.a/"+f), "KEY")
		if a == "" || a != b {
			t.Errorf("%s after kill -9 and rerun differs from an uninterrupted sweep's:\n%.600s\nvs\n%.600s", f, b, a)
		}
	}
}
