package dataaudit

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"testing"

	"github.com/pcamflow/pcamflow/audit"
	"github.com/pcamflow/pcamflow/pcam"
)

// TestAuditFindsEveryPlantedDefect runs the audit on synthetic data and checks it against the
// generator's manifest: every planted defect of each class is found (recall 1.0), nothing else is
// reported as an exact duplicate, and near-duplicate precision and recall are measured.
func TestAuditFindsEveryPlantedDefect(t *testing.T) {
	for _, seed := range []uint64{7, 11} {
		t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) { auditAgainstManifest(t, seed) })
	}
}

func auditAgainstManifest(t *testing.T, seed uint64) {
	dir := t.TempDir()
	m, err := pcam.Synthesize(dir, pcam.SynthOptions{Seed: seed, Train: 4000, Valid: 600, Test: 600})
	if err != nil {
		t.Fatal(err)
	}
	readers := map[pcam.Split]pcam.Reader{}
	metas := map[pcam.Split][]audit.MetaRow{}
	for _, s := range pcam.Splits {
		r, err := pcam.OpenH5(dir, s)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		readers[s] = r
		for _, row := range r.Meta() {
			metas[s] = append(metas[s], audit.MetaRow{CoordY: row.CoordY, CoordX: row.CoordX, Tumor: row.TumorPatch, CenterTumor: row.CenterTumorPatch, WSI: row.WSI})
		}
	}
	rep, err := audit.Run(context.Background(), readers, metas, audit.DefaultOptions(), nil)
	if err != nil {
		t.Fatal(err)
	}
	sha := func(p pcam.PatchRef) string {
		buf := make([]byte, pcam.PatchBytes)
		if err := readers[p.Split].Read([]int{p.Index}, buf, nil); err != nil {
			t.Fatal(err)
		}
		sum := sha1.Sum(buf)
		return hex.EncodeToString(sum[:])
	}
	exactGroupOf := map[pcam.PatchRef]int{}
	for gi, g := range rep.ExactDuplicateGroups {
		for _, o := range g.Members {
			exactGroupOf[pcam.PatchRef{Split: o.Split, Index: o.Index}] = gi + 1
		}
	}
	nearGroupOf := map[string]int{}
	for gi, g := range rep.NearDuplicateGroups {
		for _, mem := range g.Members {
			nearGroupOf[mem.SHA1] = gi + 1
		}
	}
	flagged := map[string]map[pcam.PatchRef]bool{"blank": {}, "black": {}, "saturated": {}}
	for class, list := range map[string][]audit.PatchRef{"blank": rep.Flagged.Blank, "black": rep.Flagged.Black, "saturated": rep.Flagged.Saturated} {
		for _, p := range list {
			flagged[class][pcam.PatchRef{Split: p.Split, Index: p.Index}] = true
		}
	}
	uf := newUnionFind()
	found, planted := map[pcam.DefectKind]int{}, map[pcam.DefectKind]int{}
	nearPlanted, nearFound := 0, 0
	for _, d := range m.Defects {
		ref := pcam.PatchRef{Split: d.Split, Index: d.Index}
		planted[d.Kind]++
		ok := false
		switch d.Kind {
		case pcam.DefectExactDuplicate:
			uf.union(ref, *d.Source)
			ok = exactGroupOf[ref] != 0 && exactGroupOf[ref] == exactGroupOf[*d.Source]
			if ok && d.LabelConflict {
				ok = rep.ExactDuplicateGroups[exactGroupOf[ref]-1].LabelConflict
			}
		case pcam.DefectNearDuplicate:
			nearPlanted++
			a, b := nearGroupOf[sha(ref)], nearGroupOf[sha(*d.Source)]
			ok = a != 0 && a == b
			if ok {
				nearFound++
			}
			if ok && d.LabelConflict {
				ok = rep.NearDuplicateGroups[a-1].LabelConflict
			}
		case pcam.DefectBlank, pcam.DefectBlack, pcam.DefectSaturated:
			ok = flagged[string(d.Kind)][ref]
		case pcam.DefectSharedWSI:
			ok = rep.WSI != nil && len(rep.WSI.Overlaps) > 0
		}
		if ok {
			found[d.Kind]++
		} else {
			t.Errorf("planted %s at %s:%d (source %v, label conflict %v) was not found", d.Kind, d.Split, d.Index, d.Source, d.LabelConflict)
		}
	}
	for kind, n := range planted {
		t.Logf("%-16s planted %3d, found %3d (recall %.3f)", kind, n, found[kind], float64(found[kind])/float64(n))
		if n == 0 {
			t.Errorf("the generator planted no %s", kind)
		}
	}
	// Precision of exact duplicates: every reported group is one planted component.
	for _, g := range rep.ExactDuplicateGroups {
		root := uf.find(pcam.PatchRef{Split: g.Members[0].Split, Index: g.Members[0].Index})
		for _, o := range g.Members[1:] {
			if uf.find(pcam.PatchRef{Split: o.Split, Index: o.Index}) != root {
				t.Errorf("exact duplicate group %s links patches the manifest does not link: %v", g.SHA1, g.Members)
			}
		}
	}
	// Near-duplicate precision: reported image pairs that are not a planted near pair.
	plantedPairs := map[[2]string]bool{}
	for _, d := range m.Defects {
		if d.Kind == pcam.DefectNearDuplicate {
			a, b := sha(pcam.PatchRef{Split: d.Split, Index: d.Index}), sha(*d.Source)
			plantedPairs[[2]string{a, b}], plantedPairs[[2]string{b, a}] = true, true
		}
	}
	reported, truePairs := 0, 0
	for _, g := range rep.NearDuplicateGroups {
		for _, e := range g.Edges {
			reported++
			if plantedPairs[[2]string{g.Members[e.A].SHA1, g.Members[e.B].SHA1}] {
				truePairs++
			}
		}
	}
	t.Logf("near duplicates: recall %d/%d, precision %d/%d reported pairs are planted", nearFound, nearPlanted, truePairs, reported)
	checkTransforms(t, m, rep, sha)
	if reported > 0 && float64(truePairs)/float64(reported) < 0.9 {
		t.Errorf("near-duplicate precision %.2f is below 0.9", float64(truePairs)/float64(reported))
	}
}

// checkTransforms checks that the link reported between each planted near duplicate and its source
// names the planted transform: the geometric ones exactly (unless the generator had to add jitter to
// a symmetric patch), "jitter" as the identity with a colour change.
func checkTransforms(t *testing.T, m *pcam.Manifest, rep *audit.Report, sha func(pcam.PatchRef) string) {
	t.Helper()
	type link struct{ transform, exact string }
	links := map[[2]string]link{}
	for _, g := range rep.NearDuplicateGroups {
		for _, e := range g.Edges {
			links[[2]string{g.Members[e.A].SHA1, g.Members[e.B].SHA1}] = link{e.Transform, fmt.Sprint(e.Exact)}
		}
	}
	inverse := map[string]string{"rot90": "rot270", "rot270": "rot90"}
	checked := 0
	for _, d := range m.Defects {
		if d.Kind != pcam.DefectNearDuplicate {
			continue
		}
		src, dup := sha(*d.Source), sha(pcam.PatchRef{Split: d.Split, Index: d.Index})
		want := link{d.Transform, "true"}
		if d.Transform == "jitter" {
			want = link{"identity", "false"}
		}
		got, ok := links[[2]string{src, dup}]
		if !ok { // the copy comes first in canonical order: the link runs the other way
			got, ok = links[[2]string{dup, src}]
			if inv, has := inverse[want.transform]; has {
				want.transform = inv
			}
		}
		if !ok {
			continue // not found at all: reported by the recall check
		}
		checked++
		if got.transform != want.transform || (got.exact != want.exact && want.exact == "false") {
			t.Errorf("planted %s %s:%d from %s:%d is reported as %+v, want %+v", d.Transform, d.Split, d.Index, d.Source.Split, d.Source.Index, got, want)
		}
	}
	t.Logf("near-duplicate transforms: %d planted links checked", checked)
}

// unionFind groups patches linked by planted exact duplicates.
type unionFind struct {
	parent map[pcam.PatchRef]pcam.PatchRef
}

func newUnionFind() *unionFind { return &unionFind{parent: map[pcam.PatchRef]pcam.PatchRef{}} }

func (u *unionFind) find(p pcam.PatchRef) pcam.PatchRef {
	for {
		q, ok := u.parent[p]
		if !ok || q == p {
			return p
		}
		p = q
	}
}

func (u *unionFind) union(a, b pcam.PatchRef) { u.parent[u.find(a)] = u.find(b) }
