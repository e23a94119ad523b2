package cache

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// TestListingAgreesWithStore checks that every look-up through a Listing gives the store's own
// answer (present, absent, corrupt, malformed key or ref), and that it answers from its listing:
// a record or ref created after its folder was listed is not seen.
func TestListingAgreesWithStore(t *testing.T) {
	s := openStore(t)
	present := &Record{Key: key("present"), Node: "command.a", Kind: "command", Components: map[string]string{"seed": "1"}}
	if err := s.PutRecord(present); err != nil {
		t.Fatal(err)
	}
	corrupt := key("corrupt")
	writeFile(t, s.recordPath(corrupt), []byte("{not json"), 0o644)
	if err := s.SetRef("p/command.a", present.Key); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(s.root, refsDir, encodeRefName("p/bad")), []byte("nonsense\n"), 0o644)

	l := s.Listing()
	keys := []string{present.Key, corrupt, key("absent"), "short"}
	for _, k := range keys {
		wr, wok, werr := s.GetRecord(k)
		gr, gok, gerr := l.GetRecord(k)
		if !reflect.DeepEqual(gr, wr) || gok != wok || (gerr == nil) != (werr == nil) {
			t.Errorf("Listing.GetRecord(%.8s) = %v, %v, %v; store says %v, %v, %v", k, gr, gok, gerr, wr, wok, werr)
		}
	}
	for _, n := range []string{"p/command.a", "p/bad", "p/absent", ""} {
		wk, wok, werr := s.GetRef(n)
		gk, gok, gerr := l.GetRef(n)
		if gk != wk || gok != wok || (gerr == nil) != (werr == nil) {
			t.Errorf("Listing.GetRef(%q) = %q, %v, %v; store says %q, %v, %v", n, gk, gok, gerr, wk, wok, werr)
		}
	}

	// Created after the listing, in a shard already listed: a snapshot does not see it.
	late := &Record{Key: present.Key[:2] + key("late")[2:], Node: "command.b"}
	if err := s.PutRecord(late); err != nil {
		t.Fatal(err)
	}
	if err := s.SetRef("p/command.b", late.Key); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := l.GetRecord(late.Key); ok || err != nil {
		t.Errorf("a record written after its shard was listed: ok %v, err %v; want false, nil", ok, err)
	}
	if _, ok, err := l.GetRef("p/command.b"); ok || err != nil {
		t.Errorf("a ref written after the refs were listed: ok %v, err %v; want false, nil", ok, err)
	}
	if _, ok, _ := s.Listing().GetRecord(late.Key); !ok {
		t.Error("a new listing does not see the record")
	}
}

// TestListingWithoutFolders checks look-ups in a store whose nodes and refs folders are gone.
func TestListingWithoutFolders(t *testing.T) {
	s := openStore(t)
	for _, d := range []string{nodesDir, refsDir} {
		if err := os.RemoveAll(filepath.Join(s.root, d)); err != nil {
			t.Fatal(err)
		}
	}
	l := s.Listing()
	if _, ok, err := l.GetRecord(key("x")); ok || err != nil {
		t.Errorf("GetRecord = %v, %v; want false, nil", ok, err)
	}
	if _, ok, err := l.GetRef("p/x"); ok || err != nil {
		t.Errorf("GetRef = %v, %v; want false, nil", ok, err)
	}
}
