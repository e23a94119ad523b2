package audit

import (
	"math/rand/v2"
	"testing"

	"github.com/pcamflow/pcamflow/pcam"
)

// TestNearDuplicatePrecisionRecall plants flipped/rotated/jittered copies among thousands of
// distinct textured patches and measures pair-level precision and recall of the near search.
func TestNearDuplicatePrecisionRecall(t *testing.T) {
	base, planted := 2400, 400
	if testing.Short() {
		base, planted = 600, 100
	}
	train := newTextured("mem:train", base+planted/2, 21)
	valid := newTextured("mem:valid", base/4+planted/2, 22)
	rng := rand.New(rand.NewPCG(23, 24))
	jitters := []struct {
		gain, offset float64
		noise        int
	}{{0, 0, 0}, {0.03, 5, 2}, {0.06, 10, 3}, {0.1, 15, 5}}
	type pair struct{ a, b PatchRef }
	clusters := map[int][]PatchRef{} // source index -> its copies
	for k := range planted {
		src := rng.IntN(base)
		j := jitters[k%len(jitters)]
		p := jitter(transform(train.patch(src), 1+rng.IntN(7)), rng, j.gain, j.offset, j.noise)
		dst := PatchRef{Split: pcam.Train, Index: base + k/2}
		r := train
		if k%2 == 1 {
			dst, r = PatchRef{Split: pcam.Valid, Index: base/4 + k/2}, valid
		}
		r.set(dst.Index, p, 0)
		clusters[src] = append(clusters[src], dst)
	}
	// Every two members of a cluster (a source and its copies) are near duplicates of each other.
	less := func(a, b PatchRef) bool {
		if a.Split != b.Split {
			return a.Split == pcam.Train
		}
		return a.Index < b.Index
	}
	want := map[pair]bool{}
	for src, copies := range clusters {
		members := append([]PatchRef{{pcam.Train, src}}, copies...)
		for i, a := range members {
			for _, b := range members[i+1:] {
				if less(b, a) {
					want[pair{b, a}] = true
				} else {
					want[pair{a, b}] = true
				}
			}
		}
	}
	rep := mustRun(t, map[pcam.Split]pcam.Reader{pcam.Train: train, pcam.Valid: valid}, DefaultOptions())
	found := map[pair]bool{}
	maxRes := 0.0
	for _, g := range rep.NearDuplicateGroups {
		for _, e := range g.Edges {
			maxRes = max(maxRes, e.Residual)
		}
		for i, a := range g.Members {
			for _, b := range g.Members[i+1:] {
				found[pair{PatchRef{a.Split, a.Index}, PatchRef{b.Split, b.Index}}] = true
			}
		}
	}
	for p := range found {
		if !want[p] {
			t.Errorf("unplanted pair %v ~ %v", p.a, p.b)
		}
	}
	hits := 0
	for p := range want {
		if found[p] {
			hits++
		} else {
			t.Errorf("planted near duplicate %v ~ %v not found", p.a, p.b)
		}
	}
	recall := float64(hits) / float64(len(want))
	precision := float64(hits) / float64(max(1, len(found)))
	t.Logf("near duplicates: %d patches, %d planted copies, %d planted pairs, %d found pairs; precision %.4f, recall %.4f; largest residual %.3f; search %+v",
		train.Len()+valid.Len(), planted, len(want), len(found), precision, recall, maxRes, *rep.NearSearch)
	if precision < 1 {
		t.Errorf("precision %.4f < 1: %d found pairs are not planted", precision, len(found)-hits)
	}
	if rep.Finding(ExactDuplicates).Patches != 0 {
		t.Errorf("false exact duplicates: %d", rep.Finding(ExactDuplicates).Patches)
	}
}
