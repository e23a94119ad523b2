package cli_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// reportPipeline audits a small synthetic dataset and trains two seeds on the audited view.
const reportPipeline = `
pipeline "r" {
  seed = 9
}

dataset "pcam" {
  synthetic = { train = 512, valid = 128, test = 128, seed = 2 }
}

data_audit "pcam" {
  dataset = dataset.pcam
}

train "mlp" {
  dataset    = data_audit.pcam.clean
  model      = { arch = "mlp", hidden_units = [16] }
  epochs     = 2
  batch_size = 64
  seeds      = [1, 2]
}
`

// TestReportOfARealRun runs a pipeline, verifies a training node, and writes the report: the page
// holds the twin run, the audit and the training pictures the stages drew, and the Markdown file's
// pictures are where it links them.
func TestReportOfARealRun(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "p.hcl"), reportPipeline)
	if out, err := pcamflow(t, dir, "report").CombinedOutput(); err == nil || !strings.Contains(string(out), "no runs recorded") {
		t.Fatalf("report without a workspace: %v\n%s", err, out)
	}
	if out, err := pcamflow(t, dir, "run", "p.hcl").CombinedOutput(); err != nil {
		t.Fatalf("run: %v\n%s", err, out)
	}
	if out, err := pcamflow(t, dir, "verify", "p.hcl", `train.mlp["2"]`).CombinedOutput(); err != nil {
		t.Fatalf("verify: %v\n%s", err, out)
	}
	out, err := pcamflow(t, dir, "report", "--last", "-o", "results").CombinedOutput()
	if err != nil {
		t.Fatalf("report: %v\n%s", err, out)
	}
	if !regexp.MustCompile(`report of run \S+: \d+ pictures\n`).Match(out) || !strings.Contains(string(out), filepath.Join("results", "report.html")) {
		t.Errorf("report output:\n%s", out)
	}
	page, err := os.ReadFile(filepath.Join(dir, "results", "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"yes, bit for bit", "verify-", "Split sizes against the official PCAM release", "Kaggle re-release",
		"train.mlp over 2 seeds", "What the clean view removed"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	// 3 audit plots, the audit's montages, 4 training plots of the aggregate.
	if n := strings.Count(string(page), `<img src="data:image/png;base64,`); n < 3+4+3 {
		t.Errorf("report.html has %d pictures, want the audit's and the training stage's", n)
	}
	md, err := os.ReadFile(filepath.Join(dir, "results", "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	links := regexp.MustCompile(`!\[[^\]]*\]\((assets/[^)]+)\)`).FindAllSubmatch(md, -1)
	if len(links) < 10 {
		t.Fatalf("report.md links %d pictures", len(links))
	}
	for _, l := range links {
		if _, err := os.Stat(filepath.Join(dir, "results", string(l[1]))); err != nil {
			t.Errorf("report.md links %s: %v", l[1], err)
		}
	}
	if out, err := pcamflow(t, dir, "report", "--run", "1999").CombinedOutput(); err == nil || !strings.Contains(string(out), "no run with this id") {
		t.Errorf("an unknown run: %v\n%s", err, out)
	}
	if out, err := pcamflow(t, dir, "report", "--run", "x", "--last").CombinedOutput(); err == nil || !strings.Contains(string(out), "not both") {
		t.Errorf("--run with --last: %v\n%s", err, out)
	}
	def, err := pcamflow(t, dir, "report").CombinedOutput()
	if err != nil || !strings.Contains(string(def), filepath.Join(".pcamflow", "reports")) {
		t.Errorf("the default folder: %v\n%s", err, def)
	}
}
