package audit

import (
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestMarkdownSummary(t *testing.T) {
	opt := DefaultOptions()
	opt.FailOn = []string{CrossSplitDuplicates, WSIOverlap}
	r := runPlanted(t, opt)
	var sb strings.Builder
	if err := r.WriteMarkdown(&sb); err != nil {
		t.Fatal(err)
	}
	md := sb.String()
	for _, want := range []string{
		"**Gates: FAILED** on cross_split_duplicates, wsi_overlap",
		"| cross_split_duplicates | 1 | 2 | **FAILED** |",
		"| train | 240 | 262,144 | -261,904 |",
		"220,025",
		"## Pixel statistics",
		"| train:20 (y=0), valid:5 (y=0), test:7 (y=0) |",
		"- exact `",
		"| blank | 2 | train:100, valid:30 |",
		"- train:140: mem:train: dataset x: patch 140: checksum mismatch",
		"| train / test | t2 | 40 | 10 |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("markdown:\n%s", md)
	}
}

func TestJSONRoundTrip(t *testing.T) {
	r := runPlanted(t, DefaultOptions())
	path := filepath.Join(t.TempDir(), "audit.json")
	if err := r.WriteJSONFile(path); err != nil {
		t.Fatal(err)
	}
	back, err := ReadJSONFile(path)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := Clean(r, DefaultExclude, LeakDropTrain)
	b, _ := back.CleanView()
	if !reflect.DeepEqual(a, b) {
		t.Errorf("clean view of the re-read report differs")
	}
	if err := os.WriteFile(path, []byte(`{"version": 99}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadJSONFile(path); err == nil || !strings.Contains(err.Error(), "version 99") {
		t.Errorf("reading a future report: err = %v", err)
	}
}

func TestWriteMontages(t *testing.T) {
	r := runPlanted(t, DefaultOptions())
	dir := t.TempDir()
	paths, err := r.WriteMontages(dir, plantedOnce().readers)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range paths {
		names = append(names, filepath.Base(p))
	}
	want := []string{}
	for _, c := range Classes {
		want = append(want, "montage_"+c+".png")
	}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("montages = %v, want one per class %v", names, want)
	}
	f, err := os.Open(filepath.Join(dir, "montage_cross_split_duplicates.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("montage is not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != montageCols*cellW || b.Dy() != montageTitle+cellH {
		t.Errorf("montage size %v, want one row of %d cells", b, montageCols)
	}
	if out := os.Getenv("AUDIT_MONTAGE_DIR"); out != "" {
		for _, p := range paths {
			b, _ := os.ReadFile(p)
			os.WriteFile(filepath.Join(out, filepath.Base(p)), b, 0o644)
		}
	}
}

// TestWSIMontageHasOneRowPerSlide: the wsi_overlap montage draws one row per shared slide, titled with
// the slide id and its patches per split, showing patches of both splits (it used to be a flat grid of
// leaked patches without slide ids under a "one row per group" caption).
func TestWSIMontageHasOneRowPerSlide(t *testing.T) {
	r := runPlanted(t, DefaultOptions())
	rows := r.montageRows()[WSIOverlap]
	if len(rows) != 1 || rows[0].title != "slide t2: train 40, test 10 patches" {
		t.Fatalf("wsi rows = %+v, want one row titled with slide t2 and its counts", rows)
	}
	var cells []string
	for _, c := range rows[0].cells {
		cells = append(cells, fmt.Sprintf("%s:%d", c.split, c.index))
	}
	if want := "train:80 train:81 train:82 train:83 test:0 test:1 test:2 test:3"; strings.Join(cells, " ") != want {
		t.Errorf("cells %v, want %s", cells, want)
	}
	img := drawMontage(WSIOverlap, r.Finding(WSIOverlap), rows, plantedOnce().readers)
	if h := img.Bounds().Dy(); h != montageTitle+cellH+montageRowTitle {
		t.Errorf("montage height %d, want one titled row", h)
	}
}
