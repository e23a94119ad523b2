package track

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
)

// startedNode begins run "r1" and starts one node run in it.
func startedNode(t testing.TB, db *DB) *NodeRun {
	t.Helper()
	if err := db.BeginRun(Run{ID: "r1"}); err != nil {
		t.Fatal(err)
	}
	n := &NodeRun{RunID: "r1", Node: "train.mlp"}
	if err := db.StartNode(n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestLogMetricsRoundTrip(t *testing.T) {
	db := openTemp(t)
	n := startedNode(t, db)
	steps := []map[string]float64{
		{"val_roc_auc": 0.81, "loss": 0.52, "lr": 1e-3},
		{"val_roc_auc": 0.85, "loss": math.NaN(), "lr": 5e-4, "grad_norm": math.Inf(1)},
	}
	for step, values := range steps {
		if err := db.LogMetrics(n.ID, step, values); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.LogMetrics(n.ID, 0, map[string]float64{"loss": 0.5}); err != nil { // replace
		t.Fatal(err)
	}
	if err := db.LogMetrics(n.ID, 5, nil); err != nil {
		t.Fatal(err)
	}
	got, err := db.Metrics(n.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := []MetricRow{
		{0, "loss", 0.5}, {0, "lr", 1e-3}, {0, "val_roc_auc", 0.81},
		{1, "grad_norm", math.Inf(1)}, {1, "loss", math.NaN()}, {1, "lr", 5e-4}, {1, "val_roc_auc", 0.85},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Metrics =\n %v\nwant\n %v", got, want)
	}
}

func TestLogMetricsErrors(t *testing.T) {
	db := openTemp(t)
	n := startedNode(t, db)
	err := db.LogMetrics(n.ID, 0, map[string]float64{"": 1})
	if err == nil || !strings.Contains(err.Error(), "empty metric name") {
		t.Errorf("empty name: %v", err)
	}
	err = db.LogMetrics(9999, 0, map[string]float64{"loss": 1})
	if err == nil || !strings.Contains(err.Error(), "FOREIGN KEY") {
		t.Errorf("unknown node run: %v, want a foreign key error", err)
	}
	if rows, err := db.Metrics(9999); err != nil || len(rows) != 0 {
		t.Errorf("Metrics of unknown node run = %v, %v; want none", rows, err)
	}
}

func TestMetricRowJSON(t *testing.T) {
	tests := []struct {
		row  MetricRow
		json string
	}{
		{MetricRow{1, "loss", 0.25}, `{"step":1,"name":"loss","value":0.25}`},
		{MetricRow{2, "lr", 1e-5}, `{"step":2,"name":"lr","value":1e-05}`},
		{MetricRow{3, "loss", math.NaN()}, `{"step":3,"name":"loss","value":"NaN"}`},
		{MetricRow{4, "g", math.Inf(-1)}, `{"step":4,"name":"g","value":"-Inf"}`},
	}
	for _, tc := range tests {
		data, err := json.Marshal(tc.row)
		if err != nil || string(data) != tc.json {
			t.Errorf("Marshal(%v) = %s, %v; want %s", tc.row, data, err, tc.json)
		}
		var back MetricRow
		if err := json.Unmarshal(data, &back); err != nil || fmt.Sprint(back) != fmt.Sprint(tc.row) {
			t.Errorf("Unmarshal(%s) = %v, %v", data, back, err)
		}
	}
	for _, bad := range []string{`{"step":1,"name":"x","value":"high"}`, `{"step":1,"name":"x","value":"1.5"}`, `{"step":1,"name":"x"}`} {
		var m MetricRow
		if err := json.Unmarshal([]byte(bad), &m); err == nil {
			t.Errorf("Unmarshal(%s) succeeded", bad)
		}
	}
}

// BenchmarkLogMetrics measures one epoch's metric set (10 values, as the train stage logs: losses,
// ROC-AUC, F2, learning rate and per-layer gradient norms) written in one transaction. ns/op is the
// cost per epoch.
func BenchmarkLogMetrics(b *testing.B) {
	db := openTemp(b)
	n := startedNode(b, db)
	names := []string{"train_loss", "val_loss", "val_roc_auc", "val_f2", "val_accuracy", "lr",
		"grad_norm/fc1.w", "grad_norm/fc1.b", "grad_norm/fc2.w", "grad_norm/fc2.b"}
	values := make(map[string]float64, len(names))
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		for k, name := range names {
			values[name] = float64(i*k) * 1e-3
		}
		if err := db.LogMetrics(n.ID, i, values); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/epoch")
}
