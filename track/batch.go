package track

import (
	"database/sql"
	"fmt"
)

// InsertNodes records many one-step node runs (cached, skipped) in a single transaction, so a run of
// thousands of cached nodes costs one commit, and sets each n.ID. It writes nothing if any row is
// invalid or fails.
func (db *DB) InsertNodes(nodes []*NodeRun) error {
	for _, n := range nodes {
		if err := n.check(); err != nil {
			return fmt.Errorf("track: insert %w", err)
		}
	}
	ids := make([]int64, len(nodes))
	err := db.inTx(func(tx *sql.Tx) error {
		stmt, err := tx.Prepare(insertNodeSQL)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for i, n := range nodes {
			res, err := stmt.Exec(insertNodeArgs(n, nil)...)
			if err != nil {
				if exists, qerr := runExists(tx, n.RunID); qerr == nil && !exists {
					return fmt.Errorf("run %s %w: begin the run first", n.RunID, ErrNotFound)
				}
				return fmt.Errorf("node run %s of run %s: %w", n.Node, n.RunID, err)
			}
			if ids[i], err = res.LastInsertId(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("track: insert %d node runs: %w", len(nodes), err)
	}
	for i, n := range nodes {
		n.ID = ids[i]
	}
	return nil
}

// insertNodeSQL inserts one node run; insertNodeArgs gives its arguments.
const insertNodeSQL = `INSERT INTO node_runs (run_id, node, kind, key, state, reason, params, started, finished,
		exit_status, host, log_path, outputs, error, executor, job_id, ingest_key, parent)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// insertNodeArgs returns the arguments of insertNodeSQL for n.
func insertNodeArgs(n *NodeRun, ingestKey any) []any {
	return []any{n.RunID, n.Node, n.Kind, n.Key, n.State, n.Reason, rawOrNil(n.Params), encodeTime(n.Started),
		encodeTime(n.Finished), n.ExitStatus, n.Host, n.LogPath, rawOrNil(n.Outputs), n.Error, n.Executor,
		n.JobID, ingestKey, n.Parent}
}
