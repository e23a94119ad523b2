package cli

import (
	"fmt"
	"path/filepath"

	"github.com/pcamflow/pcamflow/cache"
	"github.com/pcamflow/pcamflow/track"
)

// dbFile is the tracking database inside the workspace.
const dbFile = "pcamflow.db"

// openStore opens the workspace's object store.
func (e *env) openStore() (*cache.Store, error) {
	s, err := cache.Open(e.workspace)
	if err != nil {
		return nil, fmt.Errorf("opening the workspace %s: %w", e.workspace, err)
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
