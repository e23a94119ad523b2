package cli_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// pcamflow starts this test binary as the pcamflow command in dir.
func pcamflow(t *testing.T, dir string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PCAMFLOW_TEST_MAIN=1")
	return cmd
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// killPipeline has a slow middle node that writes its output in two steps, so a kill lands while a
// half-written output exists in the project.
const killPipeline = `
pipeline "kill" {}

command "first" {
  run     = ["sh", "-c", "echo one > out/first.txt"]
  outputs = ["out/first.txt"]
}

command "slow" {
  run     = ["sh", "-c", "echo partial > out/slow.txt; touch started; sleep 2; echo complete >> out/slow.txt"]
  inputs  = command.first.outputs
  outputs = ["out/slow.txt"]
}

command "last" {
  run     = ["sh", "-c", "cat out/first.txt out/slow.txt > out/last.txt"]
  inputs  = [command.first.outputs[0], command.slow.outputs[0]]
  outputs = ["out/last.txt"]
}
`

// TestKillDuringNode kills `pcamflow run` with SIGKILL in the middle of a node and checks that
// nothing the killed run left is trusted: the rerun executes the interrupted node again and its
// outputs equal those of an uninterrupted run.
func TestKillDuringNode(t *testing.T) {
	killed, clean := t.TempDir(), t.TempDir()
	for _, d := range []string{killed, clean} {
		writeFile(t, filepath.Join(d, "p.hcl"), killPipeline)
	}
	if out, err := pcamflow(t, clean, "run", "p.hcl").CombinedOutput(); err != nil {
		t.Fatalf("uninterrupted run: %v\n%s", err, out)
	}

	cmd, _ := startIn(t, killed, nil, "run", "p.hcl")
	waitFor(t, filepath.Join(killed, "started"), 20*time.Second)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	time.Sleep(100 * time.Millisecond) // let the orphaned shell (killed by its parent-death signal) go

	plan, err := pcamflow(t, killed, "plan", "p.hcl").CombinedOutput()
	if err != nil {
		t.Fatalf("plan after kill: %v\n%s", err, plan)
	}
	if !regexpMatch(`cached +command\.first`, plan) || !regexpMatch(`will run +command\.slow`, plan) {
		t.Fatalf("after the kill, first should be cached and slow should run again:\n%s", plan)
	}
	rerun, err := pcamflow(t, killed, "run", "p.hcl").CombinedOutput()
	if err != nil {
		t.Fatalf("rerun: %v\n%s", err, rerun)
	}
	if !regexpMatch(`2 ran, 1 cached`, rerun) {
		t.Errorf("rerun should execute slow and last again:\n%s", rerun)
	}
	for _, f := range []string{"out/first.txt", "out/slow.txt", "out/last.txt"} {
		a, _ := os.ReadFile(filepath.Join(killed, f))
		b, _ := os.ReadFile(filepath.Join(clean, f))
		if !bytes.Equal(a, b) || len(a) == 0 {
			t.Errorf("%s differs after kill+rerun: %q vs uninterrupted %q", f, a, b)
		}
	}
	status, _ := pcamflow(t, killed, "status").CombinedOutput()
	if !regexpMatch(`succeeded`, status) {
		t.Errorf("status after the rerun:\n%s", status)
	}
}

// TestConcurrentRuns starts two runs at once on one workspace: every node executes exactly once,
// both exit 0, and neither reports a locked database.
func TestConcurrentRuns(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("pipeline \"conc\" {}\n")
	for i := 0; i < 8; i++ {
		b.WriteString(strings.ReplaceAll(`
command "nI" {
  run     = ["sh", "-c", "echo I >> executions.log; sleep 0.2; echo I > out/I.txt"]
  outputs = ["out/I.txt"]
}
`, "I", string(rune('0'+i))))
	}
	b.WriteString(`
command "join" {
  run     = ["sh", "-c", "echo join >> executions.log; cat out/*.txt > out/all.txt"]
  inputs  = [command.n0.outputs[0], command.n7.outputs[0]]
  depends_on = [command.n1, command.n2, command.n3, command.n4, command.n5, command.n6]
  outputs = ["out/all.txt"]
}
`)
	writeFile(t, filepath.Join(dir, "p.hcl"), b.String())
	var wg sync.WaitGroup
	outs := make([][]byte, 2)
	errs := make([]error, 2)
	for i := range outs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			outs[i], errs[i] = pcamflow(t, dir, "run", "-j", "3", "p.hcl").CombinedOutput()
		}(i)
	}
	wg.Wait()
	for i := range outs {
		if errs[i] != nil {
			t.Errorf("run %d: %v\n%s", i, errs[i], outs[i])
		}
		if bytes.Contains(outs[i], []byte("locked")) {
			t.Errorf("run %d mentions a lock error:\n%s", i, outs[i])
		}
	}
	log, err := os.ReadFile(filepath.Join(dir, "executions.log"))
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, l := range strings.Fields(string(log)) {
		counts[l]++
	}
	if len(counts) != 9 {
		t.Errorf("expected 9 distinct nodes executed, got %v", counts)
	}
	for node, n := range counts {
		if n != 1 {
			t.Errorf("node %s executed %d times", node, n)
		}
	}
}

// waitUntil polls done every 20 ms and fails the test with the message failure gives once
// timeout has passed without done holding.
func waitUntil(t *testing.T, timeout time.Duration, done func() bool, failure func() string) {
	t.Helper()
	for deadline := time.Now().Add(timeout); !done(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s (waited %s)", failure(), timeout)
		}
	}
}

// waitFor waits until path exists.
func waitFor(t *testing.T, path string, timeout time.Duration) {
	t.Helper()
	waitUntil(t, timeout, func() bool { _, err := os.Stat(path); return err == nil },
		func() string { return path + " did not appear" })
}

func regexpMatch(pattern string, b []byte) bool {
	return regexp.MustCompile(pattern).Match(b)
}

// startIn starts pcamflow in dir with extra environment variables; its combined output collects in
// the returned buffer.
func startIn(t *testing.T, dir string, env []string, args ...string) (*exec.Cmd, *syncBuffer) {
	t.Helper()
	cmd := pcamflow(t, dir, args...)
	cmd.Env = append(cmd.Env, env...)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, out
}

// waitOutput waits until out contains s, failing the test after timeout.
func waitOutput(t *testing.T, out *syncBuffer, s string, timeout time.Duration) {
	t.Helper()
	waitUntil(t, timeout, func() bool { return strings.Contains(out.String(), s) },
		func() string { return fmt.Sprintf("%q did not appear:\n%s", s, out.String()) })
}

// syncBuffer is a bytes.Buffer safe for a writer and a concurrent reader.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
