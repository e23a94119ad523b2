package track

import (
	"math"
	"slices"
	"testing"
)

func TestTwinsAreRecordedAndFoundByKey(t *testing.T) {
	db := openTemp(t)
	beginRun(t, db, "r1")
	n := &NodeRun{RunID: "r1", Node: `train.mlp["1"]`, Kind: "train", Key: "k1", State: NodeSucceeded}
	if err := db.InsertNode(n); err != nil {
		t.Fatal(err)
	}
	recs := []TwinRecord{
		{VerifyID: "verify-a", Node: `train.mlp["1"]`, CachedRunID: "r1", Match: true, Host: "h", LogPath: "l",
			Summary: []TwinValue{{"final train loss", 0.5, 0.5}, {"final val loss", 0.6, math.NaN()}}},
		{VerifyID: "verify-a", Node: "command.flaky", Key: "k2", CachedRunID: "r0", Differ: []string{"out/flaky.txt"}, Measured: []string{"bench.json"}},
		{VerifyID: "verify-b", Node: "command.other", CachedRunID: "r9"}, // producer unknown: no key
	}
	if err := db.RecordTwins(recs); err != nil {
		t.Fatal(err)
	}
	if recs[0].Key != "k1" || recs[0].ID == 0 || recs[2].Key != "" {
		t.Fatalf("keys after recording: %q, %q (id %d); want k1 from the producing node run and ''", recs[0].Key, recs[2].Key, recs[0].ID)
	}
	got, err := db.TwinsOf([]string{"k2", "k1", "absent"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Node != `train.mlp["1"]` || got[1].Node != "command.flaky" {
		t.Fatalf("twins of k1, k2: %+v", got)
	}
	a, b := got[0], got[1]
	if !a.Match || len(a.Summary) != 2 || a.Summary[0] != (TwinValue{"final train loss", 0.5, 0.5}) || a.Summary[1].Cached != 0.6 ||
		!math.IsNaN(a.Summary[1].Twin) || a.Verified.IsZero() || a.Differ != nil || a.Measured != nil {
		t.Errorf("first twin read back as %+v", a)
	}
	if b.Match || !slices.Equal(b.Differ, []string{"out/flaky.txt"}) || !slices.Equal(b.Measured, []string{"bench.json"}) || b.Summary != nil {
		t.Errorf("second twin read back as %+v", b)
	}
	if none, err := db.TwinsOf(nil); err != nil || len(none) != 0 {
		t.Errorf("twins of no key: %v, %v", none, err)
	}
	if err := db.RecordTwins([]TwinRecord{{Node: "x"}}); err == nil {
		t.Error("a twin without verify id and cached run was recorded")
	}
}
