package slurm

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func fixture(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func byKey(tasks []TaskStatus) map[string]TaskStatus {
	m := map[string]TaskStatus{}
	for _, t := range tasks {
		m[t.Key] = t
	}
	return m
}

func TestParseSqueueRecorded(t *testing.T) {
	tasks, err := parseSqueue(fixture(t, "squeue_mixed.txt"))
	if err != nil {
		t.Fatal(err)
	}
	m := byKey(tasks)
	if len(m) != 7 {
		t.Fatalf("got %d tasks, want 7: %v", len(m), tasks)
	}
	checks := []struct {
		key    string
		job    string
		task   int
		raw    string
		state  State
		reason string
	}{
		{"4_2", "4", 2, "7", StateFailed, "NonZeroExitCode"},
		{"4_4", "4", 4, "4", StateCompleted, "None"},
		{"3", "3", -1, "3", StateFailed, "NonZeroExitCode"},
		{"1009", "1009", -1, "1009", StateTimeout, "TimeLimit"},
	}
	for _, c := range checks {
		got := m[c.key]
		if got.JobID != c.job || got.TaskID != c.task || got.RawID != c.raw || got.State != c.state || got.Reason != c.reason {
			t.Errorf("%s = %+v", c.key, got)
		}
	}
	if m["1009"].Elapsed != 72*time.Second {
		t.Errorf("elapsed of 1009 = %v, want 1m12s", m["1009"].Elapsed)
	}
}

func TestParseSqueuePendingReason(t *testing.T) {
	tasks, err := parseSqueue(fixture(t, "squeue_pending.txt"))
	if err != nil {
		t.Fatal(err)
	}
	m := byKey(tasks)
	p := m["1011_1"]
	if p.State != StatePending || !strings.Contains(p.Reason, "DRAINED") {
		t.Errorf("pending task = %+v, want PENDING with the drained reason", p)
	}
	if r := m["1010"]; r.State != StateRunning || r.NodeList != "vm" {
		t.Errorf("running job = %+v", r)
	}
	if _, err := parseSqueue("1|2|3\n"); err == nil {
		t.Error("parseSqueue accepted a short line")
	}
}

func TestParseScontrolRecorded(t *testing.T) {
	tests := []struct {
		file  string
		key   string
		state State
		code  int
		sig   int
		out   string
	}{
		{"scontrol_failed.txt", "3", StateFailed, 3, 0, "/tmp/sl/3.out"},
		{"scontrol_timeout.txt", "1009", StateTimeout, 143, 0, "/tmp/sl/to.out"},
		{"scontrol_cancelled.txt", "1010", StateCancelled, 0, 15, "/dev/null"},
		{"scontrol_array.txt", "4_2", StateFailed, 1, 0, "/tmp/sl/4_2.out"},
		{"scontrol_synthetic_oom.txt", "9001", StateOutOfMemory, 0, 125, "/tmp/sl/3.out"},
		{"scontrol_oom.txt", "208", StateFailed, 0, 9, "/tmp/TestClusterOutOfMemoryIsClassified3911697311/001/208.out"},
		{"scontrol_node_fail.txt", "206", StateNodeFail, 0, 0, "/tmp/TestClusterNodeFailureIsClassified1264964136/001/206.out"},
		{"scontrol_preempted.txt", "203", StatePreempted, 0, 15, "/tmp/TestClusterPreemptionIsClassified262139905/001/203.out"},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			tasks, err := parseScontrol(fixture(t, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			got, ok := byKey(tasks)[tc.key]
			if !ok {
				t.Fatalf("no task %s in %v", tc.key, tasks)
			}
			if got.State != tc.state || !got.ExitKnown || got.ExitCode != tc.code || got.Signal != tc.sig || got.StdOut != tc.out {
				t.Errorf("task %s = %+v", tc.key, got)
			}
		})
	}
}

func TestParseScontrolSkipsPendingRanges(t *testing.T) {
	tasks, err := parseScontrol(fixture(t, "scontrol_pending_array.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, task := range tasks {
		if task.State != StatePending || task.ExitKnown {
			t.Errorf("pending task reported as %+v", task)
		}
	}
	if _, err := parseScontrol("JobName=x JobState=FAILED\n"); err == nil {
		t.Error("parseScontrol accepted a line without JobId")
	}
}

func TestScontrolFieldsKeepValuesWithSpaces(t *testing.T) {
	kv := scontrolFields("JobId=5 Reason=Nodes required for job are DOWN WorkDir=/a b=c StdOut=/x")
	if kv["Reason"] != "Nodes required for job are DOWN" || kv["WorkDir"] != "/a b=c" || kv["StdOut"] != "/x" {
		t.Errorf("fields = %q", kv)
	}
}

// TestParseSacctSynthetic uses a hand-written fixture: accounting is disabled on the local test
// cluster, so sacct output could not be recorded.
func TestParseSacctSynthetic(t *testing.T) {
	tasks, err := parseSacct(fixture(t, "sacct_synthetic.txt"))
	if err != nil {
		t.Fatal(err)
	}
	m := byKey(tasks)
	if len(m) != 4 {
		t.Fatalf("got %d tasks, want 4 (the pending range is skipped): %v", len(m), tasks)
	}
	if c := m["13_1"]; c.State != StateCancelled || c.Signal != 15 || c.JobID != "13" || c.TaskID != 1 {
		t.Errorf("13_1 = %+v", c)
	}
	if o := m["15"]; o.State != StateOutOfMemory || o.Elapsed != 26*time.Hour+3*time.Minute+4*time.Second {
		t.Errorf("15 = %+v", o)
	}
	if _, err := parseSacct("1|2|3\n"); err == nil {
		t.Error("parseSacct accepted a short line")
	}
}

func TestParseParsable(t *testing.T) {
	for in, want := range map[string]string{"123\n": "123", "77;cluster\n": "77", "sbatch: warning: x\n9\n": "9"} {
		if got, err := parseParsable(in); err != nil || got != want {
			t.Errorf("parseParsable(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := parseParsable("Submitted batch job 5"); err == nil {
		t.Error("parseParsable accepted non-parsable output")
	}
}

func TestNormalizeStateAndElapsed(t *testing.T) {
	if s := normalizeState("CANCELLED by 0"); s != StateCancelled {
		t.Errorf("normalizeState = %q", s)
	}
	if s := normalizeState("COMPLETED+"); s != StateCompleted {
		t.Errorf("normalizeState = %q", s)
	}
	for in, want := range map[string]time.Duration{
		"0:05": 5 * time.Second, "1:02:03": time.Hour + 2*time.Minute + 3*time.Second,
		"2-00:00:01": 48*time.Hour + time.Second, "INVALID": 0,
	} {
		if got := parseElapsed(in); got != want {
			t.Errorf("parseElapsed(%q) = %v, want %v", in, got, want)
		}
	}
}
