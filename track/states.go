package track

import "errors"

// Run statuses. A run is RunRunning from BeginRun until FinishRun or MarkInterrupted.
const (
	RunRunning     = "running"
	RunSucceeded   = "succeeded"
	RunFailed      = "failed"
	RunInterrupted = "interrupted"
)

// Node run states. NodeRunning lasts from StartNode until FinishNode; NodeCached and NodeSkipped
// are recorded in one step by InsertNode.
const (
	NodeRunning     = "running"
	NodeSucceeded   = "succeeded"
	NodeFailed      = "failed"
	NodeCached      = "cached"
	NodeSkipped     = "skipped"
	NodeInterrupted = "interrupted"
)

// ErrNotFound is returned (wrapped) when a run or node run does not exist.
var ErrNotFound = errors.New("not found")

// ErrAmbiguous is returned (wrapped) by GetRun when a run ID prefix matches several runs.
var ErrAmbiguous = errors.New("ambiguous run id prefix")

// validRunStatus reports whether s is one of the run statuses.
func validRunStatus(s string) bool {
	switch s {
	case RunRunning, RunSucceeded, RunFailed, RunInterrupted:
		return true
	}
	return false
}

// validNodeState reports whether s is one of the node run states.
func validNodeState(s string) bool {
	switch s {
	case NodeRunning, NodeSucceeded, NodeFailed, NodeCached, NodeSkipped, NodeInterrupted:
		return true
	}
	return false
}
