package audit

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/pcamflow/pcamflow/internal/atomicfile"
)

// markdownListLimit is how many groups or patches each Markdown section lists.
const markdownListLimit = 20

// WriteMarkdown writes a human-readable summary of the report (Markdown with tables) to w: gates,
// findings, split sizes with the size explanation, pixel statistics, and the first groups and
// patches of each finding. The JSON report holds the complete lists.
func (r *Report) WriteMarkdown(w io.Writer) error {
	bw := bufio.NewWriter(w)
	for _, section := range []func(io.Writer){
		r.mdGates, r.mdFindings, r.mdSizes, r.mdClean, r.mdPixels, r.mdExact, r.mdNear, r.mdConflicts,
		r.mdFlagged, r.mdCorrupt, r.mdWSI,
	} {
		section(bw)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("audit: write markdown: %w", err)
	}
	return nil
}

// WriteMarkdownFile writes the Markdown summary to path atomically.
func (r *Report) WriteMarkdownFile(path string) error {
	var sb strings.Builder
	if err := r.WriteMarkdown(&sb); err != nil {
		return err
	}
	return atomicfile.Write(path, []byte(sb.String()), 0o644)
}

func (r *Report) mdGates(w io.Writer) {
	fmt.Fprintf(w, "# Data audit\n\n")
	failed := r.Failed(r.Options.FailOn)
	switch {
	case len(r.Options.FailOn) == 0:
		fmt.Fprintf(w, "**Gates:** none configured (fail_on = []).\n\n")
	case len(failed) == 0:
		fmt.Fprintf(w, "**Gates: PASSED** (fail_on = [%s]).\n\n", strings.Join(r.Options.FailOn, ", "))
	default:
		fmt.Fprintf(w, "**Gates: FAILED** on %s (fail_on = [%s]).\n\n",
			strings.Join(failed, ", "), strings.Join(r.Options.FailOn, ", "))
	}
	for _, f := range r.Findings {
		if f.Gate && f.Skipped {
			fmt.Fprintf(w, "Warning: gate %s was not checked (%s).\n\n", f.Class, skipReason(f.Class))
		}
	}
	for _, msg := range r.Warnings {
		fmt.Fprintf(w, "**Warning:** %s\n\n", msg)
	}
}

func (r *Report) mdClean(w io.Writer) {
	fmt.Fprintf(w, "## Clean view\n\nexclude = [%s], leak_policy = %s: ", strings.Join(r.Options.Exclude, ", "), r.Options.LeakPolicy)
	if r.Options.LeakPolicy == LeakDropEval {
		fmt.Fprintf(w, "a leak between splits loses its later copy (valid or test).\n\n")
	} else {
		fmt.Fprintf(w, "valid and test keep their leaked patches; train loses its side of every leak.\n\n")
	}
	fmt.Fprintf(w, "| split | patches | kept | removed by class |\n|---|---:|---:|---|\n")
	for _, s := range r.Splits {
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", s.Split, commas(s.Patches), commas(s.Clean), droppedText(s.Dropped))
	}
	fmt.Fprintln(w)
}

// skipReason says why a class can be unchecked.
func skipReason(class string) string {
	if class == WSIOverlap {
		return "no meta CSV"
	}
	return "near_duplicates = false"
}

func (r *Report) mdFindings(w io.Writer) {
	fmt.Fprintf(w, "## Findings\n\n| class | groups | patches | gate | what it counts |\n|---|---:|---:|---|---|\n")
	for _, f := range r.Findings {
		gate := ""
		switch {
		case f.Failed:
			gate = "**FAILED**"
		case f.Gate:
			gate = "passed"
		}
		patches := commas(f.Patches)
		if f.Skipped {
			patches = "not checked"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", f.Class, commas(f.Groups), patches, gate, f.Description)
	}
	fmt.Fprintln(w)
}

func (r *Report) mdSizes(w io.Writer) {
	fmt.Fprintf(w, "## Split sizes: the dataset size explained\n\n")
	fmt.Fprintf(w, "| split | patches | official | Δ | positives | negatives | positive %% | corrupt | distinct images | extra copies | new vs earlier splits | clean view |\n")
	fmt.Fprintf(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, s := range r.Splits {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %.2f | %s | %s | %s | %s | %s |\n",
			s.Split, commas(s.Patches), commas(s.Official), signed(s.DeltaVsOfficial), commas(s.Positives),
			commas(s.Negatives), 100*s.PositiveFraction, commas(s.Corrupt), commas(s.UniqueImages),
			commas(s.DuplicateCopies), commas(s.NewImages), commas(s.Clean))
	}
	o := r.Overall
	fmt.Fprintf(w, "| **all** | %s | %s | %s | | | | | %s | | | %s |\n\n",
		commas(o.Patches), commas(o.Official), signed(o.Patches-o.Official), commas(o.UniqueImages), commas(o.Clean))
	for _, line := range r.SizeExplanation {
		fmt.Fprintf(w, "- %s\n", line)
	}
	fmt.Fprintln(w)
}

func (r *Report) mdPixels(w io.Writer) {
	fmt.Fprintf(w, "## Pixel statistics (drift between splits)\n\n")
	fmt.Fprintf(w, "Official PCAM: channel means about 0.70/0.54/0.69, stds about 0.24/0.28/0.21. Shift is (mean − train mean) / train std per channel.\n\n")
	fmt.Fprintf(w, "| split | mean R,G,B | std R,G,B | shift vs train (σ) | brightness p5 / p50 / p95 | tissue fraction |\n|---|---|---|---|---|---:|\n")
	for _, s := range r.Splits {
		p := s.Pixels
		shift := "—"
		if p.MeanShiftVsTrain != nil {
			shift = fmt.Sprintf("%+.3f, %+.3f, %+.3f", p.MeanShiftVsTrain[0], p.MeanShiftVsTrain[1], p.MeanShiftVsTrain[2])
		}
		fmt.Fprintf(w, "| %s | %.3f, %.3f, %.3f | %.3f, %.3f, %.3f | %s | %.3f / %.3f / %.3f | %.3f |\n", s.Split,
			p.ChannelMean[0], p.ChannelMean[1], p.ChannelMean[2], p.ChannelStd[0], p.ChannelStd[1], p.ChannelStd[2],
			shift, p.BrightnessQuantiles[0], p.BrightnessQuantiles[2], p.BrightnessQuantiles[4], p.MeanTissueFraction)
	}
	fmt.Fprintf(w, "\nPer-patch mean brightness, %d bins over 0..255 (share of patches per bin, %%):\n\n", brightnessBins)
	fmt.Fprintf(w, "| split |%s\n|---|%s\n", strings.Repeat(" |", brightnessBins), strings.Repeat("---:|", brightnessBins))
	for _, s := range r.Splits {
		fmt.Fprintf(w, "| %s |", s.Split)
		for _, n := range s.Pixels.BrightnessHistogram {
			fmt.Fprintf(w, " %.1f |", 100*float64(n)/float64(max(1, s.Pixels.Patches)))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w)
}

// occText renders an occurrence compactly.
func occText(o Occurrence) string {
	return fmt.Sprintf("%s:%d (y=%d)", o.Split, o.Index, o.Label)
}

// joinLimited joins up to limit items and says how many were left out.
func joinLimited(items []string, limit int) string {
	if len(items) <= limit {
		return strings.Join(items, ", ")
	}
	return strings.Join(items[:limit], ", ") + fmt.Sprintf(", … (%d more)", len(items)-limit)
}

// moreNote says how many entries a section left out.
func moreNote(w io.Writer, total int) {
	if total > markdownListLimit {
		fmt.Fprintf(w, "\n(%s more in the JSON report.)\n", commas(total-markdownListLimit))
	}
	fmt.Fprintln(w)
}

func (r *Report) mdExact(w io.Writer) {
	fmt.Fprintf(w, "## Exact duplicates\n\n%s groups of identical pixels. The SHA-1 is the Kaggle image id; the first member is the one kept.\n\n",
		commas(len(r.ExactDuplicateGroups)))
	if len(r.ExactDuplicateGroups) == 0 {
		return
	}
	fmt.Fprintf(w, "| sha1 (Kaggle id) | members | cross-split | label conflict | quality |\n|---|---|---|---|---|\n")
	for i, g := range r.ExactDuplicateGroups {
		if i == markdownListLimit {
			break
		}
		var ms []string
		for _, m := range g.Members {
			ms = append(ms, occText(m))
		}
		fmt.Fprintf(w, "| `%s` | %s | %s | %s | %s |\n", g.SHA1, joinLimited(ms, 8), yesNo(g.CrossSplit), yesNo(g.LabelConflict), g.Quality)
	}
	moreNote(w, len(r.ExactDuplicateGroups))
}

func (r *Report) mdNear(w io.Writer) {
	fmt.Fprintf(w, "## Near duplicates\n\n")
	if r.NearSearch == nil {
		fmt.Fprintf(w, "Not searched (near_duplicates = false).\n\n")
		return
	}
	ns := r.NearSearch
	fmt.Fprintf(w, "%s groups, %s verified pairs: %s distinct images searched (%s blank/black/flat images excluded), %s candidate pairs within %d bits (index: %d bands, probe radius %d), %s kept with relative pixel residual <= %.2f.\n\n",
		commas(len(r.NearDuplicateGroups)), commas(ns.Pairs), commas(ns.Searched), commas(ns.ExcludedFlat),
		commas(ns.Candidates), ns.HammingThreshold, ns.Bands, ns.ProbeRadius, commas(ns.Pairs), ns.MaxResidual)
	if ns.MaxResidual < 0 {
		fmt.Fprintf(w, "Pixel verification was off: pairs are hash matches only.\n\n")
	}
	if ns.CandidatesTruncated {
		fmt.Fprintf(w, "**Warning:** too many candidate pairs; only the first %s were verified, groups may be incomplete.\n\n", commas(maxCandidates))
	}
	if len(r.NearDuplicateGroups) == 0 {
		return
	}
	fmt.Fprintf(w, "A link \"B = rot90(A)\" means member B is member A rotated 90° clockwise; \"exact\" means pixel for pixel, \"near\" that B also differs in colour or noise (residual = relative pixel difference left after matching geometry and colour).\n\n")
	fmt.Fprintf(w, "| members | links | max distance | pairs | cross-split | label conflict |\n|---|---|---:|---:|---|---|\n")
	for i, g := range r.NearDuplicateGroups {
		if i == markdownListLimit {
			break
		}
		var ms, links []string
		for _, m := range g.Members {
			ms = append(ms, occText(Occurrence{Split: m.Split, Index: m.Index, Label: m.Label}))
		}
		for _, e := range g.Edges {
			links = append(links, edgeText(g, e))
		}
		fmt.Fprintf(w, "| %s | %s | %d | %d | %s | %s |\n", joinLimited(ms, 8), joinLimited(links, 4), g.MaxDistance, g.Pairs, yesNo(g.CrossSplit), yesNo(g.LabelConflict))
	}
	moreNote(w, len(r.NearDuplicateGroups))
}

func (r *Report) mdConflicts(w io.Writer) {
	f := r.Finding(LabelConflicts)
	fmt.Fprintf(w, "## Label conflicts (possible poisoning)\n\n%s groups, %s patches.\n\n", commas(f.Groups), commas(f.Patches))
	n := 0
	for _, g := range r.ExactDuplicateGroups {
		if g.LabelConflict && n < markdownListLimit {
			var ms []string
			for _, m := range g.Members {
				ms = append(ms, occText(m))
			}
			fmt.Fprintf(w, "- exact `%s`: %s\n", g.SHA1, joinLimited(ms, 8))
			n++
		}
	}
	for _, g := range r.NearDuplicateGroups {
		if g.LabelConflict && n < markdownListLimit {
			var ms []string
			for _, m := range g.Members {
				ms = append(ms, occText(Occurrence{Split: m.Split, Index: m.Index, Label: m.Label}))
			}
			fmt.Fprintf(w, "- near: %s\n", joinLimited(ms, 8))
			n++
		}
	}
	moreNote(w, f.Groups)
}

func (r *Report) mdFlagged(w io.Writer) {
	fmt.Fprintf(w, "## Patch quality\n\n| class | patches | first patches |\n|---|---:|---|\n")
	for _, c := range []string{Blank, Black, Saturated, LowTissue} {
		refs := r.Flagged.byClass(c)
		var ex []string
		for _, p := range refs[:min(len(refs), 10)] {
			ex = append(ex, fmt.Sprintf("%s:%d", p.Split, p.Index))
		}
		fmt.Fprintf(w, "| %s | %s | %s |\n", c, commas(len(refs)), joinLimited(ex, 10))
	}
	fmt.Fprintln(w)
}

func (r *Report) mdCorrupt(w io.Writer) {
	fmt.Fprintf(w, "## Corrupt patches\n\n%s unreadable patches.\n\n", commas(len(r.Corrupt)))
	for i, c := range r.Corrupt {
		if i == markdownListLimit {
			break
		}
		fmt.Fprintf(w, "- %s:%d: %s\n", c.Split, c.Index, c.Error)
	}
	moreNote(w, len(r.Corrupt))
}

func (r *Report) mdWSI(w io.Writer) {
	fmt.Fprintf(w, "## Slides (WSI) shared between splits\n\n")
	if r.WSI == nil {
		fmt.Fprintf(w, "Not checked: no meta CSV.\n")
		return
	}
	fmt.Fprintf(w, "| split | slides | patches | meta label mismatches |\n|---|---:|---:|---:|\n")
	for _, s := range r.WSI.Splits {
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", s.Split, commas(s.Slides), commas(s.Patches), commas(s.LabelMismatches))
	}
	fmt.Fprintln(w)
	if len(r.WSI.MissingMeta) > 0 {
		fmt.Fprintf(w, "No meta CSV for %v: not checked.\n\n", r.WSI.MissingMeta)
	}
	if len(r.WSI.Overlaps) == 0 {
		fmt.Fprintf(w, "No slide occurs in more than one split.\n")
		return
	}
	fmt.Fprintf(w, "| splits | shared slides | patches in first | patches in second |\n|---|---|---:|---:|\n")
	for _, p := range r.WSI.Overlaps {
		fmt.Fprintf(w, "| %s / %s | %s | %s | %s |\n", p.A, p.B, joinLimited(p.WSIs, 10), commas(p.PatchesA), commas(p.PatchesB))
	}
	fmt.Fprintln(w)
}

// edgeText describes one near-duplicate link, e.g. "test:12 = flip_h(train:50), exact".
func edgeText(g NearGroup, e NearEdge) string {
	a, b := g.Members[e.A], g.Members[e.B]
	how := "exact"
	if !e.Exact {
		how = fmt.Sprintf("near, residual %.3f", e.Residual)
	}
	return fmt.Sprintf("%s:%d = %s(%s:%d), %s", b.Split, b.Index, e.Transform, a.Split, a.Index, how)
}

// yesNo renders a bool for a table.
func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
