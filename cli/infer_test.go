package cli_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"flag"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/pcamflow/pcamflow/cli"
	"github.com/pcamflow/pcamflow/model"
	"github.com/pcamflow/pcamflow/pcam"
)

// kaggleFixture holds 15 real PCAM patches from the Kaggle release (see its README); each file is
// named by its Kaggle id, the SHA-1 of its pixel bytes.
const kaggleFixture = "../pcam/testdata/kaggle/train"

// tinyModel returns the configuration of the small MLP the inference tests use.
func tinyModel(seed uint64) model.Config {
	return model.Config{Arch: model.ArchMLP, HiddenUnits: []int{4}, Seed: seed,
		Normalize: model.Normalize{Mean: []float64{0.7, 0.55, 0.7}, Std: []float64{0.2, 0.25, 0.2}}}
}

// saveModel writes a freshly initialised model with cfg to path.
func saveModel(path string, cfg model.Config) error {
	t, err := model.New(cfg)
	if err != nil {
		return err
	}
	return t.SaveFile(path)
}

// cmdMkModel is the testscript command `mkmodel [-seed N] [-input HxW] [-nan] FILE`: it writes a
// freshly initialised tiny MLP checkpoint. -input gives another image size (for the geometry
// check); -nan gives a model whose normalisation overflows float32, so its outputs are NaN.
func cmdMkModel(ts *testscript.TestScript, neg bool, args []string) {
	fs := flag.NewFlagSet("mkmodel", flag.ContinueOnError)
	seed := fs.Uint64("seed", 1, "seed")
	input := fs.String("input", "", "HxW")
	nan := fs.Bool("nan", false, "NaN outputs")
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 || neg {
		ts.Fatalf("usage: mkmodel [-seed N] [-input HxW] [-nan] FILE")
	}
	cfg := tinyModel(*seed)
	if *input != "" {
		var h, w int
		if _, err := fmt.Sscanf(*input, "%dx%d", &h, &w); err != nil {
			ts.Fatalf("mkmodel: -input %q: %v", *input, err)
		}
		cfg.Input = model.Input{Height: h, Width: w, Channels: 3}
	}
	if *nan {
		cfg.Normalize.Std = []float64{1e-300, 1e-300, 1e-300}
	}
	ts.Check(saveModel(ts.MkAbs(fs.Arg(0)), cfg))
}

// cmdMkPNG is the testscript command `mkpng WxH FILE`: it writes an opaque RGB PNG of that size
// with a deterministic colour pattern.
func cmdMkPNG(ts *testscript.TestScript, neg bool, args []string) {
	var w, h int
	if len(args) != 2 || neg {
		ts.Fatalf("usage: mkpng WxH FILE")
	}
	if _, err := fmt.Sscanf(args[0], "%dx%d", &w, &h); err != nil {
		ts.Fatalf("mkpng: size %q: %v", args[0], err)
	}
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < w*h; i++ {
		copy(img.Pix[4*i:], []byte{byte(200 - i%50), byte(120 + i%70), byte(180 + i%40), 255})
	}
	var buf bytes.Buffer
	ts.Check(png.Encode(&buf, img))
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), buf.Bytes(), 0o644))
}

// TestInferScripts runs the inference scripts in testdata/infer, which need the mkmodel and mkpng
// commands and the Kaggle fixture (copied to $WORK/kaggle).
func TestInferScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/infer",
		Setup: func(env *testscript.Env) error {
			env.Setenv("HOME", env.WorkDir)
			return copyDir(kaggleFixture, filepath.Join(env.WorkDir, "kaggle"))
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){"mkmodel": cmdMkModel, "mkpng": cmdMkPNG},
	})
}

// copyDir copies the regular files of src into dst (created).
func copyDir(src, dst string) error {
	ents, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// runCLI runs one pcamflow command line in-process and returns its exit code, stdout and stderr.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := cli.Run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

// inferRow is one parsed CSV row of `pcamflow infer`.
type inferRow struct {
	input string
	index int
	id    string
	prob  float64
	label string
}

// parseInferCSV parses and checks the shape of infer's CSV output.
func parseInferCSV(t *testing.T, data string, withLabel bool) []inferRow {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatalf("output is not CSV: %v\n%s", err, data)
	}
	want := "input,index,id,probability"
	if withLabel {
		want += ",label"
	}
	if len(recs) == 0 || strings.Join(recs[0], ",") != want {
		t.Fatalf("header %q, want %q", recs[0], want)
	}
	var rows []inferRow
	for _, r := range recs[1:] {
		idx, err1 := strconv.Atoi(r[1])
		p, err2 := strconv.ParseFloat(r[3], 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("row %q: bad index or probability", r)
		}
		row := inferRow{input: r[0], index: idx, id: r[2], prob: p}
		if withLabel {
			row.label = r[4]
		}
		rows = append(rows, row)
	}
	return rows
}

// TestInferKaggleAndH5 predicts the real Kaggle patches and a synthetic HDF5 split and checks
// the CSV: one row per patch, ids, probabilities in [0,1], labels that follow the threshold, and
// byte-identical output across runs, batch sizes and the two HDF5 read paths.
func TestInferKaggleAndH5(t *testing.T) {
	dir := t.TempDir()
	ckpt := filepath.Join(dir, "m.ckpt")
	if err := saveModel(ckpt, tinyModel(3)); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "synth")
	if _, err := pcam.Synthesize(data, pcam.SynthOptions{Seed: 1, Train: 16, Valid: 40, Test: 8, NoDefects: true}); err != nil {
		t.Fatal(err)
	}
	h5 := pcam.SplitFiles(data, pcam.Valid).X
	lone := filepath.Join(dir, "lone_x.h5")
	copyFile(t, h5, lone)

	code, out, stderr := runCLI(t, "infer", "--model", ckpt, "--threshold", "0.5", kaggleFixture, h5)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	rows := parseInferCSV(t, out, true)
	if len(rows) != 15+40 {
		t.Fatalf("%d rows, want 55", len(rows))
	}
	positives := 0
	for i, r := range rows {
		if !(r.prob >= 0 && r.prob <= 1) {
			t.Errorf("row %d: probability %v not in [0,1]", i, r.prob)
		}
		if want := map[bool]string{true: "1", false: "0"}[r.prob >= 0.5]; r.label != want {
			t.Errorf("row %d: label %s for probability %v and threshold 0.5", i, r.label, r.prob)
		}
		if r.label == "1" {
			positives++
		}
		if i < 15 {
			if stem := strings.TrimSuffix(filepath.Base(r.input), ".tif"); r.id != stem || r.index != 0 {
				t.Errorf("row %d: input %s index %d id %s: the id must be the file's Kaggle id", i, r.input, r.index, r.id)
			}
		} else if r.input != h5 || r.index != i-15 {
			t.Errorf("row %d: input %s index %d, want %s index %d", i, r.input, r.index, h5, i-15)
		}
	}
	if positives == 0 || positives == len(rows) {
		t.Errorf("all %d labels are equal: the test model does not discriminate, the label check is void", len(rows))
	}
	checkH5IDs(t, data, rows[15:])

	// Same output again, with another batch size, and through the lone-x-file reader.
	_, again, _ := runCLI(t, "infer", "--model", ckpt, "--threshold", "0.5", "--batch", "7", kaggleFixture, h5)
	if again != out {
		t.Errorf("a second run with --batch 7 differs from the first")
	}
	_, viaLone, stderr := runCLI(t, "infer", "--model", ckpt, lone)
	loneRows := parseInferCSV(t, viaLone, false)
	if len(loneRows) != 40 {
		t.Fatalf("lone x file: %d rows, want 40: %s", len(loneRows), stderr)
	}
	for i, r := range loneRows {
		if r.prob != rows[15+i].prob || r.id != rows[15+i].id || r.input != lone {
			t.Errorf("lone x file row %d = %+v, official reader gave %+v", i, r, rows[15+i])
		}
	}
}

// checkH5IDs checks that the ids of the valid split's rows are the SHA-1 of its patches.
func checkH5IDs(t *testing.T, dir string, rows []inferRow) {
	t.Helper()
	r, err := pcam.OpenH5(dir, pcam.Valid)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	pix := make([]byte, pcam.PatchBytes)
	for _, row := range rows {
		if err := r.Read([]int{row.index}, pix, nil); err != nil {
			t.Fatal(err)
		}
		if got := pcam.KaggleID(pix); got != row.id {
			t.Errorf("index %d: id %s, want %s", row.index, row.id, got)
		}
	}
}

// copyFile copies src to dst.
func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestInferExitCodes checks that usage mistakes exit 2 and failures exit 1, with a message.
func TestInferExitCodes(t *testing.T) {
	dir := t.TempDir()
	ckpt := filepath.Join(dir, "m.ckpt")
	if err := saveModel(ckpt, tinyModel(1)); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"infer", kaggleFixture}, 2, "infer needs --model CHECKPOINT"},
		{[]string{"infer", "--model", ckpt}, 2, "infer needs at least one INPUT"},
		{[]string{"infer", "--model", ckpt, "--threshold", "-0.1", kaggleFixture}, 2, "not a probability between 0 and 1"},
		{[]string{"infer", "--model", ckpt, "--threshold", "NaN", kaggleFixture}, 2, "not a probability between 0 and 1"},
		{[]string{"infer", "--model", ckpt, "--batch", "70000", kaggleFixture}, 2, "--batch must be between 1 and 65536"},
		{[]string{"infer", "--model", ckpt, "--bogus", kaggleFixture}, 2, "flag provided but not defined: -bogus"},
		{[]string{"infer", "--model", filepath.Join(dir, "none.ckpt"), kaggleFixture}, 1, "no such file or directory"},
		{[]string{"infer", "--model", ckpt, filepath.Join(dir, "none.h5")}, 1, "none.h5 does not exist"},
		{[]string{"infer", "--model", ckpt, "-o", filepath.Join(ckpt, "under", "a-file.csv"), kaggleFixture}, 1, "a-file.csv"},
		{[]string{"infer", "--model", ckpt, kaggleFixture}, 0, "15 patches from 1 input(s) to stdout"},
		{[]string{"infer", "--model", ckpt, "-o", filepath.Join(dir, "new", "dir", "p.csv"), kaggleFixture}, 0, filepath.Join("new", "dir", "p.csv")},
	}
	for _, c := range cases {
		code, _, stderr := runCLI(t, c.args...)
		if code != c.code || !strings.Contains(stderr, c.msg) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", c.args[1:], code, stderr, c.code, c.msg)
		}
	}
}
