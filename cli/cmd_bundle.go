package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/pcamflow/pcamflow/bundle"
	"github.com/pcamflow/pcamflow/runner"
)

// bundleHelp is the description printed by `pcamflow bundle -h`.
const bundleHelp = `Writes an offline bundle of a trained model to DIR: a folder to copy to a USB stick that runs
the model with no workspace and no network. MODEL_REF is a model reference of the pipeline
(train.NAME, train.NAME["SEED"], sweep.NAME.champion) whose stages are cached (run the pipeline
first). The bundle holds the pcamflow binary and the shared libraries it needs that a bare Debian
lacks (everything ldd resolves except the C library), a launcher DIR/pcamflow, the checkpoint(s),
the threshold (--threshold), the pipeline file and its resolved configuration, the training data's
input statistics for the drift check (drift.json), a model card, a README and MANIFEST.sha256.
DIR is written atomically (a temporary sibling renamed into place); an earlier bundle in DIR is
replaced, any other non-empty DIR is refused.

  pcamflow bundle verify DIR   checks every file of DIR against its manifest (exit 1 on a mismatch).
  DIR/pcamflow infer PATCHES   predicts with the bundle (or: pcamflow infer --bundle DIR PATCHES).`

// cmdBundle implements `pcamflow bundle` and `pcamflow bundle verify`.
func cmdBundle(ctx context.Context, e *env, args []string) int {
	if len(args) > 0 && args[0] == "verify" {
		return cmdBundleVerify(e, args[1:])
	}
	lo := &loadOptions{}
	fs := newFlags(e, "bundle", "[FILE] MODEL_REF -o DIR [--threshold threshold.NAME]\n       pcamflow bundle verify DIR", bundleHelp)
	out := fs.String("o", "", "write the bundle to folder `DIR`")
	thr := fs.String("threshold", "", "bundle the decision threshold of the threshold stage `threshold.NAME` (chosen for MODEL_REF)")
	fs.Var(&lo.vars, "var", "set a variable: `name=value` (repeatable)")
	fs.Var(&lo.varFiles, "var-file", "read variable values from an HCL `FILE` (repeatable)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return exitUsage
	}
	var files, refs []string
	for _, p := range pos {
		if strings.HasSuffix(p, ".hcl") {
			files = append(files, p)
		} else {
			refs = append(refs, p)
		}
	}
	switch {
	case len(refs) != 1:
		return usageError(e.stderr, "bundle needs one MODEL_REF, e.g. pcamflow bundle sweep.hpo.champion -o bundle (got %d: %v)", len(refs), refs)
	case *out == "":
		return usageError(e.stderr, "bundle needs -o DIR, the folder to write")
	case len(files) > 1:
		return usageError(e.stderr, "bundle takes at most one pipeline FILE, got %v", files)
	}
	bin, err := os.Executable()
	if err == nil {
		bin, err = filepath.EvalSymlinks(bin)
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "pcamflow: bundle: finding the pcamflow binary: %v\n", err)
		return exitFailure
	}
	sess, code := e.open(files, lo, false, withProcessOptions(runner.Options{Out: e.stderr}, 0))
	if sess == nil {
		return code
	}
	defer sess.close()
	project, err := projectDir()
	if err != nil {
		fmt.Fprintf(e.stderr, "pcamflow: bundle: %v\n", err)
		return exitFailure
	}
	sum, err := bundle.Build(ctx, sess.r, sess.p, bundle.Options{Out: *out, ModelRef: refs[0], ThresholdRef: *thr,
		Binary: bin, Project: project, Tool: "pcamflow " + Version, Log: e.stderr})
	if err != nil {
		fmt.Fprintf(e.stderr, "pcamflow: bundle: %v\n", err)
		return exitFailure
	}
	for _, n := range sum.Notes {
		fmt.Fprintf(e.stderr, "pcamflow: bundle: note: %s\n", n)
	}
	thrText := "no threshold (probabilities only)"
	if t := sum.Meta.Threshold; t != nil {
		thrText = fmt.Sprintf("threshold %.6g from %s", t.Value, t.Ref)
	}
	fmt.Fprintf(e.stdout, "wrote %s: %s, %d checkpoint(s), %s, %d shared libraries, %d files, %.1f MiB\n",
		sum.Dir, sum.Meta.ModelRef, len(sum.Meta.Members), thrText, sum.Libraries, sum.Files, float64(sum.Bytes)/(1<<20))
	fmt.Fprintf(e.stdout, "check it with: pcamflow bundle verify %s\nuse it with:   %s infer PATCHES...\n", sum.Dir, filepath.Join(sum.Dir, "pcamflow"))
	return exitOK
}

// cmdBundleVerify implements `pcamflow bundle verify DIR`.
func cmdBundleVerify(e *env, args []string) int {
	fs := newFlags(e, "bundle verify", "DIR", "Checks every file of the bundle in DIR against its MANIFEST.sha256 and names each missing,\nchanged or extra file. Exits 1 on any mismatch.")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return exitUsage
	}
	if len(pos) != 1 {
		return usageError(e.stderr, "bundle verify needs one DIR, the bundle folder")
	}
	probs, n, err := bundle.Verify(pos[0])
	if err != nil {
		fmt.Fprintf(e.stderr, "pcamflow: bundle verify: %v\n", err)
		return exitFailure
	}
	for _, p := range probs {
		fmt.Fprintf(e.stdout, "%s\n", p)
	}
	if len(probs) > 0 {
		fmt.Fprintf(e.stdout, "FAILED: %d of %d files in %s do not match its manifest\n", len(probs), n, pos[0])
		return exitFailure
	}
	fmt.Fprintf(e.stdout, "ok: all %d files of %s match %s\n", n, pos[0], bundle.ManifestName)
	return exitOK
}
