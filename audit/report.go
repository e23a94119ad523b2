package audit

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/pcamflow/pcamflow/internal/atomicfile"
	"github.com/pcamflow/pcamflow/pcam"
)

// ReportVersion is the schema version of Report; it changes when fields change meaning.
// Version 2: leak_policy, wsi.shared, per-split dropped counts, warnings, near-edge transforms;
// blank/black duplicate groups no longer count as duplicates.
const ReportVersion = 2

// KaggleTrainImages is the number of train images of the Kaggle re-release of PCAM, which is the
// official train split with exact duplicates removed (its image id is the SHA-1 of the pixels).
const KaggleTrainImages = 220025

// OfficialCounts are the split sizes of the official PCAM release.
var OfficialCounts = map[pcam.Split]int{pcam.Train: 262144, pcam.Valid: 32768, pcam.Test: 32768}

// Report is the result of an audit. All slices are in a deterministic order (splits in canonical
// order, patches by split then index), so json.Marshal of the same data gives the same bytes.
type Report struct {
	// Version is ReportVersion.
	Version int `json:"version"`
	// Options are the options the audit ran with.
	Options Options `json:"options"`
	// Splits summarises each audited split, in canonical order (train, valid, test, others by name).
	Splits []SplitSummary `json:"splits"`
	// Overall sums the splits and counts distinct images across all of them.
	Overall Overall `json:"overall"`
	// SizeExplanation explains in sentences why the dataset has the size it has.
	SizeExplanation []string `json:"size_explanation"`
	// Findings has one entry per finding class, in the order of Classes.
	Findings []Finding `json:"findings"`
	// ExactDuplicateGroups lists every set of two or more patches with identical pixels.
	ExactDuplicateGroups []ExactGroup `json:"exact_duplicate_groups"`
	// NearDuplicateGroups lists every set of two or more distinct images within the hash threshold.
	NearDuplicateGroups []NearGroup `json:"near_duplicate_groups"`
	// NearSearch describes the near-duplicate search; nil when it was off.
	NearSearch *NearSearch `json:"near_search,omitempty"`
	// Flagged lists the patches of each per-patch quality class.
	Flagged Flagged `json:"flagged"`
	// Corrupt lists unreadable patches with the error.
	Corrupt []CorruptPatch `json:"corrupt"`
	// WSI is the slide-level analysis from the meta CSV; nil when no meta rows were given.
	WSI *WSIReport `json:"wsi,omitempty"`
	// Warnings are problems of the clean view a user must know about before training on it, such as
	// a split the view leaves empty or mostly empty (sentences; empty when there are none).
	Warnings []string `json:"warnings"`
}

// SplitSummary holds the counts and statistics of one split.
type SplitSummary struct {
	// Split names the split.
	Split pcam.Split `json:"split"`
	// Patches is the number of patches the reader reports; Official the official count (0 if the
	// split is not an official one) and DeltaVsOfficial their difference.
	Patches         int `json:"patches"`
	Official        int `json:"official"`
	DeltaVsOfficial int `json:"delta_vs_official"`
	// Positives and Negatives count readable patches by label; PositiveFraction is their ratio.
	Positives        int     `json:"positives"`
	Negatives        int     `json:"negatives"`
	PositiveFraction float64 `json:"positive_fraction"`
	// Corrupt counts unreadable patches.
	Corrupt int `json:"corrupt"`
	// UniqueImages counts distinct SHA-1s among readable patches; DuplicateCopies is readable
	// patches minus UniqueImages; NewImages counts distinct images that occur in no earlier split.
	UniqueImages    int `json:"unique_images"`
	DuplicateCopies int `json:"duplicate_copies"`
	NewImages       int `json:"new_images"`
	// Quality counts patches per quality class (blank, black, saturated, low_tissue).
	Quality map[string]int `json:"quality"`
	// Clean is the number of patches the clean view keeps with Options.Exclude and
	// Options.LeakPolicy; Dropped counts, per excluded class, the patches it removes from this split
	// (a patch removed by several classes counts under each).
	Clean   int            `json:"clean"`
	Dropped map[string]int `json:"dropped"`
	// Pixels are the colour statistics of the readable patches.
	Pixels PixelStats `json:"pixels"`
}

// Overall sums the splits.
type Overall struct {
	// Patches, Official and Readable sum the splits' patch counts, official counts and readable patches.
	Patches  int `json:"patches"`
	Official int `json:"official"`
	Readable int `json:"readable"`
	// UniqueImages counts distinct SHA-1s across all splits.
	UniqueImages int `json:"unique_images"`
	// Clean is the number of patches the clean view keeps.
	Clean int `json:"clean"`
}

// Finding says how often one finding class occurs.
type Finding struct {
	// Class is the finding class name (one of Classes).
	Class string `json:"class"`
	// Groups counts duplicate groups or shared slides (0 for per-patch classes).
	Groups int `json:"groups"`
	// Patches counts the patches concerned: for duplicate classes, the redundant occurrences in
	// all splits (every occurrence but the first in canonical order, by the class's rule: for a leak,
	// the copies in the later split); for label conflicts, every occurrence in a conflicting group.
	// Which patches the clean view drops is another matter (Clean, Options.LeakPolicy).
	Patches int `json:"patches"`
	// Gate is true when the class is in Options.FailOn; Failed when it is a gate and Patches > 0.
	Gate   bool `json:"gate"`
	Failed bool `json:"failed"`
	// Skipped is true when the class was not checked (near search off, or no meta CSV).
	Skipped bool `json:"skipped,omitempty"`
	// Description says what the class counts.
	Description string `json:"description"`
}

// PatchRef names one patch.
type PatchRef struct {
	// Split and Index locate the patch: Index is its position in the split's Reader.
	Split pcam.Split `json:"split"`
	Index int        `json:"index"`
}

// Occurrence is one patch of a duplicate group, with its label.
type Occurrence struct {
	// Split and Index locate the patch; Label is its label (0 or 1).
	Split pcam.Split `json:"split"`
	Index int        `json:"index"`
	Label uint8      `json:"label"`
}

// ExactGroup is a set of patches with identical pixel bytes.
type ExactGroup struct {
	// SHA1 is the hex SHA-1 of the pixel bytes: the Kaggle image id.
	SHA1 string `json:"sha1"`
	// Members are the occurrences in canonical order; the first is the one a clean view keeps.
	Members []Occurrence `json:"members"`
	// Splits are the splits the group touches, in canonical order.
	Splits []pcam.Split `json:"splits"`
	// CrossSplit is true when the group touches more than one split; LabelConflict when its
	// members do not all carry the same label.
	CrossSplit    bool `json:"cross_split"`
	LabelConflict bool `json:"label_conflict"`
	// Quality is the quality class of the image ("blank", ...), empty when none.
	Quality string `json:"quality,omitempty"`
}

// NearMember is one distinct image of a near-duplicate group (its first occurrence).
type NearMember struct {
	// Split, Index and Label describe the first occurrence of the image; SHA1 is its Kaggle id.
	Split pcam.Split `json:"split"`
	Index int        `json:"index"`
	Label uint8      `json:"label"`
	SHA1  string     `json:"sha1"`
	// PHash is the canonical perceptual hash (minimum over the 8 flips/rotations), 16 hex digits.
	PHash string `json:"phash"`
	// Copies is the number of exact copies of this image (1 when it is unique).
	Copies int `json:"copies"`
}

// NearEdge is a pair of members (positions in Members) within the threshold, with their distance
// and the transform that links them.
type NearEdge struct {
	// A and B index NearGroup.Members (A < B); Distance is their low-hash distance in bits and
	// Residual the relative pixel difference (0..1) left after matching flip/rotation and colour.
	A        int     `json:"a"`
	B        int     `json:"b"`
	Distance int     `json:"distance"`
	Residual float64 `json:"residual"`
	// Transform is the flip or rotation that maps member A onto member B: identity, flip_h, flip_v,
	// rot90, rot180, rot270 (clockwise), transpose or anti_transpose. Exact is true when B is
	// exactly A under Transform, pixel for pixel; otherwise B differs beyond the geometry (colour
	// jitter, noise, compression: a "near" copy).
	Transform string `json:"transform"`
	Exact     bool   `json:"exact"`
}

// NearGroup is a connected set of distinct images within the Hamming threshold of each other.
type NearGroup struct {
	Members []NearMember `json:"members"`
	// Splits are the splits touched by any copy of any member.
	Splits []pcam.Split `json:"splits"`
	// CrossSplit is true when a different image of the group occurs in an earlier split than
	// some occurrence (near-duplicate leakage); LabelConflict when the members' labels differ.
	CrossSplit    bool `json:"cross_split"`
	LabelConflict bool `json:"label_conflict"`
	// Pairs counts member pairs within the threshold; MaxDistance is their largest distance.
	Pairs       int `json:"pairs"`
	MaxDistance int `json:"max_distance"`
	// Edges lists up to 32 of those pairs.
	Edges []NearEdge `json:"edges"`
}

// NearSearch describes the near-duplicate search.
type NearSearch struct {
	// HammingThreshold is the radius used, in bits.
	HammingThreshold int `json:"hamming_threshold"`
	// Searched counts the distinct images that took part; ExcludedFlat those skipped because they
	// are blank, black or too flat to hash meaningfully.
	Searched     int `json:"searched"`
	ExcludedFlat int `json:"excluded_flat"`
	// Bands and ProbeRadius describe the multi-index: Bands of 64/Bands bits, each probed within
	// ProbeRadius bits.
	Bands       int `json:"bands"`
	ProbeRadius int `json:"probe_radius"`
	// MaxResidual is the relative pixel-residual limit used (negative: verification off).
	MaxResidual float64 `json:"max_residual"`
	// Candidates counts image pairs within the hash threshold; Pairs those that passed pixel
	// verification (the near duplicates).
	Candidates int `json:"candidates"`
	Pairs      int `json:"pairs"`
	// CandidatesTruncated is true when more than 4,194,304 candidate pairs were found: only the
	// first were verified, so groups may be incomplete. Raise the bar (lower hamming_threshold).
	CandidatesTruncated bool `json:"candidates_truncated,omitempty"`
}

// Flagged lists patches per quality class.
type Flagged struct {
	// Blank, Black, Saturated and LowTissue list the patches of each quality class in canonical order.
	Blank     []PatchRef `json:"blank"`
	Black     []PatchRef `json:"black"`
	Saturated []PatchRef `json:"saturated"`
	LowTissue []PatchRef `json:"low_tissue"`
}

// byClass returns the list of a quality class, or nil for other classes.
func (f *Flagged) byClass(class string) []PatchRef {
	switch class {
	case Blank:
		return f.Blank
	case Black:
		return f.Black
	case Saturated:
		return f.Saturated
	case LowTissue:
		return f.LowTissue
	}
	return nil
}

// CorruptPatch is an unreadable patch and why.
type CorruptPatch struct {
	// Split and Index locate the patch; Error says what failed (the reader's error or the bad label).
	Split pcam.Split `json:"split"`
	Index int        `json:"index"`
	Error string     `json:"error"`
}

// Finding returns the finding of class, or a zero Finding when the class is unknown.
func (r *Report) Finding(class string) Finding {
	for _, f := range r.Findings {
		if f.Class == class {
			return f
		}
	}
	return Finding{}
}

// Failed returns the classes of failOn (in the order of Classes) that occur in the report, i.e.
// the gates that tripped. Unknown names and classes that were not checked (Finding.Skipped) never
// trip; use ValidateClasses to reject unknown names and look at Finding.Skipped to warn.
func (r *Report) Failed(failOn []string) []string {
	gates := classSet(failOn)
	var out []string
	for _, c := range Classes {
		if f := r.Finding(c); gates[c] && !f.Skipped && f.Patches > 0 {
			out = append(out, c)
		}
	}
	return out
}

// JSON returns the indented JSON encoding of r with a trailing newline; equal reports give equal bytes.
func (r *Report) JSON() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return nil, fmt.Errorf("audit: encode report: %w", err)
	}
	return buf.Bytes(), nil
}

// WriteJSONFile writes r as JSON to path atomically (temporary file, fsync, rename).
func (r *Report) WriteJSONFile(path string) error {
	b, err := r.JSON()
	if err != nil {
		return err
	}
	return atomicfile.Write(path, b, 0o644)
}

// ReadJSONFile loads a report written by WriteJSONFile.
func ReadJSONFile(path string) (*Report, error) {
	b, err := readFile(path)
	if err != nil {
		return nil, err
	}
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("audit: %s is not an audit report: %w", path, err)
	}
	if r.Version != ReportVersion {
		return nil, fmt.Errorf("audit: %s has report version %d, want %d", path, r.Version, ReportVersion)
	}
	return &r, nil
}
