package track

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// TestMain lets the test binary double as the writer process of TestConcurrentProcesses.
func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		if err := runWriterHelper(); err != nil {
			fmt.Fprintln(os.Stderr, "writer helper:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// openTemp opens a new store in a temporary directory, closed when the test ends.
func openTemp(t testing.TB) *DB {
	t.Helper()
	db, err := Open(filepath.Join(t.TempDir(), "track.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	return db
}
