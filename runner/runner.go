// Package runner executes a pipeline as a content-hashed, cached DAG: it computes each node's cache
// key from the kind, its version, the resolved configuration and the content of its inputs, restores
// cached outputs, executes what is missing with bounded parallelism, and records every node in the
// tracking store. It knows stage kinds only through the stages.Kind interface.
//
// The package is built around one graph walk (walk.go) that every command uses with its own
// visitor (plan.go, run.go, exec.go, verify.go) and executor (local.go, slurm.go, detach.go), one
// recorder that turns outcomes into tracking records (recorder.go), and the runner's side of
// dynamic nodes (children.go). docs/architecture.md describes the whole.
package runner

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/zclconf/go-cty/cty"

	"github.com/pcamflow/pcamflow/cache"
	"github.com/pcamflow/pcamflow/internal/state"
	"github.com/pcamflow/pcamflow/pipelines"
	"github.com/pcamflow/pcamflow/stages"
)

// Options controls a plan or a run.
type Options struct {
	// Jobs is the maximum number of nodes executing at once (at least 1).
	Jobs int
	// Targets restricts the run to these stage addresses and everything upstream of them.
	Targets []string
	// Force re-executes these stage addresses even when they are cached.
	Force []string
	// Out receives progress lines; nil discards them.
	Out io.Writer
	// Args are the command-line arguments, recorded with the run.
	Args []string
	// Executor, when set (state.Local or state.Slurm), overrides every stage's executor for this run.
	Executor state.Executor
	// Slurm configures the Slurm executor.
	Slurm SlurmOptions
	// Progress receives live progress of executing nodes (e.g. training progress bars); nil discards it.
	Progress io.Writer
	// Terminal says whether Progress is an interactive terminal.
	Terminal bool
	// Fast, when set, makes a fully successful run write the no-op fingerprint of this invocation
	// (see FastNoop).
	Fast *FastKey
	// GCPercent, when positive, is the garbage collector percentage executions run with: the
	// runner sets it once, before the first node executes (the CLI loads pipelines with a lazier
	// collector that would multiply the peak memory of stages that hold large heaps). Zero leaves
	// the process setting alone.
	GCPercent int
	// Threads is the kernel thread budget of the run, handed to every execution as Env.Threads
	// (0: GOMAXPROCS). The process-wide thread count is the caller's to set, once, before the run;
	// no node changes it.
	Threads int
}

// Runner runs one loaded pipeline against one workspace.
type Runner struct {
	p       *pipelines.Pipeline
	store   Store
	db      Tracker
	project string
	opt     Options

	mu      sync.Mutex
	tasks   map[string]*stages.Task // prepared tasks by node address
	touched map[string]statID       // paths the run's keys and outputs depend on (fast path)
	fastOff bool                    // something the fast path cannot vouch for was used
	// scripts memoises, while planning only, whether an optional script path is a regular file:
	// a plan executes nothing, so the answer cannot change, and 100,000 nodes of one stage name
	// the same program.
	scripts map[string]bool
	gcOnce  sync.Once // applies Options.GCPercent before the first execution
}

// New returns a runner. project is the absolute project root; db may be nil for planning.
func New(p *pipelines.Pipeline, store Store, db Tracker, project string, opt Options) (*Runner, error) {
	if opt.Jobs < 1 {
		opt.Jobs = 1
	}
	if opt.Out == nil {
		opt.Out = io.Discard
	}
	if opt.Threads <= 0 {
		opt.Threads = runtime.GOMAXPROCS(0)
	}
	abs, err := filepath.Abs(project)
	if err != nil {
		return nil, fmt.Errorf("resolving the project directory: %w", err)
	}
	r := &Runner{p: p, store: store, db: noTracker(db), project: abs, opt: opt, tasks: make(map[string]*stages.Task, len(p.Nodes))}
	for _, a := range append(append([]string{}, opt.Targets...), opt.Force...) {
		if _, ok := p.Stage(a); ok {
			continue
		}
		if _, ok := p.Node(a); !ok {
			return nil, fmt.Errorf("no stage %q in pipeline %s; `pcamflow plan` lists the stages", a, p.Name)
		}
	}
	return r, nil
}

// selected returns the nodes in execution order, restricted to the targets (stage or node
// addresses) and everything upstream of them.
func (r *Runner) selected() []*pipelines.Node {
	if len(r.opt.Targets) == 0 {
		return r.p.Nodes
	}
	var roots []string
	for _, t := range r.opt.Targets {
		if s, ok := r.p.Stage(t); ok {
			for _, n := range s.Nodes {
				roots = append(roots, n.Addr)
			}
			continue
		}
		roots = append(roots, t)
	}
	return r.closure(roots, true)
}

// closure returns, in execution order, every node upstream of the roots (transitively), and the
// roots themselves when withRoots.
func (r *Runner) closure(roots []string, withRoots bool) []*pipelines.Node {
	want := map[string]bool{}
	var mark func(a string)
	mark = func(a string) {
		if want[a] {
			return
		}
		want[a] = true
		n, _ := r.p.Node(a)
		for _, u := range n.Upstream {
			mark(u)
		}
	}
	for _, a := range roots {
		if withRoots {
			mark(a)
			continue
		}
		n, _ := r.p.Node(a)
		for _, u := range n.Upstream {
			mark(u)
		}
	}
	var out []*pipelines.Node
	for _, n := range r.p.Nodes {
		if want[n.Addr] {
			out = append(out, n)
		}
	}
	return out
}

// refName is the name of the ref that points at the latest key of a node of this pipeline.
func (r *Runner) refName(addr string) string { return r.p.Name + "/" + addr }

// forced reports whether the node, or its stage, was named with --force.
func (r *Runner) forced(n *pipelines.Node) bool {
	for _, f := range r.opt.Force {
		if f == n.Addr || f == n.Stage.Addr {
			return true
		}
	}
	return false
}

// exposedOf returns the value other stages see for a node once its outputs are known. For the
// aggregate node of a seeded stage, parts are the records of its seed nodes.
func exposedOf(n *pipelines.Node, cfg cty.Value, rec *cache.Record, parts map[string]*cache.Record) cty.Value {
	if sk, ok := n.Stage.Kind.(stages.Seeded); ok && n.Aggregate {
		return sk.ExposeAggregate(cfg, outputsOf(rec), partsOf(n, parts))
	}
	return n.Stage.Kind.Expose(cfg, outputsOf(rec))
}

// partsOf returns the outputs of the seed nodes of an aggregate node, keyed by seed.
func partsOf(n *pipelines.Node, records map[string]*cache.Record) map[string]map[string]stages.Output {
	out := map[string]map[string]stages.Output{}
	for _, sn := range n.Stage.Nodes {
		if sn.Aggregate {
			continue
		}
		if rec := records[sn.Addr]; rec != nil {
			out[sn.Key] = outputsOf(rec)
		}
	}
	return out
}

// outputsOf converts a record's outputs for stages.Kind.Expose.
func outputsOf(rec *cache.Record) map[string]stages.Output {
	if rec == nil {
		return nil
	}
	out := map[string]stages.Output{}
	for name, o := range rec.Outputs {
		out[name] = stages.Output{Path: o.Path, Type: o.Type, Digest: o.Digest}
	}
	return out
}

// resources merges a stage's resources over the pipeline-wide slurm defaults.
func (r *Runner) resources(s *pipelines.Stage) pipelines.Resources {
	var res pipelines.Resources
	if r.p.Slurm != nil {
		res = *r.p.Slurm
	}
	if s.Resources != nil {
		res = res.Merge(*s.Resources)
	}
	return res
}

// nodeResources returns the resources of one node: its own when its stage's resources block uses
// `each` (pipelines.Node.Resources), else its stage's.
func (r *Runner) nodeResources(n *pipelines.Node) pipelines.Resources {
	if n.Resources == nil {
		return r.resources(n.Stage)
	}
	var res pipelines.Resources
	if r.p.Slurm != nil {
		res = *r.p.Slurm
	}
	return res.Merge(*n.Resources)
}

// executorOf says where a stage's nodes run in this run: the --executor override, else the
// stage's resources block, else local. For a stage whose kind runs children (stages.Spawner) it
// is where the children run; the parent node itself always runs where the runner runs.
func (r *Runner) executorOf(s *pipelines.Stage) state.Executor {
	if r.opt.Executor != "" {
		return r.opt.Executor
	}
	if s.Resources != nil {
		if ex, ok := state.ParseExecutor(s.Resources.Executor); ok {
			return ex
		}
	}
	return state.Local
}

// runsOnSlurm reports whether a node executes as a Slurm job in this run: its stage's executor is
// Slurm and its kind does not run children (a parent holds no Slurm job while it waits).
func (r *Runner) runsOnSlurm(n *pipelines.Node) bool {
	if _, parent := n.Stage.Kind.(stages.Spawner); parent {
		return false
	}
	return r.executorOf(n.Stage) == state.Slurm
}

// hostname returns the host name, or "unknown".
func hostname() string {
	h, err := os.Hostname()
	if err != nil {
		return "unknown"
	}
	return h
}

func pidOf() int { return os.Getpid() }
