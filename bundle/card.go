package bundle

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"os"
	"sort"
	"strings"

	"github.com/pcamflow/pcamflow/model"
	"github.com/pcamflow/pcamflow/stages/dataset"
	"github.com/pcamflow/pcamflow/stages/threshold"
)

// cardInput is everything the model card shows.
type cardInput struct {
	meta       Meta
	model      model.Config
	view       *dataset.View
	viewHandle string
	drift      *Drift
	audits     []cardReport
	evals      []cardReport
	thr        *threshold.Result
	notes      []string
	pipeline   string
}

// modelCard renders model_card.md.
func modelCard(in cardInput) string {
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format+"\n", a...) }
	w("# Model card: %s", in.meta.ModelRef)
	w("")
	w("Written by %s from the pipeline %q (`%s`, resolved configuration in `%s`).", in.meta.Tool, in.pipeline, in.meta.Pipeline, in.meta.Config)
	w("")
	w("## Intended use and limitations")
	w("")
	w("- **Research use only.** The model predicts whether the centre 32×32 pixels of a 96×96 RGB patch of a lymph-node")
	w("  section (PatchCamelyon, PCAM, level-2 patches) contain metastatic tumour tissue. It is **not a diagnostic device**:")
	w("  it has not been validated clinically and must not be used to make or support decisions about patients.")
	w("- It has only seen patches like its training data (below): other scanners, stains, magnifications, tissue types or")
	w("  patch sizes are outside its scope. The drift check flags patches unlike the training data (blank, black, or a")
	w("  measure more than %d sd from the training mean); predictions on flagged patches are not to be trusted.", DriftSD)
	w("- Probabilities are the network's outputs, not calibrated risks unless the evaluation below says so; the label")
	w("  depends on the decision threshold, chosen on a validation split for one trade-off between recall and precision.")
	w("- Patch-level metrics do not carry over to slide- or patient-level performance.")
	w("")
	w("## Model")
	w("")
	arch := in.model.Arch
	switch in.model.Arch {
	case model.ArchMLP:
		arch += fmt.Sprintf(", hidden units %v", in.model.HiddenUnits)
	default:
		arch += fmt.Sprintf(", channels %v, head units %v", in.model.Channels, in.model.HeadUnits)
	}
	w("- Architecture: %s; input normalisation mean %v, std %v.", arch, in.model.Normalize.Mean, in.model.Normalize.Std)
	if len(in.meta.Members) > 1 {
		w("- An ensemble of %d seeds: the probability is the mean of their probabilities.", len(in.meta.Members))
	}
	for _, m := range in.meta.Members {
		seed := ""
		if m.Seed != "" {
			seed = " (seed " + m.Seed + ")"
		}
		w("- Checkpoint `%s`%s, SHA-256 `%s`.", m.File, seed, m.SHA256)
	}
	w("")
	w("## Decision threshold")
	w("")
	if in.meta.Threshold == nil {
		w("None was bundled: `infer` prints probabilities only (pass `--threshold T` to add labels).")
	} else {
		t := in.meta.Threshold
		how := t.Method
		if t.Method == threshold.MaxFBeta {
			how = fmt.Sprintf("maximal F%g", t.Beta)
		}
		w("**%.6g** from `%s` (%s on the %s split", t.Value, t.Ref, how, t.Split)
		if t.Seed != "" {
			w("for seed %s", t.Seed)
		}
		if in.thr != nil {
			p := in.thr.AtThreshold
			w("of %d patches): precision %.4f, recall %.4f, specificity %.4f there.", in.thr.N, p.Precision, p.Recall, p.Specificity)
		} else {
			w(").")
		}
		w("A patch is labelled 1 (tumour) when its probability is ≥ the threshold.")
	}
	w("")
	w("## Training data")
	w("")
	if in.view == nil {
		w("The model reference does not say which data it was trained on.")
	} else {
		w("- Data: `%s` (format %s)%s.", in.view.Dir, in.view.Format, map[bool]string{true: ", the audited clean view", false: ""}[in.view.Indices != ""])
		if fp, lines := fingerprint(in.viewHandle); fp != "" {
			w("- Data fingerprint: SHA-256 of the dataset handle `%s`.", fp)
			for _, l := range lines {
				w("  - %s", l)
			}
		}
	}
	if in.drift != nil {
		d := in.drift
		w("- Input statistics of %d training patches (%s), kept in `%s` for the drift check:", d.Patches, d.Source, in.meta.Drift)
		w("")
		w("| measure | mean | sd | min | max |")
		w("|---|---|---|---|---|")
		for _, f := range d.Features {
			w("| %s | %.4f | %.4f | %.4f | %.4f |", f.Name, f.Mean, f.SD, f.Min, f.Max)
		}
		w("")
		w("  Training patches by audit class: %s; %.2f%% of them lie more than %d sd out on some measure.",
			classCounts(d.Classes), 100*d.FarRate, DriftSD)
	}
	w("")
	w("## Data audit")
	w("")
	if len(in.audits) == 0 {
		w("No data_audit stage is upstream of this model: duplicates, leakage and unusable patches were not checked.")
	}
	for _, a := range in.audits {
		w("From `%s` (full report `%s`):", a.addr, a.report)
		w("")
		w("%s", demote(a.summaryText))
	}
	w("")
	w("## Evaluation")
	w("")
	if len(in.evals) == 0 {
		w("No cached evaluate stage evaluated this model: there are no held-out metrics in this card.")
	}
	for _, e := range in.evals {
		r := e.eval
		w("`%s` on the %s split (%d patches, %d positive), model %s, threshold %.6g (%s). Intervals: %s. Full report `%s`, summary `%s`.",
			e.addr, r.Split, r.N, r.Positives, r.Model.Mode, r.Threshold.Value, r.Threshold.Source,
			bootstrapText(r.Bootstrap.Level, r.Bootstrap.Resamples, r.Bootstrap.Method), e.report, e.summary)
		w("")
		w("| metric | value | interval |")
		w("|---|---|---|")
		for _, name := range sortedKeys(r.Metrics) {
			iv := r.Metrics[name]
			ci := "–"
			if !math.IsNaN(iv.Lo) && !math.IsNaN(iv.Hi) {
				ci = fmt.Sprintf("[%.4f, %.4f]", iv.Lo, iv.Hi)
			}
			w("| %s | %.4f | %s |", name, iv.Value, ci)
		}
		w("")
	}
	if len(in.notes) > 0 {
		w("## Notes")
		w("")
		for _, n := range in.notes {
			w("- %s", n)
		}
		w("")
	}
	w("## Runtime")
	w("")
	w("`bin/pcamflow` with %d shared libraries in `lib/`; the target needs %s (x86-64 Linux with glibc providing %s; any Debian 12 or newer).",
		len(in.meta.Libraries), in.meta.Interpreter, orNone(in.meta.GlibcNeeded))
	return b.String()
}

// fingerprint returns the SHA-256 of a dataset handle file and one line per split with its size
// and file digests.
func fingerprint(handle string) (string, []string) {
	if handle == "" {
		return "", nil
	}
	data, err := os.ReadFile(handle)
	if err != nil {
		return "", nil
	}
	sum := sha256.Sum256(data)
	h, err := dataset.ReadHandle(handle)
	if err != nil {
		return hex.EncodeToString(sum[:]), nil
	}
	var lines []string
	for _, name := range sortedKeys(h.Splits) {
		s := h.Splits[name]
		files := ""
		for _, f := range sortedKeys(s.Files) {
			files += fmt.Sprintf(" `%s` %s", f, s.Files[f])
		}
		lines = append(lines, fmt.Sprintf("%s: %d patches, %d positive;%s", name, s.N, s.Positives, files))
	}
	return hex.EncodeToString(sum[:]), lines
}

// classCounts formats audit class counts ("none" when empty).
func classCounts(m map[string]int) string {
	if len(m) == 0 {
		return "none blank, black, saturated or tissue-poor"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%d %s", m[k], k))
	}
	return strings.Join(parts, ", ")
}

// demote shifts Markdown headings two levels down so an embedded summary nests under the card's.
func demote(md string) string {
	lines := strings.Split(strings.TrimRight(md, "\n"), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "#") {
			lines[i] = "##" + l
		}
	}
	return strings.Join(lines, "\n")
}

// orNone returns s, or "no versioned symbols" when it is empty.
func orNone(s string) string {
	if s == "" {
		return "no versioned symbols"
	}
	return s
}

// bootstrapText describes the intervals of an evaluation.
func bootstrapText(level float64, resamples int, method string) string {
	if resamples == 0 {
		return "none"
	}
	return fmt.Sprintf("%g%% bootstrap from %d resamples (%s)", 100*level, resamples, strings.TrimSuffix(method, "."))
}
