package track

import (
	"os"
	"os/exec"
	"testing"
)

func TestMarkInterrupted(t *testing.T) {
	db := openTemp(t)
	for _, r := range []Run{
		{ID: "dead", Host: "h", PID: 1},
		{ID: "alive", Host: "h", PID: 2},
		{ID: "dead-finished", Host: "h", PID: 3, Status: RunSucceeded},
		{ID: "dead-detached", Host: "h", PID: 4},
	} {
		if err := db.BeginRun(r); err != nil {
			t.Fatal(err)
		}
	}
	nodes := map[string]*NodeRun{
		"dead/running":     {RunID: "dead", Node: "a"},
		"dead/done":        {RunID: "dead", Node: "b"},
		"alive/running":    {RunID: "alive", Node: "a"},
		"detached/slurm":   {RunID: "dead-detached", Node: "a", Executor: "slurm", JobID: "77"},
		"finished/running": {RunID: "dead-finished", Node: "a"},
	}
	for _, n := range nodes {
		if err := db.StartNode(n); err != nil {
			t.Fatal(err)
		}
	}
	nodes["dead/done"].State = NodeSucceeded
	if err := db.FinishNode(nodes["dead/done"]); err != nil {
		t.Fatal(err)
	}
	var asked []int
	k, err := db.MarkInterrupted(func(host string, pid int) bool {
		asked = append(asked, pid)
		return pid == 2
	})
	if err != nil || k != 1 {
		t.Fatalf("MarkInterrupted = %d, %v; want 1 run marked", k, err)
	}
	if len(asked) != 3 {
		t.Errorf("isAlive asked about pids %v, want only the 3 running runs", asked)
	}
	wantRuns := map[string]RunStatus{"dead": RunInterrupted, "alive": RunRunning, "dead-finished": RunSucceeded, "dead-detached": RunRunning}
	for id, want := range wantRuns {
		if r, _, _ := db.GetRun(id); r.Status != want {
			t.Errorf("run %s: status %s, want %s", id, r.Status, want)
		}
	}
	wantNodes := map[string]NodeState{"dead/running": NodeInterrupted, "dead/done": NodeSucceeded, "alive/running": NodeRunning,
		"detached/slurm": NodeRunning, "finished/running": NodeRunning}
	for name, want := range wantNodes {
		if n, _ := db.GetNode(nodes[name].ID); n.State != want {
			t.Errorf("node %s: state %s, want %s", name, n.State, want)
		} else if want == NodeInterrupted && n.Error == "" {
			t.Errorf("node %s: interrupted without an error message", name)
		}
	}
	if k, err := db.MarkInterrupted(func(_ string, pid int) bool { return pid == 2 }); err != nil || k != 0 {
		t.Errorf("second pass marked %d (%v), want 0: the detached run keeps its Slurm node", k, err)
	}
}

func TestProcessAlive(t *testing.T) {
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		host string
		pid  int
		want bool
	}{
		{"this process", host, os.Getpid(), true},
		{"init", host, 1, true},
		{"exited child", host, cmd.Process.Pid, false},
		{"zero pid", host, 0, false},
		{"other host", host + "-elsewhere", 999999, true},
	}
	for _, tc := range tests {
		if got := ProcessAlive(tc.host, tc.pid); got != tc.want {
			t.Errorf("%s: ProcessAlive(%q, %d) = %v, want %v", tc.name, tc.host, tc.pid, got, tc.want)
		}
	}
}
