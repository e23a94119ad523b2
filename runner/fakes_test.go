package runner

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/pcamflow/pcamflow/cache"
	"github.com/pcamflow/pcamflow/internal/state"
	"github.com/pcamflow/pcamflow/track"
)

// In-memory fakes of the runner's seams, for unit tests that need no workspace on disk beyond the
// logs and scratch folders kinds write into.

// memStore is an in-memory Store: objects (files and trees) by digest, records by key, refs by
// name, and per-key locks.
type memStore struct {
	root string

	mu      sync.Mutex
	objects map[string][]byte            // file digest => content
	trees   map[string]map[string]string // tree digest => relative path => file digest
	records map[string]*cache.Record
	refs    map[string]string
	corrupt map[string]bool // digests whose Restore fails as cache.ErrCorrupt
	puts    int
	locks   map[string]chan struct{}
}

func newMemStore(root string) *memStore {
	return &memStore{root: root, objects: map[string][]byte{}, trees: map[string]map[string]string{},
		records: map[string]*cache.Record{}, refs: map[string]string{}, corrupt: map[string]bool{}, locks: map[string]chan struct{}{}}
}

var _ Store = (*memStore)(nil)

func (m *memStore) Root() string { return m.root }

func digestOf(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// artifact reads path as a file or a tree, storing its objects when store is set.
func (m *memStore) artifact(path string, store bool) (cache.Artifact, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return cache.Artifact{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if !fi.IsDir() {
		b, err := os.ReadFile(path)
		if err != nil {
			return cache.Artifact{}, err
		}
		d := digestOf(b)
		if store {
			m.objects[d] = b
			m.puts++
		}
		return cache.Artifact{Type: cache.TypeFile, Digest: d, Size: int64(len(b)), Files: 1}, nil
	}
	files := map[string]string{}
	var size int64
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(path, p)
		files[rel] = digestOf(b)
		size += int64(len(b))
		if store {
			m.objects[files[rel]] = b
		}
		return nil
	})
	if err != nil {
		return cache.Artifact{}, err
	}
	names := slices.Sorted(func(yield func(string) bool) {
		for k := range files {
			if !yield(k) {
				return
			}
		}
	})
	var manifest strings.Builder
	for _, n := range names {
		fmt.Fprintf(&manifest, "%s\t%s\n", n, files[n])
	}
	d := digestOf([]byte(manifest.String()))
	if store {
		m.trees[d] = files
		m.puts++
	}
	return cache.Artifact{Type: cache.TypeTree, Digest: d, Size: size, Files: len(files)}, nil
}

func (m *memStore) Put(path string) (cache.Artifact, error)    { return m.artifact(path, true) }
func (m *memStore) Digest(path string) (cache.Artifact, error) { return m.artifact(path, false) }

func (m *memStore) Has(a cache.Artifact) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if a.Type == cache.TypeTree {
		_, ok := m.trees[a.Digest]
		return ok, nil
	}
	_, ok := m.objects[a.Digest]
	return ok, nil
}

func (m *memStore) Restore(a cache.Artifact, dst string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.corrupt[a.Digest] {
		return fmt.Errorf("object %s: %w", a.Digest[:12], cache.ErrCorrupt)
	}
	if a.Type == cache.TypeFile {
		b, ok := m.objects[a.Digest]
		if !ok {
			return fmt.Errorf("object %s: %w", a.Digest[:12], cache.ErrMissing)
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o644)
	}
	files, ok := m.trees[a.Digest]
	if !ok {
		return fmt.Errorf("tree %s: %w", a.Digest[:12], cache.ErrMissing)
	}
	_ = os.RemoveAll(dst)
	for rel, d := range files {
		p := filepath.Join(dst, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, m.objects[d], 0o644); err != nil {
			return err
		}
	}
	return os.MkdirAll(dst, 0o755)
}

func (m *memStore) ObjectPath(d string) string { return filepath.Join(m.root, "objects", d) }

func (m *memStore) TempDir(prefix string) (string, error) {
	if err := os.MkdirAll(filepath.Join(m.root, "tmp"), 0o755); err != nil {
		return "", err
	}
	return os.MkdirTemp(filepath.Join(m.root, "tmp"), prefix+"-")
}

func (m *memStore) FlushStatCache() error { return nil }

func (m *memStore) GetRecord(key string) (*cache.Record, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.records[key]
	return r, ok, nil
}

func (m *memStore) PutRecord(r *cache.Record) error {
	for name, o := range r.Outputs {
		if ok, _ := m.Has(o.Artifact); !ok {
			return fmt.Errorf("put record %s: output %q: %w", r.Key, name, cache.ErrMissing)
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.records[r.Key] = r
	return nil
}

func (m *memStore) GetRef(name string) (string, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k, ok := m.refs[name]
	return k, ok, nil
}

func (m *memStore) SetRef(name, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.refs[name] = key
	return nil
}

func (m *memStore) LockKey(ctx context.Context, key string) (func(), error) {
	m.mu.Lock()
	l, ok := m.locks[key]
	if !ok {
		l = make(chan struct{}, 1)
		m.locks[key] = l
	}
	m.mu.Unlock()
	select {
	case l <- struct{}{}:
		return func() { <-l }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (m *memStore) LockWorkspace(context.Context, bool) (func(), error) { return func() {}, nil }

// memTracker is an in-memory Tracker.
type memTracker struct {
	mu      sync.Mutex
	runs    map[string]*track.Run
	nodes   []*track.NodeRun // by ID-1
	metrics map[int64][]track.MetricRow
	ingests map[string]bool
	failOn  string // a method name that fails, for error paths
}

func newMemTracker() *memTracker {
	return &memTracker{runs: map[string]*track.Run{}, metrics: map[int64][]track.MetricRow{}, ingests: map[string]bool{}}
}

var _ Tracker = (*memTracker)(nil)

var errInjected = errors.New("injected tracker failure")

func (m *memTracker) fail(method string) error {
	if m.failOn == method {
		return errInjected
	}
	return nil
}

func (m *memTracker) BeginRun(r track.Run) error {
	if err := m.fail("BeginRun"); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, dup := m.runs[r.ID]; dup || r.ID == "" {
		return fmt.Errorf("run %q exists or is empty", r.ID)
	}
	m.runs[r.ID] = &r
	return nil
}

func (m *memTracker) FinishRun(id string, status state.Run, finished time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.runs[id]
	if !ok {
		return fmt.Errorf("run %s: %w", id, track.ErrNotFound)
	}
	r.Status, r.Finished = status, finished
	return nil
}

func (m *memTracker) GetRun(id string) (*track.Run, []track.NodeRun, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.runs[id]
	if !ok {
		return nil, nil, fmt.Errorf("run %s: %w", id, track.ErrNotFound)
	}
	var nodes []track.NodeRun
	for _, n := range m.nodes {
		if n.RunID == id {
			nodes = append(nodes, *n)
		}
	}
	c := *r
	return &c, nodes, nil
}

func (m *memTracker) insert(n *track.NodeRun) error {
	if !n.State.Recorded() {
		return fmt.Errorf("node %s: state %q", n.Node, n.State)
	}
	if _, ok := m.runs[n.RunID]; !ok {
		return fmt.Errorf("run %s: %w", n.RunID, track.ErrNotFound)
	}
	c := *n
	m.nodes = append(m.nodes, &c)
	c.ID = int64(len(m.nodes))
	n.ID = c.ID
	return nil
}

func (m *memTracker) StartNode(n *track.NodeRun) error {
	if err := m.fail("StartNode"); err != nil {
		return err
	}
	if n.State != state.Running {
		return fmt.Errorf("start %s in state %s", n.Node, n.State)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.insert(n)
}

func (m *memTracker) InsertNode(n *track.NodeRun) error {
	if err := m.fail("InsertNode"); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.insert(n)
}

func (m *memTracker) InsertNodes(nodes []*track.NodeRun) error {
	if err := m.fail("InsertNodes"); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, n := range nodes {
		if err := m.insert(n); err != nil {
			return err
		}
	}
	return nil
}

func (m *memTracker) UpdateNode(n *track.NodeRun) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if n.ID < 1 || int(n.ID) > len(m.nodes) {
		return fmt.Errorf("node run %d: %w", n.ID, track.ErrNotFound)
	}
	if !n.State.Recorded() {
		return fmt.Errorf("node %s: state %q", n.Node, n.State)
	}
	cur := m.nodes[n.ID-1]
	c := *n
	c.RunID, c.Node, c.Kind, c.Started, c.Parent = cur.RunID, cur.Node, cur.Kind, cur.Started, cur.Parent
	m.nodes[n.ID-1] = &c
	return nil
}

func (m *memTracker) FinishNode(n *track.NodeRun) error {
	if n.State == state.Running {
		return fmt.Errorf("finish %s: still running", n.Node)
	}
	if n.Finished.IsZero() {
		n.Finished = time.Now()
	}
	return m.UpdateNode(n)
}

func (m *memTracker) GetNode(id int64) (*track.NodeRun, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if id < 1 || int(id) > len(m.nodes) {
		return nil, fmt.Errorf("node run %d: %w", id, track.ErrNotFound)
	}
	c := *m.nodes[id-1]
	return &c, nil
}

func (m *memTracker) LogMetrics(id int64, step int, values map[string]float64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	names := make([]string, 0, len(values))
	for k := range values {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		m.metrics[id] = append(m.metrics[id], track.MetricRow{Step: step, Name: k, Value: values[k]})
	}
	return nil
}

func (m *memTracker) IngestNodeFile(path string) (*track.NodeRun, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f struct {
		Format  string            `json:"format"`
		NodeRun *track.NodeRun    `json:"node_run"`
		Metrics []track.MetricRow `json:"metrics"`
	}
	if err := json.Unmarshal(data, &f); err != nil || f.NodeRun == nil || f.Format != track.NodeFileFormat {
		return nil, fmt.Errorf("not a node file: %s", path)
	}
	m.mu.Lock()
	seen := m.ingests[path+string(data)]
	m.ingests[path+string(data)] = true
	m.mu.Unlock()
	if !seen {
		if f.NodeRun.ID == 0 {
			if err := m.InsertNode(f.NodeRun); err != nil {
				return nil, err
			}
		} else if err := m.UpdateNode(f.NodeRun); err != nil {
			return nil, err
		}
	}
	return m.GetNode(f.NodeRun.ID)
}

func (m *memTracker) RunningSlurmNodes(pipeline string) ([]track.NodeRun, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []track.NodeRun
	for _, n := range m.nodes {
		if n.State == state.Running && n.Executor == state.Slurm && n.JobID != "" &&
			(pipeline == "" || m.runs[n.RunID].Pipeline == pipeline) {
			out = append(out, *n)
		}
	}
	return out, nil
}

func (m *memTracker) RunNodesRunning(id string) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := 0
	for _, n := range m.nodes {
		if n.RunID == id && n.State == state.Running {
			k++
		}
	}
	return k, nil
}

// rows returns the node runs recorded for node addr.
func (m *memTracker) rows(addr string) []track.NodeRun {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []track.NodeRun
	for _, n := range m.nodes {
		if n.Node == addr {
			out = append(out, *n)
		}
	}
	return out
}
