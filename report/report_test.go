package report

import (
	"bytes"
	"encoding/base64"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pcamflow/pcamflow/track"
)

// imgSrc matches the pictures of the HTML page.
var imgSrc = regexp.MustCompile(`<img src="([^"]*)"`)

// mdImage matches the picture links of the Markdown file: ![alt](target).
var mdImage = regexp.MustCompile(`!\[[^\]]*\]\(([^)]*)\)`)

func readString(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestReportAnswersEveryQuestion(t *testing.T) {
	f := newFixture(t, fullSpec)
	res := f.write(Options{Tool: "pcamflow test"})
	if res.RunID != f.runID || len(res.Hints) != 1 || res.Hints[0] != "Handover" {
		t.Fatalf("result %+v: want run %s and only the handover section without evidence", res, f.runID)
	}
	page := readString(t, res.HTML)
	for _, want := range []string{
		`id="reproducibility"`, `id="data"`, `id="configuration"`, `id="optimisation"`, `id="results"`, `id="where-it-fails"`, `id="speed"`, `id="handover"`,
		"yes, bit for bit",              // the twin table
		"<th>final val loss</th>",       // a summary number of the twin table
		"OpenBLAS (Haswell)",            // the engine
		"220,025",                       // the Kaggle re-release
		"tumor_032",                     // slide overlap
		"FAILED",                        // the leakage gate
		"parameter epochs: 10 -&gt; 20", // the plan's why
		"0.8200 ± 0.0100 (n=3)",         // mean ± std over seeds
		"0.9120 [0.9050, 0.9190]",       // an interval of evaluate
		"colour_logistic",               // a baseline
		"stain=high",                    // a slice, in "where it fails"
		"max_f_beta",                    // the threshold
		"sweep.hpo trials.json",         // the trial table
		"Champion: trial 31 with val_roc_auc 0.8310",   // the champion
		"sweep.hpo best_params.json",                   // its parameters
		`benchmark.inference[&#34;gpu&#34;]`,           // a benchmark node
		"3,800",                                        // training throughput
		"pcamflow bundle sweep.hpo.champion -o bundle", // the handover hint names the champion
	} {
		if !strings.Contains(page, want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	fails := page[strings.Index(page, `id="where-it-fails"`):strings.Index(page, `id="speed"`)]
	for _, want := range []string{"stain=high", "<img", "min_count", "ab12"} {
		if !strings.Contains(fails, want) {
			t.Errorf("the where-it-fails section lacks %q (slices, worst slice, errors, montages)", want)
		}
	}
	results := page[strings.Index(page, `id="results"`):strings.Index(page, `id="where-it-fails"`)]
	if strings.Contains(results, "stain=high") || strings.Contains(results, "false_negatives") {
		t.Error("slices or errors leaked into the results section")
	}
	if !strings.Contains(results, "(20 values)") {
		t.Error("a trial's per-epoch curve is not summarised in its cell")
	}
	srcs := imgSrc.FindAllStringSubmatch(page, -1)
	// 3 audit plots, 2 montages, 4 training plots, 3 sweep plots, the threshold curve, ROC, PR and
	// reliability curves, 2 error montages and 2 scaling plots.
	if len(srcs) != 20 || res.Assets != 20 {
		t.Fatalf("%d pictures in the page, %d assets written; want 20", len(srcs), res.Assets)
	}
	for _, m := range srcs {
		data, ok := strings.CutPrefix(m[1], "data:image/png;base64,")
		if !ok {
			t.Fatalf("picture %.60q is not an inline PNG", m[1])
		}
		raw, err := base64.StdEncoding.DecodeString(data)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := png.Decode(bytes.NewReader(raw)); err != nil {
			t.Fatalf("an inline picture does not decode: %v", err)
		}
	}
	assertSelfContained(t, page)
}

// assertSelfContained fails when the page would load anything or run a script.
func assertSelfContained(t *testing.T, page string) {
	t.Helper()
	lower := strings.ToLower(page)
	for _, bad := range []string{"<script", "http://", "https://", "src=\"file:", "<link", "@import", "url("} {
		if strings.Contains(lower, bad) {
			t.Errorf("report.html contains %q: it must load nothing and run nothing", bad)
		}
	}
}

// TestMarkdownPicturesResolveRelativeToTheFile checks every picture link of report.md: a relative
// path that, resolved against the folder of report.md, names a PNG that decodes — also after the
// report folder is moved elsewhere.
func TestMarkdownPicturesResolveRelativeToTheFile(t *testing.T) {
	f := newFixture(t, fullSpec)
	res := f.write(Options{})
	moved := filepath.Join(t.TempDir(), "docs", "results")
	if err := os.MkdirAll(filepath.Dir(moved), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Dir(res.Markdown), moved); err != nil {
		t.Fatal(err)
	}
	md := readString(t, filepath.Join(moved, MarkdownFile))
	links := mdImage.FindAllStringSubmatch(md, -1)
	if len(links) != res.Assets {
		t.Fatalf("%d picture links in report.md, %d assets written", len(links), res.Assets)
	}
	for _, l := range links {
		target := l[1]
		if filepath.IsAbs(target) || strings.Contains(target, "..") || !strings.HasPrefix(target, "assets/") {
			t.Errorf("picture link %q is not a path under assets/ relative to report.md", target)
			continue
		}
		data, err := os.ReadFile(filepath.Join(moved, filepath.FromSlash(target)))
		if err != nil {
			t.Errorf("picture link %q does not resolve: %v", target, err)
			continue
		}
		if _, err := png.Decode(bytes.NewReader(data)); err != nil {
			t.Errorf("picture %q does not decode: %v", target, err)
		}
	}
}

func TestMissingKindsSayHowToAddThem(t *testing.T) {
	f := newFixture(t, spec{seeds: 1, epochs: 2})
	res := f.write(Options{})
	md := readString(t, res.Markdown)
	for _, want := range []string{
		"`data_audit \"pcam\" { dataset = dataset.pcam }`",
		"`sweep \"hpo\" { base = train.mlp }`",
		"`threshold \"f2\" { model = train.mlp }`",
		"`evaluate \"test\" { model = train.mlp }`",
		"`benchmark \"inference\" { model = train.mlp }`",
		"`pcamflow verify 'train.mlp[\"1\"]'`",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report.md lacks the hint %s", want)
		}
	}
	for _, title := range []string{"Where it fails", "Handover"} {
		found := false
		for _, h := range res.Hints {
			found = found || h == title
		}
		if !found {
			t.Errorf("section %q is not reported as a hint only (%v)", title, res.Hints)
		}
	}
}

func TestReportOfAnOlderRunAndBadInput(t *testing.T) {
	f := newFixture(t, spec{seeds: 1, epochs: 2, audit: true})
	if _, err := Write(Options{DB: f.db, Objects: f.store, OutDir: t.TempDir(), RunID: "1999"}); err == nil || !strings.Contains(err.Error(), "1999") {
		t.Errorf("an unknown run id: %v", err)
	}
	if _, err := Write(Options{DB: f.db, Objects: f.store, RunID: f.runID[:8]}); err == nil {
		t.Error("no output folder was accepted")
	}
	res, err := Write(Options{DB: f.db, Objects: f.store, ProjectDir: f.dir, ReportsDir: filepath.Join(f.dir, "reports"), RunID: f.runID[:8]})
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(f.dir, "reports", f.runID, HTMLFile); res.HTML != want {
		t.Errorf("report written to %s, want %s", res.HTML, want)
	}
	// A tampered object is reported in the page, not shown as if it were the stage's output.
	var digest string
	for _, n := range mustNodes(t, f) {
		if n.Node == "data_audit.pcam" {
			digest = (&source{}).outputs(n)["report.json"].Digest
		}
	}
	obj := f.store.ObjectPath(digest)
	_ = os.Chmod(obj, 0o644)
	if err := os.WriteFile(obj, []byte(`{"version": 1}`), 0o644); err != nil {
		t.Fatal(err)
	}
	res = f.write(Options{})
	if page := readString(t, res.HTML); !strings.Contains(page, "is corrupt") {
		t.Error("a tampered audit report is not flagged as corrupt")
	}
}

func mustNodes(t *testing.T, f *fixture) []track.NodeRun {
	t.Helper()
	_, nodes, err := f.db.GetRun(f.runID)
	if err != nil {
		t.Fatal(err)
	}
	return nodes
}

// TestReportOfANoopRun reports a run that repeated the fixture's run without executing anything:
// its nodes are cache hits whose evidence (job ids, throughput) comes from the producing run.
func TestReportOfANoopRun(t *testing.T) {
	f := newFixture(t, spec{seeds: 2, epochs: 3})
	noop := track.Run{ID: "20261202T000000Z-000001", Pipeline: "fixture", File: "pipeline.hcl", Status: track.RunSucceeded,
		Started: f.t0.Add(48 * time.Hour), Finished: f.t0.Add(48*time.Hour + time.Second)}
	if err := f.db.RecordNoop(noop, f.runID); err != nil {
		t.Fatal(err)
	}
	res := f.write(Options{})
	if res.RunID != noop.ID {
		t.Fatalf("reported run %s, want the newest (%s)", res.RunID, noop.ID)
	}
	md := readString(t, res.Markdown)
	for _, want := range []string{"unchanged since run " + f.runID, "3,800", "| 1001 |"} {
		if !strings.Contains(md, want) {
			t.Errorf("report.md of the no-op run lacks %q", want)
		}
	}
}

func TestHandoverShowsTheBundle(t *testing.T) {
	f := newFixture(t, spec{seeds: 1, epochs: 2})
	bundle := t.TempDir()
	files := map[string]string{"pcamflow": "binary", "model/best.ckpt": "weights", "MODEL_CARD.md": "# Model card\n\nIntended use: teaching.\n"}
	var manifest strings.Builder
	for _, name := range []string{"MODEL_CARD.md", "model/best.ckpt", "pcamflow"} {
		p := filepath.Join(bundle, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(files[name]), 0o644); err != nil {
			t.Fatal(err)
		}
		manifest.WriteString("0123abcd  " + name + "\n")
	}
	if err := os.WriteFile(filepath.Join(bundle, "MANIFEST.sha256"), []byte(manifest.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	res := f.write(Options{BundleDir: bundle})
	md := readString(t, res.Markdown)
	handover := md[strings.Index(md, "## 8. Handover"):]
	for _, want := range []string{"| model/best.ckpt | 7 | 0123abcd |", "Intended use: teaching."} {
		if !strings.Contains(handover, want) {
			t.Errorf("the handover section lacks %q:\n%s", want, handover)
		}
	}
	for _, h := range res.Hints {
		if h == "Handover" {
			t.Error("the handover section with a bundle is still reported as a hint")
		}
	}
	res = f.write(Options{BundleDir: t.TempDir()})
	if md := readString(t, res.Markdown); !strings.Contains(md, "has no readable MANIFEST.sha256") {
		t.Error("a folder that is not a bundle is not reported")
	}
}
