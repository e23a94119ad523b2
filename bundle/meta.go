package bundle

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// FormatVersion is the version of the bundle layout written to bundle.json.
const FormatVersion = 1

// Names of files inside a bundle.
const (
	metaName      = "bundle.json"
	driftName     = "drift.json"
	thresholdName = "threshold.json"
	launcherName  = "pcamflow"
	binaryPath    = "bin/pcamflow"
	libDir        = "lib"
	modelDir      = "model"
	pipelineDir   = "pipeline"
	reportsDir    = "reports"
	cardName      = "model_card.md"
	readmeName    = "README.md"
)

// EnvBundle is the environment variable the launcher sets to the bundle folder, so that
// `DIR/pcamflow infer INPUT` predicts with the bundle without --bundle.
const EnvBundle = "PCAMFLOW_BUNDLE"

// Meta is bundle.json: what the bundle holds.
type Meta struct {
	Format int `json:"format"`
	// Tool is the pcamflow version that wrote the bundle.
	Tool string `json:"tool"`
	// ModelRef is the model reference the bundle was made from (e.g. sweep.hpo.champion).
	ModelRef string `json:"model_ref"`
	// Members are the checkpoints; predictions are the mean of their probabilities (one member:
	// its probabilities, bit for bit).
	Members []Member `json:"members"`
	// Threshold is the decision threshold (nil: probabilities only).
	Threshold *Threshold `json:"threshold,omitempty"`
	// Drift is the drift statistics file ("" when the training data was unknown).
	Drift string `json:"drift,omitempty"`
	// Pipeline is the bundled pipeline file; Config the resolved configuration of its nodes.
	Pipeline string `json:"pipeline"`
	Config   string `json:"config"`
	// Libraries are the shared libraries in lib/; Interpreter the ELF interpreter the binary needs
	// on the target machine; GlibcNeeded the newest GLIBC symbol version it uses.
	Libraries   []Library `json:"libraries"`
	Interpreter string    `json:"interpreter"`
	GlibcNeeded string    `json:"glibc_needed"`
}

// Member is one checkpoint of the bundle.
type Member struct {
	// Seed is the training seed ("" for a single model).
	Seed string `json:"seed,omitempty"`
	// File is the checkpoint's path in the bundle; SHA256 its digest.
	File   string `json:"file"`
	SHA256 string `json:"sha256"`
}

// Threshold is the bundle's decision threshold.
type Threshold struct {
	// Ref is the threshold stage (threshold.f2); Value the threshold: label 1 when probability >= Value.
	Ref    string  `json:"ref"`
	Value  float64 `json:"value"`
	Method string  `json:"method"`
	Beta   float64 `json:"beta,omitempty"`
	Split  string  `json:"split"`
	// Seed is the seed whose own threshold this is, for a per-seed threshold stage.
	Seed string `json:"seed,omitempty"`
	// File is the threshold stage's threshold.json, copied into the bundle.
	File string `json:"file"`
}

// Bundle is an opened bundle folder.
type Bundle struct {
	Dir   string
	Meta  Meta
	Drift *Drift
}

// Open reads the bundle in dir: bundle.json and drift.json. It does not check the manifest (see
// Verify) but does check that every checkpoint it names exists.
func Open(dir string) (*Bundle, error) {
	data, err := os.ReadFile(filepath.Join(dir, metaName))
	if err != nil {
		if os.IsNotExist(err) {
			return nil, fmt.Errorf("%s is not a pcamflow bundle: it has no %s (write one with pcamflow bundle MODEL_REF -o %s)", dir, metaName, dir)
		}
		return nil, err
	}
	b := &Bundle{Dir: dir}
	if err := json.Unmarshal(data, &b.Meta); err != nil {
		return nil, fmt.Errorf("the bundle's %s is corrupt: %w (check the bundle with pcamflow bundle verify %s)", metaName, err, dir)
	}
	if b.Meta.Format != FormatVersion {
		return nil, fmt.Errorf("the bundle %s has layout version %d; this pcamflow reads version %d: run the bundle's own launcher %s",
			dir, b.Meta.Format, FormatVersion, filepath.Join(dir, launcherName))
	}
	if len(b.Meta.Members) == 0 {
		return nil, fmt.Errorf("the bundle %s names no checkpoint in %s", dir, metaName)
	}
	for _, m := range b.Meta.Members {
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(m.File))); err != nil {
			return nil, fmt.Errorf("the bundle %s lacks its checkpoint %s (check it with pcamflow bundle verify %s): %w", dir, m.File, dir, err)
		}
	}
	if b.Meta.Drift != "" {
		if b.Drift, err = ReadDrift(filepath.Join(dir, filepath.FromSlash(b.Meta.Drift))); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// Checkpoints returns the absolute paths of the bundle's checkpoints, in member order.
func (b *Bundle) Checkpoints() []string {
	out := make([]string, len(b.Meta.Members))
	for i, m := range b.Meta.Members {
		out[i] = filepath.Join(b.Dir, filepath.FromSlash(m.File))
	}
	return out
}
