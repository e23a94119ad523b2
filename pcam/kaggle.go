package pcam

import (
	"crypto/sha1"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// KaggleID returns the Kaggle id of a patch: the hex SHA-1 of its 27,648 raw RGB bytes.
func KaggleID(patch []byte) string {
	s := sha1.Sum(patch)
	return hex.EncodeToString(s[:])
}

// KaggleReader reads a Kaggle "Histopathologic Cancer Detection" style folder:
//
//	<dir>/<folder>/<id>.tif      96x96 RGB TIFF per patch
//	<dir>/<folder>_labels.csv    header ",id,label" or "id,label"; label 0 or 1
//
// where <folder> is "train", "valid" or "test" (the split name). Patches are in labels-CSV row order.
// Every decoded patch is checked against its id (SHA-1 of the pixel bytes); a mismatch is an error.
type KaggleReader struct{ imageFolder }

// OpenKaggle opens split of a Kaggle-style folder, reading its labels CSV and checking that every
// id is a Kaggle image id (40 lowercase hex digits, so no id can name a path outside the folder) and
// that every listed TIFF exists.
func OpenKaggle(dir string, split Split) (*KaggleReader, error) {
	folder := filepath.Join(dir, string(split))
	csvPath := folder + "_labels.csv"
	ids, labels, err := readLabelsCSV(csvPath, "id", checkKaggleID)
	if err != nil {
		return nil, err
	}
	r := &KaggleReader{imageFolder{source: folder, labels: labels}}
	for _, id := range ids {
		p := filepath.Join(folder, id+".tif")
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("kaggle_tif: %s lists id %s: %w", csvPath, id, err)
		}
		r.paths = append(r.paths, p)
	}
	r.check = func(i int, pix []byte) error {
		if got := KaggleID(pix); got != ids[i] {
			return fmt.Errorf("%s: SHA-1 of the pixel bytes is %s, not the id in the file name", r.paths[i], got)
		}
		return nil
	}
	return r, nil
}

// IDs returns the Kaggle id of every patch in index order.
func (r *KaggleReader) IDs() []string {
	ids := make([]string, len(r.paths))
	for i, p := range r.paths {
		ids[i] = strings.TrimSuffix(filepath.Base(p), ".tif")
	}
	return ids
}

// checkKaggleID returns an error unless id is 40 lowercase hex digits (a hex SHA-1).
func checkKaggleID(id string) error {
	ok := len(id) == 2*sha1.Size
	for i := 0; ok && i < len(id); i++ {
		c := id[i]
		ok = '0' <= c && c <= '9' || 'a' <= c && c <= 'f'
	}
	if !ok {
		return fmt.Errorf("id %q is not a Kaggle image id (40 lowercase hex digits: the SHA-1 of the patch's pixel bytes, which is also its file name without .tif)", id)
	}
	return nil
}

// readLabelsCSV reads a CSV with columns <key>,label and an optional leading unnamed index column.
// checkKey validates each key; its error is reported with the file and line.
func readLabelsCSV(path, key string, checkKey func(string) error) ([]string, []uint8, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("labels CSV: %w", err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	head, err := r.Read()
	if err != nil {
		return nil, nil, fmt.Errorf("labels CSV %s: reading header: %w", path, err)
	}
	off := 0
	switch strings.Join(head, ",") {
	case key + ",label":
	case "," + key + ",label":
		off = 1
	default:
		return nil, nil, fmt.Errorf("labels CSV %s: header %q, want %q or %q", path, strings.Join(head, ","), key+",label", ","+key+",label")
	}
	var keys []string
	var labels []uint8
	for {
		rec, err := r.Read()
		if err == io.EOF { // csv.Reader returns io.EOF itself, unwrapped, only at the end of the input
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("labels CSV %s: %w", path, err)
		}
		line, _ := r.FieldPos(0)
		if err := checkKey(rec[off]); err != nil {
			return nil, nil, fmt.Errorf("labels CSV %s line %d: %w", path, line, err)
		}
		switch rec[off+1] {
		case "0", "1":
			labels = append(labels, rec[off+1][0]-'0')
		default:
			return nil, nil, fmt.Errorf("labels CSV %s line %d: label %q, labels must be 0 or 1", path, line, rec[off+1])
		}
		keys = append(keys, rec[off])
	}
	if len(keys) == 0 {
		return nil, nil, fmt.Errorf("labels CSV %s lists no patches", path)
	}
	return keys, labels, nil
}
