package runner

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/pcamflow/pcamflow/cache"
	"github.com/pcamflow/pcamflow/internal/state"
	"github.com/pcamflow/pcamflow/pipelines"
	"github.com/pcamflow/pcamflow/stages"
	"github.com/pcamflow/pcamflow/track"
)

// recorder turns node outcomes into tracking records, in one place: executions started and
// finished locally, Slurm jobs submitted, result files of Slurm jobs ingested, cache hits, skipped
// and interrupted nodes, children of dynamic nodes and their pruning. With no tracker it records
// nothing (plan, verify). Compute nodes never use a tracker: they write result files (resultRow,
// WriteResult), which a recorder ingests on the login node.
type recorder struct {
	db    Tracker // nil: nothing is recorded
	runID string
	out   io.Writer // warnings

	mu    sync.Mutex
	queue []*track.NodeRun // one-step rows (cached, skipped, not started), written in one transaction
}

func newRecorder(db Tracker, runID string, out io.Writer) *recorder {
	return &recorder{db: noTracker(db), runID: runID, out: out}
}

func (rc *recorder) warn(format string, a ...any) {
	fmt.Fprintf(rc.out, "warning: "+format+"\n", a...)
}

// beginRun records the start of the run.
func (rc *recorder) beginRun(p *pipelines.Pipeline, args []string, started time.Time) error {
	if rc.db == nil {
		return nil
	}
	run := track.Run{ID: rc.runID, Pipeline: p.Name, File: p.File, Args: args, Host: hostname(), PID: pidOf(),
		Started: started, Status: state.RunRunning}
	if err := rc.db.BeginRun(run); err != nil {
		return fmt.Errorf("recording the run: %w", err)
	}
	return nil
}

// finishRun records the end of the run.
func (rc *recorder) finishRun(status state.Run) error {
	if rc.db == nil {
		return nil
	}
	if err := rc.db.FinishRun(rc.runID, status, time.Now()); err != nil {
		return fmt.Errorf("recording the end of the run: %w", err)
	}
	return nil
}

// row is the common part of every node run of n (n may be nil for a node that failed before its
// configuration could be evaluated).
func (rc *recorder) row(node *pipelines.Node, n *prepared, st state.Node, ex state.Executor) *track.NodeRun {
	nr := &track.NodeRun{RunID: rc.runID, Node: node.Addr, Kind: node.Stage.Kind.Name(), State: st, Started: time.Now(),
		Host: hostname(), Executor: ex}
	if n != nil {
		nr.Node, nr.Key, nr.Params, nr.Parent = n.addr(), n.key, paramsJSON(n), n.parent
	}
	return nr
}

// enqueue adds a one-step row, written by flush.
func (rc *recorder) enqueue(nr *track.NodeRun) {
	if rc.db == nil {
		return
	}
	nr.Finished = nr.Started
	rc.mu.Lock()
	rc.queue = append(rc.queue, nr)
	rc.mu.Unlock()
}

// flush writes the queued rows in one transaction.
func (rc *recorder) flush() {
	rc.mu.Lock()
	rows := rc.queue
	rc.queue = nil
	rc.mu.Unlock()
	if rc.db == nil || len(rows) == 0 {
		return
	}
	if err := rc.db.InsertNodes(rows); err != nil {
		rc.warn("recording %d cached/skipped node(s): %v", len(rows), err)
	}
}

// cached queues the row of a cache hit.
func (rc *recorder) cached(n *prepared, rec *cache.Record, ex state.Executor) {
	nr := rc.row(n.node, n, state.Cached, ex)
	nr.Reason, nr.LogPath = "produced by run "+rec.RunID, rec.LogPath
	nr.Outputs, _ = json.Marshal(rec.Outputs)
	rc.enqueue(nr)
}

// cachedNow records the row of a cache hit at once and returns its id (for a child, which its
// parent may prune later).
func (rc *recorder) cachedNow(n *prepared, rec *cache.Record, ex state.Executor) int64 {
	if rc.db == nil {
		return 0
	}
	nr := rc.row(n.node, n, state.Cached, ex)
	nr.Reason, nr.LogPath, nr.Finished = "produced by run "+rec.RunID, rec.LogPath, nr.Started
	nr.Outputs, _ = json.Marshal(rec.Outputs)
	if err := rc.db.InsertNode(nr); err != nil {
		rc.warn("recording %s: %v", nr.Node, err)
		return 0
	}
	return nr.ID
}

// settledWithoutVisit queues the row of a node the walk settled without visiting it: skipped
// because an upstream node did not succeed, or not started because the run was interrupted.
func (rc *recorder) settledWithoutVisit(node *pipelines.Node, res *NodeResult) {
	nr := rc.row(node, nil, res.State, state.Local)
	nr.Reason = strings.Join(res.Reasons, "; ")
	rc.enqueue(nr)
}

// failedEarly records a node that failed before it could execute (its configuration, its inputs,
// its cache entry); n is nil when the configuration could not be evaluated.
func (rc *recorder) failedEarly(node *pipelines.Node, n *prepared, err error) {
	if rc.db == nil {
		return
	}
	nr := rc.row(node, n, state.Failed, state.Local)
	nr.Error, nr.ExitStatus, nr.Finished = err.Error(), -1, nr.Started
	if err := rc.db.InsertNode(nr); err != nil {
		rc.warn("recording %s: %v", node.Addr, err)
	}
}

// started records that n starts executing on ex, and returns its row (ID 0 without a tracker).
func (rc *recorder) started(n *prepared, ex state.Executor, reasons []string, logPath string) (*track.NodeRun, error) {
	nr := rc.row(n.node, n, state.Running, ex)
	nr.Reason, nr.LogPath = strings.Join(reasons, "; "), logPath
	if rc.db == nil {
		return nr, nil
	}
	if err := rc.db.StartNode(nr); err != nil {
		return nr, fmt.Errorf("recording %s: %w", n.addr(), err)
	}
	return nr, nil
}

// metrics returns the per-step metrics sink of a started node (nil without a tracker).
func (rc *recorder) metrics(nr *track.NodeRun) func(step int, values map[string]float64) {
	if rc.db == nil || nr.ID == 0 {
		return nil
	}
	db := rc.db
	return func(step int, values map[string]float64) {
		if err := db.LogMetrics(nr.ID, step, values); err != nil {
			rc.warn("recording metrics of %s: %v", nr.Node, err)
		}
	}
}

// finished records the end of a local execution: succeeded with rec's outputs, or failed with err.
func (rc *recorder) finished(nr *track.NodeRun, rec *cache.Record, err error, exitCode int) {
	nr.Finished = time.Now()
	if err != nil {
		nr.State, nr.ExitStatus, nr.Error = state.Failed, exitCode, err.Error()
	} else {
		nr.State = state.Succeeded
		nr.Outputs, _ = json.Marshal(rec.Outputs)
	}
	if rc.db == nil {
		return
	}
	if err := rc.db.FinishNode(nr); err != nil {
		rc.warn("recording the end of %s: %v", nr.Node, err)
	}
}

// submitted stores the Slurm job id of a node run.
func (rc *recorder) submitted(nodeRunID int64, jobID string) {
	if rc.db == nil || nodeRunID == 0 {
		return
	}
	nr, err := rc.db.GetNode(nodeRunID)
	if err != nil {
		return
	}
	nr.JobID, nr.Executor = jobID, state.Slurm
	_ = rc.db.UpdateNode(nr)
}

// ingest loads the result file a Slurm job wrote for a node.
func (rc *recorder) ingest(path string) (*track.NodeRun, error) {
	if rc.db == nil {
		return nil, nil
	}
	return rc.db.IngestNodeFile(path)
}

// jobFailed records that the Slurm job of a node ended without the node succeeding, unless its
// result file already recorded the outcome.
func (rc *recorder) jobFailed(nodeRunID int64, err error) {
	if rc.db == nil || nodeRunID == 0 {
		return
	}
	if cur, gerr := rc.db.GetNode(nodeRunID); gerr == nil && cur.State == state.Running {
		cur.State, cur.Error, cur.Finished, cur.ExitStatus = state.Failed, err.Error(), time.Now(), -1
		_ = rc.db.FinishNode(cur)
	}
}

// pruned marks a finished child node run as pruned with a note (an early-stopping decision).
func (rc *recorder) pruned(nodeRunID int64, note string) error {
	if rc.db == nil || nodeRunID == 0 {
		return nil
	}
	nr, err := rc.db.GetNode(nodeRunID)
	if err != nil {
		return err
	}
	if nr.State == state.Failed || nr.State == state.Running {
		return fmt.Errorf("child %s is %s; only a finished child can be pruned", nr.Node, nr.State)
	}
	nr.State, nr.Reason = state.Pruned, note
	if nr.Finished.IsZero() {
		nr.Finished = time.Now()
	}
	return rc.db.UpdateNode(nr)
}

// resultRow is the node run a compute node reports in its result file (see WriteResult): the
// outcome of one `pcamflow exec`.
func resultRow(spec ExecSpec, runID string, res *NodeResult, execErr error, started time.Time, jobID string) *track.NodeRun {
	nr := &track.NodeRun{ID: spec.NodeRunID, RunID: runID, Node: spec.Node, State: state.Succeeded, Started: started,
		Finished: time.Now(), Host: hostname(), Executor: state.Slurm, JobID: jobID}
	if spec.Child != nil {
		nr.Parent = spec.Child.Parent
	}
	if res != nil {
		nr.Key, nr.LogPath, nr.Kind = res.Key, res.LogPath, res.Kind
		if res.State == state.Cached {
			nr.State = state.Cached
		}
		if res.Outputs != nil {
			nr.Outputs, _ = json.Marshal(res.Outputs)
		}
	}
	if execErr != nil {
		nr.State, nr.Error, nr.ExitStatus = state.Failed, execErr.Error(), 1
		var ee *stages.ExitError
		if errors.As(execErr, &ee) && ee.Code > 0 {
			nr.ExitStatus = ee.Code
		}
	}
	return nr
}

// WriteResult writes the result file of one `pcamflow exec` for the runner to ingest (a compute
// node never opens the tracking store). It does nothing when spec names no result file.
func WriteResult(spec ExecSpec, runID string, res *NodeResult, execErr error, started time.Time, jobID string, metrics []track.MetricRow) error {
	if spec.Result == "" {
		return nil
	}
	return track.WriteNodeFile(spec.Result, resultRow(spec, runID, res, execErr, started, jobID), metrics)
}

// reconciled records what Reconcile learnt of a detached node: skipped (its upstream job failed) or
// failed (its job ended without a result).
func reconciled(db Tracker, n track.NodeRun, st state.Node, why string) error {
	n.State, n.Finished = st, time.Now()
	if st == state.Failed {
		n.Error, n.ExitStatus = why, -1
	} else {
		n.Reason = why
	}
	return db.FinishNode(&n)
}
