package runner

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/pcamflow/pcamflow/internal/atomicfile"
	"github.com/pcamflow/pcamflow/internal/state"
)

// The no-op fast path. After a run in which every node succeeded or was cached, the runner writes a
// fingerprint of everything a no-op depends on: the bytes of the pipeline and variable files, the
// variables, the pcamflow binary, and the stat identity (device, inode, size, mtime, ctime) of every
// input, script and output it read or wrote, including every file and folder under folder inputs and
// the folders that glob patterns list. A later `run` with the same invocation checks the fingerprint
// with stat calls only, before parsing the pipeline; if nothing changed it is a no-op by
// construction, since every part of every cache key is covered. Anything it cannot vouch for
// (a changed file, a file modified within 2 s of the fingerprint, -target/--force, a failed node)
// falls back to the full plan.

// fastVersion versions the fingerprint format.
const fastVersion = 1

// FastKey identifies an invocation: the pipeline source and everything that resolves variables.
type FastKey struct {
	File     string            `json:"file"`
	Source   string            `json:"source"`    // sha256 of the pipeline bytes
	Vars     []string          `json:"vars"`      // -var assignments in order
	VarFiles map[string]string `json:"var_files"` // path => sha256 of its bytes
	Env      map[string]string `json:"env"`       // PCAMFLOW_VAR_* values
	Executor state.Executor    `json:"executor"`
}

// NewFastKey computes the invocation key of a run.
func NewFastKey(file string, src []byte, vars, varFiles []string, executor state.Executor) (FastKey, error) {
	k := FastKey{File: file, Source: sum(src), Vars: append([]string{}, vars...), VarFiles: map[string]string{},
		Env: map[string]string{}, Executor: executor}
	for _, f := range varFiles {
		b, err := os.ReadFile(f)
		if err != nil {
			return k, err
		}
		k.VarFiles[f] = sum(b)
	}
	for _, kv := range os.Environ() {
		if name, val, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(name, "PCAMFLOW_VAR_") {
			k.Env[name] = val
		}
	}
	return k, nil
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// statID is the identity of a path; Absent marks a path that did not exist.
type statID struct {
	Absent bool   `json:"absent,omitempty"`
	Dev    uint64 `json:"dev,omitempty"`
	Ino    uint64 `json:"ino,omitempty"`
	Size   int64  `json:"size,omitempty"`
	Mtime  int64  `json:"mtime,omitempty"`
	Ctime  int64  `json:"ctime,omitempty"`
}

func statOf(path string) statID {
	var st syscall.Stat_t
	if err := syscall.Lstat(path, &st); err != nil {
		return statID{Absent: true}
	}
	return statID{Dev: uint64(st.Dev), Ino: st.Ino, Size: st.Size, Mtime: st.Mtim.Nano(), Ctime: st.Ctim.Nano()}
}

// FastNode is a node of the fingerprinted run, replayed into the run record of a no-op.
type FastNode struct {
	Node     string          `json:"node"`
	Kind     string          `json:"kind"`
	Key      string          `json:"key"`
	Outputs  json.RawMessage `json:"outputs,omitempty"`
	LogPath  string          `json:"log_path,omitempty"`
	Upstream []string        `json:"upstream,omitempty"`
	Executor state.Executor  `json:"executor,omitempty"`
	// Parent is set on the children of a parent node (listed right after it), for plan.
	Parent string `json:"parent,omitempty"`
}

// fingerprint is the file written after a successful run.
type fingerprint struct {
	Version  int               `json:"version"`
	Key      FastKey           `json:"key"`
	Exe      statID            `json:"exe"`
	Created  int64             `json:"created"`
	RunID    string            `json:"run_id"`
	Pipeline string            `json:"pipeline"`
	Paths    map[string]statID `json:"paths"`
	Nodes    []FastNode        `json:"nodes"`
}

func fastFile(workspace string, k FastKey) string {
	return filepath.Join(workspace, "fastpath", sum([]byte(k.File))[:16]+".json")
}

// touch records a path (absolute) that a key or a restore depended on, with the stat identity of
// it (and of everything below a folder) at this moment, when it was hashed or written.
func (r *Runner) touch(paths ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.touched == nil {
		r.touched = map[string]statID{}
	}
	for _, p := range paths {
		if _, seen := r.touched[p]; !seen {
			addTree(r.touched, p)
		}
	}
}

// noFastPath marks this run as not eligible for a fingerprint (e.g. a glob over folders).
func (r *Runner) noFastPath() {
	r.mu.Lock()
	r.fastOff = true
	r.mu.Unlock()
}

// writeFingerprint records the fingerprint of a fully successful run.
func (r *Runner) writeFingerprint(runID string, results []NodeResult) error {
	if r.opt.Fast == nil || len(r.opt.Targets) > 0 || len(r.opt.Force) > 0 {
		return nil
	}
	r.mu.Lock()
	off := r.fastOff
	seen := make(map[string]statID, len(r.touched))
	for p, id := range r.touched {
		seen[p] = id
	}
	r.mu.Unlock()
	path := fastFile(r.store.Root(), *r.opt.Fast)
	_ = os.Remove(path)
	if off {
		return nil
	}
	fp := fingerprint{Version: fastVersion, Key: *r.opt.Fast, Created: time.Now().UnixNano(), RunID: runID,
		Pipeline: r.p.Name, Paths: map[string]statID{}}
	if exe, err := os.Executable(); err == nil {
		fp.Exe = statOf(exe)
	}
	for p, then := range seen {
		if now := statOf(p); now != then {
			// Changed while the run used it: the keys may describe the old content, so a later
			// run must look at the file again.
			return nil
		}
		fp.Paths[p] = then
	}
	var nodes []NodeResult
	for _, res := range results {
		if res.Parent == "" { // children are listed after their parent, from its record
			nodes = append(nodes, res)
		}
	}
	sort.Slice(nodes, func(i, j int) bool { return r.p.NodeIndex(nodes[i].Node) < r.p.NodeIndex(nodes[j].Node) })
	for _, res := range nodes {
		n, _ := r.p.Node(res.Node)
		outs, _ := json.Marshal(res.Outputs)
		ex := r.executorOf(n.Stage)
		fp.Nodes = append(fp.Nodes, FastNode{Node: res.Node, Kind: n.Stage.Kind.Name(), Key: res.Key, Outputs: outs,
			LogPath: res.LogPath, Upstream: n.Upstream, Executor: ex})
		for _, c := range res.Children {
			fp.Nodes = append(fp.Nodes, FastNode{Node: c.Node, Kind: c.Kind, Key: c.Key, Upstream: []string{res.Node},
				Executor: ex, Parent: res.Node})
		}
	}
	data, err := json.Marshal(fp)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return atomicfile.Write(path, data, 0o644)
}

// addTree records p and, for a folder, everything below it.
func addTree(into map[string]statID, p string) {
	id := statOf(p)
	into[p] = id
	if id.Absent {
		return
	}
	if fi, err := os.Lstat(p); err == nil && fi.IsDir() {
		_ = filepath.WalkDir(p, func(q string, _ fs.DirEntry, err error) error {
			if err == nil {
				into[q] = statOf(q)
			}
			return nil
		})
	}
}

// errFastMiss says the fast path does not apply; the caller runs the full plan.
var errFastMiss = errors.New("fast path does not apply")

// FastRun is the last fully successful run of an invocation, as its fingerprint recorded it.
type FastRun struct {
	RunID, Pipeline string
	Nodes           []FastNode
}

// FastNoop checks the fingerprint of the last fully successful run of the same invocation. It
// returns that run when nothing it depended on changed, or an error when a full run is needed.
// It reads only the fingerprint and stats files.
func FastNoop(workspace string, k FastKey) (*FastRun, error) {
	data, err := os.ReadFile(fastFile(workspace, k))
	if err != nil {
		return nil, errFastMiss
	}
	var fp fingerprint
	if json.Unmarshal(data, &fp) != nil || fp.Version != fastVersion || !sameKey(fp.Key, k) {
		return nil, errFastMiss
	}
	if exe, err := os.Executable(); err != nil || statOf(exe) != fp.Exe {
		return nil, errFastMiss
	}
	racy := fp.Created - int64(2*time.Second)
	for p, want := range fp.Paths {
		got := statOf(p)
		if got != want || (!got.Absent && (got.Mtime >= racy || got.Ctime >= racy)) {
			return nil, fmt.Errorf("%w: %s changed", errFastMiss, p)
		}
	}
	return &FastRun{RunID: fp.RunID, Pipeline: fp.Pipeline, Nodes: fp.Nodes}, nil
}

func sameKey(a, b FastKey) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// Plan returns the plan of an unchanged pipeline: every node cached, in execution order.
func (f *FastRun) Plan() []PlannedNode {
	out := make([]PlannedNode, 0, len(f.Nodes))
	for _, n := range f.Nodes {
		up := n.Upstream
		if up == nil {
			up = []string{}
		}
		exec := n.Executor
		if exec == "" {
			exec = state.Local
		}
		out = append(out, PlannedNode{Node: n.Node, Kind: n.Kind, State: state.Cached, Key: n.Key, Upstream: up, Executor: exec,
			Parent: n.Parent})
	}
	return out
}
