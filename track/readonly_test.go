package track

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOpenRefusesEmptyFile: a database file truncated to 0 bytes is reported as damaged by Open
// and OpenReadOnly, and left as it is (SQLite alone would take it for a new database and the
// history would be silently replaced by an empty one).
func TestOpenRefusesEmptyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "track.db")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for name, open := range map[string]func(string) (*DB, error){"Open": Open, "OpenReadOnly": OpenReadOnly} {
		db, err := open(path)
		var d *DamagedError
		if err == nil || !errors.As(err, &d) || !errors.Is(err, ErrDamaged) || d.Path != path || !strings.Contains(err.Error(), "empty (0 bytes)") {
			if db != nil {
				db.Close()
			}
			t.Fatalf("%s: %v, want a DamagedError for an empty file", name, err)
		}
	}
	if fi, err := os.Stat(path); err != nil || fi.Size() != 0 {
		t.Fatalf("the empty file was changed: %v, %v", fi, err)
	}
}

// TestOpenReportsNotADatabase: garbage in place of the database is a DamagedError naming the file.
func TestOpenReportsNotADatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "track.db")
	garbage := bytes.Repeat([]byte("not sqlite "), 500)
	if err := os.WriteFile(path, garbage, 0o644); err != nil {
		t.Fatal(err)
	}
	for name, open := range map[string]func(string) (*DB, error){"Open": Open, "OpenReadOnly": OpenReadOnly} {
		_, err := open(path)
		if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), "the run database "+path+" is damaged: file is not a database") {
			t.Fatalf("%s: %v", name, err)
		}
	}
	if b, _ := os.ReadFile(path); !bytes.Equal(b, garbage) {
		t.Fatal("the damaged file was changed")
	}
}

// TestOpenReadOnly: the read-only mode reads what a writer committed, refuses writes, creates
// nothing, and never migrates.
func TestOpenReadOnly(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "track.db")
	if _, err := OpenReadOnly(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("OpenReadOnly created the database")
	}
	w, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.BeginRun(Run{ID: "r1", Pipeline: "p"}); err != nil {
		t.Fatal(err)
	}
	// The writer is still open: its commit is in the WAL, which mode=ro must see.
	r, err := OpenReadOnly(path)
	if err != nil {
		t.Fatal(err)
	}
	if !r.ReadOnly() || w.ReadOnly() {
		t.Fatal("ReadOnly() is wrong")
	}
	if _, _, err := r.GetRun("r1"); err != nil {
		t.Fatalf("the read-only store does not see the committed run: %v", err)
	}
	if err := r.BeginRun(Run{ID: "r2", Pipeline: "p"}); err == nil {
		t.Fatal("a write through the read-only store succeeded")
	}
	r.Close()
	w.Close()
	// An older schema is reported, not migrated.
	w, _ = Open(path)
	if _, err := w.sql.Exec(`DELETE FROM schema_version WHERE version = ?`, schemaVersion()); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if _, err := OpenReadOnly(path); err == nil || !strings.Contains(err.Error(), "written by an older pcamflow") {
		t.Fatalf("older schema: %v", err)
	}
}
