// Package modelref decodes model references — train.X, train.X["seed"], sweep.Y.champion — for the
// stage kinds that use a trained model (threshold, evaluate, benchmark) and for the offline
// bundle, so no kind parses another kind's exposed object by hand. It is the model counterpart of
// dataset.ViewOf.
//
// The exposed shape of a model is an object with kind = "model", checkpoint (the last epoch's
// checkpoint), best (the checkpoint of the best epoch by the train stage's monitor), history and
// metrics; a stage with seeds adds seeds (an object of the same shape per seed), best_seed and
// aggregate. An optional dataset attribute (a dataset reference) says which data the model was
// trained on.
package modelref

import (
	"fmt"
	"path/filepath"
	"sort"
	"strconv"

	"github.com/zclconf/go-cty/cty"

	"github.com/pcamflow/pcamflow/stages/dataset"
)

// Model is a decoded model reference.
type Model struct {
	// Checkpoint is the last epoch's checkpoint; Best the best epoch's (the one predictions use).
	Checkpoint, Best string
	// History and Metrics are the training history and final metrics files ("" when absent).
	History, Metrics string
	// BestSeed is the seed whose model the reference stands for when it has seeds ("" otherwise).
	BestSeed string
	// Seeds are the models of every seed, in numeric seed order; empty for a single model.
	Seeds []Seed
	// Dataset is the data the model was trained on, when the reference says (nil otherwise).
	Dataset *dataset.View
}

// Seed is the model of one seed of a stage with seeds.
type Seed struct {
	Seed  string
	Model Model
}

// want describes what a model reference is, for errors.
const want = `a model reference such as train.NAME, train.NAME["SEED"] or sweep.NAME.champion`

// Of decodes a model reference. It fails with an explanation when v is something else (for
// example a checkpoint path string) or when a checkpoint is not known yet (while validating and
// planning, callers check only wholly known values).
func Of(v cty.Value) (Model, error) {
	if v.IsNull() || !v.IsKnown() || !v.Type().IsObjectType() {
		return Model{}, fmt.Errorf("expected %s", want)
	}
	if k, _ := str(v, "kind"); k != "model" {
		return Model{}, fmt.Errorf("expected %s, not an object of kind %q", want, k)
	}
	var m Model
	var ok bool
	if m.Best, ok = str(v, "best"); !ok || m.Best == "" {
		return Model{}, fmt.Errorf("the model reference has no best checkpoint (is it %s?)", want)
	}
	m.Checkpoint, _ = str(v, "checkpoint")
	m.History, _ = str(v, "history")
	m.Metrics, _ = str(v, "metrics")
	m.BestSeed, _ = str(v, "best_seed")
	if v.Type().HasAttribute("dataset") {
		if view, err := dataset.ViewOf(v.GetAttr("dataset")); err == nil {
			m.Dataset = &view
		}
	}
	if v.Type().HasAttribute("seeds") {
		seeds := v.GetAttr("seeds")
		if !seeds.IsNull() && seeds.IsKnown() && (seeds.Type().IsObjectType() || seeds.Type().IsMapType()) {
			for name, sv := range seeds.AsValueMap() {
				sm, err := Of(sv)
				if err != nil {
					return Model{}, fmt.Errorf("seed %s: %w", name, err)
				}
				m.Seeds = append(m.Seeds, Seed{Seed: name, Model: sm})
			}
		}
	}
	sort.SliceStable(m.Seeds, func(i, j int) bool { return seedLess(m.Seeds[i].Seed, m.Seeds[j].Seed) })
	return m, nil
}

// Members returns the models predictions average over: every seed's model for a reference with
// seeds, else the model itself. Their seed names are returned alongside ("" for a single model).
func (m Model) Members() (names []string, models []Model) {
	if len(m.Seeds) == 0 {
		return []string{""}, []Model{m}
	}
	for _, s := range m.Seeds {
		names = append(names, s.Seed)
		models = append(models, s.Model)
	}
	return names, models
}

// BestCheckpoints returns the best checkpoint of every member (see Members).
func (m Model) BestCheckpoints() []string {
	_, ms := m.Members()
	out := make([]string, len(ms))
	for i, x := range ms {
		out[i] = x.Best
	}
	return out
}

// str returns the string attribute name of v; ok is false when it is absent, null, unknown or not
// a string.
func str(v cty.Value, name string) (string, bool) {
	if !v.Type().HasAttribute(name) {
		return "", false
	}
	a := v.GetAttr(name)
	if a.IsNull() || !a.IsKnown() || a.Type() != cty.String {
		return "", false
	}
	return a.AsString(), true
}

// seedLess orders seed names numerically when both are numbers, else lexically.
func seedLess(a, b string) bool {
	x, errA := strconv.ParseInt(a, 10, 64)
	y, errB := strconv.ParseInt(b, 10, 64)
	if errA == nil && errB == nil {
		return x < y
	}
	return a < b
}

// View returns the dataset to predict on: explicit when it is a dataset reference (not null),
// else the data the model was trained on when the reference says. The error says what to write.
func (m Model) View(explicit cty.Value) (dataset.View, error) {
	if !explicit.IsNull() {
		v, err := dataset.ViewOf(explicit)
		if err != nil {
			return dataset.View{}, fmt.Errorf("dataset: %w", err)
		}
		return v, nil
	}
	if m.Dataset != nil {
		return *m.Dataset, nil
	}
	return dataset.View{}, fmt.Errorf("dataset: the model reference does not say which data it was trained on; " +
		"set dataset = dataset.NAME or data_audit.NAME.clean")
}

// Abs returns m with relative checkpoint paths (a model object written by hand, such as
// { kind = "model", best = "models/m.ckpt" }) made absolute against the project folder dir.
func (m Model) Abs(dir string) Model {
	abs := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(dir, p)
	}
	m.Checkpoint, m.Best = abs(m.Checkpoint), abs(m.Best)
	seeds := make([]Seed, len(m.Seeds))
	for i, s := range m.Seeds {
		seeds[i] = Seed{Seed: s.Seed, Model: s.Model.Abs(dir)}
	}
	m.Seeds = seeds
	return m
}

// ProjectFiles returns the relative (project) checkpoint paths predictions read: files written by
// hand rather than outputs of a stage, which a kind lists as task inputs so that their content is
// part of its cache key.
func (m Model) ProjectFiles() []string {
	var out []string
	for _, p := range m.BestCheckpoints() {
		if p != "" && !filepath.IsAbs(p) {
			out = append(out, p)
		}
	}
	return out
}
