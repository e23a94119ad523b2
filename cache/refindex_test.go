package cache

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// lastComponentsViaFiles is LastComponents' answer read from the files: GetRef then GetRecord.
func lastComponentsViaFiles(t *testing.T, s *Store, name string) []Component {
	t.Helper()
	key, ok, err := s.GetRef(name)
	if err != nil || !ok {
		return nil
	}
	rec, ok, err := s.GetRecord(key)
	if err != nil || !ok {
		return nil
	}
	return SortedComponents(rec.Components)
}

// refIndexFixture is a store with refs to two records, one ref to a record that does not exist,
// and an up-to-date ref index.
func refIndexFixture(t *testing.T) *Store {
	t.Helper()
	s := openStore(t)
	for i, n := range []string{"p/command.a", "p/command.b[\"x/y\"]"} {
		rec := &Record{Key: key(n), Node: n, Kind: "command", Components: map[string]string{"seed": "1", "param.run": `["echo","` + n + `"]`, "n": string(rune('0' + i))}}
		if err := s.PutRecord(rec); err != nil {
			t.Fatal(err)
		}
		if err := s.SetRef(n, rec.Key); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SetRef("p/command.gone", key("gone")); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateRefIndex(); err != nil {
		t.Fatal(err)
	}
	if s.currentRefIndex() == nil {
		t.Fatal("UpdateRefIndex wrote no current index")
	}
	return s
}

var refIndexNames = []string{"p/command.a", "p/command.b[\"x/y\"]", "p/command.gone", "p/command.absent", ""}

// checkLastComponents compares LastComponents through a new listing with the files' answer.
func checkLastComponents(t *testing.T, s *Store, what string) {
	t.Helper()
	l := s.Listing()
	for _, n := range refIndexNames {
		want := lastComponentsViaFiles(t, s, n)
		got, ok, err := l.LastComponents(n)
		_, werr := refFileName(n)
		if (err == nil) != (werr == nil) {
			t.Errorf("%s: LastComponents(%q): error %v, want %v", what, n, err, werr)
		}
		if (got != nil) != ok {
			t.Errorf("%s: LastComponents(%q) = %v with ok %v", what, n, got, ok)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: LastComponents(%q) = %+v, the files say %+v", what, n, got, want)
		}
	}
}

// TestRefIndexAgreesWithFiles checks that LastComponents gives the answer of the ref and record files
// with a current index, and after each way the index can stop being current or valid.
func TestRefIndexAgreesWithFiles(t *testing.T) {
	tests := []struct {
		name    string
		change  func(t *testing.T, s *Store)
		current bool // whether the index is still current after the change
	}{
		{"current", func(*testing.T, *Store) {}, true},
		{"ref moved", func(t *testing.T, s *Store) {
			rec := &Record{Key: key("a2"), Node: "command.a", Components: map[string]string{"seed": "2"}}
			if err := s.PutRecord(rec); err != nil {
				t.Fatal(err)
			}
			if err := s.SetRef("p/command.a", rec.Key); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"ref added", func(t *testing.T, s *Store) {
			if err := s.SetRef("p/command.absent", key("p/command.a")); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"ref removed", func(t *testing.T, s *Store) {
			if err := os.Remove(filepath.Join(s.root, refsDir, encodeRefName("p/command.a"))); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"record removed", func(t *testing.T, s *Store) {
			// gc deletes records without touching refs: the index stays current, the listing of
			// the shard says the record is gone.
			if err := os.Remove(s.recordPath(key("p/command.a"))); err != nil {
				t.Fatal(err)
			}
		}, true},
		{"index flipped byte", func(t *testing.T, s *Store) {
			p := filepath.Join(s.root, refIndexFile)
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			data[len(data)/2] ^= 1
			writeFile(t, p, data, 0o644)
		}, false},
		{"index truncated", func(t *testing.T, s *Store) {
			if err := os.Truncate(filepath.Join(s.root, refIndexFile), 40); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"index removed", func(t *testing.T, s *Store) {
			if err := os.Remove(filepath.Join(s.root, refIndexFile)); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"index of another store", func(t *testing.T, s *Store) {
			other := refIndexFixture(t)
			data, err := os.ReadFile(filepath.Join(other.root, refIndexFile))
			if err != nil {
				t.Fatal(err)
			}
			writeFile(t, filepath.Join(s.root, refIndexFile), data, 0o644)
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := refIndexFixture(t)
			tt.change(t, s)
			if got := s.currentRefIndex() != nil; got != tt.current {
				t.Errorf("index current after the change: %v, want %v", got, tt.current)
			}
			checkLastComponents(t, s, "after the change")
			if err := s.UpdateRefIndex(); err != nil {
				t.Fatal(err)
			}
			if s.currentRefIndex() == nil {
				t.Error("no current index after UpdateRefIndex")
			}
			checkLastComponents(t, s, "after the update")
		})
	}
}

// TestRefIndexAnswersFromIndex checks that a current index is what LastComponents reads: with every
// ref file emptied (so that reading them fails) the answers are still the records' components.
func TestRefIndexAnswersFromIndex(t *testing.T) {
	s := refIndexFixture(t)
	want := lastComponentsViaFiles(t, s, "p/command.a")
	ix := s.currentRefIndex()
	p := filepath.Join(s.root, refsDir, encodeRefName("p/command.a"))
	if err := os.WriteFile(p, nil, 0o644); err != nil { // in place: the folder's times do not change
		t.Fatal(err)
	}
	if now := s.currentRefIndex(); now == nil || now.state != ix.state {
		t.Fatal("writing a ref file in place changed the refs folder's state")
	}
	got, ok, err := s.Listing().LastComponents("p/command.a")
	if err != nil || !ok || !reflect.DeepEqual(got, want) {
		t.Errorf("LastComponents = %+v, %v, %v; want %+v from the index", got, ok, err, want)
	}
}

// TestRefIndexNotWrittenWhenRefsChange checks that an index whose refs changed while it was built
// is not written: it could mix two states of the refs.
func TestRefIndexNotWrittenWhenRefsChange(t *testing.T) {
	s := refIndexFixture(t)
	if err := s.SetRef("p/command.absent", key("p/command.a")); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(filepath.Join(s.root, refIndexFile))
	if err != nil {
		t.Fatal(err)
	}
	testHookRefIndexRead = func() {
		if err := s.SetRef("p/command.late", key("p/command.a")); err != nil {
			t.Fatal(err)
		}
	}
	defer func() { testHookRefIndexRead = nil }()
	if err := s.UpdateRefIndex(); err != nil {
		t.Fatal(err)
	}
	after, err := os.ReadFile(filepath.Join(s.root, refIndexFile))
	if err != nil {
		t.Fatal(err)
	}
	if string(after) != string(before) {
		t.Error("the index was rewritten although a ref changed while it was built")
	}
	if s.currentRefIndex() != nil {
		t.Error("a stale index is taken as current")
	}
	checkLastComponents(t, s, "stale index")
}

// TestRefIndexEncoding round-trips components with every byte value, empty strings and names.
func TestRefIndexEncoding(t *testing.T) {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	comps := map[string]string{"": "", "bytes": string(all), "long": string(make([]byte, 70000)), "seed": "1"}
	st := refsState{dev: 1 << 40, ino: 12345, mtimeNs: -5, ctimeNs: 1764633600123456789, subSecondTimestamps: true}
	entries := map[string]refIndexEntry{"p%2Fx": {key: key("x"), comps: string(encodeComponents(nil, comps))}, "": {key: key("y"), comps: string(encodeComponents(nil, nil))}}
	ix, err := decodeRefIndex(encodeRefIndex(st, entries))
	if err != nil {
		t.Fatal(err)
	}
	if ix.state != st {
		t.Errorf("state %+v, want %+v", ix.state, st)
	}
	got, err := ix.entries["p%2Fx"].components()
	if err != nil || !reflect.DeepEqual(got, SortedComponents(comps)) {
		t.Errorf("components %v, %v; want them back", len(got), err)
	}
	if got, err := ix.entries[""].components(); err != nil || len(got) != 0 {
		t.Errorf("empty components: %v, %v", got, err)
	}
	data := encodeRefIndex(st, entries)
	for cut := 0; cut < len(data); cut += 7 {
		if _, err := decodeRefIndex(data[:cut]); err == nil {
			t.Fatalf("an index cut at %d of %d bytes decodes", cut, len(data))
		}
	}
}

// refIndexBenchStore returns a store with n records of ten components each and a ref to each.
func refIndexBenchStore(b *testing.B, n int) *Store {
	b.Helper()
	s, err := Open(filepath.Join(b.TempDir(), "ws"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	for i := range n {
		node := fmt.Sprintf("command.shard[\"%d\"]", i)
		comps := map[string]string{"kind": "command", "version": "1", "seed": "1", "param.env": "{}",
			"param.for_each.key": fmt.Sprintf("%q", fmt.Sprint(i)), "param.inputs": "[]", "param.workdir": `"."`,
			"param.outputs": fmt.Sprintf(`["out/%d.txt"]`, i), "param.run": fmt.Sprintf(`["sh","-c","echo %d > out/%d.txt"]`, i, i)}
		rec := &Record{Key: key(node), Node: node, Kind: "command", Components: comps}
		if err := s.PutRecord(rec); err != nil {
			b.Fatal(err)
		}
		if err := s.SetRef("fan.hcl/"+node, rec.Key); err != nil {
			b.Fatal(err)
		}
	}
	return s
}

// BenchmarkRefIndex measures, for 10,000 refs: building the index with no index before (every
// record read), rebuilding it after one ref moved (the others' components reused from the old
// index), the check at the end of a run that changed nothing, and a plan's reading of every
// ref's last record through a current index and through the files.
func BenchmarkRefIndex(b *testing.B) {
	const n = 10000
	s := refIndexBenchStore(b, n)
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("fan.hcl/command.shard[\"%d\"]", i)
	}
	b.Run("build", func(b *testing.B) {
		for b.Loop() {
			os.Remove(filepath.Join(s.root, refIndexFile))
			if err := s.UpdateRefIndex(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("one-ref-moved", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if err := s.SetRef(names[0], key(names[i%n])); err != nil {
				b.Fatal(err)
			}
			if err := s.UpdateRefIndex(); err != nil {
				b.Fatal(err)
			}
		}
	})
	if err := s.SetRef(names[0], key("command.shard[\"0\"]")); err != nil {
		b.Fatal(err)
	}
	if err := s.UpdateRefIndex(); err != nil {
		b.Fatal(err)
	}
	b.Run("unchanged", func(b *testing.B) {
		for b.Loop() {
			if err := s.UpdateRefIndex(); err != nil {
				b.Fatal(err)
			}
		}
	})
	read := func(b *testing.B) {
		for b.Loop() {
			l := s.Listing()
			for _, name := range names {
				if _, ok, err := l.LastComponents(name); !ok || err != nil {
					b.Fatal(ok, err)
				}
			}
		}
	}
	b.Run("read-via-index", read)
	if err := os.Remove(filepath.Join(s.root, refIndexFile)); err != nil {
		b.Fatal(err)
	}
	b.Run("read-via-files", read)
}
