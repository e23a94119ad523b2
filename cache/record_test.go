package cache

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// key returns a deterministic 64-hex key for a label.
func key(label string) string { return sha256Hex([]byte(label)) }

func TestRecordRoundTrip(t *testing.T) {
	s := openStore(t)
	src := filepath.Join(t.TempDir(), "out.json")
	writeFile(t, src, []byte(`{"auc":0.9}`), 0o644)
	a, err := s.Put(src)
	if err != nil {
		t.Fatal(err)
	}
	r := &Record{
		Key: key("prep"), Node: "command.prep", Kind: "command", Version: "1",
		Components: map[string]string{"config": key("cfg")},
		Outputs:    map[string]Output{"metrics": {Artifact: a, Path: "results/metrics.json"}},
		Value:      json.RawMessage(`{"x":1}`),
		RunID:      "run-1", Host: "node1", LogPath: "logs/prep.log",
		Started:  time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC),
		Finished: time.Date(2026, 11, 27, 10, 1, 0, 0, time.UTC),
	}
	if err := s.PutRecord(r); err != nil {
		t.Fatal(err)
	}
	got, ok, err := s.GetRecord(r.Key)
	if err != nil || !ok || !reflect.DeepEqual(got, r) {
		t.Fatalf("GetRecord = %+v, %v, %v; want %+v", got, ok, err, r)
	}
	r.RunID = "run-2"
	if err := s.PutRecord(r); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := s.GetRecord(r.Key); got.RunID != "run-2" {
		t.Fatalf("overwritten record has run %q, want run-2", got.RunID)
	}
	if _, ok, err := s.GetRecord(key("absent")); ok || err != nil {
		t.Fatalf("GetRecord(absent) = %v, %v; want false, nil", ok, err)
	}
}

func TestPutRecordRefusesMissingObjects(t *testing.T) {
	s := openStore(t)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "t", "a"), []byte("a"), 0o644)
	writeFile(t, filepath.Join(dir, "t", "b"), []byte("b"), 0o644)
	ta, _ := s.Put(filepath.Join(dir, "t"))
	cases := []struct {
		name string
		out  Output
		prep func()
	}{
		{"never stored", Output{Artifact: Artifact{Type: TypeFile, Digest: key("nothing"), Size: 1, Files: 1}}, func() {}},
		{"tree blob removed", Output{Artifact: ta}, func() { os.Remove(s.ObjectPath(sha256Hex([]byte("b")))) }},
		{"bad digest", Output{Artifact: Artifact{Type: TypeFile, Digest: "xyz"}}, func() {}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.prep()
			k := key(tc.name)
			err := s.PutRecord(&Record{Key: k, Node: "n", Outputs: map[string]Output{"o": tc.out}})
			if err == nil {
				t.Fatal("PutRecord accepted a record whose objects are missing")
			}
			if _, ok, _ := s.GetRecord(k); ok {
				t.Fatal("a refused record was written")
			}
		})
	}
	if err := s.PutRecord(&Record{Key: "short"}); err == nil {
		t.Fatal("PutRecord accepted an invalid key")
	}
}

func TestGetRecordCorrupt(t *testing.T) {
	s := openStore(t)
	k := key("x")
	cases := map[string]string{
		"garbage":       "{not json",
		"truncated":     `{"key":"` + k + `","outputs":{`,
		"wrong key":     `{"key":"` + key("y") + `"}`,
		"bad artifact":  `{"key":"` + k + `","outputs":{"o":{"type":"file","digest":"zz"}}}`,
		"empty file":    "",
		"wrong type":    `{"key":5}`,
		"array instead": `[]`,
	}
	for name, content := range cases {
		t.Run(name, func(t *testing.T) {
			p := s.recordPath(k)
			os.MkdirAll(filepath.Dir(p), 0o755)
			if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			r, ok, err := s.GetRecord(k)
			if err == nil || ok || r != nil || !strings.Contains(err.Error(), p) {
				t.Fatalf("GetRecord = %v, %v, %v; want an error naming %s", r, ok, err, p)
			}
		})
	}
	if _, _, err := s.GetRecord("../../x"); err == nil {
		t.Fatal("GetRecord accepted an invalid key")
	}
}
