package track

import (
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 27, 7, 30, 1, 123456789, time.UTC)

func TestRunRoundTrip(t *testing.T) {
	db := openTemp(t)
	local := time.FixedZone("CET", 3600)
	in := Run{ID: "20261127T073001Z-abcdef", Pipeline: "pcam", File: "pipelines/pcam.hcl",
		Args: []string{"run", "-var", "seed=1"}, Host: "login1", PID: 4242, Started: t0.In(local)}
	if err := db.BeginRun(in); err != nil {
		t.Fatal(err)
	}
	got, nodes, err := db.GetRun(in.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := in
	want.Started, want.Status = t0, RunRunning // stored in UTC; empty status means running
	if !runsEqual(*got, want) || len(nodes) != 0 {
		t.Errorf("got %+v with %d nodes, want %+v with none", *got, len(nodes), want)
	}
	end := t0.Add(90 * time.Minute)
	if err := db.FinishRun(in.ID, RunFailed, end); err != nil {
		t.Fatal(err)
	}
	got, _, _ = db.GetRun(in.ID)
	want.Status, want.Finished = RunFailed, end
	if !runsEqual(*got, want) {
		t.Errorf("after finish: got %+v, want %+v", *got, want)
	}
}

// runsEqual compares runs with time.Time.Equal.
func runsEqual(a, b Run) bool {
	return a.ID == b.ID && a.Pipeline == b.Pipeline && a.File == b.File && slices.Equal(a.Args, b.Args) &&
		a.Host == b.Host && a.PID == b.PID && a.Started.Equal(b.Started) && a.Finished.Equal(b.Finished) &&
		a.Status == b.Status
}

func TestRunErrors(t *testing.T) {
	db := openTemp(t)
	if err := db.BeginRun(Run{ID: "r1"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"empty id", db.BeginRun(Run{}), "empty run id"},
		{"duplicate id", db.BeginRun(Run{ID: "r1"}), "UNIQUE"},
		{"unknown status", db.BeginRun(Run{ID: "r2", Status: "done"}), `unknown status "done"`},
		{"finish unknown run", db.FinishRun("nope", RunSucceeded, t0), "not found"},
		{"finish with running", db.FinishRun("r1", RunRunning, t0), "not a final status"},
	}
	for _, tc := range tests {
		if tc.err == nil || !strings.Contains(tc.err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error containing %q", tc.name, tc.err, tc.want)
		}
	}
}

func TestListAndLastRun(t *testing.T) {
	db := openTemp(t)
	if r, nodes, err := db.LastRun(""); r != nil || nodes != nil || err != nil {
		t.Fatalf("empty store: LastRun = %v, %v, %v; want nil, nil, nil", r, nodes, err)
	}
	for i, p := range []string{"a", "b", "a", "b"} {
		r := Run{ID: "run" + string(rune('0'+i)), Pipeline: p, Started: t0.Add(time.Duration(i) * time.Minute)}
		if err := db.BeginRun(r); err != nil {
			t.Fatal(err)
		}
	}
	runs, err := db.ListRuns(3)
	if err != nil {
		t.Fatal(err)
	}
	if ids := runIDs(runs); !slices.Equal(ids, []string{"run3", "run2", "run1"}) {
		t.Errorf("ListRuns(3) = %v, want newest first [run3 run2 run1]", ids)
	}
	if all, _ := db.ListRuns(0); len(all) != 4 {
		t.Errorf("ListRuns(0) returned %d runs, want all 4", len(all))
	}
	for pipeline, want := range map[string]string{"": "run3", "a": "run2", "b": "run3"} {
		r, _, err := db.LastRun(pipeline)
		if err != nil || r == nil || r.ID != want {
			t.Errorf("LastRun(%q) = %v, %v; want %s", pipeline, r, err, want)
		}
	}
	if r, _, err := db.LastRun("zzz"); r != nil || err != nil {
		t.Errorf("LastRun of unknown pipeline = %v, %v; want nil, nil", r, err)
	}
}

func runIDs(runs []Run) []string {
	ids := make([]string, len(runs))
	for i, r := range runs {
		ids[i] = r.ID
	}
	return ids
}

func TestGetRunByPrefix(t *testing.T) {
	db := openTemp(t)
	for _, id := range []string{"20261127T073001Z-aaa111", "20261127T073001Z-aab222", "20261128T000000Z-ccc333", "2026"} {
		if err := db.BeginRun(Run{ID: id}); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		prefix, wantID string
		wantErr        error
	}{
		{"20261127T073001Z-aaa111", "20261127T073001Z-aaa111", nil},
		{"20261127T073001Z-aaa", "20261127T073001Z-aaa111", nil},
		{"20261128", "20261128T000000Z-ccc333", nil},
		{"2026", "2026", nil}, // an exact match wins over longer IDs with that prefix
		{"20261127T073001Z-aa", "", ErrAmbiguous},
		{"20261127T073001Z-AAA", "", ErrNotFound}, // case-sensitive
		{"2025", "", ErrNotFound},
		{"%", "", ErrNotFound}, // no LIKE wildcards
	}
	for _, tc := range tests {
		r, _, err := db.GetRun(tc.prefix)
		switch {
		case tc.wantErr != nil && !errors.Is(err, tc.wantErr):
			t.Errorf("GetRun(%q): error %v, want %v", tc.prefix, err, tc.wantErr)
		case tc.wantErr == nil && (err != nil || r.ID != tc.wantID):
			t.Errorf("GetRun(%q) = %v, %v; want %s", tc.prefix, r, err, tc.wantID)
		}
	}
	_, _, err := db.GetRun("20261127T073001Z-aa")
	if err == nil || !strings.Contains(err.Error(), "20261127T073001Z-aaa111, 20261127T073001Z-aab222") {
		t.Errorf("ambiguity error %v does not list the candidates", err)
	}
}

func TestNewRunID(t *testing.T) {
	format := regexp.MustCompile(`^20261127T083001Z-[0-9a-f]{6}$`)
	seen := map[string]bool{}
	for range 1000 {
		id := NewRunID(t0.In(time.FixedZone("CET", 3600)).Add(time.Hour))
		if !format.MatchString(id) {
			t.Fatalf("NewRunID = %q, want the UTC form 20261127T083001Z-xxxxxx", id)
		}
		seen[id] = true
	}
	if len(seen) < 990 {
		t.Errorf("only %d distinct IDs in 1000", len(seen))
	}
	if a, b := NewRunID(t0), NewRunID(t0.Add(time.Second)); a >= b {
		t.Errorf("IDs do not sort by time: %s >= %s", a, b)
	}
}
