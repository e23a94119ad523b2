package audit

// computeFindings counts every finding class from the report's groups and lists, using the same
// redundancy rules as Clean. Groups of identical blank or black patches count only as blank or
// black: flat images are identical by nature, so their copies are neither redundancy nor leakage.
func (r *Report) computeFindings() []Finding {
	counts := map[string]*Finding{}
	for _, c := range Classes {
		counts[c] = &Finding{Class: c, Description: classDescriptions[c]}
	}
	v := newGroupView(r)
	for i := range r.ExactDuplicateGroups {
		g := &r.ExactDuplicateGroups[i]
		if flatGroup(g) {
			continue
		}
		r.countGroup(counts, classifyOccurrences(v.exact(g)), g.LabelConflict, len(g.Members),
			ExactDuplicates, CrossSplitDuplicates, false)
	}
	for i := range r.NearDuplicateGroups {
		g := &r.NearDuplicateGroups[i]
		occs := v.near(g)
		cross := r.countGroup(counts, classifyOccurrences(occs), g.LabelConflict, len(occs),
			NearDuplicates, CrossSplitNearDuplicates, true)
		g.CrossSplit = cross
	}
	for _, c := range []string{Blank, Black, Saturated, LowTissue} {
		counts[c].Patches = len(r.Flagged.byClass(c))
	}
	counts[Corrupt].Patches = len(r.Corrupt)
	if r.WSI != nil {
		counts[WSIOverlap].Groups = r.WSI.sharedSlides()
		counts[WSIOverlap].Patches = len(r.WSI.Leaked)
	} else {
		counts[WSIOverlap].Skipped = true
	}
	if !r.Options.NearDuplicates {
		counts[NearDuplicates].Skipped = true
		counts[CrossSplitNearDuplicates].Skipped = true
	}
	gates := classSet(r.Options.FailOn)
	out := make([]Finding, 0, len(Classes))
	for _, c := range Classes {
		f := counts[c]
		f.Gate = gates[c]
		f.Failed = f.Gate && !f.Skipped && f.Patches > 0
		out = append(out, *f)
	}
	return out
}

// countGroup adds one duplicate group to the within/cross class counts and to label conflicts; it
// reports whether the group has a cross-split redundancy.
func (r *Report) countGroup(counts map[string]*Finding, reds []redundancy, conflict bool, size int,
	within, cross string, near bool) bool {
	var nWithin, nCross int
	for _, red := range reds {
		w, c := red.exactWithin, red.exactCross
		if near {
			w, c = red.nearWithin, red.nearCross
		}
		nWithin += boolInt(w)
		nCross += boolInt(c)
	}
	counts[within].Patches += nWithin
	counts[within].Groups += boolInt(nWithin > 0)
	counts[cross].Patches += nCross
	counts[cross].Groups += boolInt(nCross > 0)
	if conflict {
		counts[LabelConflicts].Groups++
		counts[LabelConflicts].Patches += size
	}
	return nCross > 0
}
