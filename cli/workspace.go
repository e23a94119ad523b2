package cli

import (
	"fmt"
	"path/filepath"

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

// openDB opens the workspace's tracking database.
func (e *env) openDB() (*track.DB, error) {
	db, err := track.Open(filepath.Join(e.workspace, dbFile))
	if err != nil {
		return nil, fmt.Errorf("opening the run database: %w", err)
	}
	return db, nil
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
