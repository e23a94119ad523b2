// Package track is pcamflow's tracking store: an SQLite database (github.com/mattn/go-sqlite3) that
// records every run of a pipeline, every node execution within it, and per-step training metrics.
//
// Concurrency. Several pcamflow processes on one machine may write the same database at once (two
// runs started from two terminals, a status command reconciling while a run is active). The store is
// opened in WAL mode with a 30 s busy timeout, foreign keys on and _txlock=immediate: every write
// transaction takes the write lock when it begins, so concurrent writers queue behind each other
// instead of failing with "database is locked", and readers never block writers. Keep the database
// on a local file system of the machine that runs pcamflow (the login node): SQLite's locking and WAL
// shared memory do not work across machines over NFS.
//
// Compute nodes never open the database. A Slurm job writes its result as a JSON file with
// WriteNodeFile (atomic: temporary file, fsync, rename); the runner on the login node loads it with
// IngestNodeFile, which is idempotent.
//
// Schema. The schema is versioned: the schema_version table lists the applied migrations, and Open
// applies the missing ones in order inside one transaction. A database written by a newer pcamflow
// (a version this one does not know) is refused rather than misread.
//
// Times are stored as UTC text with nanoseconds ("2006-01-02T15:04:05.000000000Z"), which sorts
// chronologically and stays readable with the sqlite3 shell; a zero time.Time is stored as NULL and
// read back as the zero time. Times read back are in UTC.
package track
