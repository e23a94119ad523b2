package track

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
)

// RecordNoop records a finished run in which nothing changed since run sameAs (the no-op fast
// path): one run row and a reference instead of a row per node, so a no-op of a pipeline with
// thousands of nodes costs one small transaction. GetRun and LastRun present the nodes of sameAs
// as cached nodes of r.
func (db *DB) RecordNoop(r Run, sameAs string) error {
	if r.ID == "" || !validRunStatus(r.Status) || r.Status == RunRunning {
		return fmt.Errorf("track: record no-op run %q: needs an id and a final status, not %q", r.ID, r.Status)
	}
	args, err := json.Marshal(nonNil(r.Args))
	if err != nil {
		return fmt.Errorf("track: record no-op run %s: %w", r.ID, err)
	}
	err = db.inTx(func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO runs (id, pipeline, file, args, host, pid, started, finished, status)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.ID, r.Pipeline, r.File, string(args), r.Host, r.PID, encodeTime(r.Started), encodeTime(r.Finished), r.Status)
		if err != nil {
			return err
		}
		_, err = tx.Exec(`INSERT INTO noop_runs (run_id, same_as) VALUES (?, ?)`, r.ID, sameAs)
		return err
	})
	if err != nil {
		return fmt.Errorf("track: record no-op run %s: %w", r.ID, err)
	}
	return nil
}

// noopNodes returns the nodes of the run a no-op run repeated, as cached nodes of r.
func (db *DB) noopNodes(r Run) ([]NodeRun, error) {
	var sameAs string
	err := db.sql.QueryRow(`SELECT same_as FROM noop_runs WHERE run_id = ?`, r.ID).Scan(&sameAs)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("track: no-op run %s: %w", r.ID, err)
	}
	nodes, err := db.queryNodes(`SELECT `+nodeColumns+` FROM node_runs WHERE run_id = ? ORDER BY id`, sameAs)
	if err != nil {
		return nil, fmt.Errorf("track: nodes of run %s: %w", sameAs, err)
	}
	for i := range nodes {
		n := &nodes[i]
		n.RunID, n.State, n.Reason = r.ID, NodeCached, "unchanged since run "+sameAs
		n.Started, n.Finished, n.Error, n.ExitStatus = r.Started, r.Finished, "", 0
	}
	return nodes, nil
}
