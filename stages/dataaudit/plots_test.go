package dataaudit

import (
	"bytes"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pcamflow/pcamflow/audit"
	"github.com/pcamflow/pcamflow/pcam"
	"github.com/pcamflow/pcamflow/plots"
)

// knownReport is an audit report with round numbers: 4,096 train patches of which 96 are dropped,
// 1,024 valid and test patches, one gate that failed and one class that was not checked.
func knownReport() *audit.Report {
	return &audit.Report{
		Version: audit.ReportVersion,
		Splits: []audit.SplitSummary{
			{Split: pcam.Train, Patches: 4096, Official: 262144, Positives: 2048, Negatives: 2048, Clean: 4000},
			{Split: pcam.Valid, Patches: 1024, Official: 32768, Positives: 256, Negatives: 768, Clean: 1024},
			{Split: pcam.Test, Patches: 1024, Official: 32768, Positives: 512, Negatives: 512, Clean: 1020},
		},
		Findings: []audit.Finding{
			{Class: audit.ExactDuplicates, Groups: 40, Patches: 96},
			{Class: audit.CrossSplitDuplicates, Groups: 4, Patches: 4, Gate: true, Failed: true},
			{Class: audit.WSIOverlap, Skipped: true},
		},
	}
}

func TestAuditPicturesShowSizesBalanceAndFindings(t *testing.T) {
	pics, err := pictures(knownReport())
	if err != nil {
		t.Fatal(err)
	}
	sizes := pics[PlotSplitSizes]
	if got, want := plots.LegendNames(sizes), []string{"this dataset", "kept by the clean view", "official PCAM", "Kaggle re-release (train)"}; !slices.Equal(got, want) {
		t.Errorf("sizes legend %q, want %q", got, want)
	}
	if _, y := plots.Ranges(sizes); !plots.IsLog(&sizes.Y) || y.Min != 1020.0/2 || y.Max != 262144*2 {
		t.Errorf("sizes y axis: log %v, range %v; want log 510..524288", plots.IsLog(&sizes.Y), y)
	}
	if texts := plots.Texts(sizes); !slices.Contains(texts, "220,025") || !slices.Contains(texts, "262,144") || !slices.Contains(texts, "4,096") {
		t.Errorf("sizes picture lacks the Kaggle, official or dataset count: %q", texts)
	}
	balance := pics[PlotLabelBalance]
	if _, y := plots.Ranges(balance); y.Min != 0 || math.Abs(y.Max-2048*1.15) > 1e-9 {
		t.Errorf("balance y range %v", y)
	}
	if texts := strings.Join(plots.Texts(balance), "|"); !strings.Contains(texts, "768|75.0%") || !strings.Contains(texts, "256|25.0%") {
		t.Errorf("balance labels lack the valid split's shares: %q", texts)
	}
	texts := strings.Join(plots.Texts(pics[PlotFindings]), "|")
	for _, want := range []string{"exact_duplicates", "96 (40 groups)", "4 (4 groups), gate failed", "wsi_overlap", "not checked"} {
		if !strings.Contains(texts, want) {
			t.Errorf("findings picture lacks %q: %s", want, texts)
		}
	}
}

func TestAuditPicturesAreWritten(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "plots")
	if err := writePlots(dir, knownReport()); err != nil {
		t.Fatal(err)
	}
	for _, name := range PlotFiles {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := png.Decode(bytes.NewReader(b)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
