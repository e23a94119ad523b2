package bundle

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/zclconf/go-cty/cty"

	"github.com/pcamflow/pcamflow/pipelines"
	"github.com/pcamflow/pcamflow/runner"
	"github.com/pcamflow/pcamflow/stages/dataset"
	"github.com/pcamflow/pcamflow/stages/evaluate"
	"github.com/pcamflow/pcamflow/stages/modelref"
	"github.com/pcamflow/pcamflow/stages/threshold"
)

// source is what Build gathers from the cache before writing anything.
type source struct {
	model      modelref.Model
	modelNodes []runner.ResolvedNode
	thr        *Threshold
	thrFile    string
	thrResult  *threshold.Result
	view       *dataset.View
	audits     []attachment
	evals      []evalAttachment
	// notes go into the model card and to the user; said only to the user.
	notes, said []string
}

// attachment is a cached report copied into reports/.
type attachment struct {
	addr, summary, report string
}

// evalAttachment is an evaluation of the bundled model.
type evalAttachment struct {
	attachment
	rep *evaluate.Report
}

// gather resolves the model, the threshold, the training data and the reports the card uses.
func gather(r Resolver, p *pipelines.Pipeline, opt Options) (*source, error) {
	res, err := resolveModel(r, opt.ModelRef)
	if err != nil {
		return nil, err
	}
	m, err := modelref.Of(res.Value)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", opt.ModelRef, err)
	}
	src := &source{model: m.Abs(opt.Project), modelNodes: res.Nodes, view: m.Dataset}
	if opt.ThresholdRef == "" {
		src.pickThreshold(r, p, &opt)
	}
	if opt.ThresholdRef != "" {
		if err := src.gatherThreshold(r, opt); err != nil {
			return nil, err
		}
	}
	for _, n := range res.Nodes {
		if n.Kind == "data_audit" {
			src.audits = append(src.audits, attachment{addr: n.Addr, summary: opt.abs(outPath(n, "summary.md")), report: opt.abs(outPath(n, "report.json"))})
		}
	}
	for _, s := range p.Stages {
		if s.Kind.Name() != "evaluate" {
			continue
		}
		er, err := r.Resolve(s.Addr)
		if err != nil {
			src.notes = append(src.notes, fmt.Sprintf("%s is not in the cache, so the card has no test metrics from it: %v", s.Addr, err))
			continue
		}
		for _, n := range er.Nodes {
			if !n.Referenced || n.Kind != "evaluate" || !sameModel(n.Config, src.model, opt) {
				continue
			}
			a := evalAttachment{attachment: attachment{addr: n.Addr, summary: opt.abs(outPath(n, "summary.md")), report: opt.abs(outPath(n, "report.json"))}}
			if a.rep, err = evaluate.ReadReport(a.report); err != nil {
				return nil, fmt.Errorf("%s: %w", n.Addr, err)
			}
			src.evals = append(src.evals, a)
		}
	}
	if src.view == nil {
		src.view = trainingData(res.Nodes)
	}
	if src.view == nil {
		src.notes = append(src.notes, opt.ModelRef+" does not say which data it was trained on: the bundle has no drift statistics")
	}
	return src, nil
}

// seedRef matches a reference to one seed written like its node address: train.NAME["SEED"].
var seedRef = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_-]*\.[A-Za-z_][A-Za-z0-9_-]*)\[("[^"]*")\]$`)

// resolveModel resolves a model reference. A seed may be written as its node address,
// train.NAME["SEED"], as well as in the pipeline language's form train.NAME.seeds["SEED"] (the
// stage value train.NAME of a stage with seeds is the best seed's model, not a map of seeds).
func resolveModel(r Resolver, ref string) (*runner.Resolved, error) {
	res, err := r.Resolve(ref)
	if err == nil {
		return res, nil
	}
	if m := seedRef.FindStringSubmatch(strings.TrimSpace(ref)); m != nil {
		if res2, err2 := r.Resolve(m[1] + ".seeds[" + m[2] + "]"); err2 == nil {
			return res2, nil
		}
	}
	return nil, err
}

// trainingData returns the dataset attribute of the last train node among nodes (the model's own
// stage, or the base stage of a sweep), nil when there is none.
func trainingData(nodes []runner.ResolvedNode) *dataset.View {
	for i := len(nodes) - 1; i >= 0; i-- {
		n := nodes[i]
		if n.Kind != "train" || !n.Config.Type().IsObjectType() || !n.Config.Type().HasAttribute("dataset") {
			continue
		}
		if v, err := dataset.ViewOf(n.Config.GetAttr("dataset")); err == nil {
			return &v
		}
	}
	return nil
}

// outPath returns the path of a node's output, "" when it has none of that name.
func outPath(n runner.ResolvedNode, name string) string {
	if n.Record == nil {
		return ""
	}
	return n.Record.Outputs[name].Path
}

// sameModel reports whether the model attribute of a node's configuration stands for the same
// checkpoints as m.
func sameModel(cfg cty.Value, m modelref.Model, opt Options) bool {
	if !cfg.Type().IsObjectType() || !cfg.Type().HasAttribute("model") {
		return false
	}
	other, err := modelref.Of(cfg.GetAttr("model"))
	if err != nil {
		return false
	}
	return slices.Equal(other.Abs(opt.Project).BestCheckpoints(), m.BestCheckpoints())
}

// pickThreshold chooses the threshold when --threshold is not given: the one cached threshold
// stage of the pipeline chosen for the same model (not per seed). With none or several it leaves
// opt.ThresholdRef empty and says why in a note.
func (src *source) pickThreshold(r Resolver, p *pipelines.Pipeline, opt *Options) {
	var found []string
	for _, s := range p.Stages {
		if s.Kind.Name() != "threshold" || s.ForEach() {
			continue
		}
		res, err := r.Resolve(s.Addr)
		if err != nil {
			continue
		}
		for _, n := range res.Nodes {
			if n.Referenced && n.Kind == "threshold" && sameModel(n.Config, src.model, *opt) &&
				!n.Config.GetAttr("per_seed").True() {
				found = append(found, s.Addr)
			}
		}
	}
	switch len(found) {
	case 0:
		src.notes = append(src.notes, "no --threshold and no cached threshold stage for "+opt.ModelRef+
			": infer prints probabilities without labels (add a threshold stage, or pass --threshold T to infer)")
	case 1:
		opt.ThresholdRef = found[0]
		src.said = append(src.said, "using "+found[0]+", the pipeline's one threshold stage for "+opt.ModelRef+" (--threshold chooses another)")
	default:
		src.notes = append(src.notes, fmt.Sprintf("no --threshold given and %d threshold stages fit %s (%s): choose one with --threshold; "+
			"the bundle has no threshold", len(found), opt.ModelRef, strings.Join(found, ", ")))
	}
}

// gatherThreshold resolves --threshold and checks that it was chosen for the bundled model.
func (src *source) gatherThreshold(r Resolver, opt Options) error {
	res, err := r.Resolve(opt.ThresholdRef)
	if err != nil {
		return err
	}
	v := res.Value
	if !v.Type().IsObjectType() || !v.Type().HasAttribute("kind") || v.GetAttr("kind").AsString() != "threshold" {
		return fmt.Errorf("--threshold %s is not a threshold stage: write threshold.NAME", opt.ThresholdRef)
	}
	var node *runner.ResolvedNode
	for i := range res.Nodes {
		if res.Nodes[i].Referenced && res.Nodes[i].Kind == "threshold" {
			node = &res.Nodes[i]
		}
	}
	if node == nil {
		return fmt.Errorf("--threshold %s: no threshold node found", opt.ThresholdRef)
	}
	file := opt.abs(v.GetAttr("report").AsString())
	tr, err := threshold.ReadResult(file)
	if err != nil {
		return err
	}
	thrModel, err := modelref.Of(node.Config.GetAttr("model"))
	if err != nil {
		return fmt.Errorf("%s: %w", opt.ThresholdRef, err)
	}
	thrModel = thrModel.Abs(opt.Project)
	t := &Threshold{Ref: opt.ThresholdRef, Value: tr.Value, Method: tr.Method, Split: tr.Split, File: thresholdName}
	if tr.Method == threshold.MaxFBeta {
		t.Beta = tr.Beta
	}
	mine := src.model.BestCheckpoints()
	switch {
	case tr.Mode == "per_seed":
		// One threshold per seed: the bundled model must be one of the seeds.
		found := false
		for _, s := range thrModel.Seeds {
			if len(mine) == 1 && s.Model.Best == mine[0] {
				ps, ok := tr.PerSeed[s.Seed]
				if !ok {
					return fmt.Errorf("%s has no threshold for seed %s", opt.ThresholdRef, s.Seed)
				}
				t.Value, t.Seed, found = ps.Value, s.Seed, true
			}
		}
		if !found {
			return fmt.Errorf("%s chose one threshold per seed (per_seed = true); bundle one seed's model with it, "+
				"e.g. pcamflow bundle 'MODEL[\"%s\"]' --threshold %s, or choose one threshold for the mean of the seeds", opt.ThresholdRef, tr.BestSeed, opt.ThresholdRef)
		}
	case !slices.Equal(thrModel.BestCheckpoints(), mine):
		return fmt.Errorf("%s was chosen for another model than %s (its model attribute names other checkpoints): "+
			"bundle the model it was chosen for, or add a threshold stage with model = %s", opt.ThresholdRef, opt.ModelRef, opt.ModelRef)
	}
	src.thr, src.thrFile, src.thrResult = t, file, tr
	return nil
}
