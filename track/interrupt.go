package track

import (
	"database/sql"
	"errors"
	"fmt"
	"os"
	"syscall"
)

// MarkInterrupted finds runs left RunRunning by a process that no longer exists and marks them
// RunInterrupted, together with their NodeRunning node runs (whose Error is set when empty). It
// returns the number of runs marked.
//
// A run is considered dead when isAlive(run.Host, run.PID) is false and none of its running node
// runs has a JobID: a node submitted to Slurm lives on after the runner exits (detached mode), so
// such runs are left alone until those nodes are reconciled (IngestNodeFile, or UpdateNode after
// squeue no longer lists the job). isAlive must answer true when it cannot tell, for example for
// another host; ProcessAlive does. The check of each run and its update are one transaction, so a
// run that finishes meanwhile is not touched.
func (db *DB) MarkInterrupted(isAlive func(host string, pid int) bool) (int, error) {
	runs, err := db.queryRuns(`SELECT ` + runColumns + ` FROM runs WHERE status = 'running' ORDER BY id`)
	if err != nil {
		return 0, fmt.Errorf("track: mark interrupted: list running runs: %w", err)
	}
	marked := 0
	for _, r := range runs {
		if isAlive(r.Host, r.PID) {
			continue
		}
		var done bool
		err := db.inTx(func(tx *sql.Tx) error {
			var err error
			done, err = interruptRun(tx, r.ID)
			return err
		})
		if err != nil {
			return marked, fmt.Errorf("track: mark run %s interrupted: %w", r.ID, err)
		}
		if done {
			marked++
		}
	}
	return marked, nil
}

// interruptRun marks run id and its running nodes interrupted unless the run is no longer running or
// has a running Slurm node. It reports whether it marked the run.
func interruptRun(tx *sql.Tx, id string) (bool, error) {
	var slurmRunning int
	err := tx.QueryRow(`SELECT COUNT(*) FROM node_runs WHERE run_id = ? AND state = 'running' AND job_id != ''`,
		id).Scan(&slurmRunning)
	if err != nil || slurmRunning > 0 {
		return false, err
	}
	res, err := tx.Exec(`UPDATE runs SET status = 'interrupted' WHERE id = ? AND status = 'running'`, id)
	if err != nil {
		return false, err
	}
	if k, err := res.RowsAffected(); err != nil || k == 0 {
		return false, err
	}
	_, err = tx.Exec(`UPDATE node_runs SET state = 'interrupted',
		error = CASE WHEN error = '' THEN 'the runner process exited while the node was running' ELSE error END
		WHERE run_id = ? AND state = 'running'`, id)
	return err == nil, err
}

// ProcessAlive reports whether process pid may still be running on host. For another host than
// this one (os.Hostname) it cannot tell and returns true; on this host it sends signal 0, so a
// process owned by another user counts as alive. A pid <= 0 is dead. A recycled pid makes a dead
// runner look alive, which only delays the marking.
func ProcessAlive(host string, pid int) bool {
	if self, err := os.Hostname(); err != nil || host != self {
		return true
	}
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
