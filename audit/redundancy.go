package audit

import (
	"sort"

	"github.com/pcamflow/pcamflow/pcam"
)

// groupOcc is one occurrence of a duplicate group as the redundancy rules see it.
type groupOcc struct {
	order int // position of the split in the report
	split pcam.Split
	index int
	image int // which distinct image of the group (always 0 for an exact group)
}

// redundancy says why an occurrence is redundant given the occurrences before it.
type redundancy struct {
	exactWithin bool // the same image occurs earlier in the same split
	exactCross  bool // the same image occurs in an earlier split
	nearWithin  bool // a different image of the group occurs earlier in the same split
	nearCross   bool // a different image of the group occurs in an earlier split
}

// classifyOccurrences sorts occs canonically and says for each why it is redundant; the first
// occurrence is never redundant. It runs in linear time.
func classifyOccurrences(occs []groupOcc) []redundancy {
	sort.Slice(occs, func(i, j int) bool {
		if occs[i].order != occs[j].order {
			return occs[i].order < occs[j].order
		}
		return occs[i].index < occs[j].index
	})
	out := make([]redundancy, len(occs))
	inSplit, earlier := map[int]bool{}, map[int]bool{}
	cur := -1
	for k, o := range occs {
		if o.order != cur {
			for img := range inSplit {
				earlier[img] = true
			}
			clear(inSplit)
			cur = o.order
		}
		out[k] = redundancy{
			exactWithin: inSplit[o.image],
			exactCross:  earlier[o.image],
			nearWithin:  len(inSplit) > boolInt(inSplit[o.image]),
			nearCross:   len(earlier) > boolInt(earlier[o.image]),
		}
		inSplit[o.image] = true
	}
	return out
}

// boolInt is 1 for true.
func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// groupView resolves report groups into occurrence lists.
type groupView struct {
	order map[pcam.Split]int
	bySHA map[string]*ExactGroup
}

// newGroupView indexes the splits and exact groups of r.
func newGroupView(r *Report) *groupView {
	v := &groupView{order: map[pcam.Split]int{}, bySHA: map[string]*ExactGroup{}}
	for i, s := range r.Splits {
		v.order[s.Split] = i
	}
	for i := range r.ExactDuplicateGroups {
		g := &r.ExactDuplicateGroups[i]
		v.bySHA[g.SHA1] = g
	}
	return v
}

// exact returns the occurrences of an exact group.
func (v *groupView) exact(g *ExactGroup) []groupOcc {
	occs := make([]groupOcc, len(g.Members))
	for i, m := range g.Members {
		occs[i] = groupOcc{order: v.order[m.Split], split: m.Split, index: m.Index}
	}
	return occs
}

// near returns every occurrence of every image of a near group, including exact copies.
func (v *groupView) near(g *NearGroup) []groupOcc {
	var occs []groupOcc
	for img, m := range g.Members {
		if eg, ok := v.bySHA[m.SHA1]; ok {
			for _, c := range eg.Members {
				occs = append(occs, groupOcc{order: v.order[c.Split], split: c.Split, index: c.Index, image: img})
			}
			continue
		}
		occs = append(occs, groupOcc{order: v.order[m.Split], split: m.Split, index: m.Index, image: img})
	}
	return occs
}
