package audit

import (
	"errors"
	"fmt"
	"slices"
)

// DefaultHammingThreshold is the default near-duplicate radius in bits (applied to both the 63-bit
// low-frequency hash and the 57-bit verification hash). Measured on synthetic H&E-like textures
// (docs/bench-audit.md): flips, rotations and colour jitter up to ±15% gain, ±20 offset and ±8
// noise stay within 4 bits, while the closest of 4.5 million distinct pairs is 10 bits apart on
// the low hash alone and no distinct pair passes both hashes even at 12. 7 is also the largest
// radius the index searches with a per-band probe radius of 1, which keeps the search fast.
const DefaultHammingThreshold = 7

// MaxHammingThreshold is the largest accepted near-duplicate radius; beyond it unrelated patches
// start to match and the index has to probe too many keys.
const MaxHammingThreshold = 16

// DefaultChunkSize is the number of patches requested per Reader.Read call.
const DefaultChunkSize = 1024

// DefaultMaxCorrupt is the default number of unreadable patches tolerated per split.
const DefaultMaxCorrupt = 1000

// DefaultExclude lists the classes Clean drops by default: leakage, redundancy, poisoning and
// unusable patches. low_tissue and saturated are only reported, since real PCAM has many patches
// that are mostly background yet correctly labelled.
var DefaultExclude = []string{
	ExactDuplicates, CrossSplitDuplicates, CrossSplitNearDuplicates, LabelConflicts,
	Blank, Black, Corrupt,
}

// Leak policies: which copy of a leak between train and an evaluation split the clean view drops.
const (
	// LeakDropTrain keeps valid and test intact and removes from train every patch that leaks into
	// them (its exact or near copies, and its slide's patches for wsi_overlap). It is the default: the
	// evaluation splits stay the published ones, so their numbers stay comparable.
	LeakDropTrain = "drop_train"
	// LeakDropEval keeps train whole and removes the later copy instead: a valid or test patch that
	// copies a train patch (or a test patch that copies a valid one) leaves the evaluation split.
	LeakDropEval = "drop_eval"
)

// LeakPolicies lists the accepted values of Options.LeakPolicy.
var LeakPolicies = []string{LeakDropTrain, LeakDropEval}

// Options configures Run. The zero value audits without near-duplicate search and without gates;
// DefaultOptions gives the recommended settings.
type Options struct {
	// NearDuplicates turns the perceptual-hash near-duplicate search on.
	NearDuplicates bool `json:"near_duplicates"`
	// HammingThreshold is the largest hash distance (in bits, 0..MaxHammingThreshold) at which two
	// different images count as near duplicates.
	HammingThreshold int `json:"hamming_threshold"`
	// FailOn lists the finding classes that fail the audit (see Report.Failed) when present.
	FailOn []string `json:"fail_on"`
	// Exclude lists the finding classes the clean view drops (see Clean). It is recorded in the
	// report so that Report.CleanView can apply it later.
	Exclude []string `json:"exclude"`
	// LeakPolicy says which side of a cross-split leak the clean view drops: LeakDropTrain (also
	// the meaning of "") or LeakDropEval. It applies to cross_split_duplicates,
	// cross_split_near_duplicates and wsi_overlap when they are excluded.
	LeakPolicy string `json:"leak_policy"`
	// MaxResidual is the largest relative pixel residual (0..1) of a hash candidate pair for it to
	// count as near duplicates: after undoing the flip/rotation and fitting a per-channel gain and
	// offset on 32x32 colour thumbnails, the RMS difference divided by the RMS spread of the image
	// (sqrt(1-R²)). 0 means DefaultMaxResidual; a negative value turns pixel verification off (hash
	// matches only, which over-matches simple layouts such as one nucleus on background).
	// Verification re-reads only the candidate patches.
	MaxResidual float64 `json:"max_residual"`
	// MaxCorrupt is the number of unreadable patches tolerated per split before Run fails;
	// 0 means DefaultMaxCorrupt, a negative value means none are tolerated.
	MaxCorrupt int `json:"max_corrupt"`
	// ChunkSize is the number of patches per Read call; 0 means DefaultChunkSize. It does not
	// change the results and is not part of the JSON report.
	ChunkSize int `json:"-"`
	// Workers is the number of hashing goroutines; 0 means runtime.GOMAXPROCS(0). It does not
	// change the results and is not part of the JSON report.
	Workers int `json:"-"`
}

// DefaultOptions returns near-duplicate search on at DefaultHammingThreshold, no gates,
// DefaultExclude and LeakDropTrain.
func DefaultOptions() Options {
	return Options{
		NearDuplicates:   true,
		HammingThreshold: DefaultHammingThreshold,
		Exclude:          append([]string(nil), DefaultExclude...),
		LeakPolicy:       LeakDropTrain,
	}
}

// Validate returns an error describing every invalid field of o.
func (o Options) Validate() error {
	var errs []error
	if o.HammingThreshold < 0 || o.HammingThreshold > MaxHammingThreshold {
		errs = append(errs, fmt.Errorf("hamming_threshold: %d is outside 0..%d",
			o.HammingThreshold, MaxHammingThreshold))
	}
	if err := ValidateClasses("fail_on", o.FailOn); err != nil {
		errs = append(errs, err)
	}
	if err := ValidateClasses("exclude", o.Exclude); err != nil {
		errs = append(errs, err)
	}
	if err := ValidateLeakPolicy(o.LeakPolicy); err != nil {
		errs = append(errs, err)
	}
	if o.ChunkSize < 0 {
		errs = append(errs, fmt.Errorf("chunk_size: %d is negative", o.ChunkSize))
	}
	if o.Workers < 0 {
		errs = append(errs, fmt.Errorf("workers: %d is negative", o.Workers))
	}
	return errors.Join(errs...)
}

// ValidateLeakPolicy returns an error unless policy is one of LeakPolicies or "" (the default).
func ValidateLeakPolicy(policy string) error {
	if policy == "" || slices.Contains(LeakPolicies, policy) {
		return nil
	}
	return fmt.Errorf("leak_policy: %q is not a leak policy; use %q (keep valid and test intact, drop the train copy) or %q (keep train, drop the evaluation copy)",
		policy, LeakDropTrain, LeakDropEval)
}

// leakPolicy returns the effective leak policy.
func (o Options) leakPolicy() string {
	if o.LeakPolicy == "" {
		return LeakDropTrain
	}
	return o.LeakPolicy
}

// chunkSize returns the effective chunk size.
func (o Options) chunkSize() int {
	if o.ChunkSize == 0 {
		return DefaultChunkSize
	}
	return o.ChunkSize
}

// maxResidual returns the effective verification limit (negative: off).
func (o Options) maxResidual() float64 {
	if o.MaxResidual == 0 {
		return DefaultMaxResidual
	}
	return o.MaxResidual
}

// maxCorrupt returns the effective corrupt-patch tolerance per split.
func (o Options) maxCorrupt() int {
	switch {
	case o.MaxCorrupt == 0:
		return DefaultMaxCorrupt
	case o.MaxCorrupt < 0:
		return 0
	}
	return o.MaxCorrupt
}
