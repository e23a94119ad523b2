package hpo

import "math/bits"

// numpyArgsort returns the permutation that sorts v ascending, with ties in
// exactly the order numpy's default np.argsort (kind="quicksort", an
// introsort: median-of-three quicksort, insertion sort below 16 elements,
// heapsort past the depth limit) leaves them for float64 input in numpy
// 1.24, the version Debian's python3-optuna 3.1 runs on. Optuna's univariate
// bandwidth rule gives tied observations different bandwidths depending on
// that order, and with its ramped weights the order matters, so pcamflow
// reproduces it rather than using a stable sort. The values must not be NaN.
func numpyArgsort(v []float64) []int {
	n := len(v)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	if n < 2 {
		return idx
	}
	const smallQuicksort = 15
	less := func(a, b float64) bool { return a < b }
	type span struct{ l, r, depth int }
	var stack []span
	pl, pr := 0, n-1
	cdepth := (bits.Len(uint(n)) - 1) * 2 // npy_get_msb(num) * 2
	for {
		if cdepth < 0 {
			heapArgsort(v, idx[pl:pr+1])
		} else {
			for pr-pl > smallQuicksort {
				pm := pl + (pr-pl)>>1
				if less(v[idx[pm]], v[idx[pl]]) {
					idx[pm], idx[pl] = idx[pl], idx[pm]
				}
				if less(v[idx[pr]], v[idx[pm]]) {
					idx[pr], idx[pm] = idx[pm], idx[pr]
				}
				if less(v[idx[pm]], v[idx[pl]]) {
					idx[pm], idx[pl] = idx[pl], idx[pm]
				}
				vp := v[idx[pm]]
				pi, pj := pl, pr-1
				idx[pm], idx[pj] = idx[pj], idx[pm]
				for {
					pi++
					for less(v[idx[pi]], vp) {
						pi++
					}
					pj--
					for less(vp, v[idx[pj]]) {
						pj--
					}
					if pi >= pj {
						break
					}
					idx[pi], idx[pj] = idx[pj], idx[pi]
				}
				pk := pr - 1
				idx[pi], idx[pk] = idx[pk], idx[pi]
				// Push the larger partition, continue with the smaller.
				cdepth--
				if pi-pl < pr-pi {
					stack = append(stack, span{pi + 1, pr, cdepth})
					pr = pi - 1
				} else {
					stack = append(stack, span{pl, pi - 1, cdepth})
					pl = pi + 1
				}
			}
			// Insertion sort.
			for pi := pl + 1; pi <= pr; pi++ {
				vi := idx[pi]
				vp := v[vi]
				pj := pi
				for pj > pl && less(vp, v[idx[pj-1]]) {
					idx[pj] = idx[pj-1]
					pj--
				}
				idx[pj] = vi
			}
		}
		if len(stack) == 0 {
			return idx
		}
		s := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		pl, pr, cdepth = s.l, s.r, s.depth
	}
}

// heapArgsort sorts the indices in tosort by v with numpy's aheapsort (used
// only past the introsort depth limit, which needs adversarial input).
func heapArgsort(v []float64, tosort []int) {
	n := len(tosort)
	for l := n >> 1; l > 0; l-- {
		siftDown(v, tosort, l, n)
	}
	for ; n > 1; n-- {
		tosort[n-1], tosort[0] = tosort[0], tosort[n-1]
		siftDown(v, tosort, 1, n-1)
	}
}

// siftDown moves the index at heap position i (1-based, as numpy's heapsort
// writes it: position i is tosort[i-1]) down a max-heap of the first size
// positions, ordered by v.
func siftDown(v []float64, tosort []int, i, size int) {
	a := func(i int) *int { return &tosort[i-1] }
	tmp := *a(i)
	for j := i << 1; j <= size; {
		if j < size && v[*a(j)] < v[*a(j + 1)] {
			j++
		}
		if !(v[tmp] < v[*a(j)]) {
			break
		}
		*a(i) = *a(j)
		i = j
		j += j
	}
	*a(i) = tmp
}
