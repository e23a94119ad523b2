// Package stages defines what a stage kind is: the contract between the pipeline language, the runner
// and each kind (command, dataset, data_audit, train, ...). A kind brings its own schema, outputs,
// version and execution; the runner knows kinds only through this interface, so adding a kind never
// touches the runner.
package stages

import (
	"context"
	"fmt"
	"io"
	"sort"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// Attr declares one attribute of a stage block.
type Attr struct {
	// Name is the attribute name as written in HCL.
	Name string
	// Type is the type the value is converted to; cty.DynamicPseudoType accepts any value.
	Type cty.Type
	// Required makes the attribute mandatory.
	Required bool
	// Default is used when the attribute is absent; cty.NilVal means a null of Type.
	Default cty.Value
	// Doc is a one-sentence description shown in the language reference.
	Doc string
	// NotInKey excludes the attribute from the cache key (descriptions, display options).
	NotInKey bool
}

// Output describes one artifact a node publishes.
type Output struct {
	// Path is where the artifact is materialised. For outputs the kind writes into the project
	// (command stages) it is project-relative; an empty Path asks the runner for a managed location
	// under the workspace.
	Path string
	// Type is "file" or "tree" once published; empty before.
	Type string
	// Digest is the content digest once published; empty before.
	Digest string
}

// Task is what a prepared node reads and writes.
type Task struct {
	// Inputs are project-relative files, folders or glob patterns whose content is part of the key.
	Inputs []string
	// Optional are paths hashed into the key only when they exist as regular files (for example
	// scripts named in a command line).
	Optional []string
	// Outputs maps each output name to its declared location (see Output.Path).
	Outputs map[string]Output
}

// OutputNames returns the output names in sorted order.
func (t *Task) OutputNames() []string {
	names := make([]string, 0, len(t.Outputs))
	for n := range t.Outputs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// RangeFunc returns the source range of a named attribute of the stage block (the block itself
// when the attribute is absent); kinds use it to place diagnostics.
type RangeFunc func(attr string) *hcl.Range

// Env is everything a kind needs to execute one node.
type Env struct {
	// Node is the node's address, e.g. "command.prep".
	Node string
	// Config is the evaluated configuration: every declared attribute present, converted to its type.
	Config cty.Value
	// Task is the result of Prepare for this configuration.
	Task *Task
	// ProjectDir is the absolute project root (the working directory of pcamflow).
	ProjectDir string
	// ScratchDir is an empty private directory that the runner removes afterwards.
	ScratchDir string
	// OutputPaths maps each output name to the absolute path the kind must write it to.
	OutputPaths map[string]string
	// Seed is the pipeline seed.
	Seed int64
	// Log receives the node's combined stdout and stderr; it is kept as the node's log file.
	Log io.Writer
	// InputDigests maps each input path (as hashed into the key) to "type:sha256", so a kind can
	// record the content it read without hashing it again.
	InputDigests map[string]string
	// Parts holds, for the aggregate node of a Seeded stage, the outputs of each seed node by seed.
	Parts map[string]map[string]Output
	// ResumeDir is a folder that survives an interrupted execution of the same key (it is removed
	// once the node's outputs are published): kinds that checkpoint keep their progress there.
	ResumeDir string
	// Metrics, when set, records per-step metrics of the node in the tracking store (for example
	// one call per training epoch). Kinds must not depend on it being set.
	Metrics func(step int, values map[string]float64)
	// Progress receives live progress (a terminal when Terminal is true); it may be io.Discard.
	Progress io.Writer
	// Terminal says whether Progress is an interactive terminal (progress bars) or not (plain lines).
	Terminal bool
	// Children runs child nodes on behalf of this node (dynamic nodes, DESIGN.md §7); nil where the
	// runner cannot offer it (verify re-executions, for example). Kinds that need it fail clearly
	// when it is nil.
	Children Children
	// Budget, when positive, is the number of epochs this node runs before it stops (a child run
	// to an ASHA rung; see ChildSpec.Budget). Only Budgeted kinds see a non-zero Budget.
	Budget int
	// Threads is the node's kernel thread budget (at least 1). The process-wide thread count is set
	// once by the program that runs the pipeline; a kind reads its budget here and never changes
	// process-wide state (thread counts, the garbage collector, the working directory), since
	// several nodes execute in one process at once.
	Threads int
}

// Kind is one stage kind. Implementations must be stateless and safe for concurrent use.
type Kind interface {
	// Name is the block type, e.g. "command".
	Name() string
	// Version is the implementation version; it is part of every cache key of the kind, so bump it
	// whenever the same configuration would produce different outputs.
	Version() string
	// Doc is a one-paragraph description for the language reference.
	Doc() string
	// Attrs lists the attributes of the stage block, in documentation order.
	Attrs() []Attr
	// Expose returns the value other stages see as kind.name, given the evaluated configuration
	// (which holds unknown values while validating and planning) and the published outputs
	// (nil until the node has run or been found in the cache). It must return an object.
	Expose(cfg cty.Value, outs map[string]Output) cty.Value
	// Prepare checks the evaluated configuration beyond its types and returns what the node reads
	// and writes. Diagnostics must carry a Subject taken from at.
	Prepare(cfg cty.Value, at RangeFunc) (*Task, hcl.Diagnostics)
	// Execute runs the node. It writes every output to env.OutputPaths and returns an error that
	// says what failed; the runner publishes the outputs afterwards.
	Execute(ctx context.Context, env *Env) error
}

// Registry maps block type names to kinds.
type Registry struct {
	kinds map[string]Kind
}

// NewRegistry returns a registry holding the given kinds; it panics on a duplicate name, which is a
// programming error in the binary, never a user error.
func NewRegistry(kinds ...Kind) *Registry {
	r := &Registry{kinds: map[string]Kind{}}
	for _, k := range kinds {
		if _, dup := r.kinds[k.Name()]; dup {
			panic("stages: duplicate kind " + k.Name())
		}
		r.kinds[k.Name()] = k
	}
	return r
}

// Lookup returns the kind for a block type.
func (r *Registry) Lookup(name string) (Kind, bool) {
	k, ok := r.kinds[name]
	return k, ok
}

// Names returns the registered kind names in sorted order.
func (r *Registry) Names() []string {
	names := make([]string, 0, len(r.kinds))
	for n := range r.kinds {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ExitError reports that a node's process exited with a non-zero status.
type ExitError struct {
	Code int
	Err  error
}

// Error implements error.
func (e *ExitError) Error() string { return fmt.Sprintf("exit status %d", e.Code) }

// Unwrap returns the underlying error.
func (e *ExitError) Unwrap() error { return e.Err }

// Seeded is implemented by kinds whose stage runs once per seed and then aggregates the runs (the
// train kind's seeds = [1, 2, 3]). Such a stage expands into one node per seed, addressed
// kind.name["SEED"], each executed with Env.Seed set to its seed, plus an aggregate node at the
// stage's own address that depends on all of them. Other stages referring to kind.name see the
// aggregate's exposed value.
type Seeded interface {
	Kind
	// SeedsAttr names the list(number) attribute holding the seeds. It must be known before any
	// stage runs (it may use var, local and pipeline only). When it is null the stage is one node.
	SeedsAttr() string
	// AggregateOutputs lists the outputs of the aggregate node (managed paths).
	AggregateOutputs() map[string]Output
	// Aggregate executes the aggregate node; env.Parts holds every seed node's outputs.
	Aggregate(ctx context.Context, env *Env) error
	// ExposeAggregate returns what other stages see as kind.name. outs and parts are nil while
	// validating and planning.
	ExposeAggregate(cfg cty.Value, outs map[string]Output, parts map[string]map[string]Output) cty.Value
}

// Measured is implemented by kinds some of whose outputs are measurements of the machine rather
// than functions of the inputs (timings, throughput): a twin run cannot reproduce them bit for bit.
// `pcamflow verify` and the kind conformance suite compare every other output bit for bit and
// report these as measured.
type Measured interface {
	Kind
	// MeasuredOutputs names the outputs that hold measurements.
	MeasuredOutputs() []string
}

// SummaryValue is one named number that describes a node's result, such as the final training loss.
type SummaryValue struct {
	// Name is a short label, e.g. "final train loss".
	Name string `json:"name"`
	// Value is the number.
	Value float64 `json:"value"`
}

// Summarizer is implemented by kinds that can describe a node's result in a few numbers, for the
// commands that show results without knowing the kind: `pcamflow verify` prints the summary of the
// cached node next to its twin's, and `pcamflow runs` shows the summary metrics as columns.
type Summarizer interface {
	Kind
	// Summarize reads a node's outputs (output name => absolute path of the published file or
	// folder) and returns its summary values in display order. It returns nil when the outputs do
	// not hold them.
	Summarize(outputs map[string]string) []SummaryValue
	// SummaryMetrics names the per-step metrics (Env.Metrics) whose final values `pcamflow runs`
	// lists as columns for nodes of this kind, in column order.
	SummaryMetrics() []string
}

// Spawner is implemented by kinds whose nodes run child nodes (Env.Children; DESIGN.md §7), such as
// the sweep. The runner executes such a node where the runner runs, never as a Slurm job (it holds
// no job while it waits for its children), and applies the stage's executor and resources to its
// children instead. A stage of a Spawner kind cannot be detached (`run --detach` refuses it).
type Spawner interface {
	Kind
	// ChildParallelism returns how many children of a node with this configuration may execute at
	// once: locally the number of execution slots its children share (they do not take slots of
	// the run's -j, since the parent holds one while it waits), on Slurm the array throttle (%N).
	// Values below 1 mean the run's -j.
	ChildParallelism(cfg cty.Value) int
}

// Fixture is a kind's conformance fixture (package stages/kindtest runs it for every registered
// kind): tiny pipelines that exercise the kind. In every pipeline text the stage under test is the
// block of the kind labelled "under_test"; the other blocks are its upstream (a dataset, say).
type Fixture struct {
	// Pipeline is a minimal valid pipeline: running it executes the stage under test once with
	// tiny data (one epoch, a few hundred patches at most) in well under ten seconds.
	Pipeline string
	// Files are files (project-relative path => content) the pipelines read, created before any
	// runs.
	Files map[string]string
	// Failing is a valid pipeline whose stage under test fails while executing (not while
	// validating): the suite checks that the failure publishes nothing.
	Failing string
	// Invalid are pipelines, each with one semantic error in the stage under test that the kind's
	// Prepare must report with a source range.
	Invalid []string
}

// Fixtured is implemented by every kind: it supplies the kind's conformance fixture. The suite
// fails for a kind without one.
type Fixtured interface {
	Kind
	// Fixture returns the kind's fixture.
	Fixture() Fixture
}
