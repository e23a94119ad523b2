package audit

import (
	"context"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pcamflow/pcamflow/pcam"
)

// BenchmarkAudit audits 20,000 in-memory textured patches (10% of them planted near copies) per
// iteration and reports patches/s.
func BenchmarkAudit(b *testing.B) {
	const n = 20000
	r := newTextured("mem:bench", n, 41)
	for i := 0; i < n/10; i++ {
		r.set(n-1-i, transform(r.patch(i), 1+i%7), 0)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := Run(context.Background(), map[pcam.Split]pcam.Reader{pcam.Train: r}, nil, DefaultOptions(), nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "patches/s")
}

// BenchmarkPatchWork measures the per-patch work of one worker (SHA-1, pixel statistics, hashes).
func BenchmarkPatchWork(b *testing.B) {
	p := make([]byte, pcam.PatchBytes)
	texturedPatch(1, p)
	s := newScanner(DefaultOptions(), nil)
	c := newChunk(1)
	copy(c.pix, p)
	c.n = 1
	infos := make([]patchInfo, 1)
	for b.Loop() {
		s.process(c, infos)
	}
}

// TestFullSizeAuditMemory audits AUDIT_FULL_N generated patches (e.g. 262144) streamed from a
// reader that synthesises each patch on demand, so the process holds no dataset, and logs the time
// and peak RSS (VmHWM). It is skipped unless AUDIT_FULL_N is set.
func TestFullSizeAuditMemory(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("AUDIT_FULL_N"))
	if n == 0 {
		t.Skip("set AUDIT_FULL_N=262144 to run the full-size memory measurement")
	}
	gen := func(i int, dst []byte) uint8 {
		if i%10 == 9 { // every tenth patch is a flipped copy of the one before
			texturedPatch(uint64(i-1), dst)
			copy(dst, transform(dst, 1))
		} else {
			texturedPatch(uint64(i), dst)
		}
		return uint8(i % 2)
	}
	r := &memReader{name: "gen:train", gen: gen, n: n}
	start := time.Now()
	genOnly := 2000
	buf := make([]byte, pcam.PatchBytes)
	for i := range genOnly {
		gen(i, buf)
	}
	genCost := time.Since(start) / time.Duration(genOnly)
	start = time.Now()
	rep, err := Run(context.Background(), map[pcam.Split]pcam.Reader{pcam.Train: r}, nil, DefaultOptions(), nil)
	if err != nil {
		t.Fatal(err)
	}
	el := time.Since(start)
	status, _ := os.ReadFile("/proc/self/status")
	var hwm string
	for _, line := range strings.Split(string(status), "\n") {
		if strings.HasPrefix(line, "VmHWM") {
			hwm = strings.Join(strings.Fields(line)[1:], " ")
		}
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	t.Logf("patches %d, GOMAXPROCS %d: audit %.1fs (%.0f patches/s) including on-demand generation of about %v/patch (%.1fs single-threaded); peak RSS (VmHWM) %s; Go heap sys %d MiB; near groups %d, pairs %d",
		n, runtime.GOMAXPROCS(0), el.Seconds(), float64(n)/el.Seconds(), genCost, (genCost * time.Duration(n)).Seconds(), hwm, ms.HeapSys>>20,
		len(rep.NearDuplicateGroups), rep.NearSearch.Pairs)
}

// BenchmarkMeasurePixels measures the quality/statistics pass over one patch.
func BenchmarkMeasurePixels(b *testing.B) {
	p := make([]byte, pcam.PatchBytes)
	texturedPatch(1, p)
	for b.Loop() {
		measurePixels(p)
	}
}

// BenchmarkPerceptualHash measures the grey downscale and DCT hashes of one patch.
func BenchmarkPerceptualHash(b *testing.B) {
	p := make([]byte, pcam.PatchBytes)
	texturedPatch(1, p)
	for b.Loop() {
		perceptualHash(p)
	}
}
