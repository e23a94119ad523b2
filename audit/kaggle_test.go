package audit

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"image"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"golang.org/x/image/tiff"

	"github.com/pcamflow/pcamflow/pcam"
)

// kaggleDir holds the 15 real PCAM patches kept in the pcam package's testdata (see its README).
const kaggleDir = "../pcam/testdata/kaggle/train"

// loadKaggle reads the real patches as raw RGB bytes, sorted by file name.
func loadKaggle(t *testing.T) (names []string, patches [][]byte) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(kaggleDir, "*.tif"))
	if len(files) == 0 {
		t.Skipf("no Kaggle fixtures in %s", kaggleDir)
	}
	sort.Strings(files)
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		img, err := tiff.Decode(fh)
		fh.Close()
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		patches = append(patches, rgbBytes(img))
		names = append(names, strings.TrimSuffix(filepath.Base(f), ".tif"))
	}
	return names, patches
}

// rgbBytes flattens an image into row-major interleaved RGB bytes.
func rgbBytes(img image.Image) []byte {
	out := make([]byte, 0, pcam.PatchBytes)
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			out = append(out, byte(r>>8), byte(g>>8), byte(bl>>8))
		}
	}
	return out
}

// TestRealPatchesKaggleIDsAndNearDuplicates checks on real H&E that the reported SHA-1 is the
// Kaggle id, that flipped/rotated/jittered copies are found across splits and that no two
// distinct real patches match.
func TestRealPatchesKaggleIDsAndNearDuplicates(t *testing.T) {
	names, patches := loadKaggle(t)
	n := len(patches)
	// train: the real patches plus, at index n, an exact copy of test:0.
	train := &memReader{name: "kaggle", pix: make([]byte, (n+1)*pcam.PatchBytes), labels: make([]uint8, n+1)}
	test := &memReader{name: "kaggle-aug", pix: make([]byte, n*pcam.PatchBytes), labels: make([]uint8, n)}
	rng := rand.New(rand.NewPCG(31, 32))
	for i, p := range patches {
		if sum := sha1.Sum(p); hex.EncodeToString(sum[:]) != names[i] {
			t.Fatalf("SHA-1 of %s pixels is %x: not the Kaggle id", names[i], sum)
		}
		train.set(i, p, 0)
		test.set(i, jitter(transform(p, 1+i%7), rng, 0.06, 10, 3), 0)
	}
	train.set(n, test.patch(0), 0)
	rep, err := Run(context.Background(), map[pcam.Split]pcam.Reader{pcam.Train: train, pcam.Test: test}, nil, DefaultOptions(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if f := rep.Finding(CrossSplitDuplicates); f.Patches != 1 || rep.ExactDuplicateGroups[0].SHA1 == "" {
		t.Errorf("cross-split exact duplicates = %+v, want 1", f)
	}
	// test:i is a near copy of train:i (test:0 also an exact copy of train:n).
	if got := rep.Finding(CrossSplitNearDuplicates).Patches; got != n {
		t.Errorf("found %d cross-split near duplicates of real patches, want %d", got, n)
	}
	for _, g := range rep.NearDuplicateGroups {
		var train []int
		for _, m := range g.Members {
			if m.Split == pcam.Train {
				train = append(train, m.Index)
			}
		}
		if len(train) > 1 && !(len(train) == 2 && train[0] == 0 && train[1] == n) {
			t.Errorf("distinct real train patches matched each other: %+v", g.Members)
		}
	}
	if got := rep.Finding(NearDuplicates).Patches; got != 1 {
		t.Errorf("near duplicates within train = %d, want 1 (train:%d is an augmented train:0)", got, n)
	}
	t.Logf("real patches: quality %v, near search %+v, train pixels %+v", rep.Splits[0].Quality, *rep.NearSearch, rep.Splits[0].Pixels)
}
