package cache

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The large benchmark input is created once per test binary run in a
// temporary directory and removed by TestMain.
const bigFileSize = 2 << 30

var (
	benchDirOnce sync.Once
	benchDir     string
	benchDirErr  error
	bigOnce      sync.Once
	bigErr       error
	smallOnce    sync.Once
	smallErr     error
)

// benchRoot returns the directory holding the shared benchmark inputs.
func benchRoot(b *testing.B) string {
	benchDirOnce.Do(func() { benchDir, benchDirErr = os.MkdirTemp("", "pcamflow-cache-bench-*") })
	if benchDirErr != nil {
		b.Fatal(benchDirErr)
	}
	return benchDir
}

// benchBig returns the path of a 2 GiB file of ChaCha8 output (written for
// real, not sparse), created on first use and dated an hour back so that
// the stat cache trusts it.
func benchBig(b *testing.B) string {
	p := filepath.Join(benchRoot(b), "big")
	bigOnce.Do(func() { bigErr = writeRandomFile(p, bigFileSize, 1) })
	if bigErr != nil {
		b.Fatal(bigErr)
	}
	return p
}

// benchSmall returns a directory of 10,000 files of 1 KiB, created on
// first use and dated an hour back.
func benchSmall(b *testing.B) string {
	p := filepath.Join(benchRoot(b), "small")
	smallOnce.Do(func() { smallErr = writeSmallFiles(p, 10_000, 1024) })
	if smallErr != nil {
		b.Fatal(smallErr)
	}
	return p
}

// cleanupBench removes the benchmark inputs, if any were created.
func cleanupBench() {
	if benchDir != "" {
		os.RemoveAll(benchDir)
	}
}

// writeRandomFile writes size bytes of seeded pseudo-random data to p.
func writeRandomFile(p string, size int64, seed uint64) error {
	f, err := os.Create(p)
	if err != nil {
		return err
	}
	rng := rand.NewChaCha8([32]byte{byte(seed)})
	buf := make([]byte, 4<<20)
	for n := int64(0); n < size; n += int64(len(buf)) {
		rng.Read(buf)
		if _, err := f.Write(buf[:min(int64(len(buf)), size-n)]); err != nil {
			f.Close()
			return err
		}
	}
	if err := f.Close(); err != nil {
		return err
	}
	old := time.Now().Add(-time.Hour)
	return os.Chtimes(p, old, old)
}

// writeSmallFiles creates n files of size bytes in 100 sub-directories.
func writeSmallFiles(dir string, n, size int) error {
	rng := rand.NewChaCha8([32]byte{2})
	buf := make([]byte, size)
	old := time.Now().Add(-time.Hour)
	for i := 0; i < n; i++ {
		p := filepath.Join(dir, fmt.Sprintf("d%02d", i%100), fmt.Sprintf("f%05d.bin", i))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		rng.Read(buf)
		if err := os.WriteFile(p, buf, 0o644); err != nil {
			return err
		}
		if err := os.Chtimes(p, old, old); err != nil {
			return err
		}
	}
	return nil
}

// benchStore opens a store in a fresh directory (cold stat cache).
func benchStore(b *testing.B) *Store {
	s, err := Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// reportGBps adds a GB/s metric for bytes processed per iteration, by wall
// clock and by the process's CPU time (user+system) since cpu0 was taken:
// the second is meaningful on a machine shared with other jobs.
func reportGBps(b *testing.B, bytes int64, cpu0 time.Duration) {
	total := float64(bytes) * float64(b.N)
	b.ReportMetric(total/b.Elapsed().Seconds()/1e9, "GB/s")
	b.ReportMetric(total/(cpuTime()-cpu0).Seconds()/1e9, "GB/cpu-s")
}

// cpuTime returns the user+system CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkDigestBigCold hashes the 2 GiB file with an empty stat cache
// each iteration (the file is in the page cache after the first read).
func BenchmarkDigestBigCold(b *testing.B) {
	p := benchBig(b)
	b.SetBytes(bigFileSize)
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		s := benchStore(b)
		b.StartTimer()
		if _, err := s.Digest(p); err != nil {
			b.Fatal(err)
		}
	}
	reportGBps(b, bigFileSize, cpu0)
}

// BenchmarkDigestBigWarm re-digests the 2 GiB file with a warm stat cache:
// a stat and a map lookup, zero bytes read.
func BenchmarkDigestBigWarm(b *testing.B) {
	p := benchBig(b)
	s := benchStore(b)
	if _, err := s.Digest(p); err != nil {
		b.Fatal(err)
	}
	before := s.HashStats()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.Digest(p); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	after := s.HashStats()
	b.ReportMetric(float64(after.BytesHashed-before.BytesHashed), "bytes-hashed")
	b.ReportMetric(float64(after.StatHits-before.StatHits)/float64(b.N), "stat-hits/op")
}

// BenchmarkDigestSmallTreeWarm digests a tree of 10,000 small files with a
// warm stat cache.
func BenchmarkDigestSmallTreeWarm(b *testing.B) {
	p := benchSmall(b)
	s := benchStore(b)
	if _, err := s.Digest(p); err != nil {
		b.Fatal(err)
	}
	before := s.HashStats()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.Digest(p); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	after := s.HashStats()
	b.ReportMetric(float64(after.BytesHashed-before.BytesHashed), "bytes-hashed")
	b.ReportMetric(float64(after.StatHits-before.StatHits)/float64(b.N), "stat-hits/op")
}

// BenchmarkDigestSmallTreeCold digests the same tree with a cold stat cache.
func BenchmarkDigestSmallTreeCold(b *testing.B) {
	p := benchSmall(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		s := benchStore(b)
		b.StartTimer()
		if _, err := s.Digest(p); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpenStatCache10k loads a persisted stat cache of 10,000 entries.
func BenchmarkOpenStatCache10k(b *testing.B) {
	p := benchSmall(b)
	root := b.TempDir()
	s, _ := Open(root)
	if _, err := s.Digest(p); err != nil {
		b.Fatal(err)
	}
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s, err := Open(root)
		if err != nil {
			b.Fatal(err)
		}
		if n := s.stats.len(); n != 10_000 {
			b.Fatalf("loaded %d entries, want 10000", n)
		}
	}
}

// BenchmarkPutBig publishes the 2 GiB file into a fresh store each
// iteration: one read that both hashes and copies, plus fsync.
func BenchmarkPutBig(b *testing.B) {
	p := benchBig(b)
	b.SetBytes(bigFileSize)
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		s := benchStore(b)
		b.StartTimer()
		if _, err := s.Put(p); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		os.RemoveAll(s.Root())
		b.StartTimer()
	}
	reportGBps(b, bigFileSize, cpu0)
}

// BenchmarkSHA256Memory hashes an in-memory buffer through hashReader: the
// CPU bound on file hashing, without the kernel's read copies.
func BenchmarkSHA256Memory(b *testing.B) {
	data := make([]byte, 256<<20)
	rand.NewChaCha8([32]byte{3}).Read(data)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		if _, _, err := hashReader(bytes.NewReader(data), nil); err != nil {
			b.Fatal(err)
		}
	}
	reportGBps(b, int64(len(data)), cpu0)
}
