package report

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	goimage "image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/pcamflow/pcamflow/audit"
	"github.com/pcamflow/pcamflow/cache"
	"github.com/pcamflow/pcamflow/pcam"
	"github.com/pcamflow/pcamflow/plots"
	"github.com/pcamflow/pcamflow/track"
)

// A fixture is a workspace with fabricated run-store rows and outputs in the layouts the stage
// kinds publish: real SQLite rows, real objects in the content-addressed store, real PNGs drawn
// with package plots. The sweep, threshold, evaluate and benchmark outputs follow the formats their
// issues describe (trials.json, report.json with intervals, slices and montages, results.json).
type fixture struct {
	t       testing.TB
	dir     string // project root
	db      *track.DB
	store   *cache.Store
	runID   string
	out     string // scratch folder for output files before they are stored
	seq     int
	t0      time.Time
	png     []byte // one picture reused for every plot (the store keeps it once)
	montage []byte
}

// spec says what the fabricated pipeline holds.
type spec struct {
	seeds, epochs, trials                               int
	audit, sweep, threshold, evaluate, benchmark, twins bool
}

// fullSpec is the pipeline of the speed requirement: 3 seeds × 20 epochs and a 32-trial sweep, with
// every kind present.
var fullSpec = spec{seeds: 3, epochs: 20, trials: 32, audit: true, sweep: true, threshold: true, evaluate: true, benchmark: true, twins: true}

func newFixture(t testing.TB, sp spec) *fixture {
	t.Helper()
	dir := t.TempDir()
	db, err := track.Open(filepath.Join(dir, ".pcamflow", "pcamflow.db"))
	if err != nil {
		t.Fatal(err)
	}
	store, err := cache.Open(filepath.Join(dir, ".pcamflow"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close(); store.Close() })
	f := &fixture{t: t, dir: dir, db: db, store: store, runID: "20261201T120000Z-abc123", out: filepath.Join(dir, "staging"),
		t0: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)}
	f.png, f.montage = drawPicture(t, 20), noisePicture(t, 320)
	pipeline := "pipeline \"fixture\" {\n  seed = 42\n}\n"
	if err := os.WriteFile(filepath.Join(dir, "pipeline.hcl"), []byte(pipeline), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := db.BeginRun(track.Run{ID: f.runID, Pipeline: "fixture", File: "pipeline.hcl", Args: []string{"run", "pipeline.hcl"},
		Host: "login1", PID: 1, Started: f.t0, Status: track.RunSucceeded, Finished: f.t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	f.dataset()
	if sp.audit {
		f.audit()
	}
	f.train(sp.seeds, sp.epochs)
	if sp.sweep {
		f.sweep(sp.trials, sp.epochs)
	}
	if sp.threshold {
		f.node("threshold.f2", "threshold", map[string]any{"model": "sweep.hpo.champion", "beta": 2}, map[string]any{
			"threshold.json": map[string]any{"value": 0.37, "method": "max_f_beta", "beta": 2, "mode": "ensemble", "split": "valid", "n": 32768,
				"candidates": 31000, "tie_rule": "higher threshold",
				"at_threshold": map[string]any{"threshold": 0.37, "f_beta": 0.81, "precision": 0.7, "recall": 0.93, "specificity": 0.62, "tp": 1, "fp": 2, "tn": 3, "fn": 4}},
			"curve.csv": []byte("threshold,f_beta\n"),
			"curve.png": f.png})
	}
	if sp.evaluate {
		f.evaluate()
	}
	if sp.benchmark {
		f.benchmark()
	}
	if sp.twins {
		if err := db.RecordTwins([]track.TwinRecord{{VerifyID: "verify-x", Node: `train.mlp["1"]`, CachedRunID: f.runID, Match: true,
			Summary: []track.TwinValue{{Name: "final train loss", Cached: 0.25, Twin: 0.25}, {Name: "final val loss", Cached: 0.5, Twin: 0.5}},
			Host:    "login1"}}); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// drawPicture draws a line plot of n points, a realistic PNG of the house style.
func drawPicture(t testing.TB, n int) []byte {
	p := plots.New("picture", "epoch", "value")
	x, y := make([]float64, n), make([]float64, n)
	for i := range x {
		x[i], y[i] = float64(i+1), math.Sin(float64(i)/3)+float64(i)/10
	}
	if err := plots.AddLine(p, plots.Series{Name: "value", X: x, Y: y}, 0, false); err != nil {
		t.Fatal(err)
	}
	b, err := plots.PNG(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// noisePicture returns a size×size PNG of pseudo-random pixels: as hard to compress as a montage of
// tissue patches (the quickstart's audit montages are 2 KB to 700 KB).
func noisePicture(t testing.TB, size int) []byte {
	img := goimage.NewRGBA(goimage.Rect(0, 0, size, size))
	x := uint32(1)
	for i := range img.Pix {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		img.Pix[i] = byte(x)
		if i%4 == 3 {
			img.Pix[i] = 255
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// put publishes content as an output: []byte as it is, a map of names to content as a folder, and
// anything else as JSON.
func (f *fixture) put(node, name string, content any) (output, cache.Artifact) {
	f.seq++
	p := filepath.Join(f.out, fmt.Sprint(f.seq), name)
	if err := writeContent(p, content); err != nil {
		f.t.Fatal(err)
	}
	a, err := f.store.Put(p)
	if err != nil {
		f.t.Fatal(err)
	}
	return output{Type: a.Type, Digest: a.Digest, Path: filepath.Join(f.dir, ".pcamflow", "out", node, name)}, a
}

func writeContent(p string, content any) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	switch c := content.(type) {
	case []byte:
		return os.WriteFile(p, c, 0o644)
	case map[string][]byte:
		for name, data := range c {
			if err := writeContent(filepath.Join(p, name), data); err != nil {
				return err
			}
		}
		return nil
	}
	data, err := json.MarshalIndent(content, "", " ")
	if err != nil {
		return err
	}
	return os.WriteFile(p, data, 0o644)
}

// node records a succeeded node run with its outputs and its cache record, and returns it.
func (f *fixture) node(addr, kind string, params map[string]any, outputs map[string]any) track.NodeRun {
	outs := map[string]output{}
	recOuts := map[string]cache.Output{}
	for name, c := range outputs {
		o, a := f.put(addr, name, c)
		outs[name] = o
		recOuts[name] = cache.Output{Artifact: a, Path: o.Path}
	}
	rawParams, _ := json.Marshal(params)
	rawOuts, _ := json.Marshal(outs)
	sum := sha256.Sum256([]byte(addr + string(rawParams)))
	key := hex.EncodeToString(sum[:])
	seed := "42"
	if s, ok := params["seed"]; ok {
		seed = fmt.Sprint(s)
	}
	if err := f.store.PutRecord(&cache.Record{Key: key, Node: addr, Kind: kind, Version: "2", Components: map[string]string{"seed": seed},
		Outputs: recOuts, RunID: f.runID, Host: "login1", Started: f.t0, Finished: f.t0.Add(time.Minute)}); err != nil {
		f.t.Fatal(err)
	}
	n := track.NodeRun{RunID: f.runID, Node: addr, Kind: kind, Key: key, State: track.NodeSucceeded, Reason: "parameter epochs: 10 -> 20",
		Params: rawParams, Started: f.t0, Finished: f.t0.Add(time.Minute), Host: "node01", Outputs: rawOuts, Executor: "slurm",
		JobID: strconv.Itoa(1000 + f.seq)}
	if err := f.db.InsertNode(&n); err != nil {
		f.t.Fatal(err)
	}
	return n
}

func (f *fixture) dataset() {
	f.node("dataset.pcam", "dataset", map[string]any{"format": "pcam_h5", "synthetic": map[string]any{"train": 4096, "seed": 1}},
		map[string]any{"handle.json": map[string]any{"format": "pcam_h5", "splits": map[string]any{
			"train": map[string]int{"n": 4096, "positives": 2048, "official": 262144},
			"valid": map[string]int{"n": 1024, "positives": 512, "official": 32768}},
			"synthetic": map[string]int{"exact_duplicate": 60}}})
}

func (f *fixture) audit() {
	r := audit.Report{Version: audit.ReportVersion, Options: audit.Options{Exclude: []string{audit.ExactDuplicates, audit.Blank}},
		Splits: []audit.SplitSummary{
			{Split: pcam.Train, Patches: 4096, Official: 262144, DeltaVsOfficial: 4096 - 262144, Positives: 2048, Negatives: 2048, PositiveFraction: 0.5, UniqueImages: 4050, DuplicateCopies: 46, Clean: 4043},
			{Split: pcam.Valid, Patches: 1024, Official: 32768, DeltaVsOfficial: 1024 - 32768, Positives: 512, Negatives: 512, PositiveFraction: 0.5, UniqueImages: 1024, Clean: 1011}},
		SizeExplanation: []string{"train: 4,096 patches (official 262,144)."},
		Findings: []audit.Finding{{Class: audit.ExactDuplicates, Groups: 46, Patches: 46, Description: "later copies"},
			{Class: audit.CrossSplitDuplicates, Groups: 12, Patches: 14, Gate: true, Failed: true, Description: "leakage"},
			{Class: audit.LabelConflicts, Groups: 5, Patches: 10}, {Class: audit.Blank, Patches: 5}},
		WSI: &audit.WSIReport{Splits: []audit.WSISplit{{Split: pcam.Train, Slides: 100, Patches: 4096}},
			Overlaps: []audit.WSIPair{{A: pcam.Train, B: pcam.Valid, WSIs: []string{"tumor_032"}, PatchesA: 79, PatchesB: 10}}}}
	f.node("data_audit.pcam", "data_audit", map[string]any{"dataset": "dataset.pcam"}, map[string]any{
		"report.json": r, "summary.md": []byte("# Data audit\n"),
		"clean.json": map[string]any{"splits": map[string][]int{"train": {0, 1}}, "dropped": map[string]int{"train": 53, "valid": 13}},
		"montages":   map[string][]byte{"montage_exact_duplicates.png": f.montage, "montage_blank.png": f.montage},
		"plots":      map[string][]byte{"split_sizes.png": f.png, "label_balance.png": f.png, "findings.png": f.png}})
}

// trainOutputs returns the outputs of one training node of the given seed.
func (f *fixture) trainOutputs(seed, epochs int, withCheckpoint bool) map[string]any {
	var hist []map[string]any
	for e := 1; e <= epochs; e++ {
		hist = append(hist, map[string]any{"epoch": e, "train_loss": 1 / float64(e), "val_loss": 1.1 / float64(e), "val_roc_auc": 0.8,
			"val_f_beta": 0.7, "lr": 1e-3, "grad_norm_mean": map[string]float64{"fc1": 1}, "grad_norm_max": map[string]float64{"fc1": 2}})
	}
	final := map[string]float64{"train_loss": 1 / float64(epochs), "val_loss": 1.1 / float64(epochs), "val_roc_auc": 0.8 + float64(seed)/100, "val_f_beta": 0.7, "lr": 1e-3}
	outs := map[string]any{"history.json": hist,
		"metrics.json": map[string]any{"seed": seed, "epochs": epochs, "best_epoch": epochs, "monitor": "val_roc_auc", "final": final, "best": final,
			"blas": map[string]any{"backend": "OpenBLAS (Haswell)", "config": "OpenBLAS 0.3.21", "cpu": "AMD EPYC"}},
		"plots": map[string][]byte{"loss.png": f.png, "val_metrics.png": f.png, "learning_rate.png": f.png, "grad_norms.png": f.png}}
	if withCheckpoint {
		outs["checkpoint.ckpt"] = []byte(fmt.Sprintf("checkpoint of seed %d", seed))
	}
	return outs
}

func (f *fixture) train(seeds, epochs int) {
	var list []int
	for s := 1; s <= seeds; s++ {
		list = append(list, s)
		n := f.node(fmt.Sprintf(`train.mlp["%d"]`, s), "train", map[string]any{"seed": s, "seeds": nil, "epochs": epochs}, f.trainOutputs(s, epochs, true))
		for e := 1; e <= epochs; e++ {
			if err := f.db.LogMetrics(n.ID, e, map[string]float64{"images_per_second": 3800, "epoch_seconds": 1.1, "data_wait_share": 0.01, "threads": 2}); err != nil {
				f.t.Fatal(err)
			}
		}
	}
	f.node("train.mlp", "train", map[string]any{"seeds": list, "epochs": epochs}, map[string]any{
		"aggregate.json": map[string]any{"seeds": []string{"1", "2", "3"}[:seeds], "monitor": "val_roc_auc", "best_seed": "3",
			"per_seed": map[string]any{"1": map[string]float64{"val_roc_auc": 0.81}, "2": map[string]float64{"val_roc_auc": 0.82}, "3": map[string]float64{"val_roc_auc": 0.83}},
			"final":    map[string]any{"val_roc_auc": map[string]any{"mean": 0.82, "std": 0.01, "n": seeds}},
			"best":     map[string]any{"val_roc_auc": map[string]any{"mean": 0.825, "std": 0.012, "n": seeds}}},
		"plots": map[string][]byte{"loss.png": f.png, "val_metrics.png": f.png, "learning_rate.png": f.png, "grad_norms.png": f.png, "curves.json": []byte("{}")}})
}

func (f *fixture) sweep(trials, epochs int) {
	// trials.json as the sweep kind writes it (stages/sweep Table).
	var rows []map[string]any
	for i := range trials {
		key := fmt.Sprintf("%08x", 0xabc00000+i)
		state := "complete"
		if i%3 == 2 {
			state = "pruned"
		}
		f.node(fmt.Sprintf(`sweep.hpo.trial["%s"]`, key), "train", map[string]any{"seed": 42, "epochs": epochs}, f.trainOutputs(1, epochs, false))
		curve := make([]float64, epochs)
		for e := range curve {
			curve[e] = 0.7 + float64(e)/100
		}
		rows = append(rows, map[string]any{"trial": i, "state": state, "objective": 0.8 + float64(i)/1000, "epochs": epochs, "key": key,
			"node": fmt.Sprintf(`sweep.hpo.trial["%s"]`, key), "curve": curve, "rungs": []map[string]any{{"epochs": 1, "objective": 0.7}},
			"params": map[string]any{"optimizer.learning_rate": 1e-4 * float64(i+1), "batch_size": 64}})
	}
	f.node("sweep.hpo", "sweep", map[string]any{"trials": trials}, map[string]any{
		"trials.json": map[string]any{"sweep": "sweep.hpo", "base": "train.mlp", "sampler": "tpe", "metric": "val_roc_auc", "goal": "maximize",
			"parameters": []string{"optimizer.learning_rate", "batch_size"}, "champion": trials - 1, "trials": rows, "epochs_run": trials * epochs},
		"best_params.json": map[string]any{"optimizer.learning_rate": 3.2e-3, "batch_size": 64},
		"trials.csv":       []byte("trial,objective\n"),
		"champion":         map[string][]byte{"config.json": []byte("{}")},
		"plots":            map[string][]byte{"objective.png": f.png, "param-01-optimizer.learning_rate.png": f.png, "curves.png": f.png}})
}

func (f *fixture) evaluate() {
	// report.json as the evaluate kind writes it (stages/evaluate Report): intervals {value, lo, hi, n}.
	iv := func(v, lo, hi float64) map[string]any {
		return map[string]any{"value": v, "lo": lo, "hi": hi, "n": 2000}
	}
	f.node("evaluate.test", "evaluate", map[string]any{"model": "sweep.hpo.champion", "split": "test"}, map[string]any{
		"report.json": map[string]any{"node": "evaluate.test", "split": "test", "n": 32768, "positives": 16000, "beta": 2,
			"threshold": map[string]any{"value": 0.37, "source": "threshold.f2"},
			"bootstrap": map[string]any{"resamples": 2000, "seed": 42, "level": 0.95, "method": "percentile"},
			"metrics":   map[string]any{"roc_auc": iv(0.912, 0.905, 0.919), "f_beta": iv(0.84, 0.83, 0.85)},
			"confusion": map[string]any{"tp": 15000, "fp": 3000, "tn": 13768, "fn": 1000},
			"baselines": []map[string]any{{"name": "majority", "kind": "majority", "threshold": 0.5, "metrics": map[string]any{"roc_auc": iv(0.5, 0.5, 0.5)}},
				{"name": "colour_logistic", "kind": "colour_logistic", "threshold": 0.5, "metrics": map[string]any{"roc_auc": iv(0.71, 0.7, 0.72)},
					"roc_auc_difference": iv(0.2, 0.19, 0.21)}},
			"slices": []map[string]any{{"slice": "stain=high", "family": "stain", "name": "high", "count": 10000, "positives": 4000, "metrics": map[string]any{"roc_auc": iv(0.86, 0.85, 0.87)}, "eligible": true},
				{"slice": "stain=low", "family": "stain", "name": "low", "count": 11000, "positives": 5000, "metrics": map[string]any{"roc_auc": iv(0.94, 0.93, 0.95)}, "eligible": true}},
			"worst_slice": map[string]any{"slice": "stain=high", "by": "roc_auc", "value": 0.86, "lo": 0.85, "hi": 0.87, "count": 10000, "min_count": 200},
			"errors": map[string]any{"false_negatives": []map[string]any{{"position": 0, "index": 17, "id": "ab12", "label": 1, "probability": 0.01}},
				"false_positives": []map[string]any{}}},
		"summary.md":      []byte("# Evaluation\n"),
		"predictions.csv": []byte("index,probability\n"),
		"slices.csv":      []byte("slice,count\n"),
		"roc.png":         f.png,
		"pr.png":          f.png,
		"reliability.png": f.png,
		"montages":        map[string][]byte{"false_negatives.png": f.montage, "false_positives.png": f.montage}})
}

func (f *fixture) benchmark() {
	for _, part := range []string{"cpu", "gpu"} {
		f.node(fmt.Sprintf(`benchmark.inference["%s"]`, part), "benchmark", map[string]any{"partition": part}, map[string]any{
			"results.json": map[string]any{"partition": part, "host": "node01", "job_id": "2001", "cpu": "AMD EPYC", "threads": 2,
				"batches": []map[string]any{{"batch_size": 1, "images_per_second": 900, "p50_ms": 1.1}, {"batch_size": 128, "images_per_second": 5000, "p50_ms": 25}}},
			"results.md":  []byte("| Partition | Node type | Throughput (img/s) | Job ID |\n"),
			"scaling.png": f.png})
	}
}

// write writes the report of the fixture's run into a fresh folder and returns the result.
func (f *fixture) write(opt Options) *Result {
	f.t.Helper()
	opt.DB, opt.Objects, opt.ProjectDir = f.db, f.store, f.dir
	if opt.OutDir == "" {
		opt.OutDir = filepath.Join(f.dir, "report-out")
	}
	res, err := Write(opt)
	if err != nil {
		f.t.Fatal(err)
	}
	return res
}
