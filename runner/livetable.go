package runner

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/pcamflow/pcamflow/slurm"
)

// liveOut is the run's output on an interactive terminal while Slurm jobs are watched: ordinary
// lines scroll as usual, and a table of the jobs (id, node, state, elapsed, reason) stays at the
// bottom, redrawn after every poll. Every write first erases the table, so lines never mix with it.
type liveOut struct {
	mu     sync.Mutex
	w      io.Writer
	lines  int  // lines of the table currently on screen
	closed bool // the run is over: no more tables
}

// close erases the table for good.
func (o *liveOut) close() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.eraseLocked()
	o.closed = true
}

// Write implements io.Writer.
func (o *liveOut) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.eraseLocked()
	return o.w.Write(p)
}

func (o *liveOut) eraseLocked() {
	if o.lines > 0 {
		fmt.Fprintf(o.w, "\033[%dA\033[J", o.lines)
		o.lines = 0
	}
}

// show replaces the table with lines.
func (o *liveOut) show(lines []string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.eraseLocked()
	if o.closed {
		return
	}
	for _, l := range lines {
		fmt.Fprintln(o.w, l)
	}
	o.lines = len(lines)
}

// maxTableRows bounds the live table; the rest is summarised in one line.
const maxTableRows = 15

// jobTable renders the unfinished tasks of the tracked jobs, with a count of the finished ones.
func jobTable(tasks []slurm.TaskStatus, label func(slurm.TaskStatus) string) []string {
	var open []slurm.TaskStatus
	done := 0
	for _, t := range tasks {
		if t.State.IsTerminal() {
			done++
		} else {
			open = append(open, t)
		}
	}
	if len(open) == 0 {
		return nil
	}
	lines := []string{fmt.Sprintf("  %-12s %-28s %-10s %8s  %s", "JOB", "NODE", "STATE", "ELAPSED", "REASON")}
	for i, t := range open {
		if i == maxTableRows {
			lines = append(lines, fmt.Sprintf("  ... and %d more unfinished task(s)", len(open)-maxTableRows))
			break
		}
		reason := t.Reason
		if reason == "None" {
			reason = ""
		}
		lines = append(lines, fmt.Sprintf("  %-12s %-28s %-10s %8s  %s", t.Key, trim(label(t), 28), t.State,
			t.Elapsed.Round(time.Second), trim(reason, 40)))
	}
	return append(lines, fmt.Sprintf("  %d task(s) running or pending, %d finished; Ctrl-C cancels them", len(open), done))
}

func trim(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}
