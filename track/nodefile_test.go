package track

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// countRows returns the number of node runs and metric rows in the store.
func countRows(t *testing.T, db *DB) (nodes, metrics int) {
	t.Helper()
	if err := db.sql.QueryRow(`SELECT (SELECT COUNT(*) FROM node_runs), (SELECT COUNT(*) FROM metrics)`).Scan(&nodes, &metrics); err != nil {
		t.Fatal(err)
	}
	return nodes, metrics
}

func TestIngestInsertsOnceAndIsIdempotent(t *testing.T) {
	db := openTemp(t)
	beginRun(t, db, "r1")
	path := filepath.Join(t.TempDir(), "result.json")
	n := &NodeRun{RunID: "r1", Node: "train.mlp", Kind: "train", Key: "k", State: NodeSucceeded,
		Started: t0, Finished: t0.Add(3e9), Host: "gpu-node-3", Executor: "slurm", JobID: "81_2",
		Outputs: json.RawMessage(`{"model":"sha256:1"}`)}
	metrics := []MetricRow{{0, "loss", 0.7}, {1, "loss", math.NaN()}}
	if err := WriteNodeFile(path, n, metrics); err != nil {
		t.Fatal(err)
	}
	first, err := db.IngestNodeFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := *n
	want.ID = first.ID
	if first.ID == 0 || !nodesEqual(*first, want) {
		t.Errorf("ingested\n %+v\nwant\n %+v", *first, want)
	}
	nodes, rows := countRows(t, db)
	for range 3 {
		again, err := db.IngestNodeFile(path)
		if err != nil || again.ID != first.ID {
			t.Fatalf("re-ingest = %+v, %v; want the same node run %d", again, err, first.ID)
		}
	}
	if n2, r2 := countRows(t, db); n2 != nodes || r2 != rows || nodes != 1 || rows != 2 {
		t.Errorf("after re-ingesting: %d node runs and %d metric rows, want 1 and 2", n2, r2)
	}
	got, _ := db.Metrics(first.ID)
	if fmt.Sprint(got) != fmt.Sprint(metrics) {
		t.Errorf("metrics %v, want %v", got, metrics)
	}
}

func TestIngestUpdatesStartedNode(t *testing.T) {
	db := openTemp(t)
	beginRun(t, db, "r1")
	started := &NodeRun{RunID: "r1", Node: "train.mlp", Executor: "slurm", JobID: "90"}
	if err := db.StartNode(started); err != nil {
		t.Fatal(err)
	}
	done := *started
	done.State, done.Finished, done.Host, done.ExitStatus = NodeFailed, t0, "node7", 137
	done.Error = "out of memory"
	path := filepath.Join(t.TempDir(), "result.json")
	if err := WriteNodeFile(path, &done, []MetricRow{{0, "loss", 1}}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		got, err := db.IngestNodeFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != started.ID || got.State != NodeFailed || got.ExitStatus != 137 || got.Error != "out of memory" {
			t.Errorf("ingested %+v, want the started row updated to failed/137", got)
		}
	}
	if nodes, rows := countRows(t, db); nodes != 1 || rows != 1 {
		t.Errorf("%d node runs and %d metric rows, want 1 and 1", nodes, rows)
	}
}

func TestIngestErrors(t *testing.T) {
	db := openTemp(t)
	beginRun(t, db, "r1")
	other := &NodeRun{RunID: "r1", Node: "evaluate.test"}
	if err := db.StartNode(other); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	good := &NodeRun{RunID: "r1", Node: "train.mlp", State: NodeSucceeded}
	valid := filepath.Join(dir, "valid.json")
	if err := WriteNodeFile(valid, good, nil); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(valid)
	files := map[string]string{
		"truncated.json":   string(data[:len(data)/2]),
		"empty.json":       "",
		"trailing.json":    string(data) + "{}",
		"format.json":      strings.Replace(string(data), NodeFileFormat, "pcamflow-node-run/99", 1),
		"unknown-key.json": strings.Replace(string(data), `"format"`, `"colour": 1, "format"`, 1),
		"no-node.json":     `{"format": "` + NodeFileFormat + `"}`,
		"bad-state.json":   strings.Replace(string(data), string(NodeSucceeded), "great", 1),
		"bad-metric.json":  strings.Replace(string(data), `"node_run"`, `"metrics": [{"step": 1, "name": "x", "value": "high"}], "node_run"`, 1),
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeNode := func(name string, n NodeRun) string {
		p := filepath.Join(dir, name)
		if err := WriteNodeFile(p, &n, nil); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		file, want string
	}{
		{filepath.Join(dir, "truncated.json"), "truncated or corrupt"},
		{filepath.Join(dir, "empty.json"), "truncated or corrupt"},
		{filepath.Join(dir, "trailing.json"), "data after the JSON object"},
		{filepath.Join(dir, "format.json"), `format "pcamflow-node-run/99"`},
		{filepath.Join(dir, "unknown-key.json"), `unknown field "colour"`},
		{filepath.Join(dir, "no-node.json"), "no node_run"},
		{filepath.Join(dir, "bad-state.json"), `unknown state "great"`},
		{filepath.Join(dir, "bad-metric.json"), `value "high"`},
		{filepath.Join(dir, "missing.json"), "no such file"},
		{writeNode("unknown-run.json", NodeRun{RunID: "nope", Node: "x", State: NodeCached}), "run nope not found"},
		{writeNode("unknown-id.json", NodeRun{ID: 777, RunID: "r1", Node: "x", State: NodeFailed}), "node run 777 not found"},
		{writeNode("wrong-node.json", NodeRun{ID: other.ID, RunID: "r1", Node: "train.mlp", State: NodeFailed}),
			"is evaluate.test of run r1 in the database but train.mlp"},
	}
	for _, tc := range tests {
		_, err := db.IngestNodeFile(tc.file)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.file) {
			t.Errorf("IngestNodeFile(%s): got %v, want an error naming the file and containing %q", filepath.Base(tc.file), err, tc.want)
		}
	}
	if nodes, _ := countRows(t, db); nodes != 1 {
		t.Errorf("failed ingests left %d node runs, want only the started one", nodes)
	}
	if n, _ := db.GetNode(other.ID); n.State != NodeRunning {
		t.Errorf("mismatched file changed node %d to %s", other.ID, n.State)
	}
}

func TestWriteNodeFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "r.json")
	if err := WriteNodeFile(path, &NodeRun{RunID: "r", Node: "n", State: "bogus"}, nil); err == nil {
		t.Error("invalid node run written")
	}
	if err := WriteNodeFile(path, nil, nil); err == nil {
		t.Error("nil node run written")
	}
	if err := WriteNodeFile(filepath.Join(dir, "missing", "r.json"), &NodeRun{RunID: "r", Node: "n", State: NodeCached}, nil); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("write into a missing directory: %v, want ErrNotExist", err)
	}
	if err := WriteNodeFile(path, &NodeRun{RunID: "r", Node: "n", State: NodeCached}, nil); err != nil {
		t.Fatal(err)
	}
	if err := WriteNodeFile(path, &NodeRun{RunID: "r", Node: "n", State: NodeFailed}, nil); err != nil {
		t.Fatal(err) // replaces
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != "r.json" {
		t.Errorf("directory holds %v, want only r.json (no temporary files)", entries)
	}
	data, _ := os.ReadFile(path)
	if !strings.Contains(string(data), `"state": "failed"`) {
		t.Errorf("file not replaced:\n%s", data)
	}
}
