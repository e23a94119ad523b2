//go:build !linux

package cache

import "io/fs"

// fileIDOf extracts the identity the stat cache keys on. Off Linux only size
// and modification time are portable, so the cache is weaker there: it
// cannot see a replaced inode or a status change.
func fileIDOf(fi fs.FileInfo) fileID {
	return fileID{size: fi.Size(), mtime: fi.ModTime().UnixNano()}
}
