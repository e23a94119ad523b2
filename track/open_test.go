package track

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestOpenCreatesSchemaFromEmpty(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "dir", "track.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var versions []int
	rows, err := db.sql.Query(`SELECT version FROM schema_version ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		versions = append(versions, v)
	}
	rows.Close()
	want := make([]int, 0, len(migrations))
	for _, m := range migrations {
		want = append(want, m.version)
	}
	if !slices.Equal(versions, want) {
		t.Errorf("applied versions %v, want %v", versions, want)
	}
	for _, table := range []string{"runs", "node_runs", "metrics"} {
		var name string
		if err := db.sql.QueryRow(`SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?`, table).Scan(&name); err != nil {
			t.Errorf("table %s: %v", table, err)
		}
	}
}

func TestOpenSetsPragmas(t *testing.T) {
	db := openTemp(t)
	tests := []struct{ pragma, want string }{
		{"journal_mode", "wal"},
		{"foreign_keys", "1"},
		{"busy_timeout", "30000"},
		{"synchronous", "1"}, // NORMAL
	}
	for _, tc := range tests {
		var got string
		if err := db.sql.QueryRow("PRAGMA " + tc.pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("PRAGMA %s = %s, want %s", tc.pragma, got, tc.want)
		}
	}
}

func TestReopenKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "track.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.BeginRun(Run{ID: "r1", Pipeline: "p"}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, err = Open(path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer db.Close()
	if _, _, err := db.GetRun("r1"); err != nil {
		t.Errorf("run lost on reopen: %v", err)
	}
}

// TestMigrateAppliesOnlyPending upgrades a version-1 database with an extra migration and checks
// that a failing migration leaves the database unchanged.
func TestMigrateAppliesOnlyPending(t *testing.T) {
	path := filepath.Join(t.TempDir(), "track.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	v2 := append(slices.Clone(migrations), migration{schemaVersion() + 1, "add notes", `ALTER TABLE runs ADD COLUMN notes TEXT`})
	if err := migrate(db.sql, v2); err != nil {
		t.Fatalf("upgrade: %v", err)
	}
	if err := migrate(db.sql, v2); err != nil { // nothing pending: must not re-run the ALTER
		t.Fatalf("second upgrade: %v", err)
	}
	if _, err := db.sql.Exec(`UPDATE runs SET notes = 'x'`); err != nil {
		t.Errorf("migration 2 not applied: %v", err)
	}
	bad := append(slices.Clone(v2),
		migration{schemaVersion() + 2, "good part", `CREATE TABLE extra (x INTEGER)`},
		migration{schemaVersion() + 3, "broken", `THIS IS NOT SQL`})
	err = migrate(db.sql, bad)
	if err == nil || !strings.Contains(err.Error(), "apply migration") || !strings.Contains(err.Error(), "broken") {
		t.Fatalf("broken migration: got %v, want an error naming it", err)
	}
	var n int
	if err := db.sql.QueryRow(`SELECT COUNT(*) FROM sqlite_master WHERE name = 'extra'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("failed migration batch was not rolled back (extra table count %d, %v)", n, err)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	notDB := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notDB, []byte(strings.Repeat("this is not a database\n", 100)), 0o644); err != nil {
		t.Fatal(err)
	}
	newer := filepath.Join(dir, "newer.db")
	db, err := Open(newer)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.sql.Exec(`INSERT INTO schema_version VALUES (999, 'future', 'x')`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	tests := []struct{ name, path, want string }{
		{"empty path", "", "empty database path"},
		{"question mark", filepath.Join(dir, "a?b.db"), "must not contain '?'"},
		{"not a database", notDB, "notes.txt"},
		{"newer schema", newer, "schema version 999 is newer"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db, err := Open(tc.path)
			if err == nil {
				db.Close()
				t.Fatalf("Open(%q) succeeded", tc.path)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}
