package track

import (
	"strings"
	"testing"
)

func TestInsertNodes(t *testing.T) {
	db := openTemp(t)
	beginRun(t, db, "r1")
	nodes := []*NodeRun{
		{RunID: "r1", Node: "a", State: NodeCached},
		{RunID: "r1", Node: "b", State: NodeSkipped, Reason: "upstream failed"},
	}
	if err := db.InsertNodes(nodes); err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes {
		got, err := db.GetNode(n.ID)
		if err != nil || got.Node != n.Node || got.State != n.State {
			t.Errorf("node %s: stored %+v, %v", n.Node, got, err)
		}
	}
	bad := []*NodeRun{{RunID: "r1", Node: "c", State: NodeCached}, {RunID: "nope", Node: "d", State: NodeCached}}
	err := db.InsertNodes(bad)
	if err == nil || !strings.Contains(err.Error(), "run nope not found") {
		t.Fatalf("batch with an unknown run: %v", err)
	}
	if n, _ := countRows(t, db); n != 2 || bad[0].ID != 0 {
		t.Errorf("failed batch left %d node runs (want 2) and set id %d (want 0)", n, bad[0].ID)
	}
}
