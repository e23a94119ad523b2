package cache

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// maxStoreFile is the largest store file readSmallFile and readStoreFile read: far above any
// record, ref, ref index or stat cache the store writes, it stops a file that is not one of them
// (a symlink or device put in the store's place) from being read into memory without end.
const maxStoreFile = 1 << 30

// errTooLarge reports a store file longer than any the store writes.
var errTooLarge = errors.New("file too large to be one the store wrote")

// readStoreFile reads one of the store's own files that is read whole, once (the ref index, the
// stat cache): like os.ReadFile, but a symbolic link in its place is not followed, anything but a
// regular file is an error (a FIFO or device would block or never end), and so is a file longer
// than maxStoreFile.
func readStoreFile(p string) ([]byte, error) {
	f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, &fs.PathError{Op: "read", Path: p, Err: fmt.Errorf("not a regular file (%s)", fi.Mode().Type())}
	}
	if fi.Size() > maxStoreFile {
		return nil, &fs.PathError{Op: "read", Path: p, Err: errTooLarge}
	}
	data, err := io.ReadAll(io.LimitReader(f, maxStoreFile+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxStoreFile {
		return nil, &fs.PathError{Op: "read", Path: p, Err: errTooLarge}
	}
	return data, nil
}
