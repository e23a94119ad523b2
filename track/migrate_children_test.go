package track

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

// TestMigrationChildrenKeepsData opens a database written at schema version 2 (runs, node runs
// with metrics, a no-op run), migrates it to version 3, and checks that every row and metric is
// still there with the same ids, that old node runs have no parent, and that child node runs and
// the pruned state can be stored.
func TestMigrationChildrenKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "track.db")
	raw, err := sql.Open("sqlite3", path+"?_foreign_keys=1&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	if err := migrate(raw, migrations[:2]); err != nil {
		t.Fatalf("creating a version-2 database: %v", err)
	}
	now := encodeTime(time.Now())
	for _, q := range []string{
		`INSERT INTO runs VALUES ('r1', 'p', 'p.hcl', '[]', 'h', 1, '` + fmt.Sprint(now) + `', NULL, 'succeeded')`,
		`INSERT INTO node_runs (id, run_id, node, kind, key, state, reason, exit_status, host, log_path, error, executor, job_id)
			VALUES (7, 'r1', 'train.mlp', 'train', 'k', 'succeeded', '', 0, 'h', '', '', 'local', '')`,
		`INSERT INTO metrics VALUES (7, 1, 'val_loss', 0.5), (7, 2, 'val_loss', NULL)`,
		`INSERT INTO runs VALUES ('r2', 'p', 'p.hcl', '[]', 'h', 1, '` + fmt.Sprint(now) + `', NULL, 'succeeded')`,
		`INSERT INTO noop_runs VALUES ('r2', 'r1')`,
	} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	raw.Close()

	db, err := Open(path)
	if err != nil {
		t.Fatalf("migrating to version 3: %v", err)
	}
	defer db.Close()
	n, err := db.GetNode(7)
	if err != nil || n.Node != "train.mlp" || n.Parent != "" {
		t.Fatalf("node run 7 after the migration: %+v %v", n, err)
	}
	m, err := db.Metrics(7)
	if err != nil || len(m) != 2 || m[0].Value != 0.5 {
		t.Errorf("metrics of node run 7 after the migration: %v %v", m, err)
	}
	if _, nodes, err := db.GetRun("r2"); err != nil || len(nodes) != 1 {
		t.Errorf("no-op run after the migration: %v %v", nodes, err)
	}
	child := &NodeRun{RunID: "r1", Node: `sweep.hpo.trial["0a1b2c3d"]`, Kind: "train", State: NodeSucceeded, Parent: "sweep.hpo"}
	if err := db.InsertNode(child); err != nil {
		t.Fatal(err)
	}
	child.State, child.Reason = NodePruned, "stopped at rung 1"
	if err := db.UpdateNode(child); err != nil {
		t.Fatalf("pruned state: %v", err)
	}
	got, _ := db.GetNode(child.ID)
	if got.Parent != "sweep.hpo" || got.State != NodePruned || got.Reason != "stopped at rung 1" {
		t.Errorf("child after a round trip: %+v", got)
	}
	// Deleting the run still cascades to its node runs and their metrics.
	if _, err := db.sql.Exec(`DELETE FROM runs WHERE id = 'r1'`); err != nil {
		t.Fatal(err)
	}
	var left int
	if err := db.sql.QueryRow(`SELECT COUNT(*) FROM metrics`).Scan(&left); err != nil || left != 0 {
		t.Errorf("%d metric rows survive their run (%v)", left, err)
	}
}
