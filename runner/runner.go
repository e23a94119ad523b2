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
}

// Runner runs one loaded pipeline against one workspace.
type Runner struct {
	p       *pipelines.Pipeline
	store   *cache.Store
	db      *track.DB
	project string
	opt     Options

	mu    sync.Mutex
	tasks map[string]*stages.Task // prepared tasks by stage address
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
		if _, ok := p.Stage(a); !ok {
			return nil, fmt.Errorf("no stage %q in pipeline %s; `pcamflow plan` lists the stages", a, p.Name)
		}
	}
	return r, nil
}

// selected returns the stages in execution order, restricted to the targets and their upstream.
func (r *Runner) selected() []*pipelines.Stage {
	if len(r.opt.Targets) == 0 {
		return r.p.Order
	}
	want := map[string]bool{}
	var mark func(a string)
	mark = func(a string) {
		if want[a] {
			return
		}
		want[a] = true
		s, _ := r.p.Stage(a)
		for _, u := range s.Upstream {
			mark(u)
		}
	}
	for _, t := range r.opt.Targets {
		mark(t)
	}
	var out []*pipelines.Stage
	for _, s := range r.p.Order {
		if want[s.Addr] {
			out = append(out, s)
		}
	}
	return out
}

// refName is the name of the ref that points at the latest key of a stage of this pipeline.
func (r *Runner) refName(addr string) string { return r.p.Name + "/" + addr }

// forced reports whether addr was named with --force.
func (r *Runner) forced(addr string) bool {
	for _, f := range r.opt.Force {
		if f == addr {
			return true
		}
	}
	return false
}

// exposedOf returns the value other stages see for s once its outputs are known.
func exposedOf(s *pipelines.Stage, cfg cty.Value, rec *cache.Record) cty.Value {
	return s.Kind.Expose(cfg, outputsOf(rec))
}

// hostname returns the host name, or "unknown".
func hostname() string {
	h, err := os.Hostname()
	if err != nil {
		return "unknown"
	}
	return h
}
