package track

import (
	"cmp"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// twinsSQL is the migration that adds the twin-run records of `pcamflow verify` (see TwinRecord).
// It is listed in migrations (schema.go) under its version number.
const twinsSQL = `
CREATE TABLE verify_twins (
	id                INTEGER PRIMARY KEY,
	verify_id         TEXT NOT NULL,   -- one verify invocation: "verify-<run id>"
	node              TEXT NOT NULL,
	key               TEXT NOT NULL,   -- the node's cache key ('' when unknown)
	cached_run_id     TEXT NOT NULL,   -- the run that produced the cached outputs
	matched           INTEGER NOT NULL CHECK (matched IN (0, 1)),
	differ            TEXT NOT NULL,   -- JSON array of output names
	measured          TEXT NOT NULL,   -- JSON array of output names not compared (measurements)
	summary           TEXT NOT NULL,   -- JSON array of {"name", "cached", "twin"}; null stands for NaN
	host              TEXT NOT NULL,
	log_path          TEXT NOT NULL,
	verified          TEXT NOT NULL
);
CREATE INDEX verify_twins_by_key ON verify_twins (key, id);
CREATE INDEX verify_twins_by_node ON verify_twins (node, id);
`

// TwinRecord is one node that `pcamflow verify` re-executed from scratch and compared, output by
// output, with its cached outputs: one row of the twin-run table.
type TwinRecord struct {
	// ID is assigned by the store.
	ID int64 `json:"id,omitempty"`
	// VerifyID names the verify invocation; the twins of one invocation share it.
	VerifyID string `json:"verify_id"`
	// Node is the node's address and Key its cache key. RecordTwins fills an empty Key from the node
	// run of CachedRunID that produced the outputs, when it is recorded.
	Node string `json:"node"`
	Key  string `json:"key"`
	// CachedRunID is the run that produced the cached outputs the twin was compared with.
	CachedRunID string `json:"cached_run_id"`
	// Match is true when every compared output is bit-identical; Differ lists the outputs that are
	// not, Measured those the kind declares as measurements (timings), which are not compared.
	Match    bool     `json:"match"`
	Differ   []string `json:"differ,omitempty"`
	Measured []string `json:"measured,omitempty"`
	// Summary holds the numbers the kind summarises a node with (a training node's final losses),
	// for the cached run and the twin side by side.
	Summary []TwinValue `json:"summary,omitempty"`
	// Host is where the twin ran, LogPath its log, Verified when (zero means now at recording).
	Host     string    `json:"host"`
	LogPath  string    `json:"log_path"`
	Verified time.Time `json:"verified"`
}

// TwinValue is one summary number of a twin record: its value in the cached run and in the twin.
// NaN is stored and read back (as JSON null).
type TwinValue struct {
	Name   string
	Cached float64
	Twin   float64
}

// twinValueJSON is the stored form of TwinValue.
type twinValueJSON struct {
	Name   string   `json:"name"`
	Cached *float64 `json:"cached"`
	Twin   *float64 `json:"twin"`
}

// MarshalJSON implements json.Marshaler: NaN and infinities become null.
func (v TwinValue) MarshalJSON() ([]byte, error) {
	finite := func(x float64) *float64 {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil
		}
		return &x
	}
	return json.Marshal(twinValueJSON{Name: v.Name, Cached: finite(v.Cached), Twin: finite(v.Twin)})
}

// UnmarshalJSON implements json.Unmarshaler: null is NaN.
func (v *TwinValue) UnmarshalJSON(data []byte) error {
	var j twinValueJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	v.Name, v.Cached, v.Twin = j.Name, math.NaN(), math.NaN()
	if j.Cached != nil {
		v.Cached = *j.Cached
	}
	if j.Twin != nil {
		v.Twin = *j.Twin
	}
	return nil
}

// RecordTwins stores the twin records of one verify invocation in one transaction and sets their
// IDs. Node, VerifyID and CachedRunID are required.
func (db *DB) RecordTwins(recs []TwinRecord) error {
	for _, r := range recs {
		if r.Node == "" || r.VerifyID == "" || r.CachedRunID == "" {
			return fmt.Errorf("track: record twins: node %q, verify id %q and cached run id %q must be non-empty", r.Node, r.VerifyID, r.CachedRunID)
		}
	}
	err := db.inTx(func(tx *sql.Tx) error {
		for i := range recs {
			r := &recs[i]
			if r.Verified.IsZero() {
				r.Verified = time.Now()
			}
			differ, err := json.Marshal(nonNil(r.Differ))
			if err != nil {
				return err
			}
			measured, err := json.Marshal(nonNil(r.Measured))
			if err != nil {
				return err
			}
			summary, err := json.Marshal(r.Summary)
			if err != nil {
				return err
			}
			res, err := tx.Exec(`INSERT INTO verify_twins (verify_id, node, key, cached_run_id, matched, differ, measured,
				summary, host, log_path, verified)
				VALUES (?, ?, COALESCE(NULLIF(?, ''), (SELECT key FROM node_runs WHERE run_id = ? AND node = ?
					AND state = 'succeeded' ORDER BY id DESC LIMIT 1), ''), ?, ?, ?, ?, ?, ?, ?, ?)`,
				r.VerifyID, r.Node, r.Key, r.CachedRunID, r.Node, r.CachedRunID, r.Match, string(differ), string(measured),
				string(summary), r.Host, r.LogPath, encodeTime(r.Verified))
			if err != nil {
				return fmt.Errorf("twin of %s: %w", r.Node, err)
			}
			if r.ID, err = res.LastInsertId(); err != nil {
				return err
			}
			if r.Key == "" {
				if err := tx.QueryRow(`SELECT key FROM verify_twins WHERE id = ?`, r.ID).Scan(&r.Key); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("track: record twins: %w", err)
	}
	return nil
}

const twinColumns = `id, verify_id, node, key, cached_run_id, matched, differ, measured, summary, host, log_path, verified`

// TwinsOf returns the twin records of the nodes with the given cache keys (every verify of those
// exact outputs), oldest first. No key gives no records.
func (db *DB) TwinsOf(keys []string) ([]TwinRecord, error) {
	var out []TwinRecord
	for len(keys) > 0 { // stay below SQLite's limit of bound parameters
		batch := keys[:min(len(keys), 500)]
		keys = keys[len(batch):]
		args := make([]any, len(batch))
		for i, k := range batch {
			args[i] = k
		}
		q := `SELECT ` + twinColumns + ` FROM verify_twins WHERE key IN (?` + strings.Repeat(", ?", len(batch)-1) + `) ORDER BY id`
		recs, err := db.queryTwins(q, args...)
		if err != nil {
			return nil, fmt.Errorf("track: twins: %w", err)
		}
		out = append(out, recs...)
	}
	slices.SortFunc(out, func(a, b TwinRecord) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// queryTwins runs a SELECT of twinColumns and collects the rows.
func (db *DB) queryTwins(query string, args ...any) ([]TwinRecord, error) {
	rows, err := db.sql.Query(query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []TwinRecord
	for rows.Next() {
		var r TwinRecord
		var differ, measured, summary string
		var verified sql.NullString
		if err := rows.Scan(&r.ID, &r.VerifyID, &r.Node, &r.Key, &r.CachedRunID, &r.Match, &differ, &measured, &summary,
			&r.Host, &r.LogPath, &verified); err != nil {
			return nil, err
		}
		for _, f := range []struct {
			text string
			into any
		}{{differ, &r.Differ}, {measured, &r.Measured}, {summary, &r.Summary}} {
			if err := json.Unmarshal([]byte(f.text), f.into); err != nil {
				return nil, fmt.Errorf("twin %d: stored %q: %w", r.ID, f.text, err)
			}
		}
		if len(r.Differ) == 0 {
			r.Differ = nil
		}
		if len(r.Measured) == 0 {
			r.Measured = nil
		}
		if r.Verified, err = decodeTime(verified); err != nil {
			return nil, fmt.Errorf("twin %d: %w", r.ID, err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
