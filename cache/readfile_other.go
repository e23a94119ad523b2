//go:build !linux

package cache

import "os"

// readSmallFile is os.ReadFile (see readfile_linux.go).
func readSmallFile(p string) ([]byte, error) { return os.ReadFile(p) }
