package track

import "fmt"

// RunningSlurmNodes returns the node runs still marked running on Slurm (with a job id), of runs of
// the given pipeline ("" = any), oldest first. The runner uses them to avoid submitting a node
// twice and `status` to reconcile detached runs.
func (db *DB) RunningSlurmNodes(pipeline string) ([]NodeRun, error) {
	q := `SELECT ` + nodeColumns + ` FROM node_runs
		WHERE state = ? AND executor = 'slurm' AND job_id <> ''
		AND run_id IN (SELECT id FROM runs WHERE ? = '' OR pipeline = ?)
		ORDER BY id`
	nodes, err := db.queryNodes(q, NodeRunning, pipeline, pipeline)
	if err != nil {
		return nil, fmt.Errorf("track: running slurm nodes: %w", err)
	}
	return nodes, nil
}

// RunNodesRunning counts the node runs of run id that are still running.
func (db *DB) RunNodesRunning(id string) (int, error) {
	var n int
	if err := db.sql.QueryRow(`SELECT COUNT(*) FROM node_runs WHERE run_id = ? AND state = ?`, id, NodeRunning).Scan(&n); err != nil {
		return 0, fmt.Errorf("track: counting running nodes of run %s: %w", id, err)
	}
	return n, nil
}
