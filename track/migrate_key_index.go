package track

// migrationKeyIndex (version 5) indexes node runs by cache key. KeyProducer (`pcamflow runs`
// finding the execution behind a cached sweep trial) looks a node run up by key alone; without the
// index every lookup scanned node_runs from the newest row back. The index is (key, id), so the
// newest matching row is found by one descent of the index, and ORDER BY id DESC needs no sort.
// Creating an index changes no row: an existing database is migrated in place inside migrate's
// one transaction.
var migrationKeyIndex = migration{5, "node runs by cache key", `
CREATE INDEX node_runs_by_key ON node_runs (key, id);
`}
