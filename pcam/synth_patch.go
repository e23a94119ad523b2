package pcam

import (
	"bytes"
	"fmt"
)

// Seed purposes: independent streams derived from (seed, split, index).
const (
	seedContent = iota
	seedJitter
	seedWSI
	seedMeta
)

// contentSeed is the seed of the rendered content of a plain patch.
func (g *generator) contentSeed(ref PatchRef) uint64 {
	return patchSeed(g.opt.Seed, ref.Split, ref.Index, seedContent)
}

// labelOf returns the label the dataset stores at ref, without rendering.
func (g *generator) labelOf(ref PatchRef) uint8 {
	sl, ok := g.plan.slots[ref.Split][ref.Index]
	switch {
	case !ok || sl.kind == slotSaturated:
		return tissueLabel(g.contentSeed(ref))
	case sl.kind == slotExact || sl.kind == slotNear:
		l := tissueLabel(g.contentSeed(sl.src))
		if sl.conflict {
			l ^= 1
		}
		return l
	}
	return 0
}

// render produces patch i of split s into dst and returns its label and whether tumour-like cells
// appear anywhere in it (the meta CSV's tumor_patch).
func (g *generator) render(s Split, i int, dst []byte, cv *canvas) (uint8, bool) {
	sl, ok := g.plan.slots[s][i]
	if !ok {
		return g.renderTissue(g.contentSeed(PatchRef{s, i}), dst, cv)
	}
	switch sl.kind {
	case slotBlank:
		for k := range dst {
			dst[k] = 255
		}
		return 0, false
	case slotBlack:
		clear(dst)
		return 0, false
	case slotSaturated:
		l, t := g.renderTissue(g.contentSeed(PatchRef{s, i}), dst, cv)
		saturate(dst)
		return l, t
	}
	l, t := g.renderTissue(g.contentSeed(sl.src), dst, cv)
	if sl.conflict {
		l ^= 1
	}
	if sl.kind == slotNear {
		g.transform(s, i, sl.transform, dst)
	}
	return l, t
}

// renderTissue renders a plain patch from its content seed, in the hard stain group when the
// options ask for one and the seed falls in it.
func (g *generator) renderTissue(seed uint64, dst []byte, cv *canvas) (uint8, bool) {
	return renderTissueIn(seed, dst, cv, g.hard(seed))
}

// hard reports whether the patch rendered from seed is in the hard stain group.
func (g *generator) hard(seed uint64) bool {
	return g.opt.HardStainGroup != "" && inHardGroup(seed)
}

// HardStainMembers returns, for a dataset generated with opt, whether patch index of split was
// rendered in the hard stain group (always false without the option). Copies of a train patch
// (planted duplicates) follow their source.
func HardStainMembers(opt SynthOptions, split Split) ([]bool, error) {
	p, err := newPlan(opt)
	if err != nil {
		return nil, err
	}
	g := &generator{opt: opt, plan: p}
	out := make([]bool, p.counts[split])
	for i := range out {
		ref := PatchRef{split, i}
		sl, ok := p.slots[split][i]
		switch {
		case !ok || sl.kind == slotSaturated:
			out[i] = g.hard(g.contentSeed(ref))
		case sl.kind == slotExact || sl.kind == slotNear:
			out[i] = g.hard(g.contentSeed(sl.src))
		}
	}
	return out, nil
}

// transform applies a near-duplicate transform in place. When the result happens to equal the source
// (a symmetric patch), colour jitter is applied on top so that the copy is never exact.
func (g *generator) transform(s Split, i int, name string, dst []byte) {
	var orig, tmp [PatchBytes]byte
	copy(orig[:], dst)
	switch name {
	case "flip_h":
		geom(dst, &tmp, func(x, y int) (int, int) { return Width - 1 - x, y })
	case "flip_v":
		geom(dst, &tmp, func(x, y int) (int, int) { return x, Height - 1 - y })
	case "rot90":
		geom(dst, &tmp, func(x, y int) (int, int) { return y, Width - 1 - x })
	case "rot180":
		geom(dst, &tmp, func(x, y int) (int, int) { return Width - 1 - x, Height - 1 - y })
	case "rot270":
		geom(dst, &tmp, func(x, y int) (int, int) { return Height - 1 - y, x })
	}
	if name == "jitter" || bytes.Equal(orig[:], dst) {
		jitter(dst, newRNG(patchSeed(g.opt.Seed, s, i, seedJitter)))
	}
}

// geom rewrites dst so that output pixel (x,y) takes input pixel src(x,y).
func geom(dst []byte, tmp *[PatchBytes]byte, src func(x, y int) (int, int)) {
	copy(tmp[:], dst)
	for y := 0; y < Height; y++ {
		for x := 0; x < Width; x++ {
			sx, sy := src(x, y)
			copy(dst[(y*Width+x)*3:(y*Width+x)*3+3], tmp[(sy*Width+sx)*3:(sy*Width+sx)*3+3])
		}
	}
}

// jitter applies a slight colour change: per-channel gain within ±3% and offset within ±6 levels.
func jitter(dst []byte, r *rng) {
	var gain, off [3]float32
	for c := range gain {
		gain[c] = r.u(0.97, 1.03)
		off[c] = r.u(2, 6)
		if r.f() < 0.5 {
			off[c] = -off[c]
		}
	}
	for k, v := range dst {
		c := k % 3
		dst[k] = uint8(min(max(float32(v)*gain[c]+off[c]+0.5, 0), 255))
	}
}

// saturate over-exposes a patch until at least 80% of its pixels have a channel clipped at 255.
func saturate(dst []byte) {
	for gain := float32(2.5); ; gain += 1 {
		clipped := 0
		for p := 0; p < npx; p++ {
			hit := false
			for c := 0; c < 3; c++ {
				v := float32(dst[p*3+c])*gain + 20
				if v >= 255 {
					hit = true
				}
			}
			if hit {
				clipped++
			}
		}
		if clipped*5 >= npx*4 {
			for k, v := range dst {
				dst[k] = uint8(min(float32(v)*gain+20, 255))
			}
			keepFromBlank(dst)
			return
		}
	}
}

// keepFromBlank stops a saturated patch of a light source from turning all white (it would then be
// byte-identical to the blank patches and count as blank): when over 90% of its pixels are pure
// white, every fourth column gets its green channel clipped to 0, which keeps it saturated (clipped
// at 0 or 255) and clearly not background.
func keepFromBlank(dst []byte) {
	white := 0
	for p := 0; p < npx; p++ {
		if dst[p*3] == 255 && dst[p*3+1] == 255 && dst[p*3+2] == 255 {
			white++
		}
	}
	if white*10 <= npx*9 {
		return
	}
	for p := 0; p < npx; p++ {
		if (p%Width)%4 == 0 {
			dst[p*3+1] = 0
		}
	}
}

// wsiName names the whole-slide image a patch is said to come from: tumour patches come from tumour
// slides, others from normal or tumour slides. Each split has its own slides.
func (g *generator) wsiName(s Split, i int, label uint8) string {
	r := newRNG(patchSeed(g.opt.Seed, s, i, seedWSI))
	nTumour, nNormal := 8, 12
	if s == Train {
		nTumour, nNormal = 40, 60
	}
	if label == 1 || r.f() < 0.5 {
		return fmt.Sprintf("synth_%s_tumor_%03d", s, 1+r.intn(nTumour))
	}
	return fmt.Sprintf("synth_%s_normal_%03d", s, 1+r.intn(nNormal))
}

// metaRow returns the meta CSV row of patch i of split s.
func (g *generator) metaRow(s Split, i int, label uint8, tumour bool) MetaRow {
	r := newRNG(patchSeed(g.opt.Seed, s, i, seedMeta))
	row := MetaRow{CoordY: r.intn(200000), CoordX: r.intn(100000), TumorPatch: label == 1 || tumour, CenterTumorPatch: label == 1}
	row.WSI = g.wsiName(s, i, label)
	if s == Test && g.plan.sharedWSI[i] {
		row.WSI = g.sharedWSI
	}
	return row
}

// manifest lists every planted defect in canonical order.
func (g *generator) manifest() *Manifest {
	m := &Manifest{Format: "pcam_h5", Version: 1, Seed: g.opt.Seed, Counts: g.plan.counts, Options: g.opt, Summary: map[string]int{}}
	first := map[slotKind]*PatchRef{}
	for _, s := range Splits {
		for _, i := range sortedKeys(g.plan.slots[s]) {
			sl := g.plan.slots[s][i]
			d := Defect{Split: s, Index: i, Label: int(g.labelOf(PatchRef{s, i}))}
			switch sl.kind {
			case slotExact, slotNear:
				src := sl.src
				srcLabel := int(g.labelOf(src))
				d.Kind, d.Source, d.SourceLabel = DefectExactDuplicate, &src, &srcLabel
				d.LabelConflict = sl.conflict
				if sl.kind == slotNear {
					d.Kind, d.Transform = DefectNearDuplicate, sl.transform
				}
			case slotBlank, slotBlack:
				d.Kind = DefectBlank
				if sl.kind == slotBlack {
					d.Kind = DefectBlack
				}
				if f := first[sl.kind]; f != nil {
					m.add(d)
					zero := 0
					d = Defect{Kind: DefectExactDuplicate, Split: s, Index: i, Source: f, SourceLabel: &zero}
				} else {
					first[sl.kind] = &PatchRef{s, i}
				}
			case slotSaturated:
				d.Kind = DefectSaturated
			}
			m.add(d)
		}
	}
	if len(g.plan.sharedWSI) > 0 {
		m.add(Defect{Kind: DefectSharedWSI, Index: -1, WSI: g.sharedWSI, Splits: []Split{Train, Test}})
	}
	if g.opt.HardStainGroup != "" {
		n := 0
		for _, s := range Splits {
			members, _ := HardStainMembers(g.opt, s)
			for _, h := range members {
				if h {
					n++
				}
			}
		}
		m.Summary["hard_stain_group"] = n
	}
	return m
}

// add appends d and counts it in the summary.
func (m *Manifest) add(d Defect) {
	m.Defects = append(m.Defects, d)
	m.Summary[string(d.Kind)]++
	if d.Source != nil && d.Source.Split != d.Split {
		m.Summary["cross_split_"+string(d.Kind)]++
	}
	if d.LabelConflict {
		m.Summary["label_conflict"]++
	}
}
