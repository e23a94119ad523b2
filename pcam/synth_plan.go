package pcam

import (
	"fmt"
	"slices"
)

// slotKind says how one index of a synthetic split is produced.
type slotKind uint8

const (
	slotTissue    slotKind = iota // a freshly rendered patch
	slotExact                     // an exact copy of src (label flipped when conflict)
	slotNear                      // src transformed by transform
	slotBlank                     // all 255
	slotBlack                     // all 0
	slotSaturated                 // a rendered patch, over-exposed
)

// slot is the recipe of one planted index.
type slot struct {
	kind      slotKind
	src       PatchRef
	transform string
	conflict  bool
}

// nearTransforms are the near-duplicate transforms, used in turn.
var nearTransforms = []string{"flip_h", "rot90", "jitter", "flip_v", "rot180", "rot270"}

// plan holds the planted slots of every split and the shared WSI block.
type plan struct {
	counts    map[Split]int
	slots     map[Split]map[int]slot
	sharedWSI map[int]bool // test indices whose meta row names a train WSI
}

// atLeast returns max(lo, frac*n) rounded down.
func atLeast(lo int, frac float64, n int) int { return max(lo, int(frac*float64(n))) }

// minPlantedSplit is the smallest non-empty split size into which defects are planted.
const minPlantedSplit = 40

// newPlan chooses, deterministically from seed, which indices carry which defect. Sources of copies
// are always plain rendered train patches. Splits of zero size get no defects.
func newPlan(opt SynthOptions) (*plan, error) {
	p := &plan{counts: map[Split]int{Train: opt.Train, Valid: opt.Valid, Test: opt.Test}, slots: map[Split]map[int]slot{}}
	for _, s := range Splits {
		p.slots[s] = map[int]slot{}
		if n := p.counts[s]; !opt.NoDefects && n > 0 && n < minPlantedSplit {
			return nil, fmt.Errorf("synthetic %s split of %d patches is too small to plant defects in (need at least %d, or disable defects)", s, n, minPlantedSplit)
		}
	}
	if opt.NoDefects {
		return p, nil
	}
	if opt.Train == 0 {
		return nil, fmt.Errorf("planting defects needs a non-empty train split (the source of duplicates)")
	}
	r := newRNG(mix64(opt.Seed ^ 0x706c616e))
	free := map[Split][]int{}
	for _, s := range Splits {
		free[s] = r.perm(p.counts[s])
	}
	take := func(s Split) int {
		i := free[s][0]
		free[s] = free[s][1:]
		return i
	}
	// Reserve sources first so that no source is itself planted.
	nTrain := opt.Train
	nSrc := atLeast(3, 0.01, nTrain) + atLeast(2, 0.001, nTrain) + atLeast(2, 0.002, nTrain)
	for _, s := range []Split{Valid, Test} {
		if p.counts[s] > 0 {
			nSrc += atLeast(2, 0.005, p.counts[s]) + atLeast(len(nearTransforms), 0.005, p.counts[s])
		}
	}
	if nSrc > nTrain/2 {
		return nil, fmt.Errorf("synthetic train split of %d patches is too small for %d duplicate sources", nTrain, nSrc)
	}
	var sources []int
	for i := 0; i < nSrc; i++ {
		sources = append(sources, take(Train))
	}
	src := func() PatchRef {
		i := sources[0]
		sources = sources[1:]
		return PatchRef{Split: Train, Index: i}
	}
	put := func(s Split, sl slot) { p.slots[s][take(s)] = sl }
	for i := 0; i < atLeast(3, 0.01, nTrain); i++ {
		put(Train, slot{kind: slotExact, src: src()})
	}
	for i := 0; i < atLeast(2, 0.001, nTrain); i++ {
		put(Train, slot{kind: slotExact, src: src(), conflict: true})
	}
	for i := 0; i < atLeast(2, 0.002, nTrain); i++ {
		put(Train, slot{kind: slotNear, src: src(), transform: nearTransforms[i%len(nearTransforms)]})
	}
	for _, s := range []Split{Valid, Test} {
		n := p.counts[s]
		if n == 0 {
			continue
		}
		for i := 0; i < atLeast(2, 0.005, n); i++ {
			put(s, slot{kind: slotExact, src: src(), conflict: i == 0 && s == Test})
		}
		for i := 0; i < atLeast(len(nearTransforms), 0.005, n); i++ {
			put(s, slot{kind: slotNear, src: src(), transform: nearTransforms[i%len(nearTransforms)]})
		}
	}
	for _, s := range Splits {
		if p.counts[s] == 0 {
			continue
		}
		for _, k := range []slotKind{slotBlank, slotBlack, slotSaturated} {
			for i := 0; i < atLeast(1, 0.0005, p.counts[s]); i++ {
				put(s, slot{kind: k})
			}
		}
	}
	p.sharedWSI = map[int]bool{}
	if opt.Test > 0 {
		for _, i := range r.perm(opt.Test)[:atLeast(2, 0.01, opt.Test)] {
			p.sharedWSI[i] = true
		}
	}
	return p, nil
}

// sortedKeys returns the planted indices of one split in increasing order.
func sortedKeys(m map[int]slot) []int {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
