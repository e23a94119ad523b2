package track

// migrationChildren (version 3) supports dynamic nodes (DESIGN.md §7): node runs gain a parent
// column (the address of the node that ran them as children, "" for ordinary nodes) and the state
// 'pruned'. SQLite cannot change a CHECK constraint in place, so node_runs is rebuilt. The rebuild
// never drops a table that another table's foreign key points at while rows depend on it: metrics
// are copied aside first, so the implicit DELETE of DROP TABLE cascades to nothing, and restored
// after the new node_runs has taken the old one's name (ids are preserved, so every metric row finds
// its node run again).
var migrationChildren = migration{3, "child nodes: parent column and the pruned state", `
CREATE TABLE node_runs_v3 (
	id          INTEGER PRIMARY KEY,
	run_id      TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	node        TEXT NOT NULL,
	kind        TEXT NOT NULL,
	key         TEXT NOT NULL,
	state       TEXT NOT NULL CHECK (state IN ('running', 'succeeded', 'failed', 'cached', 'skipped', 'interrupted', 'pruned')),
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
	ingest_key  TEXT UNIQUE,     -- sha256 of the ingested node file, NULL when written directly
	parent      TEXT NOT NULL DEFAULT ''  -- the node whose child this is, '' for an ordinary node
);
INSERT INTO node_runs_v3 (id, run_id, node, kind, key, state, reason, params, started, finished, exit_status,
	host, log_path, outputs, error, executor, job_id, ingest_key)
	SELECT id, run_id, node, kind, key, state, reason, params, started, finished, exit_status,
	host, log_path, outputs, error, executor, job_id, ingest_key FROM node_runs;
CREATE TABLE metrics_aside AS SELECT node_run_id, step, name, value FROM metrics;
DROP TABLE metrics;
DROP TABLE node_runs;
ALTER TABLE node_runs_v3 RENAME TO node_runs;
CREATE INDEX node_runs_by_run ON node_runs (run_id, id);
CREATE INDEX node_runs_by_node ON node_runs (node, id);
CREATE INDEX node_runs_running ON node_runs (run_id) WHERE state = 'running';
CREATE INDEX node_runs_by_parent ON node_runs (parent, id) WHERE parent <> '';
CREATE TABLE metrics (
	node_run_id INTEGER NOT NULL REFERENCES node_runs (id) ON DELETE CASCADE,
	step        INTEGER NOT NULL,
	name        TEXT NOT NULL,
	value       REAL,            -- NULL stands for NaN (SQLite stores NaN as NULL)
	PRIMARY KEY (node_run_id, step, name)
) WITHOUT ROWID;
INSERT INTO metrics (node_run_id, step, name, value) SELECT node_run_id, step, name, value FROM metrics_aside;
DROP TABLE metrics_aside;
`}
