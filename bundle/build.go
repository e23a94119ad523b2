package bundle

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/pcamflow/pcamflow/internal/atomicfile"
	"github.com/pcamflow/pcamflow/pcam"
	"github.com/pcamflow/pcamflow/pipelines"
	"github.com/pcamflow/pcamflow/predict"
	"github.com/pcamflow/pcamflow/runner"
	"github.com/pcamflow/pcamflow/stages/dataset"
	"github.com/pcamflow/pcamflow/stages/evaluate"
)

// Resolver evaluates references against the cache; *runner.Runner implements it.
type Resolver interface {
	Resolve(expr string) (*runner.Resolved, error)
}

// Options configures Build.
type Options struct {
	// Out is the bundle folder to write (replaced atomically when it is an earlier bundle).
	Out string
	// ModelRef is the model reference (train.X, train.X["S"], sweep.Y.champion); ThresholdRef the
	// optional threshold stage (threshold.NAME).
	ModelRef, ThresholdRef string
	// Binary is the pcamflow executable to bundle (os.Executable()).
	Binary string
	// Project is the project folder relative paths of the pipeline are relative to.
	Project string
	// Tool is the pcamflow version string.
	Tool string
	// Log receives progress lines (may be nil).
	Log io.Writer
}

// Summary describes a written bundle.
type Summary struct {
	Dir       string
	Files     int
	Bytes     int64
	Libraries int
	Meta      Meta
	Notes     []string
}

// Build writes the bundle of opt.ModelRef from the cache of the pipeline p into opt.Out.
func Build(ctx context.Context, r Resolver, p *pipelines.Pipeline, opt Options) (*Summary, error) {
	src, err := gather(r, p, opt)
	if err != nil {
		return nil, err
	}
	parent := filepath.Dir(filepath.Clean(opt.Out))
	if err := checkTarget(opt.Out); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, fmt.Errorf("creating the parent folder of %s: %w", opt.Out, err)
	}
	tmp, err := os.MkdirTemp(parent, ".pcamflow-bundle-*")
	if err != nil {
		return nil, fmt.Errorf("creating a temporary folder next to %s: %w", opt.Out, err)
	}
	defer os.RemoveAll(tmp)
	if err := os.Chmod(tmp, 0o755); err != nil {
		return nil, err
	}
	sum, err := write(ctx, tmp, p, opt, src)
	if err != nil {
		return nil, err
	}
	if err := replaceDir(tmp, opt.Out); err != nil {
		return nil, err
	}
	sum.Dir = opt.Out
	return sum, nil
}

// checkTarget refuses to replace a folder that is not a bundle.
func checkTarget(out string) error {
	st, err := os.Stat(out)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if !st.IsDir() {
		return fmt.Errorf("%s exists and is not a folder: choose another -o", out)
	}
	ents, err := os.ReadDir(out)
	if err != nil {
		return err
	}
	if len(ents) == 0 {
		return nil
	}
	if _, err := os.Stat(filepath.Join(out, ManifestName)); err != nil {
		return fmt.Errorf("%s exists and is not a bundle (no %s): choose another -o, or remove it first", out, ManifestName)
	}
	return nil
}

// replaceDir renames tmp to out; an earlier bundle in out is moved aside first and removed after.
func replaceDir(tmp, out string) error {
	old := ""
	if _, err := os.Stat(out); err == nil {
		old = tmp + ".old"
		if err := os.Rename(out, old); err != nil {
			return fmt.Errorf("moving the earlier bundle %s aside: %w", out, err)
		}
	}
	if err := os.Rename(tmp, out); err != nil {
		if old != "" {
			_ = os.Rename(old, out)
		}
		return fmt.Errorf("moving the new bundle into %s: %w", out, err)
	}
	if old != "" {
		_ = os.RemoveAll(old)
	}
	return atomicfile.SyncDir(filepath.Dir(out))
}

// abs makes a project-relative path absolute.
func (o Options) abs(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(o.Project, p)
}

// rel returns p relative to the project when it lies inside it, so that a bundle does not depend
// on where the project is.
func (o Options) rel(p string) string {
	if !filepath.IsAbs(p) || o.Project == "" {
		return p
	}
	if r, err := filepath.Rel(o.Project, p); err == nil && r != ".." && !strings.HasPrefix(r, "../") {
		return filepath.ToSlash(r)
	}
	return p
}

// write fills dir with the bundle.
func write(ctx context.Context, dir string, p *pipelines.Pipeline, opt Options, src *source) (*Summary, error) {
	logf := func(format string, a ...any) {
		if opt.Log != nil {
			fmt.Fprintf(opt.Log, format+"\n", a...)
		}
	}
	meta := Meta{Format: FormatVersion, Tool: opt.Tool, ModelRef: opt.ModelRef}
	sum := &Summary{Notes: append(append([]string{}, src.said...), src.notes...)}

	// The binary, its libraries and the launcher.
	if err := copyFile(opt.Binary, filepath.Join(dir, binaryPath), 0o755); err != nil {
		return nil, fmt.Errorf("copying the pcamflow binary: %w", err)
	}
	libs, err := Libraries(opt.Binary)
	if err != nil {
		return nil, err
	}
	libFiles := []string{opt.Binary}
	for _, l := range libs {
		if err := copyFile(l.Path, filepath.Join(dir, libDir, l.Soname), 0o644); err != nil {
			return nil, fmt.Errorf("copying %s: %w", l.Path, err)
		}
		libFiles = append(libFiles, l.Path)
	}
	meta.Libraries = libs
	if meta.Interpreter, err = Interpreter(opt.Binary); err != nil {
		return nil, fmt.Errorf("reading the ELF interpreter of %s: %w", opt.Binary, err)
	}
	if meta.GlibcNeeded, err = GlibcNeeded(libFiles); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, launcherName), []byte(launcher(meta.Interpreter)), 0o755); err != nil {
		return nil, err
	}
	logf("pcamflow: bundle: binary and %d shared libraries (glibc from the target machine, %s or newer)", len(libs), meta.GlibcNeeded)

	// The model.
	names, models := src.model.Members()
	checkpoints := map[string]string{} // absolute path => path in the bundle
	for i, m := range models {
		file := modelDir + "/model.ckpt"
		if names[i] != "" {
			file = modelDir + "/seed-" + names[i] + ".ckpt"
		}
		if err := copyFile(m.Best, filepath.Join(dir, file), 0o644); err != nil {
			return nil, fmt.Errorf("copying the checkpoint of %s: %w", opt.ModelRef, err)
		}
		d, err := fileDigest(filepath.Join(dir, file))
		if err != nil {
			return nil, err
		}
		meta.Members = append(meta.Members, Member{Seed: names[i], File: file, SHA256: d})
		checkpoints[m.Best] = file
	}
	reloc := newRelocator(opt.Project, checkpoints)
	// Check that the checkpoints load before anyone relies on them.
	probe := &Bundle{Dir: dir, Meta: meta}
	ens, err := probe.LoadModels()
	if err != nil {
		return nil, err
	}
	modelCfg := ens.Models[0].Config()
	ens.Close()

	// The threshold.
	if src.thr != nil {
		if err := reloc.copyRelocated(src.thrFile, filepath.Join(dir, thresholdName)); err != nil {
			return nil, err
		}
		meta.Threshold = src.thr
	}

	// Drift statistics of the training data.
	var drift *Drift
	if src.view != nil {
		view := *src.view
		view.Dir = opt.abs(view.Dir)
		view.Handle, view.Indices = opt.abs(view.Handle), opt.abs(view.Indices)
		rs, err := predict.OpenSplit(view, pcam.Train)
		if err != nil {
			return nil, fmt.Errorf("reading the training data for the drift statistics: %w", err)
		}
		desc := fmt.Sprintf("%s split of %s", pcam.Train, opt.rel(src.view.Dir))
		if src.view.Indices != "" {
			desc += " (the audited clean view)"
		}
		drift, err = ComputeDrift(ctx, desc, []predict.Source{rs})
		rs.Close()
		if err != nil {
			return nil, fmt.Errorf("drift statistics: %w", err)
		}
		if err := writeJSON(filepath.Join(dir, driftName), drift); err != nil {
			return nil, err
		}
		meta.Drift = driftName
		logf("pcamflow: bundle: drift statistics of %d training patches", drift.Patches)
	}

	// The pipeline and the resolved configuration.
	pipeName := "pipeline.hcl"
	if p.File != "" {
		pipeName = filepath.Base(p.File) // <built-in>/quickstart.hcl: quickstart.hcl
	}
	meta.Pipeline = pipelineDir + "/" + pipeName
	src0 := p.Source[p.File]
	if err := os.MkdirAll(filepath.Join(dir, pipelineDir), 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(meta.Pipeline)), src0, 0o644); err != nil {
		return nil, err
	}
	meta.Config = pipelineDir + "/config.json"
	if err := writeConfig(filepath.Join(dir, filepath.FromSlash(meta.Config)), p, src.modelNodes, reloc); err != nil {
		return nil, err
	}

	// Reports the card draws on.
	var cardAudits, cardEvals []cardReport
	for _, a := range src.audits {
		cr, err := copyReports(dir, a, reloc)
		if err != nil {
			return nil, err
		}
		cardAudits = append(cardAudits, cr)
	}
	for _, e := range src.evals {
		cr, err := copyReports(dir, e.attachment, reloc)
		if err != nil {
			return nil, err
		}
		cr.eval = e.rep
		cardEvals = append(cardEvals, cr)
	}

	// bundle.json, the model card, the README and the manifest.
	if err := writeJSON(filepath.Join(dir, metaName), meta); err != nil {
		return nil, err
	}
	var cardView *dataset.View
	if src.view != nil {
		v := *src.view
		v.Dir = opt.rel(v.Dir)
		cardView = &v
	}
	card := modelCard(cardInput{meta: meta, model: modelCfg, view: cardView, viewHandle: opt.abs(handleOf(src.view)),
		drift: drift, audits: cardAudits, evals: cardEvals, thr: src.thrResult, notes: src.notes, pipeline: p.Name})
	if err := os.WriteFile(filepath.Join(dir, cardName), []byte(card), 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, readmeName), []byte(readme(meta, drift != nil)), 0o644); err != nil {
		return nil, err
	}
	if err := writeManifest(dir); err != nil {
		return nil, err
	}
	files, err := listFiles(dir)
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		if st, err := os.Stat(filepath.Join(dir, filepath.FromSlash(f))); err == nil {
			sum.Bytes += st.Size()
		}
	}
	sum.Files, sum.Libraries, sum.Meta = len(files)+1, len(libs), meta
	return sum, nil
}

// handleOf returns the handle file of a view ("" for nil).
func handleOf(v *dataset.View) string {
	if v == nil {
		return ""
	}
	return v.Handle
}

// cardReport is a report copied into reports/.
type cardReport struct {
	addr, summary, report string // paths inside the bundle ("" when absent)
	summaryText           string
	eval                  *evaluate.Report
}

// copyReports copies a node's summary.md and report.json into reports/ as ADDR.summary.md and
// ADDR.report.json, with their paths rewritten by reloc.
func copyReports(dir string, a attachment, reloc relocator) (cardReport, error) {
	cr := cardReport{addr: a.addr}
	base := fileName(a.addr)
	for _, f := range []struct {
		from string
		to   *string
		ext  string
	}{{a.summary, &cr.summary, ".summary.md"}, {a.report, &cr.report, ".report.json"}} {
		if f.from == "" {
			continue
		}
		rel := reportsDir + "/" + base + f.ext
		if err := reloc.copyRelocated(f.from, filepath.Join(dir, filepath.FromSlash(rel))); err != nil {
			return cr, fmt.Errorf("copying the report of %s: %w", a.addr, err)
		}
		*f.to = rel
	}
	if cr.summary != "" {
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(cr.summary)))
		if err != nil {
			return cr, err
		}
		cr.summaryText = string(b)
	}
	return cr, nil
}

// fileName turns a node address into a file name: every byte outside [A-Za-z0-9_.-] becomes _.
func fileName(addr string) string {
	var b strings.Builder
	for _, c := range []byte(addr) {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-' {
			b.WriteByte(c)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// writeConfig writes the resolved configuration of the model's nodes (and every node upstream of
// them): address => kind, cache key and configuration (cty JSON). Paths are rewritten by reloc
// (the bundle's checkpoints inside the bundle, other paths inside the project relative to it), so
// that the file does not depend on where the project lives.
func writeConfig(path string, p *pipelines.Pipeline, nodes []runner.ResolvedNode, reloc relocator) error {
	type entry struct {
		Kind   string          `json:"kind"`
		Key    string          `json:"key"`
		Config json.RawMessage `json:"config"`
	}
	out := struct {
		Pipeline string           `json:"pipeline"`
		Seed     int64            `json:"seed"`
		Nodes    map[string]entry `json:"nodes"`
	}{Pipeline: p.Name, Seed: p.Seed, Nodes: map[string]entry{}}
	for _, n := range nodes {
		cfg, err := ctyjson.Marshal(n.Config, n.Config.Type())
		if err != nil {
			return fmt.Errorf("encoding the configuration of %s: %w", n.Addr, err)
		}
		cfg = reloc.relocate(".json", cfg)
		key := ""
		if n.Record != nil {
			key = n.Record.Key
		}
		out.Nodes[n.Addr] = entry{Kind: n.Kind, Key: key, Config: cfg}
	}
	return writeJSON(path, out)
}

// writeJSON writes v as indented JSON with a final newline (map keys sorted by encoding/json).
func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}

// copyFile copies the content of from (following symlinks) into a new file to with mode perm.
func copyFile(from, to string, perm os.FileMode) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		return err
	}
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Chmod(to, perm)
}

// sortedKeys returns the keys of m sorted.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
