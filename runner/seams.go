package runner

import (
	"context"
	"time"

	"github.com/pcamflow/pcamflow/cache"
	"github.com/pcamflow/pcamflow/internal/state"
	"github.com/pcamflow/pcamflow/track"
)

// The runner's seams: the small interfaces it uses of the workspace, so that its unit tests run on
// in-memory fakes. *cache.Store implements Store and *track.DB implements Tracker.

// ObjectStore is the content-addressed object store of the workspace.
type ObjectStore interface {
	// Root is the workspace folder (logs, scratch space, managed outputs and Slurm files live there).
	Root() string
	// Put publishes a file or folder into the store and returns its artifact.
	Put(path string) (cache.Artifact, error)
	// Digest returns what Put would return without storing anything (the stat cache answers for
	// unchanged files).
	Digest(path string) (cache.Artifact, error)
	// Has reports whether every object of an artifact is in the store.
	Has(a cache.Artifact) (bool, error)
	// Restore materialises an artifact at dst, verifying it; a damaged object is cache.ErrCorrupt.
	Restore(a cache.Artifact, dst string) error
	// ObjectPath is where the object of a file digest lives.
	ObjectPath(digest string) string
	// TempDir creates a private folder on the store's file system.
	TempDir(prefix string) (string, error)
	// FlushStatCache saves the stat cache.
	FlushStatCache() error
}

// RecordStore holds the committed node records by cache key, the refs that name the latest key of
// every node, and the locks that keep two processes from computing one key at once.
type RecordStore interface {
	GetRecord(key string) (*cache.Record, bool, error)
	PutRecord(r *cache.Record) error
	GetRef(name string) (string, bool, error)
	SetRef(name, key string) error
	LockKey(ctx context.Context, key string) (unlock func(), err error)
	LockWorkspace(ctx context.Context, exclusive bool) (unlock func(), err error)
}

// Store is the workspace store: objects and records.
type Store interface {
	ObjectStore
	RecordStore
}

// Tracker is the tracking sink: the run and node-run records of the tracking store. Only the
// recorder (recorder.go) and Reconcile use it.
type Tracker interface {
	BeginRun(r track.Run) error
	FinishRun(id string, status state.Run, finished time.Time) error
	GetRun(id string) (*track.Run, []track.NodeRun, error)
	StartNode(n *track.NodeRun) error
	InsertNode(n *track.NodeRun) error
	InsertNodes(nodes []*track.NodeRun) error
	UpdateNode(n *track.NodeRun) error
	FinishNode(n *track.NodeRun) error
	GetNode(id int64) (*track.NodeRun, error)
	LogMetrics(nodeRunID int64, step int, values map[string]float64) error
	IngestNodeFile(path string) (*track.NodeRun, error)
	RunningSlurmNodes(pipeline string) ([]track.NodeRun, error)
	RunNodesRunning(id string) (int, error)
}

var (
	_ Store   = (*cache.Store)(nil)
	_ Tracker = (*track.DB)(nil)
)

// noTracker turns a typed nil (a nil *track.DB passed as a Tracker) into a nil interface, so that
// "no tracking store" is one value.
func noTracker(t Tracker) Tracker {
	if db, ok := t.(*track.DB); ok && db == nil {
		return nil
	}
	return t
}
