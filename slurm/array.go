package slurm

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// CompactRanges renders indices as Slurm's compact range list, e.g. [0 1 2 3 12] -> "0-3,12".
// Duplicates are dropped and the input order does not matter; the input slice is not modified.
func CompactRanges(indices []int) string {
	s := slices.Clone(indices)
	slices.Sort(s)
	s = slices.Compact(s)
	var b strings.Builder
	for i := 0; i < len(s); {
		j := i
		for j+1 < len(s) && s[j+1] == s[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(s[i]))
		if j > i {
			b.WriteByte('-')
			b.WriteString(strconv.Itoa(s[j]))
		}
		i = j + 1
	}
	return b.String()
}

// ParseRanges parses a compact range list such as "0-3,12" or "1-9:2" (a step) back into sorted
// indices; a trailing "%N" throttle is ignored. It fails on anything else, naming the bad part.
func ParseRanges(s string) ([]int, error) {
	if k := strings.IndexByte(s, '%'); k >= 0 {
		s = s[:k]
	}
	var out []int
	for _, part := range strings.Split(s, ",") {
		idx, err := parseRange(part)
		if err != nil {
			return nil, fmt.Errorf("parse array range %q: %w", s, err)
		}
		out = append(out, idx...)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

func parseRange(part string) ([]int, error) {
	step := 1
	if k := strings.IndexByte(part, ':'); k >= 0 {
		n, err := strconv.Atoi(part[k+1:])
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("bad step in %q", part)
		}
		step, part = n, part[:k]
	}
	lo, hi, isRange := strings.Cut(part, "-")
	a, err := strconv.Atoi(lo)
	if err != nil || a < 0 {
		return nil, fmt.Errorf("bad index %q", lo)
	}
	b := a
	if isRange {
		if b, err = strconv.Atoi(hi); err != nil || b < a {
			return nil, fmt.Errorf("bad range %q", part)
		}
	}
	if (b-a)/step > 1_000_000 {
		return nil, fmt.Errorf("range %q is too large", part)
	}
	var out []int
	for i := a; i <= b; i += step {
		out = append(out, i)
	}
	return out, nil
}

// RetrySpec returns a copy of spec that runs only the given array indices (for example the failed
// ones of a previous submission), keeping the throttle. It returns an error when spec is not an
// array or indices is empty. The original spec is not modified.
func RetrySpec(spec JobSpec, indices []int) (JobSpec, error) {
	if spec.Array == nil {
		return JobSpec{}, fmt.Errorf("retry job %q: not an array job", spec.Name)
	}
	if len(indices) == 0 {
		return JobSpec{}, fmt.Errorf("retry array job %q: no indices to retry", spec.Name)
	}
	out := spec
	out.Array = &ArraySpec{Indices: slices.Clone(indices), Parallel: spec.Array.Parallel}
	return out, nil
}

// FailedIndices returns the sorted array task indices of the outcomes that failed.
func FailedIndices(outcomes []Outcome) []int {
	var out []int
	for _, o := range outcomes {
		if o.Failed() && o.TaskID >= 0 {
			out = append(out, o.TaskID)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
