package slurm

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"
)

// echoArgsEnv makes the test binary act as a tiny echo-args program: when set, the binary writes
// its argv (without argv[0]) as JSON to the file the variable names and exits, so tests can check
// that arguments arrive verbatim through a rendered script.
const echoArgsEnv = "PCAMFLOW_SLURM_ECHOARGS"

// eatMemEnv makes the test binary allocate and touch the given number of MiB, then sleep: a job
// that exceeds its --mem, for the out-of-memory test.
const eatMemEnv = "PCAMFLOW_SLURM_EATMEM"

func TestMain(m *testing.M) {
	if path := os.Getenv(echoArgsEnv); path != "" {
		os.Exit(echoArgs(path))
	}
	if mib := os.Getenv(eatMemEnv); mib != "" {
		os.Exit(eatMemory(mib))
	}
	os.Exit(m.Run())
}

// eatMemory holds mib MiB of touched memory for a minute (the job is killed long before).
func eatMemory(mib string) int {
	n, err := strconv.Atoi(mib)
	if err != nil || n <= 0 {
		fmt.Fprintln(os.Stderr, "eatmem: bad size", mib)
		return 2
	}
	buf := make([]byte, n<<20)
	for i := 0; i < len(buf); i += 4096 {
		buf[i] = 1
	}
	fmt.Printf("holding %d MiB\n", n)
	time.Sleep(time.Minute)
	runtime.KeepAlive(buf)
	return 0
}

func echoArgs(path string) int {
	data, err := json.Marshal(os.Args[1:])
	if err == nil {
		err = os.WriteFile(path, data, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "echoargs:", err)
		return 1
	}
	return 0
}

// testBinary returns the absolute path of the running test binary (the echo-args program).
func testBinary(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatalf("find test binary: %v", err)
	}
	return exe
}

func readArgs(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read echoed args: %v", err)
	}
	var got []string
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatalf("decode echoed args %s: %v", data, err)
	}
	return got
}
