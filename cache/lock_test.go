package cache

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Environment of the helper process started by the cross-process lock tests.
const (
	helperEnv      = "PCAMFLOW_CACHE_TEST_HELPER" // mode: "lock" or "hold"
	helperStoreEnv = "PCAMFLOW_CACHE_TEST_STORE"
	helperKeyEnv   = "PCAMFLOW_CACHE_TEST_KEY"
)

// runHelper is the body of the helper process. It prints "waiting", takes
// the key lock, prints "acquired", and then either exits (mode "lock",
// releasing the lock) or holds it until killed (mode "hold").
func runHelper(mode string) int {
	s, err := Open(os.Getenv(helperStoreEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	fmt.Println("waiting")
	if _, err := s.LockKey(context.Background(), os.Getenv(helperKeyEnv)); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	fmt.Println("acquired")
	if mode == "hold" {
		time.Sleep(time.Hour)
	}
	return 0
}

// startHelper starts the test binary as a helper process and returns it with
// a channel of its stdout lines.
func startHelper(t *testing.T, mode, storeDir, key string) (*exec.Cmd, <-chan string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+mode, helperStoreEnv+"="+storeDir, helperKeyEnv+"="+key)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	lines := make(chan string, 4)
	go func(r io.Reader) {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}(out)
	return cmd, lines
}

// expectLine waits up to d for the next line and checks it.
func expectLine(t *testing.T, lines <-chan string, want string, d time.Duration) {
	t.Helper()
	select {
	case got := <-lines:
		if got != want {
			t.Fatalf("helper said %q, want %q", got, want)
		}
	case <-time.After(d):
		t.Fatalf("helper did not say %q within %v", want, d)
	}
}

func TestLockKeyAcrossProcesses(t *testing.T) {
	s := openStore(t)
	k := key("node")
	unlock, err := s.LockKey(context.Background(), k)
	if err != nil {
		t.Fatal(err)
	}
	cmd, lines := startHelper(t, "lock", s.Root(), k)
	expectLine(t, lines, "waiting", 10*time.Second)
	select {
	case l := <-lines:
		t.Fatalf("helper said %q while the parent held the lock", l)
	case <-time.After(300 * time.Millisecond):
	}
	unlock()
	expectLine(t, lines, "acquired", 5*time.Second)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("helper: %v", err)
	}
}

func TestLockKeyReleasedWhenHolderKilled(t *testing.T) {
	s := openStore(t)
	k := key("node")
	cmd, lines := startHelper(t, "hold", s.Root(), k)
	expectLine(t, lines, "waiting", 10*time.Second)
	expectLine(t, lines, "acquired", 10*time.Second)

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := s.LockKey(ctx, k); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("LockKey while another process holds it = %v, want deadline exceeded", err)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	ctx2, cancel2 := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel2()
	unlock, err := s.LockKey(ctx2, k)
	if err != nil {
		t.Fatalf("LockKey after the holder was killed: %v", err)
	}
	unlock()
}

func TestLockKeyGoroutines(t *testing.T) {
	s := openStore(t)
	k := key("node")
	var inside, maxInside atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 20; j++ {
				unlock, err := s.LockKey(context.Background(), k)
				if err != nil {
					t.Error(err)
					return
				}
				n := inside.Add(1)
				if n > maxInside.Load() {
					maxInside.Store(n)
				}
				time.Sleep(50 * time.Microsecond)
				inside.Add(-1)
				unlock()
			}
		}()
	}
	wg.Wait()
	if m := maxInside.Load(); m != 1 {
		t.Fatalf("%d goroutines held the key lock at once", m)
	}
	if len(s.keyLocks) != 0 {
		t.Fatalf("%d in-process key semaphores leaked", len(s.keyLocks))
	}
	// Different keys do not block each other; a double unlock is harmless.
	u1, _ := s.LockKey(context.Background(), key("a"))
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	u2, err := s.LockKey(ctx, key("b"))
	if err != nil {
		t.Fatalf("lock of another key blocked: %v", err)
	}
	u1()
	u1()
	u2()
	if _, err := s.LockKey(context.Background(), "nothex"); err == nil {
		t.Fatal("LockKey accepted an invalid key")
	}
}

func TestLockWorkspace(t *testing.T) {
	s := openStore(t)
	other, err := Open(s.Root()) // a second store: its own file descriptions
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	short := func() context.Context {
		ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
		t.Cleanup(cancel)
		return ctx
	}
	r1, err := s.LockWorkspace(short(), false)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := s.LockWorkspace(short(), false)
	if err != nil {
		t.Fatalf("second shared lock in-process: %v", err)
	}
	r3, err := other.LockWorkspace(short(), false)
	if err != nil {
		t.Fatalf("shared lock from another store: %v", err)
	}
	for _, st := range []*Store{s, other} {
		if _, err := st.LockWorkspace(short(), true); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("exclusive lock while shared held = %v, want deadline exceeded", err)
		}
	}
	r1()
	r3()
	if _, err := other.LockWorkspace(short(), true); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatal("releasing one in-process shared holder dropped the other's lock")
	}
	r2()
	x, err := other.LockWorkspace(short(), true)
	if err != nil {
		t.Fatalf("exclusive lock after all shared released: %v", err)
	}
	if _, err := s.LockWorkspace(short(), false); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("shared lock while exclusive held = %v, want deadline exceeded", err)
	}
	x()
	r, err := s.LockWorkspace(short(), false)
	if err != nil {
		t.Fatal(err)
	}
	r()
}
