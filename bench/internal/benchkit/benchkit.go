// Package benchkit holds what the Go benchmark commands share: an optional CPU profile and the
// process's CPU time, which a shared machine distorts less than wall time.
package benchkit

import (
	"fmt"
	"os"
	"runtime/pprof"
	"syscall"
	"time"
)

// StartProfile starts a CPU profile into path (nothing when path is empty) and returns the
// function that stops it.
func StartProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("starting the CPU profile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

// CPUSeconds is the CPU time (user + system) the process has used so far.
func CPUSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}
