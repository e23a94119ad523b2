package cli

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/pcamflow/pcamflow/report"
)

// cmdReport writes the report of a run: report.html (self-contained) and report.md with assets/.
func cmdReport(_ context.Context, e *env, args []string) int {
	fs := newFlags(e, "report", "", "Writes the report of a run, organised by the questions the pipeline answers (reproducibility,\n"+
		"data, configuration, optimisation, results, where it fails, speed, handover): DIR/report.html, one\n"+
		"self-contained page (pictures inlined, no network, no JavaScript), and DIR/report.md with its\n"+
		"pictures under DIR/assets/, ready to commit. It reads the run store and the cached outputs only.")
	runID := fs.String("run", "", "report the run with this `ID` (or an unambiguous prefix, see `pcamflow runs`)")
	last := fs.Bool("last", false, "report the newest run (the default)")
	out := fs.String("o", "", "write into `DIR` (default WORKSPACE/reports/RUN_ID)")
	bundle := fs.String("bundle", "", "show the manifest and model card of the bundle folder `DIR` in the handover section")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return exitUsage
	}
	if len(pos) > 0 {
		return usageError(e.stderr, "report takes no arguments, got %q (use --run ID)", pos)
	}
	if *last && *runID != "" {
		return usageError(e.stderr, "give --run ID or --last, not both")
	}
	db, code := e.openRunsDB(false)
	if db == nil {
		return code
	}
	defer db.Close()
	store, err := e.openStore()
	if err != nil {
		return e.runsFail(err)
	}
	defer store.Close()
	project, err := projectDir()
	if err != nil {
		return e.runsFail(err)
	}
	res, err := report.Write(report.Options{DB: db, Objects: store, ProjectDir: project, RunID: *runID, OutDir: *out,
		ReportsDir: filepath.Join(e.workspace, "reports"), BundleDir: *bundle, Tool: "pcamflow " + Version})
	if err != nil {
		return e.runsFail(err)
	}
	fmt.Fprintf(e.stdout, "report of run %s: %d pictures\n", res.RunID, res.Assets)
	if len(res.Hints) > 0 {
		fmt.Fprintf(e.stdout, "not in this pipeline (the report says how to add them): %s\n", strings.Join(res.Hints, ", "))
	}
	fmt.Fprintf(e.stdout, "  %s\n  %s\n", res.HTML, res.Markdown)
	return exitOK
}
