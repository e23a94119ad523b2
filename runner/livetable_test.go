package runner

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/pcamflow/pcamflow/slurm"
)

func TestJobTable(t *testing.T) {
	tasks := []slurm.TaskStatus{
		{Key: "7_0", JobID: "7", TaskID: 0, State: slurm.State("COMPLETED")},
		{Key: "7_1", JobID: "7", TaskID: 1, State: slurm.State("RUNNING"), Elapsed: 65 * time.Second},
		{Key: "7_2", JobID: "7", TaskID: 2, State: slurm.State("PENDING"), Reason: "JobArrayTaskLimit"},
	}
	lines := jobTable(tasks, func(t slurm.TaskStatus) string { return "command.x" })
	text := strings.Join(lines, "\n")
	for _, want := range []string{"JOB", "7_1", "RUNNING", "1m5s", "7_2", "JobArrayTaskLimit", "2 task(s) running or pending, 1 finished"} {
		if !strings.Contains(text, want) {
			t.Errorf("table lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "7_0") {
		t.Errorf("finished tasks belong in the count, not the table:\n%s", text)
	}
	if jobTable(tasks[:1], nil) != nil {
		t.Error("no table when every task finished")
	}
}

func TestLiveOutErasesTheTableBeforeWriting(t *testing.T) {
	var buf bytes.Buffer
	o := &liveOut{w: &buf}
	o.show([]string{"a", "b"})
	_, _ = o.Write([]byte("line\n"))
	if got := buf.String(); got != "a\nb\n\033[2A\033[Jline\n" {
		t.Errorf("output %q", got)
	}
	o.close()
	o.show([]string{"c"})
	if strings.Contains(buf.String(), "c\n") {
		t.Error("a closed live output drew a table")
	}
}
