// Package state is the one vocabulary of node states, run statuses and executors that the runner,
// the tracking store and the command line share. The string values are what the tracking store
// keeps and what JSON output shows, so they never change; Label gives the word a run prints.
package state

// Node is the state of one node in a plan, a run, or a run record.
type Node string

// Node states. A plan uses Cached and Planned; a run ends every node in Succeeded, Cached, Failed,
// Skipped or Interrupted (Running lasts while it executes); Pruned marks a child node that an early
// stopping rule stopped at its budget (DESIGN.md §7).
const (
	// Planned: the node will execute (plans only).
	Planned Node = "run"
	// Running: the node is executing (from the start of its execution until it settles).
	Running Node = "running"
	// Succeeded: the node executed and its outputs were published.
	Succeeded Node = "succeeded"
	// Cached: a record with the node's key existed; its outputs were restored where needed.
	Cached Node = "cached"
	// Failed: preparing or executing the node failed.
	Failed Node = "failed"
	// Skipped: the node did not execute because an upstream node did not succeed.
	Skipped Node = "skipped"
	// Interrupted: the run was interrupted (Ctrl-C, or its process died) before the node finished,
	// or before it started.
	Interrupted Node = "interrupted"
	// Pruned: a child node stopped for good at its budget by an early-stopping rule; its outputs and
	// resume checkpoint are kept.
	Pruned Node = "pruned"
)

// Nodes lists every node state, for validation and schema checks.
var Nodes = []Node{Planned, Running, Succeeded, Cached, Failed, Skipped, Interrupted, Pruned}

// Label is the word a run prints for the state: "ran" for Succeeded (as in "3 ran, 2 cached"),
// the state itself otherwise.
func (s Node) Label() string {
	if s == Succeeded {
		return "ran"
	}
	return string(s)
}

// Blocks reports whether downstream nodes cannot run after a node ended in this state.
func (s Node) Blocks() bool {
	return s == Failed || s == Skipped || s == Interrupted
}

// Recorded reports whether the state may be stored in a node run record (every state but Planned).
func (s Node) Recorded() bool {
	for _, n := range Nodes {
		if n == s {
			return s != Planned
		}
	}
	return false
}

// Final reports whether a recorded node in this state has settled (it is not Running).
func (s Node) Final() bool { return s.Recorded() && s != Running }

// Run is the status of one run of a pipeline.
type Run string

// Run statuses. A run is RunRunning from its start until it finishes or is found interrupted.
const (
	RunRunning     Run = "running"
	RunSucceeded   Run = "succeeded"
	RunFailed      Run = "failed"
	RunInterrupted Run = "interrupted"
)

// Valid reports whether r is one of the run statuses.
func (r Run) Valid() bool {
	switch r {
	case RunRunning, RunSucceeded, RunFailed, RunInterrupted:
		return true
	}
	return false
}

// Executor says where a node executes.
type Executor string

// Executors.
const (
	// Local runs a node in the pcamflow process (bounded by -j).
	Local Executor = "local"
	// Slurm runs a node as a Slurm job (a task of a job array) that executes `pcamflow exec`.
	Slurm Executor = "slurm"
)

// Executors lists the executors a stage's resources block or --executor may name.
var Executors = []Executor{Local, Slurm}

// ParseExecutor returns the executor named s; "" means Local. ok is false for an unknown name.
func ParseExecutor(s string) (Executor, bool) {
	switch Executor(s) {
	case "", Local:
		return Local, true
	case Slurm:
		return Slurm, true
	}
	return "", false
}
