package track

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// migrationsThrough returns the schema history up to and including version v: the DDL an older
// pcamflow applied.
func migrationsThrough(t testing.TB, v int) []migration {
	t.Helper()
	i := slices.IndexFunc(migrations, func(m migration) bool { return m.version == v })
	if i < 0 {
		t.Fatalf("no migration %d", v)
	}
	return migrations[:i+1]
}

// queryPlan returns the detail column of EXPLAIN QUERY PLAN for KeyProducer's query.
func queryPlan(t *testing.T, q queryer) string {
	t.Helper()
	rows, err := q.Query(`EXPLAIN QUERY PLAN `+keyProducerSQL, "k", NodeSucceeded, NodePruned)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var id, parent, notUsed int
		var detail string
		if err := rows.Scan(&id, &parent, &notUsed, &detail); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(lines, "; ")
}

// TestMigrationKeyIndex opens a database written at schema version 4 (before the key index),
// checks that Open migrates it in place to the current version, that KeyProducer's query then uses
// the index node_runs_by_key instead of scanning node_runs, and that KeyProducer answers the same
// as before the migration.
func TestMigrationKeyIndex(t *testing.T) {
	path := filepath.Join(t.TempDir(), "track.db")
	raw, err := sql.Open("sqlite3", path+"?_foreign_keys=1&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	if err := migrate(raw, migrationsThrough(t, 4)); err != nil {
		t.Fatalf("creating a version-4 database: %v", err)
	}
	now := encodeTime(t0)
	stmts := []string{
		fmt.Sprintf(`INSERT INTO runs VALUES ('r1', 'p', 'p.hcl', '[]', 'h', 1, '%s', NULL, 'succeeded')`, now),
		fmt.Sprintf(`INSERT INTO runs VALUES ('r2', 'p', 'p.hcl', '[]', 'h', 1, '%s', NULL, 'succeeded')`, now),
	}
	for i, row := range []struct{ run, node, key, state string }{
		{"r1", `sweep.a.trial["1"]`, "k", "succeeded"},
		{"r1", `sweep.a.trial["2"]`, "other", "succeeded"},
		{"r1", `sweep.a.trial["3"]`, "k", "pruned"}, // the newest published execution of k
		{"r2", `sweep.b.trial["1"]`, "k", "failed"},
		{"r2", `sweep.b.trial["2"]`, "k", "cached"},
		{"r2", `sweep.b.trial["3"]`, "failed-only", "failed"},
	} {
		stmts = append(stmts, fmt.Sprintf(`INSERT INTO node_runs (id, run_id, node, kind, key, state, reason,
			exit_status, host, log_path, error, executor, job_id, parent)
			VALUES (%d, '%s', '%s', 'train', '%s', '%s', '', 0, 'h', '', '', 'local', '', 'sweep')`,
			i+1, row.run, row.node, row.key, row.state))
	}
	for _, q := range stmts {
		if _, err := raw.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if plan := queryPlan(t, raw); strings.Contains(plan, "node_runs_by_key") {
		t.Fatalf("version 4 already has the key index: %s", plan)
	}
	keys := []string{"k", "other", "failed-only", "missing"}
	producers := func(db *DB) []int64 {
		t.Helper()
		var ids []int64
		for _, k := range keys {
			p, err := db.KeyProducer(k)
			if err != nil {
				t.Fatalf("KeyProducer(%q): %v", k, err)
			}
			id := int64(0)
			if p != nil {
				id = p.ID
			}
			ids = append(ids, id)
		}
		return ids
	}
	before := producers(&DB{sql: raw, path: path})
	if want := []int64{3, 2, 0, 0}; !slices.Equal(before, want) {
		t.Fatalf("producers at version 4: %v, want %v", before, want)
	}
	raw.Close()

	db, err := Open(path)
	if err != nil {
		t.Fatalf("migrating the version-4 database: %v", err)
	}
	defer db.Close()
	var version int
	if err := db.sql.QueryRow(`SELECT MAX(version) FROM schema_version`).Scan(&version); err != nil || version != schemaVersion() {
		t.Fatalf("schema version after Open: %d (%v), want %d", version, err, schemaVersion())
	}
	if plan := queryPlan(t, db.sql); !strings.Contains(plan, "node_runs_by_key") {
		t.Errorf("KeyProducer's query plan does not use the key index: %s", plan)
	}
	if after := producers(db); !slices.Equal(after, before) {
		t.Errorf("producers after the migration: %v, want %v as before", after, before)
	}
	var nodes int
	if err := db.sql.QueryRow(`SELECT COUNT(*) FROM node_runs`).Scan(&nodes); err != nil || nodes != 6 {
		t.Errorf("%d node runs after the migration (%v), want 6", nodes, err)
	}
}

// TestMigrationKeyIndexIsAtomic checks that a version-4 database whose key-index migration fails
// (here: a table already holds the index's name) is left at version 4 with nothing half-applied,
// and that Open reports the failure.
func TestMigrationKeyIndexIsAtomic(t *testing.T) {
	path := filepath.Join(t.TempDir(), "track.db")
	raw, err := sql.Open("sqlite3", path+"?_foreign_keys=1&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	if err := migrate(raw, migrationsThrough(t, 4)); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`CREATE TABLE node_runs_by_key (x INTEGER)`); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	if db, err := Open(path); err == nil {
		db.Close()
		t.Fatal("Open succeeded although the key-index migration cannot apply")
	} else if !strings.Contains(err.Error(), "apply migration 5") {
		t.Errorf("error %q does not name migration 5", err)
	}
	raw, err = sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var version int
	if err := raw.QueryRow(`SELECT MAX(version) FROM schema_version`).Scan(&version); err != nil || version != 4 {
		t.Errorf("schema version after the failed migration: %d (%v), want 4", version, err)
	}
}
