package audit

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/pcamflow/pcamflow/pcam"
)

// fillOverall sums the split summaries into r.Overall (except Clean).
func (r *Report) fillOverall() {
	for _, s := range r.Splits {
		r.Overall.Patches += s.Patches
		r.Overall.Official += s.Official
		r.Overall.Readable += s.Positives + s.Negatives
		r.Overall.UniqueImages += s.NewImages
	}
}

// explainSize writes the "dataset size mystery" in numbers.
func (r *Report) explainSize() []string {
	var out []string
	for _, s := range r.Splits {
		line := fmt.Sprintf("%s: %s patches", s.Split, commas(s.Patches))
		if s.Official > 0 {
			line += fmt.Sprintf(" (official %s, %s)", commas(s.Official), signed(s.DeltaVsOfficial))
		}
		line += fmt.Sprintf("; %s distinct images (SHA-1 of the pixel bytes), %s extra copies of an image already in %s",
			commas(s.UniqueImages), commas(s.DuplicateCopies), s.Split)
		if s.NewImages != s.UniqueImages {
			line += fmt.Sprintf("; %s of the distinct images do not occur in an earlier split", commas(s.NewImages))
		}
		if s.Corrupt > 0 {
			line += fmt.Sprintf("; %s unreadable", commas(s.Corrupt))
		}
		out = append(out, line+".")
		if s.Split == pcam.Train {
			out = append(out, fmt.Sprintf("The Kaggle re-release of PCAM has %s train images: its image id is the SHA-1 of the pixel bytes, so the exact duplicates of the official train split collapse (official train after de-duplication = %s). Here train has %s distinct images.",
				commas(KaggleTrainImages), commas(KaggleTrainImages), commas(s.UniqueImages)))
		}
	}
	o := r.Overall
	out = append(out, fmt.Sprintf("Overall: %s patches (official %s), %s readable, %s distinct images across all splits.",
		commas(o.Patches), commas(o.Official), commas(o.Readable), commas(o.UniqueImages)))
	var parts []string
	for _, s := range r.Splits {
		parts = append(parts, fmt.Sprintf("%s %s", s.Split, commas(s.Clean)))
	}
	out = append(out, fmt.Sprintf("The clean view (exclude = [%s], leak_policy = %s) keeps %s patches: %s.",
		strings.Join(r.Options.Exclude, ", "), r.Options.LeakPolicy, commas(o.Clean), strings.Join(parts, ", ")))
	return out
}

// cleanWarnings warns about splits the clean view empties or more than halves, naming the classes
// that remove the patches, since training or evaluating on such a view fails or misleads.
func (r *Report) cleanWarnings() []string {
	out := []string{}
	for _, s := range r.Splits {
		if s.Patches == 0 || 2*s.Clean >= s.Patches {
			continue
		}
		why := droppedText(s.Dropped)
		if s.Clean == 0 {
			out = append(out, fmt.Sprintf("The clean view keeps none of the %s %s patches (%s): a stage that uses the %s split of the clean view (train needs train and valid) will fail. Exclude fewer classes, or change leak_policy (now %s).",
				commas(s.Patches), s.Split, why, s.Split, r.Options.LeakPolicy))
			continue
		}
		out = append(out, fmt.Sprintf("The clean view keeps only %s of the %s %s patches (%s).",
			commas(s.Clean), commas(s.Patches), s.Split, why))
	}
	return out
}

// droppedText lists per-class drop counts in class order, e.g. "wsi_overlap removes 600, corrupt 2".
func droppedText(dropped map[string]int) string {
	var parts []string
	for _, c := range Classes {
		if n := dropped[c]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s removes %s", c, commas(n)))
		}
	}
	if len(parts) == 0 {
		return "nothing removed"
	}
	return strings.Join(parts, ", ")
}

// commas formats n with thousands separators.
func commas(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// signed formats a difference with an explicit sign.
func signed(n int) string {
	if n > 0 {
		return "+" + commas(n)
	}
	if n == 0 {
		return "±0"
	}
	return commas(n)
}
