package cli

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/pcamflow/pcamflow/cache"
)

func cmdGC(ctx context.Context, e *env, args []string) int {
	fs := newFlags(e, "gc", "", "Removes cache records that no stage points to any more, the objects no remaining\nrecord uses, and stale temporary files, and reports the bytes freed. Waits for running `pcamflow run`s.")
	keepAll := fs.Bool("keep-history", false, "keep every record (and its objects); remove only unreferenced objects and temp files")
	dry := fs.Bool("n", false, "dry run: report what would be removed")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return exitUsage
	}
	if len(pos) > 0 {
		return usageError(e.stderr, "gc takes no arguments")
	}
	store, err := e.openStore()
	if err != nil {
		fmt.Fprintf(e.stderr, "pcamflow: %v\n", err)
		return exitFailure
	}
	defer store.Close()
	unlock, err := store.LockWorkspace(ctx, true)
	if err != nil {
		fmt.Fprintf(e.stderr, "pcamflow: locking the workspace: %v\n", err)
		return exitFailure
	}
	defer unlock()
	st, err := store.GC(cache.GCOptions{KeepAllRecords: *keepAll, MinTmpAge: time.Hour, DryRun: *dry})
	if err != nil {
		fmt.Fprintf(e.stderr, "pcamflow: gc: %v\n", err)
		return exitFailure
	}
	resumes, resumeBytes := pruneResume(store, *dry)
	st.BytesFreed += resumeBytes
	verb := "removed"
	if *dry {
		verb = "would remove"
	}
	if resumes > 0 {
		fmt.Fprintf(e.stdout, "%s %d resume checkpoint folder(s) of finished nodes\n", verb, resumes)
	}
	fmt.Fprintf(e.stdout, "%s %d record(s), %d object(s), %d temporary entr(ies); %s freed\n",
		verb, st.RecordsRemoved, st.ObjectsRemoved, st.TmpRemoved, humanBytes(st.BytesFreed))
	return exitOK
}

// humanBytes formats a byte count like "1.5 MiB (1572864 bytes)".
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d bytes", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB (%d bytes)", float64(n)/float64(div), "KMGTPE"[exp], n)
}

// pruneResume removes the resume folders (training checkpoints of interrupted executions) whose
// node has since been committed to the cache; it returns how many and the bytes freed.
func pruneResume(store *cache.Store, dry bool) (int, int64) {
	dir := filepath.Join(store.Root(), "resume")
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, 0
	}
	n, freed := 0, int64(0)
	for _, e := range entries {
		if _, ok, err := store.GetRecord(e.Name()); err != nil || !ok {
			continue
		}
		path := filepath.Join(dir, e.Name())
		_ = filepath.WalkDir(path, func(_ string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				if fi, err := d.Info(); err == nil {
					freed += fi.Size()
				}
			}
			return nil
		})
		if !dry {
			_ = os.RemoveAll(path)
		}
		n++
	}
	return n, freed
}
