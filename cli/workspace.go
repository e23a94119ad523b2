package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/pcamflow/pcamflow/cache"
	"github.com/pcamflow/pcamflow/pipelines"
	"github.com/pcamflow/pcamflow/runner"
	"github.com/pcamflow/pcamflow/track"
)

// dbFile is the tracking database inside the workspace.
const dbFile = "pcamflow.db"

// openStore opens the workspace's object store. Restores are confined to the project (the working
// directory) and the workspace: no cached output is written outside them, through any link.
func (e *env) openStore() (*cache.Store, error) {
	s, err := cache.Open(e.workspace)
	if err != nil {
		return nil, fmt.Errorf("opening the workspace %s: %w", e.workspace, err)
	}
	project, err := projectDir()
	if err == nil {
		err = s.ConfineRestores(project)
	}
	if err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// openDB opens the workspace's tracking database, creating it when missing.
func (e *env) openDB() (*track.DB, error) {
	db, err := track.Open(filepath.Join(e.workspace, dbFile))
	if err != nil {
		return nil, e.dbError(err)
	}
	return db, nil
}

// errNoDatabase says the workspace has no run database yet.
var errNoDatabase = errors.New("no runs recorded yet: the workspace has no run database")

// openDBForReading opens the run database for commands that show runs (status, runs): read-write
// when the workspace and the file are writable (so that runs left by dead processes can be marked),
// else read-only (track.OpenReadOnly), so that a read-only workspace can still be inspected. It
// never creates the database: a missing one is errNoDatabase.
func (e *env) openDBForReading() (*track.DB, error) {
	path := filepath.Join(e.workspace, dbFile)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, errNoDatabase
	}
	if writable(e.workspace) && writable(path) {
		return e.openDB()
	}
	db, err := track.OpenReadOnly(path)
	if err != nil {
		return nil, e.dbError(err)
	}
	return db, nil
}

// writable reports whether this process may write path (EROFS on a read-only mount, EACCES
// without permission).
func writable(path string) bool {
	return syscall.Access(path, 2 /* W_OK */) == nil
}

// dbError explains a failure to open the run database; for a damaged file it says what the file
// holds, that the cache does not depend on it, and how to go on.
func (e *env) dbError(err error) error {
	var d *track.DamagedError
	if !errors.As(err, &d) {
		return fmt.Errorf("opening the run database: %w", err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%v.\n", d)
	fmt.Fprintf(&b, "  It holds only the history of runs (status, runs). The cache (objects and node records in %s)\n", e.workspace)
	b.WriteString("  does not depend on it and is intact: cached results are still reused.\n")
	b.WriteString("  Move the damaged file aside (pcamflow never replaces it); the next run starts a new history:\n")
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if _, err := os.Lstat(d.Path + suffix); err == nil || suffix == "" {
			fmt.Fprintf(&b, "    mv %s%s %s.damaged%s\n", d.Path, suffix, d.Path, suffix)
		}
	}
	fmt.Fprintf(&b, "  To try to rescue old runs afterwards: sqlite3 %s.damaged .recover | sqlite3 %s", d.Path, d.Path)
	return errors.New(b.String())
}

// session is what a pipeline command works with: the loaded pipeline, the open workspace and a
// runner over them.
type session struct {
	p     *pipelines.Pipeline
	store *cache.Store
	db    *track.DB
	r     *runner.Runner
}

// close releases the workspace.
func (s *session) close() {
	if s.db != nil {
		s.db.Close()
	}
	if s.store != nil {
		s.store.Close()
	}
}

// open loads the pipeline named by pos and opens the workspace (and the run database when withDB)
// with a runner configured by opt. It prints what went wrong and returns a non-zero exit code on
// failure; the caller closes the session otherwise.
func (e *env) open(pos []string, lo *loadOptions, withDB bool, opt runner.Options) (*session, int) {
	s := &session{p: e.load(pos, lo)}
	if s.p == nil {
		return nil, exitFailure
	}
	fail := func(err error, code int) (*session, int) {
		fmt.Fprintf(e.stderr, "pcamflow: %v\n", err)
		s.close()
		return nil, code
	}
	var err error
	if s.store, err = e.openStore(); err != nil {
		return fail(err, exitFailure)
	}
	if withDB {
		if s.db, err = e.openDB(); err != nil {
			return fail(err, exitFailure)
		}
	}
	project, err := projectDir()
	if err != nil {
		return fail(err, exitFailure)
	}
	if s.r, err = runner.New(s.p, s.store, s.db, project, opt); err != nil {
		return fail(err, exitUsage)
	}
	return s, exitOK
}
