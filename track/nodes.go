package track

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/pcamflow/pcamflow/internal/state"
)

// NodeRun is one execution (or cache hit, or skip) of one pipeline node within a run.
type NodeRun struct {
	// ID is assigned by the store (StartNode, InsertNode, IngestNodeFile).
	ID int64 `json:"id,omitempty"`
	// RunID is the run this execution belongs to; the run must exist.
	RunID string `json:"run_id"`
	// Node is the node's address ("train.mlp"), Kind its stage kind and Key its cache key.
	Node string `json:"node"`
	Kind string `json:"kind"`
	Key  string `json:"key"`
	// State is one of the Node* constants; Reason says why the node ran or was skipped.
	State  state.Node `json:"state"`
	Reason string     `json:"reason,omitempty"`
	// Params is the resolved configuration as JSON (may be empty).
	Params json.RawMessage `json:"params,omitempty"`
	// Started and Finished bound the execution; zero when unknown.
	Started  time.Time `json:"started,omitzero"`
	Finished time.Time `json:"finished,omitzero"`
	// ExitStatus is the process or job exit status (0 on success).
	ExitStatus int `json:"exit_status"`
	// Host is where the node executed and LogPath its log file.
	Host    string `json:"host,omitempty"`
	LogPath string `json:"log_path,omitempty"`
	// Outputs is the node's outputs (names to digests) as JSON (may be empty).
	Outputs json.RawMessage `json:"outputs,omitempty"`
	// Error is the failure message, empty on success.
	Error string `json:"error,omitempty"`
	// Executor is state.Local or state.Slurm; JobID is the Slurm job ID ("1234" or "1234_5") when any.
	Executor state.Executor `json:"executor,omitempty"`
	JobID    string         `json:"job_id,omitempty"`
	// Parent is the address of the node that ran this one as a child (a sweep's trial, DESIGN.md
	// §7), "" for an ordinary node of the pipeline.
	Parent string `json:"parent,omitempty"`
}

const nodeColumns = `id, run_id, node, kind, key, state, reason, params, started, finished, exit_status,
	host, log_path, outputs, error, executor, job_id, parent`

// check validates the fields every stored node run needs.
func (n *NodeRun) check() error {
	if n.RunID == "" || n.Node == "" {
		return fmt.Errorf("node run %q of run %q: run id and node must be non-empty", n.Node, n.RunID)
	}
	if !validNodeState(n.State) {
		return fmt.Errorf("node run %s of run %s: unknown state %q", n.Node, n.RunID, n.State)
	}
	if len(n.Params) > 0 && !json.Valid(n.Params) {
		return fmt.Errorf("node run %s of run %s: params is not valid JSON", n.Node, n.RunID)
	}
	if len(n.Outputs) > 0 && !json.Valid(n.Outputs) {
		return fmt.Errorf("node run %s of run %s: outputs is not valid JSON", n.Node, n.RunID)
	}
	return nil
}

// rawOrNil returns the stored form of a JSON field: NULL when empty.
func rawOrNil(raw json.RawMessage) any {
	if len(raw) == 0 {
		return nil
	}
	return string(raw)
}

// StartNode records that node n.Node of run n.RunID has started and sets n.ID. An empty State means
// NodeRunning (any other state is an error: use InsertNode) and a zero Started means now.
func (db *DB) StartNode(n *NodeRun) error {
	if n.State == "" {
		n.State = NodeRunning
	}
	if n.State != NodeRunning {
		return fmt.Errorf("track: start node %s: state %q: a started node is %q (use InsertNode for finished ones)", n.Node, n.State, NodeRunning)
	}
	if n.Started.IsZero() {
		n.Started = time.Now()
	}
	return db.InsertNode(n)
}

// InsertNode records a node run in one step (typically NodeCached or NodeSkipped, whose start and
// end coincide) and sets n.ID. RunID, Node and a valid State are required; the run must exist.
func (db *DB) InsertNode(n *NodeRun) error {
	if err := n.check(); err != nil {
		return fmt.Errorf("track: insert %w", err)
	}
	var id int64
	err := db.inTx(func(tx *sql.Tx) error {
		var err error
		id, err = insertNode(tx, n, nil)
		return err
	})
	if err != nil {
		return fmt.Errorf("track: insert node run %s of run %s: %w", n.Node, n.RunID, err)
	}
	n.ID = id
	return nil
}

// insertNode inserts n (ignoring n.ID) with the given ingest key and returns the new row's ID.
func insertNode(tx *sql.Tx, n *NodeRun, ingestKey any) (int64, error) {
	res, err := tx.Exec(insertNodeSQL, insertNodeArgs(n, ingestKey)...)
	if err != nil {
		if exists, qerr := runExists(tx, n.RunID); qerr == nil && !exists {
			return 0, fmt.Errorf("run %s %w: begin the run first", n.RunID, ErrNotFound)
		}
		return 0, err
	}
	return res.LastInsertId()
}

// runExists reports whether run id is recorded.
func runExists(tx *sql.Tx, id string) (bool, error) {
	var one int
	err := tx.QueryRow(`SELECT 1 FROM runs WHERE id = ?`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// FinishNode records the end of node run n.ID: n.State must be final (not NodeRunning); a zero
// Finished means now. It stores the mutable fields like UpdateNode.
func (db *DB) FinishNode(n *NodeRun) error {
	if n.State == NodeRunning {
		return fmt.Errorf("track: finish node run %d (%s): state %q is not final", n.ID, n.Node, n.State)
	}
	if n.Finished.IsZero() {
		n.Finished = time.Now()
	}
	return db.UpdateNode(n)
}

// UpdateNode stores the mutable fields of node run n.ID: key, state, reason, params, finished, exit
// status, host, log path, outputs, error, executor and job ID (for example the Slurm job ID once
// known). RunID, Node, Kind and Started are fixed at insertion and ignored. It fails with
// ErrNotFound when n.ID does not exist.
func (db *DB) UpdateNode(n *NodeRun) error {
	if n.ID == 0 {
		return fmt.Errorf("track: update node run %s: zero id (start or insert it first)", n.Node)
	}
	if err := n.check(); err != nil {
		return fmt.Errorf("track: update %w", err)
	}
	err := db.inTx(func(tx *sql.Tx) error { return updateNode(tx, n, nil) })
	if err != nil {
		return fmt.Errorf("track: update node run %d (%s): %w", n.ID, n.Node, err)
	}
	return nil
}

// updateNode writes the mutable fields of n and, when non-nil, its ingest key.
func updateNode(tx *sql.Tx, n *NodeRun, ingestKey any) error {
	res, err := tx.Exec(`UPDATE node_runs SET key = ?, state = ?, reason = ?, params = ?, finished = ?,
		exit_status = ?, host = ?, log_path = ?, outputs = ?, error = ?, executor = ?, job_id = ?,
		ingest_key = COALESCE(?, ingest_key) WHERE id = ?`,
		n.Key, n.State, n.Reason, rawOrNil(n.Params), encodeTime(n.Finished), n.ExitStatus, n.Host,
		n.LogPath, rawOrNil(n.Outputs), n.Error, n.Executor, n.JobID, ingestKey, n.ID)
	if err != nil {
		return err
	}
	if k, err := res.RowsAffected(); err != nil || k == 0 {
		return fmt.Errorf("node run %d %w", n.ID, ErrNotFound)
	}
	return nil
}

// GetNode returns node run id. It fails with ErrNotFound when it does not exist.
func (db *DB) GetNode(id int64) (*NodeRun, error) {
	nodes, err := db.queryNodes(`SELECT `+nodeColumns+` FROM node_runs WHERE id = ?`, id)
	if err != nil {
		return nil, fmt.Errorf("track: get node run %d: %w", id, err)
	}
	if len(nodes) == 0 {
		return nil, fmt.Errorf("track: get node run %d: %w", id, ErrNotFound)
	}
	return &nodes[0], nil
}

// NodeHistory returns the most recent executions of node (by address), newest first, up to limit
// (every one when limit <= 0). The planner uses it to explain why a node's cache key changed.
func (db *DB) NodeHistory(node string, limit int) ([]NodeRun, error) {
	if limit <= 0 {
		limit = -1
	}
	nodes, err := db.queryNodes(`SELECT `+nodeColumns+` FROM node_runs WHERE node = ? ORDER BY id DESC LIMIT ?`, node, limit)
	if err != nil {
		return nil, fmt.Errorf("track: history of node %s: %w", node, err)
	}
	return nodes, nil
}

// queryNodes runs a SELECT of nodeColumns and collects the rows.
func (db *DB) queryNodes(query string, args ...any) ([]NodeRun, error) {
	return queryNodesOn(db.sql, query, args...)
}

// queryer is implemented by *sql.DB and *sql.Tx.
type queryer interface {
	Query(query string, args ...any) (*sql.Rows, error)
}

// queryNodesOn runs a SELECT of nodeColumns on q and collects the rows.
func queryNodesOn(q queryer, query string, args ...any) ([]NodeRun, error) {
	rows, err := q.Query(query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var nodes []NodeRun
	for rows.Next() {
		n, err := scanNode(rows)
		if err != nil {
			return nil, err
		}
		nodes = append(nodes, n)
	}
	return nodes, rows.Err()
}

// scanNode reads one row of nodeColumns.
func scanNode(row interface{ Scan(...any) error }) (NodeRun, error) {
	var n NodeRun
	var params, outputs, started, finished sql.NullString
	err := row.Scan(&n.ID, &n.RunID, &n.Node, &n.Kind, &n.Key, &n.State, &n.Reason, &params, &started, &finished,
		&n.ExitStatus, &n.Host, &n.LogPath, &outputs, &n.Error, &n.Executor, &n.JobID, &n.Parent)
	if err != nil {
		return NodeRun{}, err
	}
	if params.Valid {
		n.Params = json.RawMessage(params.String)
	}
	if outputs.Valid {
		n.Outputs = json.RawMessage(outputs.String)
	}
	if n.Started, err = decodeTime(started); err != nil {
		return NodeRun{}, fmt.Errorf("node run %d: %w", n.ID, err)
	}
	if n.Finished, err = decodeTime(finished); err != nil {
		return NodeRun{}, fmt.Errorf("node run %d: %w", n.ID, err)
	}
	return n, nil
}
