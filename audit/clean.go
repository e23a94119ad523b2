package audit

import (
	"fmt"

	"github.com/pcamflow/pcamflow/pcam"
)

// Clean returns, for every split of the report, the ascending indices of the patches that remain
// after dropping the finding classes in exclude, following the policy of the package documentation:
// train loses redundant copies, near duplicates, conflicting-label groups and flagged patches;
// valid and test lose only what leaks from an earlier split; corrupt patches leave every split.
// In every duplicate group the first occurrence (train, valid, test, then index) is kept.
// It returns an error for an unknown class name.
func Clean(r *Report, exclude []string) (map[pcam.Split][]int, error) {
	if err := ValidateClasses("exclude", exclude); err != nil {
		return nil, fmt.Errorf("audit: clean: %w", err)
	}
	ex := classSet(exclude)
	drop := map[pcam.Split][]bool{}
	for _, s := range r.Splits {
		drop[s.Split] = make([]bool, s.Patches)
	}
	mark := func(s pcam.Split, i int) {
		if d, ok := drop[s]; ok && i >= 0 && i < len(d) {
			d[i] = true
		}
	}
	v := newGroupView(r)
	cleanDuplicates(r, v, ex, mark)
	cleanFlagged(r, ex, mark)
	out := make(map[pcam.Split][]int, len(drop))
	for _, s := range r.Splits {
		keep := make([]int, 0, s.Patches)
		for i, dropped := range drop[s.Split] {
			if !dropped {
				keep = append(keep, i)
			}
		}
		out[s.Split] = keep
	}
	return out, nil
}

// cleanDuplicates marks the redundant, leaking and conflicting occurrences of duplicate groups.
func cleanDuplicates(r *Report, v *groupView, ex map[string]bool, mark func(pcam.Split, int)) {
	for i := range r.ExactDuplicateGroups {
		g := &r.ExactDuplicateGroups[i]
		occs := v.exact(g)
		for k, red := range classifyOccurrences(occs) {
			o := occs[k]
			if (ex[ExactDuplicates] && red.exactWithin && o.split == pcam.Train) ||
				(ex[CrossSplitDuplicates] && red.exactCross) ||
				(ex[LabelConflicts] && g.LabelConflict && o.split == pcam.Train) {
				mark(o.split, o.index)
			}
		}
	}
	for i := range r.NearDuplicateGroups {
		g := &r.NearDuplicateGroups[i]
		occs := v.near(g)
		for k, red := range classifyOccurrences(occs) {
			o := occs[k]
			if (ex[NearDuplicates] && red.nearWithin && o.split == pcam.Train) ||
				(ex[CrossSplitNearDuplicates] && red.nearCross) ||
				(ex[LabelConflicts] && g.LabelConflict && o.split == pcam.Train) {
				mark(o.split, o.index)
			}
		}
	}
}

// cleanFlagged marks per-patch findings: quality classes in train, corrupt and leaked-WSI patches
// everywhere.
func cleanFlagged(r *Report, ex map[string]bool, mark func(pcam.Split, int)) {
	for _, c := range []string{Blank, Black, Saturated, LowTissue} {
		if !ex[c] {
			continue
		}
		for _, p := range r.Flagged.byClass(c) {
			if p.Split == pcam.Train {
				mark(p.Split, p.Index)
			}
		}
	}
	if ex[Corrupt] {
		for _, p := range r.Corrupt {
			mark(p.Split, p.Index)
		}
	}
	if ex[WSIOverlap] && r.WSI != nil {
		for _, p := range r.WSI.Leaked {
			mark(p.Split, p.Index)
		}
	}
}

// CleanView is Clean with the report's own Options.Exclude.
func (r *Report) CleanView() (map[pcam.Split][]int, error) {
	return Clean(r, r.Options.Exclude)
}
