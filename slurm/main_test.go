package slurm

import (
	"encoding/json"
	"fmt"
	"os"
	"testing"
)

// echoArgsEnv makes the test binary act as a tiny echo-args program: when set, the binary writes
// its argv (without argv[0]) as JSON to the file the variable names and exits, so tests can check
// that arguments arrive verbatim through a rendered script.
const echoArgsEnv = "PCAMFLOW_SLURM_ECHOARGS"

func TestMain(m *testing.M) {
	if path := os.Getenv(echoArgsEnv); path != "" {
		os.Exit(echoArgs(path))
	}
	os.Exit(m.Run())
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
