package model

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
)

// naiveGemm computes alpha·op(A)·op(B) + beta·C in float64.
func naiveGemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) []float64 {
	out := make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for p := 0; p < k; p++ {
				var av, bv float32
				if tA == blas.Trans {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				if tB == blas.Trans {
					bv = b[j*ldb+p]
				} else {
					bv = b[p*ldb+j]
				}
				s += float64(av) * float64(bv)
			}
			out[i*n+j] = float64(alpha)*s + float64(beta)*float64(c[i*ldc+j])
		}
	}
	return out
}

func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.NormFloat64())
	}
	return s
}

// TestBlockedProducts checks the parallel blocked products against a float64 reference, with
// shapes that give several blocks and a ragged last block.
func TestBlockedProducts(t *testing.T) {
	ensureBLAS()
	r := rand.New(rand.NewPCG(5, 6))
	check := func(name string, got []float32, want []float64) {
		t.Helper()
		for i, w := range want {
			if math.Abs(float64(got[i])-w) > 1e-3*math.Max(1, math.Abs(w)) {
				t.Fatalf("%s[%d] = %v, want %v", name, i, got[i], w)
			}
		}
	}
	cases := []struct {
		tA, tB  blas.Transpose
		m, n, k int
	}{
		{blas.NoTrans, blas.NoTrans, 77, 5, 9},
		{blas.Trans, blas.NoTrans, 3000, 7, 12},
		{blas.NoTrans, blas.Trans, 50, 300, 6},
	}
	for _, tc := range cases {
		lda, ldb := tc.k, tc.n
		if tc.tA == blas.Trans {
			lda = tc.m
		}
		if tc.tB == blas.Trans {
			ldb = tc.k
		}
		a, b, c := randSlice(r, tc.m*tc.k), randSlice(r, tc.k*tc.n), randSlice(r, tc.m*tc.n)
		want := naiveGemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, 0.5, a, lda, b, ldb, 1, c, tc.n)
		sgemmRows(tc.tA, tc.tB, tc.m, tc.n, tc.k, 0.5, a, lda, b, ldb, 1, c, tc.n)
		check("sgemmRows", c, want)
	}
	const m, n, k = 6, 5, 5000
	a, b, c := randSlice(r, m*k), randSlice(r, k*n), randSlice(r, m*n)
	want := naiveGemm(blas.NoTrans, blas.NoTrans, m, n, k, 1, a, k, b, n, 1, c, n)
	sgemmSplitK(m, n, k, a, k, b, n, c, n, nil)
	check("sgemmSplitK", c, want)
	for _, rows := range []int{1, 3} {
		c := randSlice(r, rows*n)
		want := naiveGemm(blas.NoTrans, blas.NoTrans, rows, n, k, 1, a, k, b, n, 1, c, n)
		sgemvSplitK(rows, n, k, a, b, c, new(splitScratch))
		check("sgemvSplitK", c, want)
	}
}
