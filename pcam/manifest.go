package pcam

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/pcamflow/pcamflow/internal/atomicfile"
)

// ManifestFile is the file name of the synthetic generator's ground-truth manifest inside the data folder.
const ManifestFile = "manifest.json"

// DefectKind names a class of planted defect in a synthetic dataset.
type DefectKind string

// The planted defect kinds. Every planted defect appears in Manifest.Defects with one of these kinds.
const (
	// DefectExactDuplicate marks a patch whose pixel bytes equal those of Defect.Source (same or another split).
	DefectExactDuplicate DefectKind = "exact_duplicate"
	// DefectNearDuplicate marks a patch derived from Defect.Source by Defect.Transform (flip, 90° rotation
	// or slight colour jitter); its bytes differ from the source's.
	DefectNearDuplicate DefectKind = "near_duplicate"
	// DefectBlank marks an all-white patch (every byte 255).
	DefectBlank DefectKind = "blank"
	// DefectBlack marks an all-black patch (every byte 0).
	DefectBlack DefectKind = "black"
	// DefectSaturated marks an over-exposed patch: a tissue patch whose channels are clipped at 255 on
	// most pixels (at least 80% of pixels have some channel at 255).
	DefectSaturated DefectKind = "saturated"
	// DefectSharedWSI marks a whole-slide image id that appears in the meta CSV of more than one split.
	DefectSharedWSI DefectKind = "shared_wsi"
)

// PatchRef identifies one patch by split and index.
type PatchRef struct {
	Split Split `json:"split"`
	Index int   `json:"index"`
}

// Defect is one planted defect. Label is the label stored for the patch at Split/Index. For duplicates,
// Split/Index is the copy and Source the original, which is always an unmodified rendered train patch
// (or, for repeated blank/black patches, the first one); SourceLabel is the source's stored label, and
// LabelConflict is true when the two differ (a possible poisoning). For DefectSharedWSI, Split is empty,
// Index is -1, Label is meaningless, and WSI and Splits say which slide is shared by which splits.
type Defect struct {
	Kind          DefectKind `json:"kind"`
	Split         Split      `json:"split,omitempty"`
	Index         int        `json:"index"`
	Label         int        `json:"label"`
	Source        *PatchRef  `json:"source,omitempty"`
	SourceLabel   *int       `json:"source_label,omitempty"`
	Transform     string     `json:"transform,omitempty"`
	LabelConflict bool       `json:"label_conflict,omitempty"`
	WSI           string     `json:"wsi,omitempty"`
	Splits        []Split    `json:"splits,omitempty"`
}

// Manifest is the ground truth written by Synthesize as manifest.json: the options used and every
// planted defect, in a deterministic order (by split in canonical order, then index; shared WSIs last).
//
// Ground-truth contract: two patches of the dataset have identical pixel bytes if and only if they are
// linked, directly or through a common source, by DefectExactDuplicate entries. Constant patches
// (blank, black) that occur more than once are linked the same way, to the first occurrence.
type Manifest struct {
	Format  string         `json:"format"`
	Version int            `json:"version"`
	Seed    uint64         `json:"seed"`
	Counts  map[Split]int  `json:"counts"`
	Options SynthOptions   `json:"options"`
	Defects []Defect       `json:"defects"`
	Summary map[string]int `json:"summary"`
}

// ReadManifest reads dir/manifest.json.
func ReadManifest(dir string) (*Manifest, error) {
	path := filepath.Join(dir, ManifestFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read synthetic manifest: %w", err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("parse synthetic manifest %s: %w", path, err)
	}
	return &m, nil
}

// writeManifest writes m as indented JSON to dir/manifest.json atomically.
func writeManifest(dir string, m *Manifest) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("encode manifest: %w", err)
	}
	return atomicfile.Write(filepath.Join(dir, ManifestFile), append(b, '\n'), 0o644)
}

// commitTemp makes f (whose name is tmp) world-readable, fsyncs and closes it and renames it to path,
// removing tmp on failure.
func commitTemp(f *os.File, tmp, path string) error {
	err := f.Chmod(0o644)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
