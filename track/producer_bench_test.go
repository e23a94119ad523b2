package track

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"strconv"
	"testing"
)

// BenchmarkKeyProducer measures one KeyProducer lookup in a store of 50,000 node runs (500 runs of
// 100 sweep trials, every trial a distinct cache key; one in ten a cache hit of an earlier key),
// looking up keys spread over the whole table. "schema=4" is the store before migration 5 (no index
// on the key: every lookup scans node_runs from the newest row back to the producer), "schema=5"
// the current one. See docs/benchmarks.md.
func BenchmarkKeyProducer(b *testing.B) {
	const runs, trials = 500, 100
	for _, v := range []int{4, schemaVersion()} {
		b.Run("schema="+strconv.Itoa(v), func(b *testing.B) {
			db := keyProducerStore(b, migrationsThrough(b, v), runs, trials)
			b.ResetTimer()
			for i := range b.N {
				n := (i * 7919) % (runs * trials)
				if n%trials%10 == 9 { // that trial was a cache hit: its own key was never produced
					n--
				}
				key := "key-" + strconv.Itoa(n)
				p, err := db.KeyProducer(key)
				if err != nil || p == nil {
					b.Fatalf("KeyProducer(%s): %v, %v", key, p, err)
				}
			}
		})
	}
}

// keyProducerStore creates a store at the schema of ms holding runs×trials node runs.
func keyProducerStore(b *testing.B, ms []migration, runs, trials int) *DB {
	b.Helper()
	path := filepath.Join(b.TempDir(), "track.db")
	raw, err := sql.Open("sqlite3", path+"?_foreign_keys=1&_txlock=immediate&_journal_mode=WAL&_synchronous=NORMAL")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { raw.Close() })
	if err := migrate(raw, ms); err != nil {
		b.Fatal(err)
	}
	tx, err := raw.Begin()
	if err != nil {
		b.Fatal(err)
	}
	insRun, err := tx.Prepare(`INSERT INTO runs VALUES (?, 'p', 'p.hcl', '[]', 'h', 1, ?, NULL, 'succeeded')`)
	if err != nil {
		b.Fatal(err)
	}
	insNode, err := tx.Prepare(`INSERT INTO node_runs (run_id, node, kind, key, state, reason, params, exit_status,
		host, log_path, outputs, error, executor, job_id, parent)
		VALUES (?, ?, 'train', ?, ?, '', '{"lr":0.001,"epochs":5}', 0, 'h', 'logs/x.log', '{"model":"sha256:00"}', '', 'local', '', 'sweep.hpo')`)
	if err != nil {
		b.Fatal(err)
	}
	for r := range runs {
		id := fmt.Sprintf("run-%04d", r)
		if _, err := insRun.Exec(id, encodeTime(t0)); err != nil {
			b.Fatal(err)
		}
		for tr := range trials {
			n := r*trials + tr
			key, state := "key-"+strconv.Itoa(n), NodeSucceeded
			if tr%10 == 9 && n >= trials { // a cache hit of a key an earlier run produced
				key, state = "key-"+strconv.Itoa(n-trials), NodeCached
			}
			if _, err := insNode.Exec(id, fmt.Sprintf(`sweep.hpo.trial["%08x"]`, n), key, state); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	return &DB{sql: raw, path: path}
}
