package stages

import (
	"context"

	"github.com/zclconf/go-cty/cty"
)

// ChildSpec is one child node that a parent node (a sweep's trial, for example) asks the runner to
// run while the pipeline runs (DESIGN.md §7). A child is an ordinary node: the runner prepares,
// keys, caches, locks, executes and records it exactly like a node of its base stage whose
// configuration is Config, so a child identical to a hand-written node (or to another parent's
// child) is the same cache entry.
type ChildSpec struct {
	// Base is the address of the stage the child is a variant of, e.g. "train.cnn". The child has
	// the base stage's kind and upstream inputs; it has no for_each key and no seeds of its own.
	Base string
	// Config is the child's full evaluated configuration (the base stage's configuration with the
	// parent's values set), an object of the base kind's attributes.
	Config cty.Value
	// Seed is the seed the child runs with.
	Seed int64
	// Budget, when positive, asks the child to stop after Budget epochs (an ASHA rung). Only
	// kinds that implement Budgeted accept it. The budget is part of the child's key, but all
	// budgets of one configuration share one resume folder, so a child promoted to a larger
	// budget continues from the last epoch of the smaller one instead of starting again.
	Budget int
	// Label is a short description for progress lines and records, e.g. "trial 7".
	Label string
}

// Child outcome states (ChildOutcome.State): the runner's words for how a child ended.
const (
	// ChildCached: a record with the child's key existed; nothing executed.
	ChildCached = "cached"
	// ChildRan: the child executed and published its outputs.
	ChildRan = "ran"
	// ChildFailed: the child could not be prepared, or its execution failed (see Err).
	ChildFailed = "failed"
)

// ChildOutcome is what became of one ChildSpec.
type ChildOutcome struct {
	// Addr is the child's address, PARENT.trial["<first 8 hex digits of Key>"].
	Addr string
	// Key is the child's cache key.
	Key string
	// State is "cached", "ran" or "failed" (ChildCached, ChildRan, ChildFailed).
	State string
	// Outputs are the child's published outputs (nil when it failed).
	Outputs map[string]Output
	// Err says why the child failed (nil otherwise).
	Err error
	// LogPath is the child's log file.
	LogPath string
}

// Children runs child nodes on behalf of the node it is handed to (Env.Children). The runner
// implements it; kinds only see this interface, so stages import neither the runner nor Slurm.
type Children interface {
	// Run executes a batch of children and returns one outcome per spec, in spec order. Cache
	// hits cost nothing; misses run with the parent's executor: locally bounded by the parent's
	// parallelism, on Slurm as ONE job array of the misses per call. Run is safe for concurrent
	// use (a parent that keeps several children in flight calls it from several goroutines). The
	// error is non-nil only when the batch could not be run at all (interrupted, Slurm refused it);
	// a failing child is an outcome with State "failed".
	Run(ctx context.Context, batch []ChildSpec) ([]ChildOutcome, error)
	// Prune records that a child stops for good at its budget (an ASHA decision): its run record
	// becomes "pruned" with the note, and its resume folder is kept for a later promotion.
	Prune(ctx context.Context, child ChildOutcome, note string) error
}

// Budgeted is implemented by kinds whose nodes can stop after a number of epochs and continue
// later from their checkpoint (see ChildSpec.Budget). Env.Budget carries the budget.
type Budgeted interface {
	Kind
	// SupportsBudget reports whether a node with this configuration can run to a budget.
	SupportsBudget(cfg cty.Value) bool
}

// ChildBases is implemented by the runner's Children: it gives a parent the evaluated configuration
// of a base stage, from which it derives the configurations of its children. Kinds reach it with a
// type assertion: env.Children.(stages.ChildBases).
type ChildBases interface {
	// BaseConfig returns the evaluated configuration of the stage at addr (e.g. "train.cnn") as a
	// child of that stage would start from: its first node's configuration with the seeds
	// attribute (of a Seeded kind) null. The stage's upstream nodes must have run in this run.
	BaseConfig(addr string) (cty.Value, error)
}

// ChildReferents is implemented by the runner's Children: it names the stage an attribute of the
// parent's configuration refers to, so that a parent whose base is written as a reference
// (base = train.cnn) can name it in ChildSpec.Base.
type ChildReferents interface {
	// Referent returns the address of the stage the named attribute of the parent's block refers
	// to (its first reference to a stage), or an error when it refers to none.
	Referent(attr string) (string, error)
}

// ChildWaves is implemented by the runner's Children: it says whether every Run call becomes one
// Slurm job array, in which case a parent that proposes trials one by one should batch them into
// waves instead.
type ChildWaves interface {
	// Waves reports whether each Run call is one Slurm job array (true) or the children run
	// locally, each as soon as a slot is free (false).
	Waves() bool
}
