package track

import (
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	_ "github.com/mattn/go-sqlite3" // registers the "sqlite3" driver
)

// BusyTimeoutMillis is how long a connection waits for another writer's lock before giving up.
const BusyTimeoutMillis = 30000

// DB is an open tracking store. It is safe for concurrent use by several goroutines, and several
// processes may open the same file at once.
type DB struct {
	sql       *sql.DB
	path      string
	putMetric *sql.Stmt
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
	dsn := fmt.Sprintf("%s?_txlock=immediate&_busy_timeout=%d&_foreign_keys=1&_journal_mode=WAL&_synchronous=NORMAL",
		path, BusyTimeoutMillis)
	sdb, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return nil, fmt.Errorf("track: open %s: %w", path, err)
	}
	sdb.SetMaxOpenConns(8)
	if err := migrate(sdb, migrations); err != nil {
		sdb.Close()
		return nil, fmt.Errorf("track: open %s: %w", path, err)
	}
	db := &DB{sql: sdb, path: path}
	if db.putMetric, err = sdb.Prepare(upsertMetricSQL); err != nil {
		sdb.Close()
		return nil, fmt.Errorf("track: open %s: prepare metric insert: %w", path, err)
	}
	return db, nil
}

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
