package pcam

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// TestDocsMontage regenerates docs/img/synth-vs-real.png and prints the colour statistics table of
// docs/data.md. It runs only with PCAM_WRITE_DOCS=1.
func TestDocsMontage(t *testing.T) {
	if os.Getenv("PCAM_WRITE_DOCS") == "" {
		t.Skip("set PCAM_WRITE_DOCS=1 to regenerate docs/img/synth-vs-real.png")
	}
	k, err := OpenKaggle(kaggleFixture, Train)
	if err != nil {
		t.Fatal(err)
	}
	real, _ := readAllFrom(t, k)
	var cv canvas
	synth := make([]byte, 15*PatchBytes)
	labels := ""
	for i := 0; i < 15; i++ {
		l, _ := renderTissue(patchSeed(2026, Train, i, seedContent), synth[i*PatchBytes:(i+1)*PatchBytes], &cv)
		labels += string(rune('0' + l))
	}
	white := make([]byte, PatchBytes)
	for i := range white {
		white[i] = 255
	}
	var grid []byte
	for row := 0; row < 3; row++ {
		grid = append(grid, synth[row*5*PatchBytes:(row+1)*5*PatchBytes]...)
		grid = append(grid, white...)
		grid = append(grid, real[row*5*PatchBytes:(row+1)*5*PatchBytes]...)
	}
	out := filepath.Join("..", "docs", "img", "synth-vs-real.png")
	os.MkdirAll(filepath.Dir(out), 0o755)
	if err := WriteMontage(out, grid, 11, 2, 4); err != nil {
		t.Fatal(err)
	}
	t.Logf("synthetic labels (row-major): %s", labels)
	_, _, st := renderSample(4000, 2026)
	var rs PixelStats
	rs.Add(real)
	t.Logf("| | mean R | mean G | mean B | std R | std G | std B |")
	for _, r := range []struct {
		name string
		s    *PixelStats
	}{{"synthetic (4,000 patches)", &st}, {"real Kaggle (15 patches)", &rs}} {
		m, s := r.s.Mean(), r.s.Std()
		t.Logf("| %s | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f |", r.name, m[0], m[1], m[2], s[0], s[1], s[2])
	}
}

// TestDocsManifestExample prints the manifest summary of a small dataset for docs/data.md.
func TestDocsManifestExample(t *testing.T) {
	if os.Getenv("PCAM_WRITE_DOCS") == "" {
		t.Skip("set PCAM_WRITE_DOCS=1")
	}
	_, m := synthesized(t)
	b, _ := json.MarshalIndent(m.Summary, "", "  ")
	t.Logf("options %+v\nsummary %s", smallSynth, b)
	for _, d := range m.Defects[:4] {
		b, _ := json.Marshal(d)
		t.Logf("%s", b)
	}
	b, _ = json.Marshal(m.Defects[len(m.Defects)-1])
	t.Logf("%s", b)
}
