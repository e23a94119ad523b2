package pcam

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// smallSynth is the option set used by the package tests.
var smallSynth = SynthOptions{Seed: 42, Train: 600, Valid: 120, Test: 120}

// synthOnce generates smallSynth once per test binary run.
var synthDir string

func synthesized(t *testing.T) (string, *Manifest) {
	t.Helper()
	if synthDir == "" {
		dir, err := os.MkdirTemp("", "pcam-synth-test")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Synthesize(dir, smallSynth); err != nil {
			t.Fatal(err)
		}
		synthDir = dir
	}
	m, err := ReadManifest(synthDir)
	if err != nil {
		t.Fatal(err)
	}
	return synthDir, m
}

func TestMain(m *testing.M) {
	code := m.Run()
	if synthDir != "" {
		os.RemoveAll(synthDir)
	}
	os.Exit(code)
}

// fileDigests returns the SHA-256 of every file in dir by name.
func fileDigests(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		f, err := os.Open(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		io.Copy(h, f)
		f.Close()
		out[e.Name()] = hex.EncodeToString(h.Sum(nil))
	}
	return out
}

func TestSynthesizeDeterministic(t *testing.T) {
	dir, _ := synthesized(t)
	other := t.TempDir()
	opt := smallSynth
	opt.Workers = 1 // a different worker count must not change a byte
	if _, err := Synthesize(other, opt); err != nil {
		t.Fatal(err)
	}
	a, b := fileDigests(t, dir), fileDigests(t, other)
	if len(a) != 10 {
		t.Fatalf("want 9 data files + manifest, got %v", a)
	}
	for name, d := range a {
		if b[name] != d {
			t.Errorf("%s differs between two runs with the same seed", name)
		}
	}
	opt.Seed++
	third := t.TempDir()
	if _, err := Synthesize(third, opt); err != nil {
		t.Fatal(err)
	}
	if c := fileDigests(t, third); c["camelyonpatch_level_2_split_train_x.h5"] == a["camelyonpatch_level_2_split_train_x.h5"] {
		t.Error("a different seed gave the same train images")
	}
}

// readAll reads every patch and label of a split.
func readAll(t *testing.T, dir string, s Split) (*H5Reader, []byte, []uint8) {
	t.Helper()
	r, err := OpenH5(dir, s)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	idx := make([]int, r.Len())
	for i := range idx {
		idx[i] = i
	}
	pix := make([]byte, len(idx)*PatchBytes)
	lab := make([]uint8, len(idx))
	if err := r.Read(idx, pix, lab); err != nil {
		t.Fatal(err)
	}
	return r, pix, lab
}

func TestSynthesizeLayoutAndManifest(t *testing.T) {
	dir, m := synthesized(t)
	pix := map[Split][]byte{}
	lab := map[Split][]uint8{}
	for _, s := range Splits {
		r, p, l := readAll(t, dir, s)
		if r.Len() != m.Counts[s] || len(r.Meta()) != r.Len() {
			t.Fatalf("%s: %d patches, %d meta rows, want %d", s, r.Len(), len(r.Meta()), m.Counts[s])
		}
		ones := 0
		for i, v := range l {
			ones += int(v)
			if r.Meta()[i].CenterTumorPatch != (v == 1) {
				t.Fatalf("%s[%d]: meta center_tumor_patch disagrees with label", s, i)
			}
		}
		if ones < len(l)*35/100 || ones > len(l)*65/100 {
			t.Errorf("%s: %d positives of %d: classes not balanced", s, ones, len(l))
		}
		pix[s], lab[s] = p, l
	}
	patch := func(ref PatchRef) []byte { return pix[ref.Split][ref.Index*PatchBytes : (ref.Index+1)*PatchBytes] }
	kinds := map[DefectKind]int{}
	for _, d := range m.Defects {
		kinds[d.Kind]++
		ref := PatchRef{d.Split, d.Index}
		switch d.Kind {
		case DefectExactDuplicate:
			if !bytes.Equal(patch(ref), patch(*d.Source)) {
				t.Errorf("%+v: not an exact duplicate of its source", d)
			}
			if d.LabelConflict != (lab[d.Split][d.Index] != lab[d.Source.Split][d.Source.Index]) {
				t.Errorf("%+v: label_conflict does not match the stored labels", d)
			}
		case DefectNearDuplicate:
			if bytes.Equal(patch(ref), patch(*d.Source)) {
				t.Errorf("%+v: near duplicate is byte-identical to its source", d)
			}
		case DefectBlank, DefectBlack:
			want := byte(255)
			if d.Kind == DefectBlack {
				want = 0
			}
			if bytes.Count(patch(ref), []byte{want}) != PatchBytes {
				t.Errorf("%+v: not constant %d", d, want)
			}
		case DefectSaturated:
			clipped := 0
			p := patch(ref)
			for i := 0; i < PatchBytes; i += 3 {
				if p[i] == 255 || p[i+1] == 255 || p[i+2] == 255 {
					clipped++
				}
			}
			if clipped*5 < (PatchBytes/3)*4 {
				t.Errorf("%+v: only %d pixels clipped", d, clipped)
			}
		}
	}
	for _, k := range []DefectKind{DefectExactDuplicate, DefectNearDuplicate, DefectBlank, DefectBlack, DefectSaturated, DefectSharedWSI} {
		if kinds[k] == 0 {
			t.Errorf("no %s planted", k)
		}
	}
	if m.Summary["label_conflict"] < 2 || m.Summary["cross_split_exact_duplicate"] < 4 || m.Summary["cross_split_near_duplicate"] < 12 {
		t.Errorf("summary lacks planted classes: %v", m.Summary)
	}
	checkExactGroundTruth(t, m, pix)
}

// checkExactGroundTruth asserts the manifest contract: two patches are byte-identical if and only if
// exact_duplicate entries link them.
func checkExactGroundTruth(t *testing.T, m *Manifest, pix map[Split][]byte) {
	t.Helper()
	parent := map[PatchRef]PatchRef{}
	var find func(PatchRef) PatchRef
	find = func(p PatchRef) PatchRef {
		if q, ok := parent[p]; ok && q != p {
			return find(q)
		}
		return p
	}
	for _, d := range m.Defects {
		if d.Kind == DefectExactDuplicate {
			parent[find(PatchRef{d.Split, d.Index})] = find(*d.Source)
		}
	}
	byHash := map[[20]byte][]PatchRef{}
	for _, s := range Splits {
		for i := 0; i < m.Counts[s]; i++ {
			h := sha1.Sum(pix[s][i*PatchBytes : (i+1)*PatchBytes])
			byHash[h] = append(byHash[h], PatchRef{s, i})
		}
	}
	groups := 0
	for _, refs := range byHash {
		for _, r := range refs[1:] {
			if find(r) != find(refs[0]) {
				t.Errorf("%v and %v are identical but not linked in the manifest", r, refs[0])
			}
		}
		if len(refs) > 1 {
			groups++
		}
	}
	for _, d := range m.Defects {
		if d.Kind == DefectExactDuplicate {
			a, b := sha1.Sum(pix[d.Split][d.Index*PatchBytes:(d.Index+1)*PatchBytes]), sha1.Sum(pix[d.Source.Split][d.Source.Index*PatchBytes:(d.Source.Index+1)*PatchBytes])
			if a != b {
				t.Errorf("manifest links %v to %v but they differ", PatchRef{d.Split, d.Index}, *d.Source)
			}
		}
	}
	if groups == 0 {
		t.Error("no exact duplicate groups found")
	}
}

func TestSynthesizeSharedWSI(t *testing.T) {
	dir, m := synthesized(t)
	var shared string
	for _, d := range m.Defects {
		if d.Kind == DefectSharedWSI {
			shared = d.WSI
		}
	}
	wsis := map[Split][]string{}
	for _, s := range Splits {
		r, err := OpenH5(dir, s)
		if err != nil {
			t.Fatal(err)
		}
		for _, row := range r.Meta() {
			if !slices.Contains(wsis[s], row.WSI) {
				wsis[s] = append(wsis[s], row.WSI)
			}
		}
		r.Close()
	}
	if !slices.Contains(wsis[Train], shared) || !slices.Contains(wsis[Test], shared) {
		t.Fatalf("shared WSI %q not in both train and test", shared)
	}
	for _, w := range wsis[Valid] {
		if slices.Contains(wsis[Train], w) || slices.Contains(wsis[Test], w) {
			t.Errorf("unplanted WSI overlap: %s", w)
		}
	}
}

func TestSynthesizeRejectsBadOptions(t *testing.T) {
	for _, opt := range []SynthOptions{{}, {Train: -1, Valid: 50}, {Train: 10, Valid: 50}, {Train: 100, Deflate: 12}} {
		if _, err := Synthesize(t.TempDir(), opt); err == nil {
			t.Errorf("options %+v accepted", opt)
		}
	}
	if _, err := Synthesize(t.TempDir(), SynthOptions{Train: 10, NoDefects: true}); err != nil {
		t.Errorf("a tiny split without defects was refused: %v", err)
	}
}
