//go:build linux

package cache

import (
	"io/fs"
	"syscall"
)

// readSmallFile is os.ReadFile for the small files the store reads by the thousand in one plan
// (records and refs): the same result and errors (a *fs.PathError wrapping the errno, so
// errors.Is(err, fs.ErrNotExist) holds), with open, read and close as plain system calls. An
// os.File would also stat the file, register it with the runtime's poller and set a finalizer,
// which doubled the cost of reading a ref. The store writes only regular files: a symbolic link
// in a file's place is not followed (ELOOP), a FIFO does not block, and a file longer than
// maxStoreFile is an error, not a read without end.
func readSmallFile(p string) ([]byte, error) {
	var fd int
	var err error
	for {
		fd, err = syscall.Open(p, syscall.O_RDONLY|syscall.O_CLOEXEC|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: p, Err: err}
	}
	defer syscall.Close(fd)
	buf := make([]byte, 0, 2048)
	for {
		if len(buf) > maxStoreFile {
			return nil, &fs.PathError{Op: "read", Path: p, Err: errTooLarge}
		}
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := syscall.Read(fd, buf[len(buf):cap(buf)])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, &fs.PathError{Op: "read", Path: p, Err: err}
		}
		if n == 0 {
			return buf, nil
		}
		buf = buf[:len(buf)+n]
	}
}
