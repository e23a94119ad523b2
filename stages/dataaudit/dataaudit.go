// Package dataaudit implements the "data_audit" stage kind: it audits a dataset for leakage,
// duplicates, label conflicts and unusable patches (package audit), writes a JSON report, a Markdown
// summary and montages, exposes a cleaned view for training, and can gate the pipeline on findings.
package dataaudit

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/gocty"

	"github.com/pcamflow/pcamflow/audit"
	"github.com/pcamflow/pcamflow/internal/atomicfile"
	"github.com/pcamflow/pcamflow/pcam"
	"github.com/pcamflow/pcamflow/stages"
	"github.com/pcamflow/pcamflow/stages/dataset"
)

// Kind is the data_audit stage kind.
type Kind struct{}

// New returns the data_audit kind.
func New() stages.Kind { return Kind{} }

// Name implements stages.Kind.
func (Kind) Name() string { return "data_audit" }

// Version implements stages.Kind.
func (Kind) Version() string { return "2" }

// Doc implements stages.Kind.
func (Kind) Doc() string {
	return "Audits a dataset: split sizes against the official counts, exact (SHA-1, the Kaggle id) and near " +
		"(perceptual hash robust to flips, rotations and colour jitter) duplicates within and across splits, " +
		"label conflicts, blank/black/saturated/low-tissue/corrupt patches, WSI overlap and pixel statistics. " +
		"Outputs report (JSON), summary (Markdown), montages (PNG) and clean, a view without the excluded findings."
}

func stringList(vals []string) cty.Value {
	if len(vals) == 0 {
		return cty.ListValEmpty(cty.String)
	}
	out := make([]cty.Value, len(vals))
	for i, v := range vals {
		out[i] = cty.StringVal(v)
	}
	return cty.ListVal(out)
}

// Attrs implements stages.Kind.
func (Kind) Attrs() []stages.Attr {
	return []stages.Attr{
		{Name: "dataset", Type: cty.DynamicPseudoType, Required: true, Doc: "The dataset to audit, e.g. dataset.pcam."},
		{Name: "near_duplicates", Type: cty.Bool, Default: cty.True, Doc: "Search near duplicates with the perceptual hash."},
		{Name: "hamming_threshold", Type: cty.Number, Default: cty.NumberIntVal(audit.DefaultHammingThreshold),
			Doc: fmt.Sprintf("Largest hash distance in bits (0..%d) that counts as a near duplicate.", audit.MaxHammingThreshold)},
		{Name: "fail_on", Type: cty.List(cty.String), Default: cty.ListValEmpty(cty.String),
			Doc: "Finding classes that fail the pipeline when found, e.g. [\"cross_split_duplicates\"]."},
		{Name: "exclude", Type: cty.List(cty.String), Default: stringList(audit.DefaultExclude),
			Doc: "Finding classes the clean view drops."},
	}
}

// Expose implements stages.Kind: report, summary and montages paths and the clean view.
func (Kind) Expose(cfg cty.Value, outs map[string]stages.Output) cty.Value {
	if outs == nil {
		return cty.ObjectVal(map[string]cty.Value{"report": cty.UnknownVal(cty.String), "summary": cty.UnknownVal(cty.String),
			"montages": cty.UnknownVal(cty.String), "clean": dataset.UnknownValue()})
	}
	clean := cty.DynamicVal
	if view, err := dataset.ViewOf(cfg.GetAttr("dataset")); err == nil {
		view.Kind, view.Indices = "dataset_view", outs["clean.json"].Path
		clean = view.Value()
	}
	return cty.ObjectVal(map[string]cty.Value{"report": cty.StringVal(outs["report.json"].Path), "summary": cty.StringVal(outs["summary.md"].Path),
		"montages": cty.StringVal(outs["montages"].Path), "clean": clean})
}

// Prepare implements stages.Kind.
func (Kind) Prepare(cfg cty.Value, at stages.RangeFunc) (*stages.Task, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	if ds := cfg.GetAttr("dataset"); ds.IsWhollyKnown() {
		if _, err := dataset.ViewOf(ds); err != nil {
			diags = diags.Append(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid dataset", Detail: "dataset: " + err.Error() + ".", Subject: at("dataset")})
		}
	}
	for _, name := range []string{"fail_on", "exclude"} {
		if v := cfg.GetAttr(name); v.IsWhollyKnown() {
			var list []string
			_ = gocty.FromCtyValue(v, &list)
			if err := audit.ValidateClasses(name, list); err != nil {
				diags = diags.Append(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unknown finding class",
					Detail: err.Error() + " Valid classes: " + strings.Join(audit.Classes, ", ") + ".", Subject: at(name)})
			}
		}
	}
	if v := cfg.GetAttr("hamming_threshold"); v.IsKnown() {
		var h int
		if err := gocty.FromCtyValue(v, &h); err != nil || h < 0 || h > audit.MaxHammingThreshold {
			diags = diags.Append(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid hamming_threshold",
				Detail: fmt.Sprintf("hamming_threshold must be a whole number from 0 to %d.", audit.MaxHammingThreshold), Subject: at("hamming_threshold")})
		}
	}
	return &stages.Task{Outputs: map[string]stages.Output{"report.json": {}, "summary.md": {}, "montages": {}, "clean.json": {}, PlotsOutput: {}}}, diags
}

// options converts the configuration to audit options.
func options(cfg cty.Value) audit.Options {
	opt := audit.DefaultOptions()
	opt.NearDuplicates = cfg.GetAttr("near_duplicates").True()
	_ = gocty.FromCtyValue(cfg.GetAttr("hamming_threshold"), &opt.HammingThreshold)
	_ = gocty.FromCtyValue(cfg.GetAttr("fail_on"), &opt.FailOn)
	_ = gocty.FromCtyValue(cfg.GetAttr("exclude"), &opt.Exclude)
	return opt
}

// Execute implements stages.Kind.
func (Kind) Execute(ctx context.Context, env *stages.Env) error {
	view, err := dataset.ViewOf(env.Config.GetAttr("dataset"))
	if err != nil {
		return err
	}
	readers, metas, err := openSplits(view)
	defer func() {
		for _, r := range readers {
			r.Close()
		}
	}()
	if err != nil {
		return err
	}
	opt := options(env.Config)
	last := -1
	report, err := audit.Run(ctx, readers, metas, opt, func(done, total int) {
		if pct := 100 * done / max(total, 1); pct/10 != last/10 {
			last = pct
			fmt.Fprintf(env.Log, "audit: %d/%d patches (%d%%)\n", done, total, pct)
		}
	})
	if err != nil {
		return err
	}
	if err := writeOutputs(env, report, readers); err != nil {
		return err
	}
	if tripped := report.Failed(opt.FailOn); len(tripped) > 0 {
		var parts []string
		for _, c := range tripped {
			parts = append(parts, fmt.Sprintf("%s (%d patches)", c, report.Finding(c).Patches))
		}
		return fmt.Errorf("data audit gate failed: %s found; fix the data or remove the class from fail_on (the node log has the summary)", strings.Join(parts, ", "))
	}
	return nil
}

// openSplits opens every split of the dataset that exists, with its meta rows when present.
func openSplits(view dataset.View) (map[pcam.Split]pcam.Reader, map[pcam.Split][]audit.MetaRow, error) {
	readers := map[pcam.Split]pcam.Reader{}
	metas := map[pcam.Split][]audit.MetaRow{}
	for _, s := range pcam.Splits {
		r, err := pcam.OpenDir(view.Dir, view.Format, s)
		if err != nil {
			if s == pcam.Train {
				return readers, nil, err
			}
			continue
		}
		readers[s] = r
		if h, ok := r.(*pcam.H5Reader); ok && len(h.Meta()) > 0 {
			for _, m := range h.Meta() {
				metas[s] = append(metas[s], audit.MetaRow{CoordY: m.CoordY, CoordX: m.CoordX, Tumor: m.TumorPatch, CenterTumor: m.CenterTumorPatch, WSI: m.WSI})
			}
		}
	}
	return readers, metas, nil
}

// writeOutputs writes the report, summary, montages and clean index lists, and copies the summary
// into the node log.
func writeOutputs(env *stages.Env, report *audit.Report, readers map[pcam.Split]pcam.Reader) error {
	if err := report.WriteJSONFile(env.OutputPaths["report.json"]); err != nil {
		return err
	}
	if err := report.WriteMarkdownFile(env.OutputPaths["summary.md"]); err != nil {
		return err
	}
	if err := os.MkdirAll(env.OutputPaths["montages"], 0o755); err != nil {
		return err
	}
	if _, err := report.WriteMontages(env.OutputPaths["montages"], readers); err != nil {
		return err
	}
	if err := writePlots(env.OutputPaths[PlotsOutput], report); err != nil {
		return err
	}
	keep, err := report.CleanView()
	if err != nil {
		return err
	}
	ix := dataset.Indices{Splits: map[string][]int{}, Dropped: map[string]int{}}
	for s, idx := range keep {
		ix.Splits[string(s)] = idx
		ix.Dropped[string(s)] = readers[s].Len() - len(idx)
	}
	data, _ := json.MarshalIndent(ix, "", " ")
	if err := writeFile(env.OutputPaths["clean.json"], data); err != nil {
		return err
	}
	return report.WriteMarkdown(env.Log)
}

// writeFile writes data to path atomically.
func writeFile(path string, data []byte) error {
	return atomicfile.Write(path, data, 0o644)
}
