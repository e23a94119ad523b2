package pcam

import (
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
)

// OfficialMD5 maps the official file names to the published MD5 of the unzipped .h5 files.
var OfficialMD5 = map[string]string{
	"camelyonpatch_level_2_split_train_x.h5": "01844da899645b4d6f84946d417ba453",
	"camelyonpatch_level_2_split_train_y.h5": "0781386bf6c2fb62d58ff18891466aca",
	"camelyonpatch_level_2_split_valid_x.h5": "81cf9680f1724c40673f10dc88e909b1",
	"camelyonpatch_level_2_split_valid_y.h5": "94d8aacc249253159ce2a2e78a86e658",
	"camelyonpatch_level_2_split_test_x.h5":  "2614b2e6717d6356be141d9d6dbfcb7e",
	"camelyonpatch_level_2_split_test_y.h5":  "11ed647efe9fe457a4eb45df1dba19ba",
}

// CheckStatus is the verdict on one official file.
type CheckStatus string

// The possible verdicts of VerifyMD5.
const (
	CheckOK        CheckStatus = "ok"
	CheckMissing   CheckStatus = "missing"
	CheckTruncated CheckStatus = "truncated" // shorter than the end-of-file address in its HDF5 superblock
	CheckNotHDF5   CheckStatus = "not_hdf5"  // no HDF5 signature at offset 0
	CheckMismatch  CheckStatus = "wrong_checksum"
)

// FileCheck is the result for one official file.
type FileCheck struct {
	File   string      `json:"file"`
	Status CheckStatus `json:"status"`
	Size   int64       `json:"size"`
	Want   string      `json:"want_md5"`
	Got    string      `json:"got_md5,omitempty"`
	Detail string      `json:"detail,omitempty"`
}

// VerifyMD5 checks the six official files in dir against their published MD5s, hashing up to two files
// at a time. Results are in split order (train x, train y, valid x, ...). The error is non-nil only for
// I/O failures other than a missing file; a wrong file is reported in its FileCheck.
func VerifyMD5(dir string) ([]FileCheck, error) {
	var names []string
	for _, s := range Splits {
		p := SplitFiles(dir, s)
		names = append(names, p.X, p.Y)
	}
	out := make([]FileCheck, len(names))
	errs := make([]error, len(names))
	sem := make(chan struct{}, 2)
	var wg sync.WaitGroup
	for i, path := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			out[i], errs[i] = checkFile(path)
		}()
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

// checkFile classifies one file.
func checkFile(path string) (FileCheck, error) {
	c := FileCheck{File: path, Want: OfficialMD5[filepath.Base(path)]}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		c.Status = CheckMissing
		return c, nil
	}
	if err != nil {
		return c, fmt.Errorf("verify %s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return c, fmt.Errorf("verify %s: %w", path, err)
	}
	c.Size = st.Size()
	eof, err := hdf5EOF(f)
	switch {
	case err != nil:
		c.Status, c.Detail = CheckNotHDF5, err.Error()
		return c, nil
	case uint64(c.Size) < eof:
		c.Status = CheckTruncated
		c.Detail = fmt.Sprintf("file has %d bytes, its HDF5 superblock says %d", c.Size, eof)
		return c, nil
	}
	h := md5.New()
	if _, err := io.Copy(h, io.NewSectionReader(f, 0, c.Size)); err != nil {
		return c, fmt.Errorf("verify %s: %w", path, err)
	}
	c.Got = hex.EncodeToString(h.Sum(nil))
	c.Status = CheckOK
	if c.Got != c.Want {
		c.Status = CheckMismatch
	}
	return c, nil
}

// hdf5Signature starts every HDF5 file (at offset 0 for the files considered here).
var hdf5Signature = []byte("\x89HDF\r\n\x1a\n")

// hdf5EOF reads the end-of-file address from an HDF5 superblock (versions 0 to 3).
func hdf5EOF(f *os.File) (uint64, error) {
	var b [96]byte
	n, _ := f.ReadAt(b[:], 0)
	if n < 16 || string(b[:8]) != string(hdf5Signature) {
		return 0, errors.New("no HDF5 signature at the start of the file")
	}
	var off, so int
	switch v := b[8]; v {
	case 0, 1:
		so = int(b[13])
		off = 24 + 2*so // base address, free-space address, then end-of-file address
		if v == 1 {
			off += 4
		}
	case 2, 3:
		so = int(b[9])
		off = 12 + 2*so // base address, superblock extension address, then end-of-file address
	default:
		return 0, fmt.Errorf("unknown HDF5 superblock version %d", v)
	}
	if so != 8 || off+8 > n {
		return 0, fmt.Errorf("unsupported HDF5 superblock (offset size %d)", so)
	}
	return binary.LittleEndian.Uint64(b[off : off+8]), nil
}
