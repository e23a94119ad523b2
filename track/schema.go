package track

import (
	"database/sql"
	"fmt"
	"time"
)

// migration is one ordered, forward-only schema change. Versions start at 1 and increase by one.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations is the schema history. Never edit an applied migration: append a new one.
var migrations = []migration{
	{1, "runs, node runs and metrics", `
CREATE TABLE runs (
	id       TEXT PRIMARY KEY,
	pipeline TEXT NOT NULL,
	file     TEXT NOT NULL,
	args     TEXT NOT NULL,  -- JSON array of strings
	host     TEXT NOT NULL,
	pid      INTEGER NOT NULL,
	started  TEXT,
	finished TEXT,
	status   TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'interrupted'))
);
CREATE INDEX runs_by_started ON runs (started, id);
CREATE INDEX runs_by_pipeline ON runs (pipeline, started, id);
CREATE INDEX runs_running ON runs (status) WHERE status = 'running';

CREATE TABLE node_runs (
	id          INTEGER PRIMARY KEY,
	run_id      TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	node        TEXT NOT NULL,
	kind        TEXT NOT NULL,
	key         TEXT NOT NULL,
	state       TEXT NOT NULL CHECK (state IN ('running', 'succeeded', 'failed', 'cached', 'skipped', 'interrupted')),
	reason      TEXT NOT NULL,
	params      TEXT,            -- JSON
	started     TEXT,
	finished    TEXT,
	exit_status INTEGER NOT NULL,
	host        TEXT NOT NULL,
	log_path    TEXT NOT NULL,
	outputs     TEXT,            -- JSON
	error       TEXT NOT NULL,
	executor    TEXT NOT NULL,
	job_id      TEXT NOT NULL,
	ingest_key  TEXT UNIQUE      -- sha256 of the ingested node file, NULL when written directly
);
CREATE INDEX node_runs_by_run ON node_runs (run_id, id);
CREATE INDEX node_runs_by_node ON node_runs (node, id);
CREATE INDEX node_runs_running ON node_runs (run_id) WHERE state = 'running';

CREATE TABLE metrics (
	node_run_id INTEGER NOT NULL REFERENCES node_runs (id) ON DELETE CASCADE,
	step        INTEGER NOT NULL,
	name        TEXT NOT NULL,
	value       REAL,            -- NULL stands for NaN (SQLite stores NaN as NULL)
	PRIMARY KEY (node_run_id, step, name)
) WITHOUT ROWID;
`},
	{2, "no-op runs recorded by reference", `
CREATE TABLE noop_runs (
	run_id  TEXT PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
	same_as TEXT NOT NULL   -- the run whose nodes were all found unchanged
);
`},
	migrationChildren,
	{4, "verify twin records", twinsSQL},
	migrationKeyIndex,
}

// schemaVersion returns the highest migration version this build knows.
func schemaVersion() int { return migrations[len(migrations)-1].version }

// migrate brings the database to the last of ms inside one immediate transaction, so that processes
// opening a new database at the same time apply each migration exactly once. It refuses a database
// whose version is newer than the last of ms.
func migrate(db *sql.DB, ms []migration) (err error) {
	tx, err := db.Begin()
	if err != nil {
		return fmt.Errorf("begin migration transaction: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if _, err := tx.Exec(`CREATE TABLE IF NOT EXISTS schema_version (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied TEXT NOT NULL)`); err != nil {
		return fmt.Errorf("create schema_version table: %w", err)
	}
	var current int
	if err := tx.QueryRow(`SELECT COALESCE(MAX(version), 0) FROM schema_version`).Scan(&current); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	latest := ms[len(ms)-1].version
	if current > latest {
		return fmt.Errorf("schema version %d is newer than this pcamflow understands (%d): upgrade pcamflow", current, latest)
	}
	for _, m := range ms {
		if m.version <= current {
			continue
		}
		if _, err := tx.Exec(m.sql); err != nil {
			return fmt.Errorf("apply migration %d (%s): %w", m.version, m.name, err)
		}
		if _, err := tx.Exec(`INSERT INTO schema_version (version, name, applied) VALUES (?, ?, ?)`,
			m.version, m.name, encodeTime(time.Now())); err != nil {
			return fmt.Errorf("record migration %d: %w", m.version, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit migrations: %w", err)
	}
	return nil
}
