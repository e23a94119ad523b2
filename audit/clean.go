package audit

import (
	"fmt"

	"github.com/pcamflow/pcamflow/pcam"
)

// Cleaned is a clean view of an audited dataset.
type Cleaned struct {
	// Keep has, for every split of the report, the ascending indices of the patches the view keeps.
	Keep map[pcam.Split][]int
	// DroppedBy counts, per split, the patches each excluded class removes. A patch removed by
	// several classes counts under each of them, so the counts may sum to more than the patches
	// dropped.
	DroppedBy map[pcam.Split]map[string]int
}

// Clean returns the clean view of r without the finding classes in exclude, following the policy of
// the package documentation and leakPolicy (LeakDropTrain when ""):
//   - train loses later copies of an image within train (exact_duplicates), later near duplicates
//     within train (near_duplicates) and the train members of groups with conflicting labels
//     (label_conflicts);
//   - a leak between train and an evaluation split (cross_split_duplicates,
//     cross_split_near_duplicates, wsi_overlap) loses its train side under LeakDropTrain (valid and
//     test stay intact) or its later side under LeakDropEval;
//   - blank, black, saturated, low_tissue and corrupt patches leave whichever split they are in;
//     identical blank or black patches are handled by those classes only, never as duplicates.
//
// It returns an error for an unknown class or leak policy.
func Clean(r *Report, exclude []string, leakPolicy string) (*Cleaned, error) {
	if err := ValidateClasses("exclude", exclude); err != nil {
		return nil, fmt.Errorf("audit: clean: %w", err)
	}
	if err := ValidateLeakPolicy(leakPolicy); err != nil {
		return nil, fmt.Errorf("audit: clean: %w", err)
	}
	c := &cleaner{ex: classSet(exclude), dropTrain: leakPolicy != LeakDropEval, drop: map[pcam.Split][]bool{},
		marked: map[markKey]bool{}, out: &Cleaned{Keep: map[pcam.Split][]int{}, DroppedBy: map[pcam.Split]map[string]int{}}}
	for _, s := range r.Splits {
		c.drop[s.Split] = make([]bool, s.Patches)
		c.out.DroppedBy[s.Split] = map[string]int{}
	}
	c.duplicates(r)
	c.flagged(r)
	for _, s := range r.Splits {
		keep := make([]int, 0, s.Patches)
		for i, dropped := range c.drop[s.Split] {
			if !dropped {
				keep = append(keep, i)
			}
		}
		c.out.Keep[s.Split] = keep
	}
	return c.out, nil
}

// CleanView is Clean with the report's own Options.Exclude and Options.LeakPolicy.
func (r *Report) CleanView() (*Cleaned, error) {
	return Clean(r, r.Options.Exclude, r.Options.LeakPolicy)
}

// markKey identifies one patch removed by one class.
type markKey struct {
	class string
	split pcam.Split
	index int
}

// cleaner accumulates the patches a clean view drops.
type cleaner struct {
	ex        map[string]bool
	dropTrain bool // LeakDropTrain
	drop      map[pcam.Split][]bool
	marked    map[markKey]bool
	out       *Cleaned
}

// mark drops patch (s, i) for class when class is excluded.
func (c *cleaner) mark(class string, s pcam.Split, i int) {
	d, ok := c.drop[s]
	if !c.ex[class] || !ok || i < 0 || i >= len(d) {
		return
	}
	d[i] = true
	if k := (markKey{class, s, i}); !c.marked[k] {
		c.marked[k] = true
		c.out.DroppedBy[s][class]++
	}
}

// flatGroup reports whether an exact group is a blank or black image: such groups are handled by
// the blank and black classes alone, in every split.
func flatGroup(g *ExactGroup) bool { return g.Quality == Blank || g.Quality == Black }

// duplicates marks the redundant, leaking and conflicting occurrences of duplicate groups.
func (c *cleaner) duplicates(r *Report) {
	v := newGroupView(r)
	for i := range r.ExactDuplicateGroups {
		g := &r.ExactDuplicateGroups[i]
		if flatGroup(g) {
			continue
		}
		c.group(v.exact(g), g.LabelConflict, ExactDuplicates, CrossSplitDuplicates, false)
	}
	for i := range r.NearDuplicateGroups {
		g := &r.NearDuplicateGroups[i]
		c.group(v.near(g), g.LabelConflict, NearDuplicates, CrossSplitNearDuplicates, true)
	}
}

// group marks the occurrences of one duplicate group: within and cross are its classes, near says
// whether its images differ (a near group) or are one image (an exact group).
func (c *cleaner) group(occs []groupOcc, conflict bool, within, cross string, near bool) {
	reds := classifyOccurrences(occs)
	evalImages := map[int]bool{} // images of the group that occur outside train
	for _, o := range occs {
		if o.split != pcam.Train {
			evalImages[o.image] = true
		}
	}
	for k, o := range occs {
		red := reds[k]
		w, x := red.exactWithin, red.exactCross
		if near {
			w, x = red.nearWithin, red.nearCross
		}
		if o.split == pcam.Train && w {
			c.mark(within, o.split, o.index)
		}
		if c.dropTrain {
			// The train side of the leak: this image in an evaluation split (exact), or another image
			// of the group in an evaluation split (near).
			leaks := evalImages[o.image]
			if near {
				leaks = len(evalImages) > boolInt(evalImages[o.image])
			}
			if o.split == pcam.Train && leaks {
				c.mark(cross, o.split, o.index)
			}
		} else if x {
			c.mark(cross, o.split, o.index)
		}
		if conflict && o.split == pcam.Train {
			c.mark(LabelConflicts, o.split, o.index)
		}
	}
}

// flagged marks per-patch findings: quality classes and corrupt patches in every split, and the
// policy's side of slide (WSI) leaks.
func (c *cleaner) flagged(r *Report) {
	for _, class := range []string{Blank, Black, Saturated, LowTissue} {
		for _, p := range r.Flagged.byClass(class) {
			c.mark(class, p.Split, p.Index)
		}
	}
	for _, p := range r.Corrupt {
		c.mark(Corrupt, p.Split, p.Index)
	}
	if r.WSI == nil {
		return
	}
	if !c.dropTrain {
		for _, p := range r.WSI.Leaked {
			c.mark(WSIOverlap, p.Split, p.Index)
		}
		return
	}
	for _, s := range r.WSI.Shared {
		for _, p := range s.Patches {
			if p.Split == pcam.Train {
				c.mark(WSIOverlap, p.Split, p.Index)
			}
		}
	}
}
