package track

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pcamflow/pcamflow/internal/state"
)

// Run is one invocation of a pipeline.
type Run struct {
	// ID identifies the run; see NewRunID.
	ID string `json:"id"`
	// Pipeline is the pipeline's name and File the pipeline file it was loaded from.
	Pipeline string `json:"pipeline"`
	File     string `json:"file"`
	// Args are the command-line arguments of the invocation.
	Args []string `json:"args"`
	// Host and PID identify the runner process; MarkInterrupted uses them to detect dead runs.
	Host string `json:"host"`
	PID  int    `json:"pid"`
	// Started and Finished bound the run; Finished is zero while running and for interrupted runs.
	Started  time.Time `json:"started,omitzero"`
	Finished time.Time `json:"finished,omitzero"`
	// Status is RunRunning, RunSucceeded, RunFailed or RunInterrupted.
	Status state.Run `json:"status"`
}

// NewRunID returns a new run ID: the UTC second of now and 6 random hex digits, for example
// "20261127T073001Z-3fa9c2". IDs sort by start second and are unique across processes (a clash
// needs the same second and the same 24 random bits).
func NewRunID(now time.Time) string {
	var b [3]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never returns an error
	return now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}

// BeginRun records the start of run r. r.ID must be non-empty and unused; an empty Status means
// RunRunning and a zero Started means now.
func (db *DB) BeginRun(r Run) error {
	if r.ID == "" {
		return errors.New("track: begin run: empty run id")
	}
	if r.Status == "" {
		r.Status = RunRunning
	}
	if !validRunStatus(r.Status) {
		return fmt.Errorf("track: begin run %s: unknown status %q", r.ID, r.Status)
	}
	if r.Started.IsZero() {
		r.Started = time.Now()
	}
	args, err := json.Marshal(nonNil(r.Args))
	if err != nil {
		return fmt.Errorf("track: begin run %s: encode args: %w", r.ID, err)
	}
	_, err = db.sql.Exec(`INSERT INTO runs (id, pipeline, file, args, host, pid, started, finished, status)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID, r.Pipeline, r.File, string(args), r.Host, r.PID, encodeTime(r.Started), encodeTime(r.Finished), r.Status)
	if err != nil {
		return fmt.Errorf("track: begin run %s: %w", r.ID, err)
	}
	return nil
}

// nonNil returns s, or an empty slice when s is nil, so that it encodes as [] rather than null.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// FinishRun records the end of run id with status RunSucceeded, RunFailed or RunInterrupted. It
// fails with ErrNotFound when the run does not exist.
func (db *DB) FinishRun(id string, status state.Run, finished time.Time) error {
	if !validRunStatus(status) || status == RunRunning {
		return fmt.Errorf("track: finish run %s: status %q is not a final status (succeeded, failed, interrupted)", id, status)
	}
	res, err := db.sql.Exec(`UPDATE runs SET status = ?, finished = ? WHERE id = ?`, status, encodeTime(finished), id)
	if err != nil {
		return fmt.Errorf("track: finish run %s: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return fmt.Errorf("track: finish run %s: run %w", id, ErrNotFound)
	}
	return nil
}

const runColumns = `id, pipeline, file, args, host, pid, started, finished, status`

// scanRun reads one row of runColumns.
func scanRun(row interface{ Scan(...any) error }) (Run, error) {
	var r Run
	var args string
	var started, finished sql.NullString
	if err := row.Scan(&r.ID, &r.Pipeline, &r.File, &args, &r.Host, &r.PID, &started, &finished, &r.Status); err != nil {
		return Run{}, err
	}
	if err := json.Unmarshal([]byte(args), &r.Args); err != nil {
		return Run{}, fmt.Errorf("run %s: stored args %q: %w", r.ID, args, err)
	}
	var err error
	if r.Started, err = decodeTime(started); err != nil {
		return Run{}, fmt.Errorf("run %s: %w", r.ID, err)
	}
	if r.Finished, err = decodeTime(finished); err != nil {
		return Run{}, fmt.Errorf("run %s: %w", r.ID, err)
	}
	return r, nil
}

// queryRuns runs a SELECT of runColumns and collects the rows.
func (db *DB) queryRuns(query string, args ...any) ([]Run, error) {
	rows, err := db.sql.Query(query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var runs []Run
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, err
		}
		runs = append(runs, r)
	}
	return runs, rows.Err()
}

// ListRuns returns up to limit runs, newest first (by start time, then ID). A limit <= 0 returns
// every run.
func (db *DB) ListRuns(limit int) ([]Run, error) {
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	runs, err := db.queryRuns(`SELECT `+runColumns+` FROM runs ORDER BY started DESC, id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("track: list runs: %w", err)
	}
	return runs, nil
}

// LastRun returns the newest run of the named pipeline (any pipeline when pipeline is "") and its
// node runs in the order they were recorded. It returns a nil run and no error when there is none.
func (db *DB) LastRun(pipeline string) (*Run, []NodeRun, error) {
	runs, err := db.queryRuns(`SELECT `+runColumns+` FROM runs WHERE ?1 = '' OR pipeline = ?1
		ORDER BY started DESC, id DESC LIMIT 1`, pipeline)
	if err != nil {
		return nil, nil, fmt.Errorf("track: last run of pipeline %q: %w", pipeline, err)
	}
	if len(runs) == 0 {
		return nil, nil, nil
	}
	return db.withNodes(runs[0])
}

// GetRun returns the run whose ID is id or, failing that, the only run whose ID starts with id,
// with its node runs in the order they were recorded. It fails with ErrNotFound when no run
// matches and with ErrAmbiguous (naming the candidates) when several do.
func (db *DB) GetRun(id string) (*Run, []NodeRun, error) {
	if id == "" {
		return nil, nil, errors.New("track: get run: empty run id")
	}
	runs, err := db.queryRuns(`SELECT `+runColumns+` FROM runs WHERE id = ?`, id)
	if err == nil && len(runs) == 0 {
		runs, err = db.queryRuns(`SELECT `+runColumns+` FROM runs WHERE substr(id, 1, length(?1)) = ?1
			ORDER BY id LIMIT 11`, id)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("track: get run %s: %w", id, err)
	}
	switch len(runs) {
	case 0:
		return nil, nil, fmt.Errorf("track: get run %s: no run with this id or prefix: %w", id, ErrNotFound)
	case 1:
		return db.withNodes(runs[0])
	}
	ids := make([]string, 0, len(runs))
	for _, r := range runs[:min(len(runs), 10)] {
		ids = append(ids, r.ID)
	}
	more := ""
	if len(runs) > 10 {
		more = ", ..."
	}
	return nil, nil, fmt.Errorf("track: get run %s: %w: matches %s%s; give more characters",
		id, ErrAmbiguous, strings.Join(ids, ", "), more)
}

// withNodes loads the node runs of r; for a no-op run (RecordNoop), the nodes of the run it repeated,
// presented as cached in r.
func (db *DB) withNodes(r Run) (*Run, []NodeRun, error) {
	nodes, err := db.queryNodes(`SELECT `+nodeColumns+` FROM node_runs WHERE run_id = ? ORDER BY id`, r.ID)
	if err != nil {
		return nil, nil, fmt.Errorf("track: node runs of run %s: %w", r.ID, err)
	}
	if len(nodes) == 0 {
		if nodes, err = db.noopNodes(r); err != nil {
			return nil, nil, err
		}
	}
	return &r, nodes, nil
}
