package track

import (
	"errors"

	"github.com/pcamflow/pcamflow/internal/state"
)

// Run statuses (see state.Run). A run is RunRunning from BeginRun until FinishRun or MarkInterrupted.
const (
	RunRunning     = state.RunRunning
	RunSucceeded   = state.RunSucceeded
	RunFailed      = state.RunFailed
	RunInterrupted = state.RunInterrupted
)

// Node run states (see state.Node). NodeRunning lasts from StartNode until FinishNode; NodeCached and
// NodeSkipped are recorded in one step by InsertNode; NodePruned is set on a finished child node
// that an early-stopping rule stopped at its budget.
const (
	NodeRunning     = state.Running
	NodeSucceeded   = state.Succeeded
	NodeFailed      = state.Failed
	NodeCached      = state.Cached
	NodeSkipped     = state.Skipped
	NodeInterrupted = state.Interrupted
	NodePruned      = state.Pruned
)

// ErrNotFound is returned (wrapped) when a run or node run does not exist.
var ErrNotFound = errors.New("not found")

// ErrAmbiguous is returned (wrapped) by GetRun when a run ID prefix matches several runs.
var ErrAmbiguous = errors.New("ambiguous run id prefix")

// validRunStatus reports whether s is one of the run statuses.
func validRunStatus(s state.Run) bool { return s.Valid() }

// validNodeState reports whether s is one of the node run states.
func validNodeState(s state.Node) bool { return s.Recorded() }

// NodeState is the type of the Node* constants (see state.Node).
type NodeState = state.Node

// RunStatus is the type of the Run* constants (see state.Run).
type RunStatus = state.Run
