package dataaudit

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/pcamflow/pcamflow/audit"
	"github.com/pcamflow/pcamflow/pcam"
	"github.com/pcamflow/pcamflow/stages"
	"github.com/pcamflow/pcamflow/stages/dataset"
	"github.com/pcamflow/pcamflow/stages/stagetest"
)

// config builds an evaluated data_audit configuration: defaults plus the given attributes.
func config(t *testing.T, set map[string]cty.Value) cty.Value {
	return stagetest.Config(t, Kind{}, set)
}

var noRange = func(string) *hcl.Range { return &hcl.Range{Filename: "p.hcl"} }

// TestPrepareSuggestsNames: a misspelt finding class or leak policy gets the closest valid name, and
// the valid classes are listed once (they used to be listed twice, with no suggestion).
func TestPrepareSuggestsNames(t *testing.T) {
	ds := dataset.View{Kind: "dataset", Format: pcam.FormatH5, Dir: "data"}.Value()
	cases := []struct {
		set  map[string]cty.Value
		want string
	}{
		{map[string]cty.Value{"fail_on": stringList([]string{"cross_split_duplicate"})}, `fail_on: "cross_split_duplicate" is not a finding class. Did you mean "cross_split_duplicates"?`},
		{map[string]cty.Value{"exclude": stringList([]string{"blank", "wsi_overlaps"})}, `exclude: "wsi_overlaps" is not a finding class. Did you mean "wsi_overlap"?`},
		{map[string]cty.Value{"leak_policy": cty.StringVal("drop_trian")}, `leak_policy "drop_trian" is not one of ["drop_train" "drop_eval"]. Did you mean "drop_train"?`},
	}
	for _, c := range cases {
		c.set["dataset"] = ds
		_, diags := (Kind{}).Prepare(config(t, c.set), noRange)
		if len(diags) != 1 || !strings.Contains(diags[0].Detail, c.want) {
			t.Errorf("diagnostics %v, want one saying %q", diags, c.want)
			continue
		}
		if d := diags[0].Detail; strings.Count(d, audit.LowTissue) > 1 {
			t.Errorf("the valid classes are listed more than once: %s", d)
		}
	}
	ok := map[string]cty.Value{"dataset": ds, "fail_on": stringList([]string{"cross_split_duplicates"}), "leak_policy": cty.StringVal("drop_eval")}
	if _, diags := (Kind{}).Prepare(config(t, ok), noRange); diags.HasErrors() {
		t.Errorf("valid configuration refused: %v", diags)
	}
}

// auditEnv makes the environment of one data_audit node over dir, with a workspace of its own.
func auditEnv(t *testing.T, dir, ws string, set map[string]cty.Value) *stages.Env {
	t.Helper()
	set["dataset"] = dataset.View{Kind: "dataset", Format: pcam.FormatH5, Dir: dir}.Value()
	out := t.TempDir()
	env := &stages.Env{Node: "data_audit.pcam", Config: config(t, set), ProjectDir: filepath.Dir(ws), ScratchDir: t.TempDir(),
		OutputPaths: map[string]string{}, Log: io.Discard, Progress: io.Discard, ResumeDir: filepath.Join(ws, "resume", "0123abcd")}
	for _, name := range []string{"report.json", "summary.md", "montages", "clean.json", PlotsOutput} {
		env.OutputPaths[name] = filepath.Join(out, name)
	}
	return env
}

// TestFailedGateKeepsTheReport: a tripped fail_on gate fails the node, yet its report, summary and
// montages are kept in <workspace>/failed/<node>/ and the error says where (they used to be lost with
// the failed node's outputs). A later passing run removes the stale folder.
func TestFailedGateKeepsTheReport(t *testing.T) {
	dir := t.TempDir()
	if _, err := pcam.Synthesize(dir, pcam.SynthOptions{Seed: 3, Train: 200, Valid: 60, Test: 60}); err != nil {
		t.Fatal(err)
	}
	ws := filepath.Join(t.TempDir(), ".pcamflow")
	err := (Kind{}).Execute(context.Background(), auditEnv(t, dir, ws, map[string]cty.Value{"fail_on": stringList([]string{"cross_split_duplicates"})}))
	if err == nil {
		t.Fatal("the gate did not trip on synthetic data with planted cross-split duplicates")
	}
	kept := filepath.Join(ws, "failed", "data_audit.pcam")
	if !strings.Contains(err.Error(), filepath.Join(".pcamflow", "failed", "data_audit.pcam")+"/ (summary.md, report.json, montages/)") {
		t.Errorf("error %q does not say where the report is", err)
	}
	for _, f := range []string{"summary.md", "report.json", "montages/montage_cross_split_duplicates.png"} {
		if _, err := os.Stat(filepath.Join(kept, f)); err != nil {
			t.Errorf("failed gate left no %s: %v", f, err)
		}
	}
	md, _ := os.ReadFile(filepath.Join(kept, "summary.md"))
	if !strings.Contains(string(md), "**Gates: FAILED** on cross_split_duplicates") {
		t.Errorf("kept summary does not show the failed gate:\n%s", md)
	}
	if err := (Kind{}).Execute(context.Background(), auditEnv(t, dir, ws, map[string]cty.Value{})); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(kept); !os.IsNotExist(err) {
		t.Errorf("the failure folder of an earlier run survived a passing gate: %v", err)
	}
}

// TestEmptiedSplitFailsItsUser: a clean view that keeps none of a split's patches makes the stage
// that opens that split fail up front with the numbers and the classes responsible (training used to
// start on an empty validation split).
func TestEmptiedSplitFailsItsUser(t *testing.T) {
	dir := t.TempDir()
	if _, err := pcam.Synthesize(dir, pcam.SynthOptions{Seed: 3, Train: 400, Valid: 100, Test: 0, NoDefects: true}); err != nil {
		t.Fatal(err)
	}
	// Give every valid patch the slide of train patch 0: wsi_overlap with drop_eval then removes all.
	trainMeta, _ := os.ReadFile(pcam.SplitFiles(dir, pcam.Train).Meta)
	first := strings.Split(string(trainMeta), "\n")[1]
	slide := first[strings.LastIndex(first, ",")+1:]
	metaPath := pcam.SplitFiles(dir, pcam.Valid).Meta
	b, _ := os.ReadFile(metaPath)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	for i := 1; i < len(lines); i++ {
		lines[i] = lines[i][:strings.LastIndex(lines[i], ",")+1] + slide
	}
	os.WriteFile(metaPath, []byte(strings.Join(lines, "\n")+"\n"), 0o644)
	env := auditEnv(t, dir, filepath.Join(t.TempDir(), ".pcamflow"), map[string]cty.Value{
		"exclude": stringList([]string{"wsi_overlap"}), "leak_policy": cty.StringVal("drop_eval")})
	var log strings.Builder
	env.Log = &log
	if err := (Kind{}).Execute(context.Background(), env); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "**Warning:** The clean view keeps none of the 100 valid patches (wsi_overlap removes 100)") {
		t.Errorf("the audit log does not warn about the emptied valid split:\n%.2000s", log.String())
	}
	view := dataset.View{Kind: "dataset_view", Format: pcam.FormatH5, Dir: dir, Indices: env.OutputPaths["clean.json"]}
	if r, idx, err := view.Open(pcam.Train); err != nil || len(idx) != 400 {
		t.Fatalf("train split of the view: %d indices, %v", len(idx), err)
	} else {
		r.Close()
	}
	_, _, err := view.Open(pcam.Valid)
	if err == nil || !strings.Contains(err.Error(), "keeps none of the 100 valid patches (wsi_overlap removes 100)") ||
		!strings.Contains(err.Error(), `leak_policy (now "drop_eval")`) {
		t.Fatalf("opening the emptied valid split: %v", err)
	}
	var ix dataset.Indices
	data, _ := os.ReadFile(env.OutputPaths["clean.json"])
	if err := json.Unmarshal(data, &ix); err != nil || ix.Patches["valid"] != 100 || ix.DroppedBy["valid"]["wsi_overlap"] != 100 {
		t.Errorf("clean.json counts = %+v (%v)", ix, err)
	}
}
