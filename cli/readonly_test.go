package cli_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadOnlyWorkspace: status and runs work on a workspace mounted read-only (a real read-only
// bind mount in a private mount namespace, so nothing outside the test sees it). Without the
// privileges for that the test is skipped; track's TestOpenReadOnly covers the open mode itself.
func TestReadOnlyWorkspace(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for a read-only bind mount")
	}
	if err := exec.Command("unshare", "-m", "true").Run(); err != nil {
		t.Skipf("cannot create a mount namespace: %v", err)
	}
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "p.hcl"), `command "hello" {
  run     = ["sh", "-c", "echo hi > out/hello.txt"]
  outputs = ["out/hello.txt"]
}
`)
	if out, err := pcamflow(t, dir, "run", "p.hcl").CombinedOutput(); err != nil {
		t.Fatalf("run: %v\n%s", err, out)
	}
	// In a private mount namespace: make the project read-only, then show the runs.
	script := `set -e
mount --bind "$1" "$1"
mount -o remount,bind,ro "$1"
cd "$1"
if touch .pcamflow/probe 2>/dev/null; then echo "the workspace is still writable"; exit 3; fi
"$2" status; echo "status exit $?"
"$2" runs; echo "runs exit $?"
"$2" runs show 1 >/dev/null; echo "runs show exit $?"
"$2" status --json >/dev/null; echo "status json exit $?"
`
	cmd := exec.Command("unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh", dir, os.Args[0])
	cmd.Env = append(os.Environ(), "PCAMFLOW_TEST_MAIN=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, want := range []string{
		"the workspace .pcamflow is read-only",
		"command.hello  succeeded",
		"status exit 0", "runs exit 0", "runs show exit 0", "status json exit 0",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), "readonly database") || strings.Contains(string(out), "unable to open") {
		t.Errorf("an SQLite error reached the user:\n%s", out)
	}
}
