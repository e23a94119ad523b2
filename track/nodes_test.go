package track

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// nodesEqual compares node runs with time.Time.Equal and JSON as text.
func nodesEqual(a, b NodeRun) bool {
	a.Started, b.Started = a.Started.UTC(), b.Started.UTC()
	a.Finished, b.Finished = a.Finished.UTC(), b.Finished.UTC()
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

func beginRun(t *testing.T, db *DB, id string) {
	t.Helper()
	if err := db.BeginRun(Run{ID: id, Pipeline: "p", Started: t0}); err != nil {
		t.Fatal(err)
	}
}

func TestNodeLifecycle(t *testing.T) {
	db := openTemp(t)
	beginRun(t, db, "r1")
	n := &NodeRun{RunID: "r1", Node: "train.mlp", Kind: "train", Key: "k1", Reason: "params changed",
		Params: json.RawMessage(`{"epochs":5}`), Started: t0, Host: "login1", LogPath: "logs/train.mlp.log",
		Executor: "local"}
	if err := db.StartNode(n); err != nil {
		t.Fatal(err)
	}
	if n.ID == 0 || n.State != NodeRunning {
		t.Fatalf("after StartNode: id %d state %s, want an id and running", n.ID, n.State)
	}
	assertStoredNode(t, db, "r1", *n)
	n.State, n.ExitStatus, n.Error = NodeFailed, 2, "loss is NaN"
	n.Outputs = json.RawMessage(`{"model":"sha256:ab"}`)
	n.Finished = t0.Add(time.Minute)
	if err := db.FinishNode(n); err != nil {
		t.Fatal(err)
	}
	assertStoredNode(t, db, "r1", *n)
	cached := &NodeRun{RunID: "r1", Node: "dataset.pcam", Kind: "dataset", Key: "k0", State: NodeCached}
	if err := db.InsertNode(cached); err != nil {
		t.Fatal(err)
	}
	_, nodes, _ := db.GetRun("r1")
	if len(nodes) != 2 || nodes[0].ID != n.ID || nodes[1].ID != cached.ID {
		t.Errorf("run nodes %+v, want [train.mlp dataset.pcam] in insertion order", nodes)
	}
	hist, err := db.NodeHistory("train.mlp", 0)
	if err != nil || len(hist) != 1 || hist[0].Error != "loss is NaN" {
		t.Errorf("NodeHistory = %+v, %v", hist, err)
	}
}

// assertStoredNode checks that the store holds want as a node run of run.
func assertStoredNode(t *testing.T, db *DB, run string, want NodeRun) {
	t.Helper()
	got, err := db.GetNode(want.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !nodesEqual(*got, want) {
		t.Errorf("stored node run\n %+v\nwant\n %+v", *got, want)
	}
}

func TestFinishNodeDefaultsFinished(t *testing.T) {
	db := openTemp(t)
	beginRun(t, db, "r1")
	n := &NodeRun{RunID: "r1", Node: "x"}
	if err := db.StartNode(n); err != nil {
		t.Fatal(err)
	}
	if n.Started.IsZero() {
		t.Error("StartNode left Started zero")
	}
	n.State = NodeSucceeded
	if err := db.FinishNode(n); err != nil {
		t.Fatal(err)
	}
	got, _ := db.GetNode(n.ID)
	if got.Finished.IsZero() || got.Finished.Before(got.Started) {
		t.Errorf("finished %v, started %v", got.Finished, got.Started)
	}
}

func TestNodeErrors(t *testing.T) {
	db := openTemp(t)
	beginRun(t, db, "r1")
	running := &NodeRun{RunID: "r1", Node: "x"}
	if err := db.StartNode(running); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		err     error
		want    string
		wantErr error
	}{
		{"unknown run", db.StartNode(&NodeRun{RunID: "nope", Node: "x"}), "run nope not found", ErrNotFound},
		{"empty node", db.InsertNode(&NodeRun{RunID: "r1", State: NodeCached}), "must be non-empty", nil},
		{"unknown state", db.InsertNode(&NodeRun{RunID: "r1", Node: "x", State: "done"}), `unknown state "done"`, nil},
		{"start in final state", db.StartNode(&NodeRun{RunID: "r1", Node: "x", State: NodeCached}), "use InsertNode", nil},
		{"bad params JSON", db.InsertNode(&NodeRun{RunID: "r1", Node: "x", State: NodeCached, Params: json.RawMessage(`{`)}),
			"params is not valid JSON", nil},
		{"finish as running", db.FinishNode(&NodeRun{ID: running.ID, RunID: "r1", Node: "x", State: NodeRunning}), "not final", nil},
		{"finish unknown id", db.FinishNode(&NodeRun{ID: 999, RunID: "r1", Node: "x", State: NodeFailed}), "node run 999 not found", ErrNotFound},
		{"update zero id", db.UpdateNode(&NodeRun{RunID: "r1", Node: "x", State: NodeFailed}), "zero id", nil},
	}
	for _, tc := range tests {
		if tc.err == nil || !strings.Contains(tc.err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error containing %q", tc.name, tc.err, tc.want)
		}
		if tc.wantErr != nil && !errors.Is(tc.err, tc.wantErr) {
			t.Errorf("%s: error %v is not %v", tc.name, tc.err, tc.wantErr)
		}
	}
	if _, err := db.GetNode(12345); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetNode of unknown id: %v, want ErrNotFound", err)
	}
}

func TestUpdateNodeSetsJobID(t *testing.T) {
	db := openTemp(t)
	beginRun(t, db, "r1")
	n := &NodeRun{RunID: "r1", Node: "train.mlp", Executor: "slurm"}
	if err := db.StartNode(n); err != nil {
		t.Fatal(err)
	}
	n.JobID = "4242_3"
	if err := db.UpdateNode(n); err != nil {
		t.Fatal(err)
	}
	got, _ := db.GetNode(n.ID)
	if got.JobID != "4242_3" || got.State != NodeRunning {
		t.Errorf("after UpdateNode: job %q state %s", got.JobID, got.State)
	}
}
