// Package kindtest is the conformance suite every stage kind must pass (like restic's backend test
// suite): run it over a registry and each kind is checked with its own fixture (stages.Fixtured),
// through the real pipeline loader, runner, object store and tracking store:
//
//   - schema: every attribute is documented; a value of the wrong type, an unknown attribute, a
//     missing required attribute, and every invalid configuration of the fixture give error
//     diagnostics with a source range in the pipeline file;
//   - run: the fixture pipeline runs; every declared output of every node of the stage is written
//     and published;
//   - expose: the value other stages see has the same attributes before and after the node ran,
//     is wholly known after, and names only declared outputs;
//   - twin: re-executing the nodes (pcamflow verify) gives bit-identical outputs, except the
//     outputs the kind declares as measurements (stages.Measured);
//   - failing: an execution that fails publishes nothing (no record, no ref, no managed outputs).
//
// A new kind gets the suite for free: stages/kindtest's own test runs it over builtin.Registry().
// A kind without a fixture fails with a message that says how to add one.
package kindtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"

	"github.com/pcamflow/pcamflow/cache"
	"github.com/pcamflow/pcamflow/internal/state"
	"github.com/pcamflow/pcamflow/pipelines"
	"github.com/pcamflow/pcamflow/runner"
	"github.com/pcamflow/pcamflow/stages"
	"github.com/pcamflow/pcamflow/track"
)

// Label is the label of the stage under test in a fixture's pipelines.
const Label = "under_test"

// RunAll runs the suite for every kind of reg, each as a subtest named after the kind.
func RunAll(t *testing.T, reg *stages.Registry) {
	for _, name := range reg.Names() {
		t.Run(name, func(t *testing.T) { Run(t, reg, name) })
	}
}

// Run runs the suite for the kind named name; reg must also hold the kinds its fixture uses.
func Run(t *testing.T, reg *stages.Registry, name string) {
	k, ok := reg.Lookup(name)
	if !ok {
		t.Fatalf("no kind %q in the registry", name)
	}
	f, err := FixtureOf(k)
	if err != nil {
		t.Fatal(err)
	}
	s := &suite{reg: reg, kind: k, f: f, addr: name + "." + Label}
	t.Run("schema", s.schema)
	t.Run("run", s.run)
	t.Run("failing", s.failing)
}

// FixtureOf returns the conformance fixture of a kind, or an error that says how to add one.
func FixtureOf(k stages.Kind) (stages.Fixture, error) {
	fx, ok := k.(stages.Fixtured)
	if !ok {
		return stages.Fixture{}, fmt.Errorf("kind %s has no conformance fixture: give it a Fixture method (stages.Fixtured) in stages/%s/fixture.go "+
			"with a minimal valid pipeline, a failing one and invalid ones (see stages/kindtest and the existing fixtures)", k.Name(), k.Name())
	}
	f := fx.Fixture()
	if f.Pipeline == "" || f.Failing == "" {
		return f, fmt.Errorf("the fixture of kind %s needs both Pipeline and Failing", k.Name())
	}
	return f, nil
}

type suite struct {
	reg  *stages.Registry
	kind stages.Kind
	f    stages.Fixture
	addr string
}

// project is a project folder with the fixture's files and an open workspace.
type project struct {
	dir   string
	store *cache.Store
	db    *track.DB
}

func (s *suite) project(t *testing.T) *project {
	t.Helper()
	dir := t.TempDir()
	for rel, content := range s.f.Files {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	store, err := cache.Open(filepath.Join(dir, ".pcamflow"))
	if err != nil {
		t.Fatal(err)
	}
	db, err := track.Open(filepath.Join(dir, ".pcamflow", "pcamflow.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close(); store.Close() })
	return &project{dir: dir, store: store, db: db}
}

// file is the name fixture pipelines are loaded as.
func (p *project) file() string { return filepath.Join(p.dir, "fixture.hcl") }

// load loads a pipeline; it fails the test on errors.
func (s *suite) load(t *testing.T, p *project, src string) *pipelines.Pipeline {
	t.Helper()
	pl, diags := pipelines.Load(p.file(), []byte(src), s.reg, pipelines.Options{})
	if diags.HasErrors() {
		t.Fatalf("the fixture pipeline of %s does not load: %v", s.kind.Name(), diags)
	}
	if _, ok := pl.Stage(s.addr); !ok {
		t.Fatalf("the fixture pipeline has no stage %s (label the block of the kind under test %q)", s.addr, Label)
	}
	return pl
}

// runner returns a runner over pl in p.
func (s *suite) runner(t *testing.T, p *project, pl *pipelines.Pipeline, out *strings.Builder) *runner.Runner {
	t.Helper()
	r, err := runner.New(pl, p.store, p.db, p.dir, runner.Options{Jobs: 2, Out: out})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// schema checks that every attribute is documented and that configuration mistakes give
// diagnostics with a source range.
func (s *suite) schema(t *testing.T) {
	for _, a := range s.kind.Attrs() {
		if a.Name == "" || strings.TrimSpace(a.Doc) == "" {
			t.Errorf("attribute %q has no Doc sentence (the language reference shows it)", a.Name)
		}
	}
	if strings.TrimSpace(s.kind.Doc()) == "" {
		t.Errorf("kind %s has no Doc", s.kind.Name())
	}
	p := s.project(t)
	for _, a := range s.kind.Attrs() {
		bad, ok := wrongValue(a.Type)
		if !ok {
			continue
		}
		s.expectDiagnosed(t, p, "wrong type for "+a.Name, s.edit(t, func(b *hclwrite.Body) { b.SetAttributeValue(a.Name, bad) }))
		if a.Required {
			s.expectDiagnosed(t, p, "missing "+a.Name, s.edit(t, func(b *hclwrite.Body) { b.RemoveAttribute(a.Name) }))
		}
	}
	s.expectDiagnosed(t, p, "unknown attribute", s.edit(t, func(b *hclwrite.Body) {
		b.SetAttributeValue("no_such_attribute", cty.NumberIntVal(1))
	}))
	for i, src := range s.f.Invalid {
		s.expectDiagnosed(t, p, fmt.Sprintf("invalid fixture %d", i), src)
	}
}

// edit returns the fixture pipeline with the body of the stage under test changed by fn.
func (s *suite) edit(t *testing.T, fn func(b *hclwrite.Body)) string {
	t.Helper()
	f, diags := hclwrite.ParseConfig([]byte(s.f.Pipeline), "fixture.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatalf("the fixture pipeline does not parse: %v", diags)
	}
	for _, b := range f.Body().Blocks() {
		if b.Type() == s.kind.Name() && len(b.Labels()) == 1 && b.Labels()[0] == Label {
			fn(b.Body())
			return string(f.Bytes())
		}
	}
	t.Fatalf("the fixture pipeline has no block %s %q", s.kind.Name(), Label)
	return ""
}

// wrongValue returns a value that does not convert to ty (false for types that accept anything).
func wrongValue(ty cty.Type) (cty.Value, bool) {
	switch {
	case ty == cty.DynamicPseudoType:
		return cty.NilVal, false
	case ty == cty.Number:
		return cty.StringVal("not a number"), true
	case ty == cty.Bool:
		return cty.StringVal("maybe"), true
	case ty == cty.String:
		return cty.ListVal([]cty.Value{cty.StringVal("a"), cty.StringVal("list")}), true
	}
	return cty.StringVal("not a " + ty.FriendlyName()), true
}

// expectDiagnosed loads src and, when it loads, plans it: one of the two must fail with error
// diagnostics, each of which has a source range in the pipeline file.
func (s *suite) expectDiagnosed(t *testing.T, p *project, what, src string) {
	t.Helper()
	pl, diags := pipelines.Load(p.file(), []byte(src), s.reg, pipelines.Options{})
	if !diags.HasErrors() {
		var out strings.Builder
		_, err := s.runner(t, p, pl, &out).Plan(context.Background())
		var de *runner.DiagError
		if !errors.As(err, &de) {
			t.Errorf("%s: no diagnostic (plan: %v) for\n%s", what, err, src)
			return
		}
		diags = de.Diags
	}
	for _, d := range diags {
		if d.Severity != hcl.DiagError {
			continue
		}
		if d.Subject == nil || d.Subject.Filename != p.file() || d.Subject.Start.Line < 1 {
			t.Errorf("%s: diagnostic %q has no source range in the pipeline file (Subject %v)", what, d.Summary, d.Subject)
		}
		if strings.TrimSpace(d.Detail) == "" {
			t.Errorf("%s: diagnostic %q does not say how to fix it (empty Detail)", what, d.Summary)
		}
	}
}

// run runs the fixture pipeline and checks outputs, Expose and the twin run.
func (s *suite) run(t *testing.T) {
	p := s.project(t)
	pl := s.load(t, p, s.f.Pipeline)
	var out strings.Builder
	r := s.runner(t, p, pl, &out)
	sum, err := r.Run(context.Background())
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	st, _ := pl.Stage(s.addr)
	results := map[string]runner.NodeResult{}
	for _, res := range sum.Nodes {
		results[res.Node] = res
	}
	for _, node := range st.Nodes {
		res, ok := results[node.Addr]
		if !ok || res.State != state.Succeeded {
			t.Fatalf("%s did not run: %s %v\n%s", node.Addr, res.State, res.Err, out.String())
		}
		rec, ok, err := p.store.GetRecord(res.Key)
		if err != nil || !ok {
			t.Fatalf("%s ran but committed no record: %v", node.Addr, err)
		}
		cfg, task, err := r.Configuration(node.Addr)
		if err != nil {
			t.Fatalf("configuration of %s: %v", node.Addr, err)
		}
		s.checkOutputs(t, p, node, task, rec)
		s.checkExpose(t, node, cfg, rec, results, p)
	}
	twins, err := r.Verify(context.Background(), s.addr, "kindtest-verify")
	if err != nil {
		t.Fatalf("twin run: %v", err)
	}
	for _, tw := range twins {
		if !tw.Match {
			t.Errorf("the twin run of %s is not bit-identical: %v differ %v (declare measurement outputs with stages.Measured)", tw.Node, tw.Differ, tw.Differences)
		}
	}
}

// checkOutputs checks that every declared output was written and published.
func (s *suite) checkOutputs(t *testing.T, p *project, node *pipelines.Node, task *stages.Task, rec *cache.Record) {
	t.Helper()
	for _, name := range task.OutputNames() {
		o, ok := rec.Outputs[name]
		if !ok || o.Digest == "" {
			t.Errorf("%s did not publish its declared output %q", node.Addr, name)
			continue
		}
		path := o.Path
		if !filepath.IsAbs(path) {
			path = filepath.Join(p.dir, path)
		}
		if _, err := os.Lstat(path); err != nil {
			t.Errorf("%s: output %q is not at %s: %v", node.Addr, name, o.Path, err)
		}
	}
	for name := range rec.Outputs {
		if _, ok := task.Outputs[name]; !ok {
			t.Errorf("%s published %q, which it does not declare", node.Addr, name)
		}
	}
}

// checkExpose checks that Expose (ExposeAggregate for an aggregate node) keeps its attributes from
// plan to run, is wholly known once the node ran, and names only declared outputs.
func (s *suite) checkExpose(t *testing.T, node *pipelines.Node, cfg cty.Value, rec *cache.Record, results map[string]runner.NodeResult, p *project) {
	t.Helper()
	expose := func(outs map[string]stages.Output, parts map[string]map[string]stages.Output) cty.Value {
		if sk, ok := s.kind.(stages.Seeded); ok && node.Aggregate {
			return sk.ExposeAggregate(cfg, outs, parts)
		}
		return s.kind.Expose(cfg, outs)
	}
	outs := map[string]stages.Output{}
	marked := map[string]stages.Output{}
	for name, o := range rec.Outputs {
		outs[name] = stages.Output{Path: o.Path, Type: o.Type, Digest: o.Digest}
		marked[name] = stages.Output{Path: "/OUT/" + name, Type: o.Type, Digest: o.Digest}
	}
	parts, markedParts := map[string]map[string]stages.Output{}, map[string]map[string]stages.Output{}
	if node.Aggregate {
		for _, sn := range node.Stage.Nodes {
			if sn.Aggregate {
				continue
			}
			prec, ok, _ := p.store.GetRecord(results[sn.Addr].Key)
			if !ok {
				continue
			}
			parts[sn.Key], markedParts[sn.Key] = map[string]stages.Output{}, map[string]stages.Output{}
			for name, o := range prec.Outputs {
				parts[sn.Key][name] = stages.Output{Path: o.Path, Type: o.Type, Digest: o.Digest}
				markedParts[sn.Key][name] = stages.Output{Path: "/PART/" + name, Type: o.Type, Digest: o.Digest}
			}
		}
	}
	planned, ran := expose(nil, nil), expose(outs, parts)
	for _, v := range []cty.Value{planned, ran} {
		if !v.Type().IsObjectType() {
			t.Fatalf("%s: Expose returns %s, not an object", node.Addr, v.Type().FriendlyName())
		}
	}
	a, b := attrNames(planned), attrNames(ran)
	if !slices.Equal(a, b) {
		t.Errorf("%s: Expose has attributes %v while planning but %v once the node ran: a reference valid at validate time must stay valid", node.Addr, a, b)
	}
	if !ran.IsWhollyKnown() {
		t.Errorf("%s: Expose is not wholly known once the node ran: %#v", node.Addr, ran)
	}
	declared := map[string]bool{}
	for name := range rec.Outputs {
		declared["/OUT/"+name] = true
	}
	for _, po := range parts {
		for name := range po {
			declared["/PART/"+name] = true
		}
	}
	for _, leaf := range stringLeaves(expose(marked, markedParts)) {
		if !strings.HasPrefix(leaf, "/OUT/") && !strings.HasPrefix(leaf, "/PART/") {
			continue
		}
		parts := strings.SplitN(leaf, "/", 4) // "", OUT, name, rest
		if !declared["/"+parts[1]+"/"+parts[2]] {
			t.Errorf("%s: Expose names %s, which is not a declared output", node.Addr, leaf)
		}
	}
}

func attrNames(v cty.Value) []string {
	var out []string
	for name := range v.Type().AttributeTypes() {
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

// stringLeaves returns every known string inside v.
func stringLeaves(v cty.Value) []string {
	if !v.IsKnown() || v.IsNull() {
		return nil
	}
	ty := v.Type()
	switch {
	case ty == cty.String:
		return []string{v.AsString()}
	case ty.IsObjectType() || ty.IsMapType() || ty.IsListType() || ty.IsTupleType() || ty.IsSetType():
		var out []string
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			out = append(out, stringLeaves(e)...)
		}
		return out
	}
	return nil
}

// failing runs the failing fixture and checks that the failed nodes published nothing.
func (s *suite) failing(t *testing.T) {
	p := s.project(t)
	pl := s.load(t, p, s.f.Failing)
	var out strings.Builder
	sum, err := s.runner(t, p, pl, &out).Run(context.Background())
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	st, _ := pl.Stage(s.addr)
	failed := 0
	for _, res := range sum.Nodes {
		node, ok := pl.Node(res.Node)
		if !ok || node.Stage != st {
			continue
		}
		if res.State == state.Succeeded || res.State == state.Cached {
			t.Errorf("%s of the failing fixture succeeded", res.Node)
			continue
		}
		if res.State == state.Failed {
			failed++
		}
		if res.Key != "" {
			if _, ok, _ := p.store.GetRecord(res.Key); ok {
				t.Errorf("the failed %s committed a cache record", res.Node)
			}
		}
		if _, ok, _ := p.store.GetRef(pl.Name + "/" + res.Node); ok {
			t.Errorf("the failed %s has a ref", res.Node)
		}
		if _, err := os.Stat(filepath.Join(p.store.Root(), "out", runner.FileName(res.Node))); err == nil {
			t.Errorf("the failed %s left managed outputs in the workspace", res.Node)
		}
	}
	if failed == 0 {
		t.Errorf("no node of %s failed in the failing fixture:\n%s", s.addr, out.String())
	}
}
