package audit

import (
	"fmt"
	"strings"
)

// Finding class names, used in Options.FailOn, Options.Exclude, Report.Findings and Clean.
const (
	ExactDuplicates          = "exact_duplicates"
	CrossSplitDuplicates     = "cross_split_duplicates"
	NearDuplicates           = "near_duplicates"
	CrossSplitNearDuplicates = "cross_split_near_duplicates"
	LabelConflicts           = "label_conflicts"
	Blank                    = "blank"
	Black                    = "black"
	Saturated                = "saturated"
	LowTissue                = "low_tissue"
	Corrupt                  = "corrupt"
	WSIOverlap               = "wsi_overlap"
)

// Classes lists every finding class in the canonical order used by reports.
var Classes = []string{
	ExactDuplicates, CrossSplitDuplicates, NearDuplicates, CrossSplitNearDuplicates,
	LabelConflicts, Blank, Black, Saturated, LowTissue, Corrupt, WSIOverlap,
}

// classDescriptions says in one sentence what each class counts.
var classDescriptions = map[string]string{
	ExactDuplicates:          "later copies of an identical image (same SHA-1) within the same split",
	CrossSplitDuplicates:     "copies of an identical image that already occurs in an earlier split (leakage)",
	NearDuplicates:           "different images within one split that are near-identical up to flips, rotations and colour jitter",
	CrossSplitNearDuplicates: "images near-identical to an image in an earlier split (leakage)",
	LabelConflicts:           "duplicate or near-duplicate groups whose members carry different labels (possible poisoning)",
	Blank:                    "patches that are at least 99.5% white or near-white background",
	Black:                    "patches that are at least 95% black",
	Saturated:                "patches with at least 50% clipped pixels (a channel at 0 or 255)",
	LowTissue:                "patches with less than 10% tissue pixels",
	Corrupt:                  "patches that cannot be read or carry a label outside {0,1}",
	WSIOverlap:               "patches from a slide (WSI) that also occurs in an earlier split (leakage)",
}

// UnknownClasses returns the entries of names that are not finding classes, in order.
func UnknownClasses(names []string) []string {
	var bad []string
	for _, n := range names {
		if _, ok := classDescriptions[n]; !ok {
			bad = append(bad, n)
		}
	}
	return bad
}

// ValidateClasses returns an error naming every entry of names that is not a known finding class,
// with the list of valid names; what names the field the entries came from (e.g. "fail_on").
func ValidateClasses(what string, names []string) error {
	var bad []string
	for _, n := range UnknownClasses(names) {
		bad = append(bad, fmt.Sprintf("%q", n))
	}
	if len(bad) == 0 {
		return nil
	}
	return fmt.Errorf("%s: unknown finding class %s; valid classes are %s",
		what, strings.Join(bad, ", "), strings.Join(Classes, ", "))
}

// classSet turns a list of class names into a set.
func classSet(names []string) map[string]bool {
	s := make(map[string]bool, len(names))
	for _, n := range names {
		s[n] = true
	}
	return s
}
