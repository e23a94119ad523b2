package track

import (
	"bytes"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/pcamflow/pcamflow/internal/atomicfile"
)

// NodeFileFormat identifies the format of node result files; IngestNodeFile refuses other values.
const NodeFileFormat = "pcamflow-node-run/1"

// nodeFile is the JSON content of a node result file.
type nodeFile struct {
	Format  string      `json:"format"`
	NodeRun *NodeRun    `json:"node_run"`
	Metrics []MetricRow `json:"metrics,omitempty"`
}

// WriteNodeFile writes node run n and its metrics as a result file at path, for a compute node
// that must not open the database. The write is atomic: a temporary file in the same directory is
// written, synced and renamed over path, and the directory is synced, so a reader sees the old file
// or the complete new one. n must have RunID, Node and a valid State; n.ID may be the ID from
// StartNode (IngestNodeFile then updates that row) or 0 (IngestNodeFile inserts a row).
func WriteNodeFile(path string, n *NodeRun, metrics []MetricRow) error {
	if n == nil {
		return fmt.Errorf("track: write node file %s: nil node run", path)
	}
	if err := n.check(); err != nil {
		return fmt.Errorf("track: write node file %s: %w", path, err)
	}
	data, err := json.MarshalIndent(nodeFile{Format: NodeFileFormat, NodeRun: n, Metrics: metrics}, "", "  ")
	if err != nil {
		return fmt.Errorf("track: write node file %s: encode: %w", path, err)
	}
	if err := atomicfile.WriteExisting(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("track: write node file %s: %w", path, err)
	}
	return nil
}

// readNodeFile reads and validates a node result file, returning it and the hex SHA-256 of its bytes.
func readNodeFile(path string) (nodeFile, string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nodeFile{}, "", err
	}
	var f nodeFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nodeFile{}, "", fmt.Errorf("not a valid node result file (truncated or corrupt JSON?): %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nodeFile{}, "", errors.New("not a valid node result file: data after the JSON object")
	}
	if f.Format != NodeFileFormat {
		return nodeFile{}, "", fmt.Errorf("format %q, want %q", f.Format, NodeFileFormat)
	}
	if f.NodeRun == nil {
		return nodeFile{}, "", errors.New("no node_run object")
	}
	if err := f.NodeRun.check(); err != nil {
		return nodeFile{}, "", err
	}
	if f.NodeRun.ID < 0 {
		return nodeFile{}, "", fmt.Errorf("negative node run id %d", f.NodeRun.ID)
	}
	sum := sha256.Sum256(data)
	return f, hex.EncodeToString(sum[:]), nil
}

// IngestNodeFile loads a result file written by WriteNodeFile into the store and returns the stored
// node run. When the file's node run has an ID (from StartNode), that row is updated (it must exist
// and belong to the same run and node); otherwise a row is inserted. Its metrics are upserted. The
// file's SHA-256 is recorded, and ingesting a file with the same content again changes nothing and
// returns the stored row, so the runner may ingest every file it finds on each pass. The run must
// exist. A missing, corrupt or invalid file is an error naming the file.
func (db *DB) IngestNodeFile(path string) (*NodeRun, error) {
	f, key, err := readNodeFile(path)
	if err != nil {
		return nil, fmt.Errorf("track: ingest node file %s: %w", path, err)
	}
	var id int64
	err = db.inTx(func(tx *sql.Tx) error {
		var err error
		id, err = db.ingest(tx, f, key)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("track: ingest node file %s: %w", path, err)
	}
	n, err := db.GetNode(id)
	if err != nil {
		return nil, fmt.Errorf("track: ingest node file %s: %w", path, err)
	}
	return n, nil
}

// ingest applies a decoded node file with content hash key inside tx and returns the node run ID.
func (db *DB) ingest(tx *sql.Tx, f nodeFile, key string) (int64, error) {
	var id int64
	err := tx.QueryRow(`SELECT id FROM node_runs WHERE ingest_key = ?`, key).Scan(&id)
	if err == nil {
		return id, nil // already ingested
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, err
	}
	n := f.NodeRun
	if n.ID == 0 {
		if id, err = insertNode(tx, n, key); err != nil {
			return 0, err
		}
	} else {
		if err := checkSameNode(tx, n); err != nil {
			return 0, err
		}
		if err := updateNode(tx, n, key); err != nil {
			return 0, err
		}
		id = n.ID
	}
	return id, putMetrics(tx, db.putMetric, id, f.Metrics)
}

// checkSameNode verifies that stored node run n.ID belongs to n's run and node.
func checkSameNode(tx *sql.Tx, n *NodeRun) error {
	stored, err := queryNodesOn(tx, `SELECT `+nodeColumns+` FROM node_runs WHERE id = ?`, n.ID)
	if err != nil {
		return err
	}
	if len(stored) == 0 {
		return fmt.Errorf("node run %d %w", n.ID, ErrNotFound)
	}
	if s := stored[0]; s.RunID != n.RunID || s.Node != n.Node {
		return fmt.Errorf("node run %d is %s of run %s in the database but %s of run %s in the file",
			n.ID, s.Node, s.RunID, n.Node, n.RunID)
	}
	return nil
}
