package track

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
)

// MetricRow is one metric value of a node run at one step (an epoch).
type MetricRow struct {
	Step  int
	Name  string
	Value float64
}

const upsertMetricSQL = `INSERT INTO metrics (node_run_id, step, name, value) VALUES (?, ?, ?, ?)
	ON CONFLICT (node_run_id, step, name) DO UPDATE SET value = excluded.value`

// LogMetrics records values (metric name to value) of node run nodeRunID at step, in one
// transaction with a prepared statement. Logging a (step, name) again replaces its value. NaN is
// stored (as SQL NULL) and read back as NaN; ±Inf are stored as such. Names must be non-empty. An
// empty map writes nothing. The node run must exist.
func (db *DB) LogMetrics(nodeRunID int64, step int, values map[string]float64) error {
	if len(values) == 0 {
		return nil
	}
	names := make([]string, 0, len(values))
	for name := range values {
		if name == "" {
			return fmt.Errorf("track: log metrics of node run %d step %d: empty metric name", nodeRunID, step)
		}
		names = append(names, name)
	}
	slices.Sort(names)
	err := db.inTx(func(tx *sql.Tx) error {
		stmt := tx.Stmt(db.putMetric)
		for _, name := range names {
			if _, err := stmt.Exec(nodeRunID, step, name, values[name]); err != nil {
				return fmt.Errorf("metric %s: %w", name, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("track: log metrics of node run %d step %d: %w", nodeRunID, step, err)
	}
	return nil
}

// putMetrics upserts rows for node run id inside tx.
func putMetrics(tx *sql.Tx, stmt *sql.Stmt, id int64, rows []MetricRow) error {
	s := tx.Stmt(stmt)
	for _, m := range rows {
		if m.Name == "" {
			return fmt.Errorf("metric at step %d: empty name", m.Step)
		}
		if _, err := s.Exec(id, m.Step, m.Name, m.Value); err != nil {
			return fmt.Errorf("metric %s step %d: %w", m.Name, m.Step, err)
		}
	}
	return nil
}

// Metrics returns every metric row of node run nodeRunID ordered by step, then name. An unknown
// node run has no rows.
func (db *DB) Metrics(nodeRunID int64) ([]MetricRow, error) {
	rows, err := db.sql.Query(`SELECT step, name, value FROM metrics WHERE node_run_id = ? ORDER BY step, name`, nodeRunID)
	if err != nil {
		return nil, fmt.Errorf("track: metrics of node run %d: %w", nodeRunID, err)
	}
	defer rows.Close()
	var out []MetricRow
	for rows.Next() {
		var m MetricRow
		var v sql.NullFloat64
		if err := rows.Scan(&m.Step, &m.Name, &v); err != nil {
			return nil, fmt.Errorf("track: metrics of node run %d: %w", nodeRunID, err)
		}
		m.Value = math.NaN()
		if v.Valid {
			m.Value = v.Float64
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("track: metrics of node run %d: %w", nodeRunID, err)
	}
	return out, nil
}

// metricJSON is the JSON form of MetricRow. JSON has no NaN or infinities, so Value is a number or
// one of the strings "NaN", "+Inf", "-Inf".
type metricJSON struct {
	Step  int             `json:"step"`
	Name  string          `json:"name"`
	Value json.RawMessage `json:"value"`
}

// MarshalJSON encodes m as {"step":…,"name":…,"value":…}, writing NaN and ±Inf as the strings
// "NaN", "+Inf" and "-Inf".
func (m MetricRow) MarshalJSON() ([]byte, error) {
	var v []byte
	if math.IsNaN(m.Value) || math.IsInf(m.Value, 0) {
		v = strconv.AppendQuote(nil, strconv.FormatFloat(m.Value, 'g', -1, 64))
	} else {
		v = strconv.AppendFloat(nil, m.Value, 'g', -1, 64)
	}
	return json.Marshal(metricJSON{Step: m.Step, Name: m.Name, Value: v})
}

// UnmarshalJSON decodes the form written by MarshalJSON.
func (m *MetricRow) UnmarshalJSON(data []byte) error {
	var j metricJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	var v float64
	if len(j.Value) > 0 && j.Value[0] == '"' {
		var s string
		if err := json.Unmarshal(j.Value, &s); err != nil {
			return err
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || !(math.IsNaN(f) || math.IsInf(f, 0)) {
			return fmt.Errorf("metric %s step %d: value %s is neither a number nor NaN/+Inf/-Inf", j.Name, j.Step, j.Value)
		}
		v = f
	} else if err := json.Unmarshal(j.Value, &v); err != nil {
		return fmt.Errorf("metric %s step %d: value %s: %w", j.Name, j.Step, j.Value, err)
	}
	*m = MetricRow{Step: j.Step, Name: j.Name, Value: v}
	return nil
}
