package audit

import (
	"math"
	"sort"

	"github.com/pcamflow/pcamflow/pcam"
)

// buildReport analyses the scanned dataset and assembles the report.
func buildReport(d *dataset, readers []pcam.Reader, metas map[pcam.Split][]MetaRow, opt Options, workers int) (*Report, error) {
	ex := d.findExact()
	r := &Report{Version: ReportVersion, Options: normalisedOptions(opt)}
	r.Splits = d.splitSummaries(ex)
	r.fillOverall()
	r.ExactDuplicateGroups = d.exactGroups(ex)
	r.NearDuplicateGroups = []NearGroup{}
	if opt.NearDuplicates {
		loader := &thumbLoader{d: d, readers: readers, chunk: opt.chunkSize()}
		near, err := d.findNear(opt.HammingThreshold, workers, loader, opt.maxResidual())
		if err != nil {
			return nil, err
		}
		r.NearDuplicateGroups = d.nearGroups(near, ex)
		r.NearSearch = &near.search
	}
	r.Flagged, r.Corrupt = d.flagged()
	r.WSI = d.wsiReport(metas)
	r.Findings = r.computeFindings()
	view, err := r.CleanView()
	if err != nil {
		return nil, err
	}
	for i := range r.Splits {
		s := &r.Splits[i]
		s.Clean, s.Dropped = len(view.Keep[s.Split]), view.DroppedBy[s.Split]
		r.Overall.Clean += s.Clean
	}
	r.SizeExplanation = r.explainSize()
	r.Warnings = r.cleanWarnings()
	return r, nil
}

// normalisedOptions returns opt with non-nil lists so the JSON shows [] rather than null.
func normalisedOptions(opt Options) Options {
	if opt.FailOn == nil {
		opt.FailOn = []string{}
	}
	if opt.Exclude == nil {
		opt.Exclude = []string{}
	}
	opt.MaxCorrupt = opt.maxCorrupt()
	opt.MaxResidual = opt.maxResidual()
	opt.LeakPolicy = opt.leakPolicy()
	return opt
}

// splitSummaries counts each split and the overall totals.
func (d *dataset) splitSummaries(ex exactResult) []SplitSummary {
	out := make([]SplitSummary, len(d.scans))
	for si, sc := range d.scans {
		s := SplitSummary{
			Split: sc.split, Patches: len(sc.infos), Official: OfficialCounts[sc.split],
			Corrupt: len(sc.corrupt), UniqueImages: ex.unique[si], NewImages: ex.newImg[si],
			Quality: map[string]int{Blank: 0, Black: 0, Saturated: 0, LowTissue: 0},
			Pixels:  sc.pixels.stats(),
		}
		s.DeltaVsOfficial = s.Patches - s.Official
		for _, info := range sc.infos {
			switch {
			case info.corrupt:
			case info.label == 1:
				s.Positives++
			default:
				s.Negatives++
			}
			if c := info.quality.class(); c != "" && !info.corrupt {
				s.Quality[c]++
			}
		}
		if n := s.Positives + s.Negatives; n > 0 {
			s.PositiveFraction = round6(float64(s.Positives) / float64(n))
		}
		s.DuplicateCopies = s.Positives + s.Negatives - s.UniqueImages
		out[si] = s
	}
	for i := range out {
		if i > 0 && out[0].Split == pcam.Train && out[0].Pixels.Patches > 0 {
			out[i].Pixels.MeanShiftVsTrain = shiftVs(out[i].Pixels, out[0].Pixels)
		}
	}
	return out
}

// exactGroups converts the exact-duplicate groups to their report form.
func (d *dataset) exactGroups(ex exactResult) []ExactGroup {
	out := make([]ExactGroup, 0, len(ex.groups))
	for _, gids := range ex.groups {
		g := ExactGroup{SHA1: d.shaHex(gids[0]), Quality: d.info(gids[0]).quality.class()}
		labels := map[uint8]bool{}
		for _, gid := range gids {
			o := d.occurrence(gid)
			g.Members = append(g.Members, o)
			labels[o.Label] = true
			if len(g.Splits) == 0 || g.Splits[len(g.Splits)-1] != o.Split {
				g.Splits = append(g.Splits, o.Split)
			}
		}
		g.CrossSplit = len(g.Splits) > 1
		g.LabelConflict = len(labels) > 1
		out = append(out, g)
	}
	return out
}

// nearGroups converts near-duplicate components to their report form.
func (d *dataset) nearGroups(near nearResult, ex exactResult) []NearGroup {
	copies := map[int]int{}
	for _, g := range ex.groups {
		copies[g[0]] = len(g)
	}
	out := make([]NearGroup, 0, len(near.groups))
	for _, comp := range near.groups {
		g := NearGroup{Pairs: len(comp.edges)}
		labels := map[uint8]bool{}
		splits := map[pcam.Split]bool{}
		for _, gid := range comp.gids {
			o := d.occurrence(gid)
			m := NearMember{Split: o.Split, Index: o.Index, Label: o.Label, SHA1: d.shaHex(gid),
				PHash: phashHex(d.info(gid).phash), Copies: max(1, copies[gid])}
			g.Members = append(g.Members, m)
			labels[o.Label] = true
			d.addCopySplits(gid, ex, splits)
		}
		g.Splits = canonicalSplits(splits)
		g.LabelConflict = len(labels) > 1
		g.Edges, g.MaxDistance = trimEdges(comp.edges)
		out = append(out, g)
	}
	return out
}

// addCopySplits adds the splits of every copy of the image whose first occurrence is rep.
func (d *dataset) addCopySplits(rep int, ex exactResult, splits map[pcam.Split]bool) {
	s, _ := d.locate(rep)
	splits[d.scans[s].split] = true
	i := sort.Search(len(ex.groups), func(i int) bool { return ex.groups[i][0] >= rep })
	if i < len(ex.groups) && ex.groups[i][0] == rep {
		for _, gid := range ex.groups[i] {
			s, _ := d.locate(gid)
			splits[d.scans[s].split] = true
		}
	}
}

// trimEdges sorts edges, keeps the first maxEdgesPerGroup and returns the largest distance.
func trimEdges(es []edge) ([]NearEdge, int) {
	sort.Slice(es, func(i, j int) bool {
		if es[i].a != es[j].a {
			return es[i].a < es[j].a
		}
		return es[i].b < es[j].b
	})
	maxD := 0
	out := []NearEdge{}
	for _, e := range es {
		maxD = max(maxD, int(e.dist))
		if len(out) < maxEdgesPerGroup {
			out = append(out, NearEdge{A: int(e.a), B: int(e.b), Distance: int(e.dist), Residual: math.Round(float64(e.rms)*1e4) / 1e4,
				Transform: transformNames[e.trans&7], Exact: e.exact})
		}
	}
	return out, maxD
}

// flagged lists the quality-flagged and corrupt patches in canonical order.
func (d *dataset) flagged() (Flagged, []CorruptPatch) {
	f := Flagged{Blank: []PatchRef{}, Black: []PatchRef{}, Saturated: []PatchRef{}, LowTissue: []PatchRef{}}
	corrupt := []CorruptPatch{}
	for _, sc := range d.scans {
		for i, info := range sc.infos {
			ref := PatchRef{Split: sc.split, Index: i}
			switch {
			case info.corrupt:
			case info.quality == qualityBlank:
				f.Blank = append(f.Blank, ref)
			case info.quality == qualityBlack:
				f.Black = append(f.Black, ref)
			case info.quality == qualitySaturated:
				f.Saturated = append(f.Saturated, ref)
			case info.quality == qualityLowTissue:
				f.LowTissue = append(f.LowTissue, ref)
			}
		}
		corrupt = append(corrupt, sc.corrupt...)
	}
	return f, corrupt
}
