package track

import "testing"

func TestProducerOfACacheHit(t *testing.T) {
	db := openTemp(t)
	beginRun(t, db, "r1")
	beginRun(t, db, "r2")
	made := &NodeRun{RunID: "r1", Node: "train.mlp", Kind: "train", Key: "k", State: NodeSucceeded}
	other := &NodeRun{RunID: "r1", Node: "train.mlp", Kind: "train", Key: "other", State: NodeSucceeded}
	hit := &NodeRun{RunID: "r2", Node: "train.mlp", Kind: "train", Key: "k", State: NodeCached}
	for _, n := range []*NodeRun{made, other, hit} {
		if err := db.InsertNode(n); err != nil {
			t.Fatal(err)
		}
	}
	p, err := db.Producer(*hit)
	if err != nil || p == nil || p.ID != made.ID {
		t.Fatalf("producer of the cache hit: %+v, %v; want node run %d", p, err, made.ID)
	}
	if p, err := db.Producer(*made); p != nil || err != nil {
		t.Errorf("a node run that executed has producer %+v, %v", p, err)
	}
	presented := *made // how GetRun shows the node of a no-op run that repeated run r1
	presented.RunID, presented.State = "r3", NodeCached
	if p, err := db.Producer(presented); err != nil || p == nil || p.ID != made.ID {
		t.Errorf("producer of a no-op run's node: %+v, %v; want node run %d", p, err, made.ID)
	}
	orphan := NodeRun{ID: 99, RunID: "r2", Node: "train.mlp", Key: "gone", State: NodeCached}
	if p, err := db.Producer(orphan); p != nil || err != nil {
		t.Errorf("producer of a hit whose producer is not recorded: %+v, %v", p, err)
	}
}
