package model

import (
	"runtime"
	"sync"
	"sync/atomic"

	"gonum.org/v1/gonum/blas"
)

// workers is the number of goroutines the kernels use. OpenBLAS itself always runs on one
// thread: the kernels split every product into fixed blocks (independent of workers) and run
// the blocks concurrently, so results are bit-identical whatever the worker count.
var workers atomic.Int32

func init() { workers.Store(int32(runtime.GOMAXPROCS(0))) }

func numWorkers() int { return max(1, int(workers.Load())) }

// parallelFor splits [0,n) into contiguous ranges run concurrently, one per worker. Callers only
// use it for loops whose iterations write disjoint outputs, so the result does not depend on
// the split.
func parallelFor(n int, f func(lo, hi int)) {
	w := min(numWorkers(), n)
	if w <= 1 {
		f(0, n)
		return
	}
	var wg sync.WaitGroup
	for i := range w {
		lo, hi := i*n/w, (i+1)*n/w
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(lo, hi)
		}()
	}
	wg.Wait()
}

// parallelTasks runs f(worker, task) for every task in [0,n) on a pool of workers; worker is in
// [0, numWorkers()) and lets f use per-worker scratch buffers. Tasks must write disjoint outputs.
func parallelTasks(n int, f func(worker, task int)) {
	w := min(numWorkers(), n)
	if w <= 1 {
		for t := range n {
			f(0, t)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for i := range w {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				t := int(next.Add(1) - 1)
				if t >= n {
					return
				}
				f(i, t)
			}
		}()
	}
	wg.Wait()
}

// gemmBlockRows is the smallest row block of sgemmRows. Block sizes are part of the numerical
// definition of the model (changing them may change the last bits of results) and depend only on
// the shape of the product, never on the machine.
const gemmBlockRows = 32

// gemmRowsPerBlock splits m rows into at most about 64 blocks of at least gemmBlockRows rows,
// a multiple of 16.
func gemmRowsPerBlock(m int) int {
	r := max(gemmBlockRows, (m+63)/64)
	return (r + 15) / 16 * 16
}

// sgemmRows computes C = alpha·op(A)·op(B) + beta·C (row-major, as blas.Sgemm) as independent
// single-threaded products over fixed blocks of rows of C, run in parallel.
func sgemmRows(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	br := gemmRowsPerBlock(m)
	blocks := (m + br - 1) / br
	parallelTasks(blocks, func(_, t int) {
		r0 := t * br
		rows := min(br, m-r0)
		aOff := r0 * lda
		if tA == blas.Trans {
			aOff = r0
		}
		blasImpl.Sgemm(tA, tB, rows, n, k, alpha, a[aOff:], lda, b, ldb, beta, c[r0*ldc:], ldc)
	})
}

// splitScratch keeps the partial results of split-K products between calls.
type splitScratch struct{ parts []float32 }

func (s *splitScratch) get(n int) []float32 {
	if s == nil {
		return make([]float32, n)
	}
	if cap(s.parts) < n {
		s.parts = make([]float32, n)
	}
	return s.parts[:n]
}

// splitKBlock is the inner-dimension block of split-K products: at least 256, about k/16, a
// multiple of 64. It depends on k only.
func splitKBlock(k int) int {
	kb := max(256, (k+15)/16)
	return (kb + 63) / 64 * 64
}

// splitKRun runs f(part, k0, kk) for every inner-dimension block [k0, k0+kk) of a split-K product
// in parallel, each block writing its own part of size m·n, then adds the parts to C in block order.
func splitKRun(m, n, k int, c []float32, ldc int, s *splitScratch, f func(part []float32, k0, kk int)) {
	kb := splitKBlock(k)
	blocks := (k + kb - 1) / kb
	parts := s.get(blocks * m * n)
	parallelTasks(blocks, func(_, t int) {
		k0 := t * kb
		f(parts[t*m*n:(t+1)*m*n], k0, min(kb, k-k0))
	})
	addParts(m, n, blocks, parts, c, ldc)
}

// sgemmSplitK computes C = A·B + C (row-major, no transposes) for a product whose inner
// dimension k dwarfs m and n (the first dense layer of the MLP: 27648 inputs): it splits k
// into fixed blocks, multiplies the blocks in parallel into partial results, and adds them to C
// in block order. Splitting k packs each operand once, where splitting rows would pack the whole
// of B once per task.
func sgemmSplitK(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, s *splitScratch) {
	splitKRun(m, n, k, c, ldc, s, func(part []float32, k0, kk int) {
		blasImpl.Sgemm(blas.NoTrans, blas.NoTrans, m, n, kk, 1, a[k0:], lda, b[k0*ldb:], ldb, 0, part, n)
	})
}

// sgemvSplitK is sgemmSplitK for a few rows (x is m×k, w is k×n, y is m×n, all contiguous): each
// block multiplies each row by its slice of w as a matrix-vector product, which reads the block of
// w once per row from the cache instead of packing it.
func sgemvSplitK(m, n, k int, x, w, y []float32, s *splitScratch) {
	splitKRun(m, n, k, y, n, s, func(part []float32, k0, kk int) {
		for r := 0; r < m; r++ {
			blasImpl.Sgemv(blas.Trans, kk, n, 1, w[k0*n:], n, x[r*k+k0:], 1, 0, part[r*n:], 1)
		}
	})
}

// addParts adds the blocks' partial products (blocks × m × n) to C in block order.
func addParts(m, n, blocks int, parts, c []float32, ldc int) {
	add := func(lo, hi int) {
		for i := lo; i < hi; i++ {
			row := c[i*ldc : i*ldc+n]
			for t := 0; t < blocks; t++ {
				for j, v := range parts[t*m*n+i*n : t*m*n+(i+1)*n] {
					row[j] += v
				}
			}
		}
	}
	if m*n*blocks < 1<<14 {
		add(0, m)
		return
	}
	parallelFor(m, add)
}
