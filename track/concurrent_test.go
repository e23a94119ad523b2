package track

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

// Environment of the writer helper process (see TestMain).
const (
	helperEnv      = "TRACK_TEST_WRITER" // the writer's name; set only in helper processes
	helperDBEnv    = "TRACK_TEST_DB"
	helperNodesEnv = "TRACK_TEST_NODES"
	helperSyncEnv  = "TRACK_TEST_SYNC_DIR"
)

// runWriterHelper is the body of a writer process: open the store (racing the other writer to create
// it), signal ready, wait for the start signal, then write one run with many node runs and metrics,
// reading in between.
func runWriterHelper() error {
	name, path, syncDir := os.Getenv(helperEnv), os.Getenv(helperDBEnv), os.Getenv(helperSyncEnv)
	nodes, err := strconv.Atoi(os.Getenv(helperNodesEnv))
	if err != nil {
		return err
	}
	db, err := Open(path)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := os.WriteFile(filepath.Join(syncDir, "ready-"+name), nil, 0o644); err != nil {
		return err
	}
	if err := waitForFile(filepath.Join(syncDir, "go"), 30*time.Second); err != nil {
		return err
	}
	return writeRun(db, "run-"+name, nodes)
}

// writeRun records run id with n node runs, each started, given two metric steps and finished, plus
// one cached node run per ten, ingested from a node file (a read-then-write transaction), reading
// the run list as it goes.
func writeRun(db *DB, id string, n int) error {
	dir, err := os.MkdirTemp(filepath.Dir(db.Path()), "nodefiles-")
	if err != nil {
		return err
	}
	if err := db.BeginRun(Run{ID: id, Pipeline: "concurrent", Host: "h", PID: os.Getpid()}); err != nil {
		return err
	}
	for i := range n {
		node := &NodeRun{RunID: id, Node: fmt.Sprintf("train.n%d", i), Kind: "train", Key: "k"}
		if err := db.StartNode(node); err != nil {
			return err
		}
		for step := range 2 {
			if err := db.LogMetrics(node.ID, step, map[string]float64{"loss": float64(i), "auc": 0.5}); err != nil {
				return err
			}
		}
		node.State = NodeSucceeded
		if err := db.FinishNode(node); err != nil {
			return err
		}
		if i%10 == 0 {
			file := filepath.Join(dir, fmt.Sprintf("cached-%d.json", i))
			if err := WriteNodeFile(file, &NodeRun{RunID: id, Node: "cached", State: NodeCached, Key: file}, nil); err != nil {
				return err
			}
			if _, err := db.IngestNodeFile(file); err != nil {
				return err
			}
			if _, err := db.ListRuns(5); err != nil {
				return err
			}
		}
	}
	return db.FinishRun(id, RunSucceeded, time.Now())
}

// waitForFile polls until path exists.
func waitForFile(path string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		if _, err := os.Stat(path); err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out waiting for %s", path)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// TestConcurrentProcesses runs two writer processes against one new database at the same time:
// both create the schema, then each does several hundred write transactions. None may fail
// ("database is locked") and every row must be present.
func TestConcurrentProcesses(t *testing.T) {
	nodes := 150 // per writer: 150·4 + 15 + 2 = 617 write transactions
	if testing.Short() {
		nodes = 40
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "shared.db")
	names := []string{"a", "b"}
	cmds := make([]*exec.Cmd, len(names))
	outs := make([]*lockedBuffer, len(names))
	for i, name := range names {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), helperEnv+"="+name, helperDBEnv+"="+path,
			helperNodesEnv+"="+strconv.Itoa(nodes), helperSyncEnv+"="+dir)
		outs[i] = &lockedBuffer{}
		cmd.Stdout, cmd.Stderr = outs[i], outs[i]
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds[i] = cmd
	}
	for _, name := range names {
		if err := waitForFile(filepath.Join(dir, "ready-"+name), 60*time.Second); err != nil {
			t.Error(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("writer %s: %v\n%s", names[i], err, outs[i].String())
		}
	}
	if t.Failed() {
		return
	}
	checkConcurrentRows(t, path, names, nodes)
}

// checkConcurrentRows verifies that every writer's rows are present and the file is intact.
func checkConcurrentRows(t *testing.T, path string, names []string, nodes int) {
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, name := range names {
		run, nrs, err := db.GetRun("run-" + name)
		if err != nil {
			t.Fatal(err)
		}
		wantNodes := nodes + (nodes+9)/10
		if run.Status != RunSucceeded || len(nrs) != wantNodes {
			t.Errorf("run %s: status %s with %d node runs, want succeeded with %d", name, run.Status, len(nrs), wantNodes)
		}
		for _, n := range nrs {
			if n.Node == "cached" {
				continue
			}
			if m, err := db.Metrics(n.ID); err != nil || len(m) != 4 || n.State != NodeSucceeded {
				t.Fatalf("run %s node %s: state %s, %d metric rows (%v), want succeeded with 4", name, n.Node, n.State, len(m), err)
			}
		}
	}
	var check string
	if err := db.sql.QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Errorf("integrity_check: %q, %v", check, err)
	}
}

// TestConcurrentGoroutines writes from several goroutines through one DB.
func TestConcurrentGoroutines(t *testing.T) {
	db := openTemp(t)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for g := range 4 {
		wg.Go(func() {
			if err := writeRun(db, fmt.Sprintf("g%d", g), 25); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	runs, err := db.ListRuns(0)
	if err != nil || len(runs) != 4 {
		t.Errorf("got %d runs (%v), want 4", len(runs), err)
	}
}

// lockedBuffer collects a child process's output.
type lockedBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	return len(p), nil
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}
