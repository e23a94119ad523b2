package pcam

import (
	"fmt"
	"slices"
	"unsafe"
)

// checkReadArgs validates the arguments of Reader.Read against r.Len().
func checkReadArgs(r Reader, indices []int, pix []byte, labels []uint8) error {
	if pix != nil && len(pix) != len(indices)*PatchBytes {
		return fmt.Errorf("%s: pixel buffer has %d bytes, want %d for %d indices", r.Source(), len(pix), len(indices)*PatchBytes, len(indices))
	}
	if labels != nil && len(labels) != len(indices) {
		return fmt.Errorf("%s: label buffer has %d entries, want %d", r.Source(), len(labels), len(indices))
	}
	n := r.Len()
	for _, idx := range indices {
		if idx < 0 || idx >= n {
			return fmt.Errorf("%s: index %d out of range [0,%d)", r.Source(), idx, n)
		}
	}
	return nil
}

// sortedOrder returns the positions of indices ordered by index value (stable for repeats).
func sortedOrder(indices []int) []int {
	order := make([]int, len(indices))
	for i := range order {
		order[i] = i
	}
	if !slices.IsSorted(indices) {
		slices.SortStableFunc(order, func(a, b int) int { return indices[a] - indices[b] })
	}
	return order
}

// isIdentity reports whether order is 0,1,2,...
func isIdentity(order []int) bool {
	for i, o := range order {
		if i != o {
			return false
		}
	}
	return true
}

// runsOf returns the unique sorted index values and their maximal runs of consecutive values.
func runsOf(indices, order []int) (uniq []int, starts, counts []uint64) {
	for _, o := range order {
		v := indices[o]
		if len(uniq) > 0 && uniq[len(uniq)-1] == v {
			continue
		}
		if len(uniq) > 0 && uniq[len(uniq)-1] == v-1 {
			counts[len(counts)-1]++
		} else {
			starts = append(starts, uint64(v))
			counts = append(counts, 1)
		}
		uniq = append(uniq, v)
	}
	return uniq, starts, counts
}

// scatter copies the patches of src (one per unique sorted index, as uniq) to their requested positions.
func scatter(indices, order, uniq []int, src, pix []byte) {
	u := 0
	for _, o := range order {
		for uniq[u] != indices[o] {
			u++
		}
		copy(pix[o*PatchBytes:(o+1)*PatchBytes], src[u*PatchBytes:(u+1)*PatchBytes])
	}
}

// ptrOf returns the address of the first element of a non-empty slice for cgo calls.
func ptrOf[T any](s []T) unsafe.Pointer {
	return unsafe.Pointer(&s[0])
}
