//go:build linux

package cache

import (
	"io/fs"
	"syscall"
)

// fileIDOf extracts the identity the stat cache keys on from a FileInfo
// returned by os.Stat or os.Lstat: device, inode, size, and modification and
// status-change times in nanoseconds.
func fileIDOf(fi fs.FileInfo) fileID {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileID{size: fi.Size(), mtime: fi.ModTime().UnixNano()}
	}
	return fileID{
		dev:   uint64(st.Dev),
		ino:   uint64(st.Ino),
		size:  st.Size,
		mtime: st.Mtim.Nano(),
		ctime: st.Ctim.Nano(),
	}
}
