package pcam

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// metaHeader is the header of the official meta CSV (the first column is the unnamed pandas index).
var metaHeader = []string{"", "coord_y", "coord_x", "tumor_patch", "center_tumor_patch", "wsi"}

// MetaRow is one row of an official `..._meta.csv`: where the patch was cut from and whether the
// patch, or its centre 32x32 region, contains tumour.
type MetaRow struct {
	CoordY           int
	CoordX           int
	TumorPatch       bool
	CenterTumorPatch bool
	WSI              string
}

// ReadMeta reads an official meta CSV with header `,coord_y,coord_x,tumor_patch,center_tumor_patch,wsi`.
// Booleans may be True/False, true/false or 1/0. Rows must be in index order 0..n-1. Errors name the file
// and the line at fault.
func ReadMeta(path string) ([]MetaRow, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("meta CSV: %w", err)
	}
	defer f.Close()
	r := csv.NewReader(bufio.NewReaderSize(f, 1<<20))
	r.FieldsPerRecord = len(metaHeader)
	r.ReuseRecord = true
	head, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("meta CSV %s: reading header: %w", path, err)
	}
	if strings.Join(head, ",") != strings.Join(metaHeader, ",") {
		return nil, fmt.Errorf("meta CSV %s: header %q, want %q", path, strings.Join(head, ","), strings.Join(metaHeader, ","))
	}
	var rows []MetaRow
	for line := 2; ; line++ {
		rec, err := r.Read()
		if err == io.EOF { // csv.Reader returns io.EOF itself, unwrapped, only at the end of the input
			return rows, nil
		}
		if err != nil {
			return nil, fmt.Errorf("meta CSV %s: %w", path, err)
		}
		row, err := parseMetaRecord(rec, len(rows))
		if err != nil {
			return nil, fmt.Errorf("meta CSV %s line %d: %w", path, line, err)
		}
		rows = append(rows, row)
	}
}

// parseMetaRecord parses one data record whose index column must equal want.
func parseMetaRecord(rec []string, want int) (MetaRow, error) {
	var row MetaRow
	idx, err := strconv.Atoi(rec[0])
	if err != nil || idx != want {
		return row, fmt.Errorf("index column %q, want %d", rec[0], want)
	}
	if row.CoordY, err = strconv.Atoi(rec[1]); err != nil {
		return row, fmt.Errorf("coord_y %q is not an integer", rec[1])
	}
	if row.CoordX, err = strconv.Atoi(rec[2]); err != nil {
		return row, fmt.Errorf("coord_x %q is not an integer", rec[2])
	}
	if row.TumorPatch, err = parseBool(rec[3]); err != nil {
		return row, fmt.Errorf("tumor_patch: %w", err)
	}
	if row.CenterTumorPatch, err = parseBool(rec[4]); err != nil {
		return row, fmt.Errorf("center_tumor_patch: %w", err)
	}
	row.WSI = rec[5]
	return row, nil
}

// parseBool accepts the spellings pandas and other writers use.
func parseBool(s string) (bool, error) {
	switch s {
	case "True", "true", "1":
		return true, nil
	case "False", "false", "0":
		return false, nil
	}
	return false, fmt.Errorf("%q is not a boolean", s)
}

// formatBool spells a boolean the way pandas writes it in the official files.
func formatBool(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

// MetaWriter streams an official-format meta CSV to a temporary file and renames it into place on Close.
type MetaWriter struct {
	path, tmp string
	f         *os.File
	w         *bufio.Writer
	n         int
}

// CreateMeta starts writing the meta CSV at path (header included).
func CreateMeta(path string) (*MetaWriter, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return nil, fmt.Errorf("create meta CSV %s: %w", path, err)
	}
	mw := &MetaWriter{path: path, tmp: f.Name(), f: f, w: bufio.NewWriterSize(f, 1<<20)}
	mw.w.WriteString(strings.Join(metaHeader, ",") + "\n")
	return mw, nil
}

// Write appends one row; its index column is the number of rows written before it.
func (mw *MetaWriter) Write(row MetaRow) error {
	_, err := fmt.Fprintf(mw.w, "%d,%d,%d,%s,%s,%s\n", mw.n, row.CoordY, row.CoordX,
		formatBool(row.TumorPatch), formatBool(row.CenterTumorPatch), row.WSI)
	mw.n++
	if err != nil {
		return fmt.Errorf("write meta CSV %s: %w", mw.path, err)
	}
	return nil
}

// Close flushes, fsyncs and renames the file into place.
func (mw *MetaWriter) Close() error {
	if err := mw.w.Flush(); err != nil {
		mw.Abort()
		return fmt.Errorf("write meta CSV %s: %w", mw.path, err)
	}
	return commitTemp(mw.f, mw.tmp, mw.path)
}

// Abort discards the partly written file.
func (mw *MetaWriter) Abort() {
	mw.f.Close()
	os.Remove(mw.tmp)
}
