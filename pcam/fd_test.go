package pcam

import (
	"os"
	"syscall"
	"testing"
)

// redirectFD2 points file descriptor 2 at f (so C code's stderr is captured) and returns a restore func.
func redirectFD2(t *testing.T, f *os.File) func() {
	t.Helper()
	saved, err := syscall.Dup(2)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Dup2(int(f.Fd()), 2); err != nil {
		t.Fatal(err)
	}
	return func() {
		syscall.Dup2(saved, 2)
		syscall.Close(saved)
	}
}
