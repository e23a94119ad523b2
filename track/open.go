package track

import (
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/mattn/go-sqlite3" // also registers the "sqlite3" driver
)

// BusyTimeoutMillis is how long a connection waits for another writer's lock before giving up.
const BusyTimeoutMillis = 30000

// DB is an open tracking store. It is safe for concurrent use by several goroutines, and several
// processes may open the same file at once.
type DB struct {
	sql       *sql.DB
	path      string
	putMetric *sql.Stmt
	readOnly  bool
}

// ErrDamaged is wrapped by every error that reports a database file that is not a readable SQLite
// database of this store: not a database at all, malformed, or empty (0 bytes).
var ErrDamaged = errors.New("damaged run database")

// DamagedError reports a damaged database file. It is never replaced or repaired by Open: what to
// do with it is the user's decision.
type DamagedError struct {
	Path   string // the database file
	Reason string // "file is not a database", "it is empty (0 bytes)", ...
	Err    error  // the SQLite error, if any
}

func (e *DamagedError) Error() string {
	return fmt.Sprintf("the run database %s is damaged: %s", e.Path, e.Reason)
}

// Unwrap makes errors.Is(err, ErrDamaged) true and exposes the SQLite error.
func (e *DamagedError) Unwrap() []error { return []error{ErrDamaged, e.Err} }

// checkNotEmpty fails with a *DamagedError when path exists with 0 bytes: SQLite would take it for
// a new database and the history it held would be silently replaced. (A database SQLite creates
// always has its header written before the file is released, under the open lock.)
func checkNotEmpty(path string) error {
	fi, err := os.Stat(path)
	if err == nil && fi.Mode().IsRegular() && fi.Size() == 0 {
		return &DamagedError{Path: path, Reason: "it is empty (0 bytes)"}
	}
	return nil
}

// damaged turns SQLite's "not a database" and "malformed" errors into a *DamagedError.
func damaged(path string, err error) error {
	var se sqlite3.Error
	if errors.As(err, &se) && (se.Code == sqlite3.ErrNotADB || se.Code == sqlite3.ErrCorrupt) {
		return &DamagedError{Path: path, Reason: se.Error(), Err: err}
	}
	return err
}

// Open opens the tracking store at path, creating the file, its parent directories and the schema
// when missing and applying pending migrations. The connection uses WAL journaling,
// synchronous=NORMAL (a commit survives a crash of the process; a power loss may lose the last
// commits but never corrupts the file), a 30 s busy timeout, foreign keys, and immediate write
// transactions. It fails when path is empty or contains '?', when the file is not an SQLite
// database, or when its schema is newer than this build knows.
//
// Processes opening the store at the same time take turns through an exclusive flock on
// path+".lock" while they set up their first connection and migrate: a connection that sees a new
// file before another process has switched it to WAL can otherwise stay stuck until its busy
// timeout ("database is locked"). The lock file is created once and left in place.
func Open(path string) (*DB, error) {
	if path == "" {
		return nil, errors.New("track: open: empty database path")
	}
	if strings.ContainsRune(path, '?') {
		return nil, fmt.Errorf("track: open %s: the path must not contain '?'", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("track: open %s: create directory: %w", path, err)
	}
	unlock, err := lockFile(path + ".lock")
	if err != nil {
		return nil, fmt.Errorf("track: open %s: %w", path, err)
	}
	defer unlock()
	if err := checkNotEmpty(path); err != nil {
		return nil, err
	}
	dsn := fmt.Sprintf("%s?_txlock=immediate&_busy_timeout=%d&_foreign_keys=1&_journal_mode=WAL&_synchronous=NORMAL",
		path, BusyTimeoutMillis)
	sdb, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return nil, fmt.Errorf("track: open %s: %w", path, err)
	}
	sdb.SetMaxOpenConns(8)
	if err := migrate(sdb, migrations); err != nil {
		sdb.Close()
		if d := damaged(path, err); d != err {
			return nil, d
		}
		return nil, fmt.Errorf("track: open %s: %w", path, err)
	}
	db := &DB{sql: sdb, path: path}
	if db.putMetric, err = sdb.Prepare(upsertMetricSQL); err != nil {
		sdb.Close()
		return nil, fmt.Errorf("track: open %s: prepare metric insert: %w", path, err)
	}
	return db, nil
}

// OpenReadOnly opens an existing tracking store for reading only, for commands that only show
// (status, runs) on a workspace they cannot or need not write. It creates nothing, takes no lock
// file and never migrates: a store written by another version of pcamflow is an error saying so.
// It first opens the file read-only (mode=ro), which still sees the newest commits of a writer;
// when that fails, as on a read-only file system where SQLite cannot create the WAL's shared-memory
// file, it opens the file as immutable (no locking at all: correct as long as nobody writes it
// meanwhile, which a read-only file system guarantees). A missing file is an error wrapping
// fs.ErrNotExist; a damaged one a *DamagedError. Writing through the returned DB fails.
func OpenReadOnly(path string) (*DB, error) {
	if path == "" {
		return nil, errors.New("track: open: empty database path")
	}
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("track: open %s: %w", path, err)
	}
	if err := checkNotEmpty(path); err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("track: open %s: %w", path, err)
	}
	var firstErr error
	for _, mode := range []string{"mode=ro", "mode=ro&immutable=1"} {
		u := url.URL{Scheme: "file", Path: abs, RawQuery: fmt.Sprintf("%s&_busy_timeout=%d&_foreign_keys=1", mode, BusyTimeoutMillis)}
		sdb, err := sql.Open("sqlite3", u.String())
		if err == nil {
			err = checkVersion(sdb)
			if err == nil {
				db := &DB{sql: sdb, path: path, readOnly: true}
				if db.putMetric, err = sdb.Prepare(upsertMetricSQL); err == nil {
					return db, nil
				}
			}
			sdb.Close()
		}
		if d := damaged(path, err); d != err {
			return nil, d
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return nil, fmt.Errorf("track: open %s read-only: %w", path, firstErr)
}

// checkVersion fails unless the database's schema is the one this build writes.
func checkVersion(sdb *sql.DB) error {
	var current int
	if err := sdb.QueryRow(`SELECT COALESCE(MAX(version), 0) FROM schema_version`).Scan(&current); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	latest := migrations[len(migrations)-1].version
	switch {
	case current > latest:
		return fmt.Errorf("schema version %d is newer than this pcamflow understands (%d): upgrade pcamflow", current, latest)
	case current < latest:
		return fmt.Errorf("schema version %d was written by an older pcamflow (this one uses %d): "+
			"run a command that writes (pcamflow status) once where the workspace is writable, to upgrade it", current, latest)
	}
	return nil
}

// ReadOnly reports whether the store was opened with OpenReadOnly.
func (db *DB) ReadOnly() bool { return db.readOnly }

// lockFile takes an exclusive flock on path, creating the file when missing, and returns the
// function that releases it.
func lockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// Path returns the file path the store was opened with.
func (db *DB) Path() string { return db.path }

// Close closes the store's connections. Using the DB afterwards fails.
func (db *DB) Close() error {
	err := errors.Join(db.putMetric.Close(), db.sql.Close())
	if err != nil {
		return fmt.Errorf("track: close %s: %w", db.path, err)
	}
	return nil
}

// inTx runs fn in an immediate write transaction, committing when fn returns nil and rolling back
// otherwise.
func (db *DB) inTx(fn func(tx *sql.Tx) error) error {
	tx, err := db.sql.Begin()
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}
