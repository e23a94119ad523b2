package pcam

import (
	"bytes"
	"testing"
)

// TestHardStainGroup checks the hard stain group: patches outside it are byte-identical to a
// dataset without the option, about a third of the patches are in it, and they are paler in
// haematoxylin (more red light passes) on average.
func TestHardStainGroup(t *testing.T) {
	plain, hard := SynthOptions{Seed: 5, Train: 300, Valid: 0, Test: 0, NoDefects: true}, SynthOptions{Seed: 5, Train: 300, NoDefects: true, HardStainGroup: HardPaleHaematoxylin}
	members, err := HardStainMembers(hard, Train)
	if err != nil {
		t.Fatal(err)
	}
	g0 := &generator{opt: plain}
	g1 := &generator{opt: hard}
	var cv canvas
	a, b := make([]byte, PatchBytes), make([]byte, PatchBytes)
	in, darkIn, darkOut := 0, 0.0, 0.0
	for i, m := range members {
		seed := patchSeed(5, Train, i, seedContent)
		la, _ := g0.renderTissue(seed, a, &cv)
		lb, _ := g1.renderTissue(seed, b, &cv)
		if la != lb {
			t.Fatalf("patch %d: the label changed with the option (%d, %d)", i, la, lb)
		}
		if !m && !bytes.Equal(a, b) {
			t.Fatalf("patch %d is outside the group but its pixels changed", i)
		}
		if m {
			in++
			if bytes.Equal(a, b) {
				t.Fatalf("patch %d is in the group but its pixels did not change", i)
			}
			darkIn += meanRed(b)
			darkOut += meanRed(a)
		}
	}
	if in < 70 || in > 130 {
		t.Errorf("%d of 300 patches in the group, want about 100", in)
	}
	// Haematoxylin absorbs red most: paler nuclei leave more red light.
	if darkIn <= darkOut {
		t.Errorf("group patches are not paler: mean red %.1f with the option, %.1f without", darkIn/float64(in), darkOut/float64(in))
	}
	if _, err := Synthesize(t.TempDir(), SynthOptions{Train: 8, NoDefects: true, HardStainGroup: "dark"}); err == nil {
		t.Error("an unknown hard stain group was accepted")
	}
}

func meanRed(p []byte) float64 {
	var s int
	for i := 0; i < len(p); i += 3 {
		s += int(p[i])
	}
	return float64(s) / float64(len(p)/3)
}
