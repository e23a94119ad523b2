package audit

import (
	"fmt"
	"sort"

	"github.com/pcamflow/pcamflow/pcam"
)

// WSIReport is the slide-level analysis of the meta CSVs.
type WSIReport struct {
	// Splits has one entry per split with meta rows, in canonical order.
	Splits []WSISplit `json:"splits"`
	// Overlaps lists every pair of splits that share slides.
	Overlaps []WSIPair `json:"overlaps"`
	// Leaked lists the patches of a later split whose slide occurs in an earlier split.
	Leaked []PatchRef `json:"leaked"`
	// Shared lists every slide that occurs in more than one split, sorted by slide id, with all its
	// patches in every split.
	Shared []SharedSlide `json:"shared"`
	// MissingMeta lists audited splits without meta rows; their slides were not checked.
	MissingMeta []pcam.Split `json:"missing_meta"`
}

// WSISplit summarises the slides of one split.
type WSISplit struct {
	// Split names the split; Slides counts its distinct WSI ids and Patches its meta rows.
	Split   pcam.Split `json:"split"`
	Slides  int        `json:"slides"`
	Patches int        `json:"patches"`
	// LabelMismatches counts rows whose center_tumor_patch differs from the patch label.
	LabelMismatches int `json:"label_mismatches"`
}

// WSIPair says which slides two splits share and how many patches of each split they hold.
type WSIPair struct {
	// A and B are the splits (A earlier); WSIs the shared slide ids, sorted; PatchesA and PatchesB
	// the patches of those slides in A and in B.
	A        pcam.Split `json:"a"`
	B        pcam.Split `json:"b"`
	WSIs     []string   `json:"wsis"`
	PatchesA int        `json:"patches_a"`
	PatchesB int        `json:"patches_b"`
}

// SharedSlide is one slide (WSI) whose patches are in more than one split.
type SharedSlide struct {
	// WSI is the slide id; Splits the splits it occurs in (canonical order); Patches all its patches
	// in those splits, in canonical order.
	WSI     string       `json:"wsi"`
	Splits  []pcam.Split `json:"splits"`
	Patches []PatchRef   `json:"patches"`
}

// checkMetas verifies that every meta list belongs to an audited split and has one row per patch.
func checkMetas(splits map[pcam.Split]pcam.Reader, metas map[pcam.Split][]MetaRow) error {
	for _, s := range canonicalSplits(metas) {
		r, ok := splits[s]
		if !ok {
			return fmt.Errorf("audit: meta rows given for split %s, which is not being audited", s)
		}
		if len(metas[s]) != r.Len() {
			return fmt.Errorf("audit: split %s: meta CSV has %d rows but %s has %d patches",
				s, len(metas[s]), r.Source(), r.Len())
		}
	}
	return nil
}

// wsiReport compares slide ids between splits; it returns nil when there are no meta rows.
func (d *dataset) wsiReport(metas map[pcam.Split][]MetaRow) *WSIReport {
	if len(metas) == 0 {
		return nil
	}
	rep := &WSIReport{}
	counts := make([]map[string]int, len(d.scans))
	seenBefore := map[string]bool{}
	for si, sc := range d.scans {
		rows, ok := metas[sc.split]
		if !ok {
			rep.MissingMeta = append(rep.MissingMeta, sc.split)
			continue
		}
		counts[si] = map[string]int{}
		ws := WSISplit{Split: sc.split, Patches: len(rows)}
		for i, row := range rows {
			counts[si][row.WSI]++
			info := sc.infos[i]
			if !info.corrupt && row.CenterTumor != (info.label == 1) {
				ws.LabelMismatches++
			}
			if seenBefore[row.WSI] {
				rep.Leaked = append(rep.Leaked, PatchRef{Split: sc.split, Index: i})
			}
		}
		for w := range counts[si] {
			seenBefore[w] = true
		}
		ws.Slides = len(counts[si])
		rep.Splits = append(rep.Splits, ws)
	}
	rep.Overlaps = overlapPairs(d, counts)
	rep.Shared = listSharedSlides(d, metas, counts)
	return rep
}

// listSharedSlides lists the slides counted in more than one split with all their patches.
func listSharedSlides(d *dataset, metas map[pcam.Split][]MetaRow, counts []map[string]int) []SharedSlide {
	splitsOf := map[string][]pcam.Split{} // canonical order: counts follow the scans
	for si, c := range counts {
		for w := range c {
			splitsOf[w] = append(splitsOf[w], d.scans[si].split)
		}
	}
	out := []SharedSlide{}
	for w, ss := range splitsOf {
		if len(ss) > 1 {
			out = append(out, SharedSlide{WSI: w, Splits: ss})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].WSI < out[j].WSI })
	pos := make(map[string]int, len(out))
	for i := range out {
		pos[out[i].WSI] = i
	}
	for _, sc := range d.scans {
		for i, row := range metas[sc.split] {
			if k, ok := pos[row.WSI]; ok {
				out[k].Patches = append(out[k].Patches, PatchRef{Split: sc.split, Index: i})
			}
		}
	}
	return out
}

// overlapPairs lists the shared slides of every pair of splits with meta rows.
func overlapPairs(d *dataset, counts []map[string]int) []WSIPair {
	var out []WSIPair
	for a := range counts {
		for b := a + 1; b < len(counts); b++ {
			if counts[a] == nil || counts[b] == nil {
				continue
			}
			p := WSIPair{A: d.scans[a].split, B: d.scans[b].split}
			for w, n := range counts[a] {
				if m, ok := counts[b][w]; ok {
					p.WSIs = append(p.WSIs, w)
					p.PatchesA += n
					p.PatchesB += m
				}
			}
			if len(p.WSIs) > 0 {
				sort.Strings(p.WSIs)
				out = append(out, p)
			}
		}
	}
	return out
}

// sharedSlides counts distinct slides that occur in more than one split.
func (w *WSIReport) sharedSlides() int { return len(w.Shared) }
