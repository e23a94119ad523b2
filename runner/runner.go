// Package runner executes a pipeline as a content-hashed, cached DAG: it computes each node's cache
// key from the kind, its version, the resolved configuration and the content of its inputs, restores
// cached outputs, executes what is missing with bounded parallelism, and records every node in the
// tracking store. It knows stage kinds only through the stages.Kind interface.
package runner

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/zclconf/go-cty/cty"

	"github.com/pcamflow/pcamflow/cache"
	"github.com/pcamflow/pcamflow/pipelines"
	"github.com/pcamflow/pcamflow/stages"
	"github.com/pcamflow/pcamflow/track"
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
	// Executor, when set ("local" or "slurm"), overrides every stage's executor for this run.
	Executor string
	// Slurm configures the Slurm executor.
	Slurm SlurmOptions
	// Progress receives live progress of executing nodes (e.g. training progress bars); nil discards it.
	Progress io.Writer
	// Terminal says whether Progress is an interactive terminal.
	Terminal bool
	// Fast, when set, makes a fully successful run write the no-op fingerprint of this invocation
	// (see FastNoop).
	Fast *FastKey
}

// Runner runs one loaded pipeline against one workspace.
type Runner struct {
	p       *pipelines.Pipeline
	store   *cache.Store
	db      *track.DB
	project string
	opt     Options

	mu      sync.Mutex
	tasks   map[string]*stages.Task // prepared tasks by stage address
	touched map[string]statID       // paths the run's keys and outputs depend on (fast path)
	fastOff bool                    // something the fast path cannot vouch for was used
}

// New returns a runner. project is the absolute project root; db may be nil for planning.
func New(p *pipelines.Pipeline, store *cache.Store, db *track.DB, project string, opt Options) (*Runner, error) {
	if opt.Jobs < 1 {
		opt.Jobs = 1
	}
	if opt.Out == nil {
		opt.Out = io.Discard
	}
	abs, err := filepath.Abs(project)
	if err != nil {
		return nil, fmt.Errorf("resolving the project directory: %w", err)
	}
	r := &Runner{p: p, store: store, db: db, project: abs, opt: opt, tasks: map[string]*stages.Task{}}
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

// refName is the name of the ref that points at the latest key of a stage of this pipeline.
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

// hostname returns the host name, or "unknown".
func hostname() string {
	h, err := os.Hostname()
	if err != nil {
		return "unknown"
	}
	return h
}
