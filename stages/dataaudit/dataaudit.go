// Package dataaudit implements the "data_audit" stage kind: it audits a dataset for leakage,
// duplicates, label conflicts and unusable patches (package audit), writes a JSON report, a Markdown
// summary and montages, exposes a cleaned view for training, and can gate the pipeline on findings.
package dataaudit

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/gocty"

	"github.com/pcamflow/pcamflow/audit"
	"github.com/pcamflow/pcamflow/internal/atomicfile"
	"github.com/pcamflow/pcamflow/pcam"
	"github.com/pcamflow/pcamflow/pipelines"
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
func (Kind) Version() string { return "2" } // 2: leak_policy, report version 2, plots/ output

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
		{Name: "leak_policy", Type: cty.String, Default: cty.StringVal(audit.LeakDropTrain),
			Doc: `Which side of a leak between splits the clean view drops: "drop_train" (keep valid and test intact, remove the leaked patches from train) or "drop_eval" (keep train, remove the later copy from valid or test).`},
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
			diags = append(diags, classDiags(name, list, at(name))...)
		}
	}
	if v := cfg.GetAttr("leak_policy"); v.IsKnown() && !v.IsNull() {
		if p := v.AsString(); audit.ValidateLeakPolicy(p) != nil || p == "" {
			diags = diags.Append(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unknown leak policy",
				Detail: fmt.Sprintf("leak_policy %q is not one of %q.%s Use %q to keep valid and test intact and remove leaked patches from train, or %q to keep train and remove the later copy from valid or test.",
					p, audit.LeakPolicies, pipelines.DidYouMean(p, audit.LeakPolicies), audit.LeakDropTrain, audit.LeakDropEval),
				Subject: at("leak_policy")})
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

// classDiags reports each entry of the list attribute name that is not a finding class, with the
// closest class as a suggestion and the valid classes listed once.
func classDiags(name string, list []string, subject *hcl.Range) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, bad := range audit.UnknownClasses(list) {
		diags = diags.Append(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unknown finding class",
			Detail: fmt.Sprintf("%s: %q is not a finding class.%s Valid classes: %s.", name, bad,
				pipelines.DidYouMean(bad, audit.Classes), strings.Join(audit.Classes, ", ")),
			Subject: subject})
	}
	return diags
}

// options converts the configuration to audit options.
func options(cfg cty.Value) audit.Options {
	opt := audit.DefaultOptions()
	opt.NearDuplicates = cfg.GetAttr("near_duplicates").True()
	_ = gocty.FromCtyValue(cfg.GetAttr("hamming_threshold"), &opt.HammingThreshold)
	_ = gocty.FromCtyValue(cfg.GetAttr("fail_on"), &opt.FailOn)
	_ = gocty.FromCtyValue(cfg.GetAttr("exclude"), &opt.Exclude)
	opt.LeakPolicy = cfg.GetAttr("leak_policy").AsString()
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
	for _, w := range report.Warnings {
		fmt.Fprintf(env.Progress, "           %s warning: %s\n", env.Node, w)
	}
	tripped := report.Failed(opt.FailOn)
	if len(tripped) == 0 {
		removeFailure(env)
		return nil
	}
	var parts []string
	for _, c := range tripped {
		parts = append(parts, fmt.Sprintf("%s (%d patches)", c, report.Finding(c).Patches))
	}
	where := "the node log has the summary"
	if dir, err := keepFailure(env, report, readers); err != nil {
		where += fmt.Sprintf("; keeping the report failed: %v", err)
	} else {
		where = fmt.Sprintf("the report is kept in %s (summary.md, report.json, montages/)", dir)
	}
	err = fmt.Errorf("data audit gate failed: %s found; %s. Fix the data, or drop these patches with exclude instead of gating, or remove the class from fail_on",
		strings.Join(parts, ", "), where)
	fmt.Fprintf(env.Log, "\n%v\n", err) // the log's last lines are what a failed run shows
	return err
}

// openSplits opens every split of the dataset that is present, with its meta rows when present. The
// train split must be there; a valid or test split that is present but cannot be opened is an error,
// never silently left out of the audit.
func openSplits(view dataset.View) (map[pcam.Split]pcam.Reader, map[pcam.Split][]audit.MetaRow, error) {
	readers := map[pcam.Split]pcam.Reader{}
	metas := map[pcam.Split][]audit.MetaRow{}
	for _, s := range pcam.Splits {
		if s != pcam.Train && !pcam.SplitPresent(view.Dir, view.Format, s) {
			continue
		}
		r, err := pcam.OpenDir(view.Dir, view.Format, s)
		if err != nil {
			return readers, nil, fmt.Errorf("%s split: %w", s, err)
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

// writeReport writes the JSON report, the Markdown summary and the montages folder.
func writeReport(report *audit.Report, readers map[pcam.Split]pcam.Reader, jsonPath, mdPath, montages string) error {
	if err := report.WriteJSONFile(jsonPath); err != nil {
		return err
	}
	if err := report.WriteMarkdownFile(mdPath); err != nil {
		return err
	}
	_, err := report.WriteMontages(montages, readers)
	return err
}

// writeOutputs writes the report, summary, montages and clean index lists, and copies the summary
// into the node log.
func writeOutputs(env *stages.Env, report *audit.Report, readers map[pcam.Split]pcam.Reader) error {
	if err := writeReport(report, readers, env.OutputPaths["report.json"], env.OutputPaths["summary.md"], env.OutputPaths["montages"]); err != nil {
		return err
	}
	err := writePlots(env.OutputPaths[PlotsOutput], report)
	if err != nil {
		return err
	}
	view, err := report.CleanView()
	if err != nil {
		return err
	}
	ix := dataset.Indices{Splits: map[string][]int{}, Dropped: map[string]int{}, DroppedBy: map[string]map[string]int{},
		Patches: map[string]int{}, LeakPolicy: report.Options.LeakPolicy}
	for s, idx := range view.Keep {
		ix.Splits[string(s)] = idx
		ix.Patches[string(s)] = readers[s].Len()
		ix.Dropped[string(s)] = readers[s].Len() - len(idx)
		ix.DroppedBy[string(s)] = view.DroppedBy[s]
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
