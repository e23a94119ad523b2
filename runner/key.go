package runner

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/pcamflow/pcamflow/cache"
	"github.com/pcamflow/pcamflow/pipelines"
	"github.com/pcamflow/pcamflow/stages"
)

// keyFormat versions the encoding of keys; changing it invalidates every cache entry.
const keyFormat = "pcamflow-key-v1"

// prepared is a node whose configuration has been evaluated and whose key may be known.
type prepared struct {
	node       *pipelines.Node
	stage      *pipelines.Stage
	cfg        cty.Value
	task       *stages.Task
	components map[string]string
	key        string // "" when an input is not known yet (an upstream will run)
	waitingOn  []string
	nodeRunID  int64                                     // tracking row while executing on Slurm
	records    map[string]*cache.Record                  // upstream records (for aggregate nodes)
	metrics    func(step int, values map[string]float64) // per-step metrics sink while executing
	seed       int64                                     // the seed the node runs with

	// Dynamic nodes (children.go).
	parent    string    // address of the parent node of a child, "" otherwise
	budget    int       // a child's budget (ChildSpec.Budget), 0 otherwise
	resumeKey string    // key of the resume folder: the key without its budget component
	label     string    // a child's label
	children  *children // the children a parent node ran while executing, nil for other nodes
	spec      *ChildExec
}

// addr is the node's address.
func (n *prepared) addr() string { return n.node.Addr }

// resume is the key of the node's resume folder.
func (n *prepared) resume() string {
	if n.resumeKey != "" {
		return n.resumeKey
	}
	return n.key
}

// errUnknown marks a key that cannot be computed before upstream nodes run.
var errUnknown = errors.New("not known until upstream nodes run")

// prepare evaluates a node's configuration against the exposed values of finished upstream stages
// (by stage address) and computes its key components. records holds the records of upstream nodes
// that are done (by node address); an upstream missing from records will run first, which leaves
// the key unknown (key == "").
func (r *Runner) prepare(node *pipelines.Node, exposed map[string]cty.Value, records map[string]*cache.Record) (*prepared, error) {
	cfg, task, static := node.Static()
	return r.prepareFrom(node, cfg, task, static, exposed, records)
}

// prepareFrom is prepare with the node's configuration and task given when static (evaluated
// earlier, see pipelines.Node.Static and Checked).
func (r *Runner) prepareFrom(node *pipelines.Node, cfg cty.Value, task *stages.Task, static bool, exposed map[string]cty.Value, records map[string]*cache.Record) (*prepared, error) {
	s := node.Stage
	if node.Aggregate {
		var diags hcl.Diagnostics
		if cfg, diags = r.p.EvalNode(node, exposed); diags.HasErrors() {
			return nil, &DiagError{Diags: diags}
		}
		task, static = &stages.Task{Outputs: node.Stage.Kind.(stages.Seeded).AggregateOutputs()}, true
	}
	if !static {
		var diags hcl.Diagnostics
		if cfg, diags = r.p.EvalNode(node, exposed); diags.HasErrors() {
			return nil, &DiagError{Diags: diags}
		}
		if task, diags = s.Kind.Prepare(cfg, s.AttrRange); diags.HasErrors() {
			return nil, &DiagError{Diags: diags}
		}
	}
	n := &prepared{node: node, stage: s, cfg: cfg, task: task, records: records, seed: r.seedOf(node)}
	r.setTask(node.Addr, task)
	for _, u := range node.Upstream {
		if records[u] == nil {
			n.waitingOn = append(n.waitingOn, u)
		}
	}
	if !depsRecorded(r.p, s, records) {
		// An upstream node whose outputs this one reads will run first (depComponents below
		// would say so after the parameters: a join's are the paths of all its upstream nodes).
		return n, nil
	}
	comp := make(map[string]string, len(s.Attrs)+8)
	known, err := pipelines.KeyComponents(s, cfg, comp)
	if err != nil || !known {
		// Not known until upstream nodes run (an error is only a value that cannot be encoded,
		// which, as before, leaves the key unknown).
		return n, nil
	}
	if node.Key != "" {
		// The instance key is part of the key even when no attribute uses it.
		comp["param.for_each.key"] = strconv.Quote(node.Key)
	}
	r.addIdentity(n, comp)
	if node.Aggregate {
		comp["aggregate"] = "true"
		for _, u := range node.Upstream {
			if un, _ := r.p.Node(u); un.Stage == s {
				if records[u] == nil {
					return n, nil
				}
				comp["part:"+u] = outputsDigest(records[u])
			}
		}
	}
	if !depComponents(r.p, s, records, comp) {
		return n, nil
	}
	if err := r.hashInputs(n, records, comp); err != nil {
		if errors.Is(err, errUnknown) {
			return n, nil
		}
		return nil, err
	}
	n.components = comp
	n.key = keyOf(comp)
	return n, nil
}

// components returns the kind, version, seed and parameter components of a node's key.
func (r *Runner) components(n *prepared, params map[string]string) map[string]string {
	comp := make(map[string]string, len(params)+8)
	r.addIdentity(n, comp)
	for name, js := range params {
		comp["param."+name] = js
	}
	return comp
}

// addIdentity adds the kind, version and seed components of a node's key.
func (r *Runner) addIdentity(n *prepared, comp map[string]string) {
	comp["kind"] = n.stage.Kind.Name()
	comp["version"] = n.stage.Kind.Version()
	comp["seed"] = strconv.FormatInt(n.seed, 10)
}

// depsRecorded reports whether every node of every stage s refers to has a record (see
// depComponents).
func depsRecorded(p *pipelines.Pipeline, s *pipelines.Stage, records map[string]*cache.Record) bool {
	for _, ref := range s.Refs {
		target, _ := p.Stage(ref.Target)
		for _, tn := range target.Nodes {
			if records[tn.Addr] == nil {
				return false
			}
		}
	}
	return true
}

// depComponents adds a "dep:NODE" component for every node of every stage s refers to; it reports
// false when one of them has no record yet (it will run first).
func depComponents(p *pipelines.Pipeline, s *pipelines.Stage, records map[string]*cache.Record, comp map[string]string) bool {
	for _, ref := range s.Refs {
		target, _ := p.Stage(ref.Target)
		for _, tn := range target.Nodes {
			rec := records[tn.Addr]
			if rec == nil {
				return false
			}
			comp["dep:"+tn.Addr] = outputsDigest(rec)
		}
	}
	return true
}

// keyOf hashes the sorted components.
func keyOf(comp map[string]string) string {
	// The names and the buffer of a node with few components live on the stack.
	var keySpace [32]string
	var bufSpace [2048]byte
	keys := keySpace[:0]
	size := len(keyFormat) + 1
	for k, v := range comp {
		keys = append(keys, k)
		size += len(k) + len(v) + 24
	}
	slices.Sort(keys)
	// One buffer hashed at once: "LEN:NAME=LEN:VALUE\n" per component, as fmt wrote them.
	b := bufSpace[:0]
	if size > len(bufSpace) {
		b = make([]byte, 0, size)
	}
	b = append(b, keyFormat+"\n"...)
	for _, k := range keys {
		v := comp[k]
		b = strconv.AppendInt(b, int64(len(k)), 10)
		b = append(b, ':')
		b = append(b, k...)
		b = append(b, '=')
		b = strconv.AppendInt(b, int64(len(v)), 10)
		b = append(b, ':')
		b = append(b, v...)
		b = append(b, '\n')
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// outputsDigest summarises the output digests of a record.
func outputsDigest(rec *cache.Record) string {
	names := make([]string, 0, len(rec.Outputs))
	for n := range rec.Outputs {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		o := rec.Outputs[n]
		fmt.Fprintf(&b, "%s=%s:%s;", n, o.Type, o.Digest)
	}
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:])
}

// hashInputs adds "input:PATH" and "script:PATH" components for the task's inputs. A path that is an
// output of an upstream stage takes that output's recorded digest; a path under an upstream output
// that has not run yet makes the key unknown.
func (r *Runner) hashInputs(n *prepared, records map[string]*cache.Record, comp map[string]string) error {
	owners := r.upstreamOutputs(n.node)
	for _, pattern := range n.task.Inputs {
		if _, owned := owners[filepath.Clean(pattern)]; owned {
			d, err := r.digestInput(filepath.Clean(pattern), owners, records)
			if err != nil {
				return err
			}
			comp["input:"+filepath.Clean(pattern)] = d
			continue
		}
		if strings.ContainsAny(pattern, "*?[") {
			if strings.ContainsAny(filepath.Dir(pattern), "*?[") {
				r.noFastPath()
			}
			r.touch(filepath.Dir(r.abs(pattern)))
		}
		paths, err := r.expand(pattern)
		if err != nil {
			if owner := ownerOf(pattern, owners); owner != "" && records[owner] == nil {
				return errUnknown
			}
			return err
		}
		for _, p := range paths {
			r.touch(r.abs(p))
			d, err := r.digestInput(p, owners, records)
			if err != nil {
				return err
			}
			comp["input:"+p] = d
		}
	}
	for _, p := range n.task.Optional {
		rel := filepath.Clean(p)
		if !r.isScript(rel) {
			continue
		}
		d, err := r.digestInput(rel, owners, records)
		if err != nil {
			return err
		}
		comp["script:"+rel] = d
	}
	return nil
}

// isScript reports whether the optional script path rel is a regular file of the project, and
// records the path for the fast path. While planning, the answer for a path is kept.
func (r *Runner) isScript(rel string) bool {
	r.mu.Lock()
	known, seen := r.scripts[rel]
	r.mu.Unlock()
	if seen {
		return known
	}
	r.touch(r.abs(rel))
	fi, err := os.Stat(filepath.Join(r.project, rel))
	regular := err == nil && fi.Mode().IsRegular()
	r.mu.Lock()
	if r.scripts != nil {
		r.scripts[rel] = regular
	}
	r.mu.Unlock()
	return regular
}

// upstreamOutputs maps project-relative output paths of s's direct upstream stages to the stage
// address, from the tasks prepared for them earlier in this plan or run.
func (r *Runner) upstreamOutputs(node *pipelines.Node) map[string]string {
	if len(node.Upstream) == 0 {
		return nil // read only
	}
	out := map[string]string{}
	for _, u := range node.Upstream {
		task := r.getTask(u)
		if task == nil {
			continue
		}
		for _, o := range task.Outputs {
			if o.Path != "" {
				out[filepath.Clean(o.Path)] = u
			}
		}
	}
	return out
}

// setTask remembers the prepared task of a stage.
func (r *Runner) setTask(addr string, t *stages.Task) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tasks[addr] = t
}

// getTask returns the prepared task of a stage, or nil.
func (r *Runner) getTask(addr string) *stages.Task {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.tasks[addr]
}

// ownerOf returns the upstream stage whose output is p or contains p, checking p and each of its
// parent folders (O(depth), whatever the number of upstream outputs).
func ownerOf(p string, owners map[string]string) string {
	for p = filepath.Clean(p); ; {
		if addr, ok := owners[p]; ok {
			return addr
		}
		parent := filepath.Dir(p)
		if parent == p || parent == "." {
			return ""
		}
		p = parent
	}
}

// digestInput returns "TYPE:DIGEST" for a project-relative (or absolute) input path.
func (r *Runner) digestInput(p string, owners map[string]string, records map[string]*cache.Record) (string, error) {
	if owner, ok := owners[p]; ok {
		rec := records[owner]
		if rec == nil {
			return "", errUnknown
		}
		for _, o := range rec.Outputs {
			if filepath.Clean(o.Path) == p {
				return o.Type + ":" + o.Digest, nil
			}
		}
	}
	if owner := ownerOf(p, owners); owner != "" && records[owner] == nil {
		return "", errUnknown
	}
	a, err := r.store.Digest(r.abs(p))
	if err != nil {
		return "", fmt.Errorf("hashing input %s: %w", p, err)
	}
	return a.Type + ":" + a.Digest, nil
}

// expand resolves an input pattern to sorted existing paths (project-relative unless absolute).
func (r *Runner) expand(pattern string) ([]string, error) {
	if !strings.ContainsAny(pattern, "*?[") {
		p := filepath.Clean(pattern)
		if _, err := os.Lstat(r.abs(p)); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("input %s does not exist; create it, fix the path, or reference the stage that produces it", pattern)
			}
			return nil, fmt.Errorf("input %s: %w", pattern, err)
		}
		return []string{p}, nil
	}
	matches, err := filepath.Glob(r.abs(pattern))
	if err != nil {
		return nil, fmt.Errorf("input pattern %q is malformed: %w", pattern, err)
	}
	if len(matches) == 0 {
		return nil, fmt.Errorf("input pattern %q matches no file", pattern)
	}
	out := make([]string, 0, len(matches))
	for _, m := range matches {
		if !filepath.IsAbs(pattern) {
			rel, err := filepath.Rel(r.project, m)
			if err == nil {
				m = rel
			}
		}
		out = append(out, m)
	}
	sort.Strings(out)
	return out, nil
}

// abs makes a project-relative path absolute.
func (r *Runner) abs(p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(r.project, p)
}

// DiagError carries configuration diagnostics found while evaluating a node.
type DiagError struct {
	Diags hcl.Diagnostics
}

// Error implements error.
func (e *DiagError) Error() string { return e.Diags.Error() }

// seedOf is the seed a node runs with: its own for a seed node of a Seeded stage, else the
// pipeline's.
func (r *Runner) seedOf(n *pipelines.Node) int64 {
	if n.Seed != nil {
		return *n.Seed
	}
	return r.p.Seed
}
