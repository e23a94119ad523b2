package slurm

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Grow returns spec with its time limit and memory multiplied by the given factors (a factor of 1
// or less leaves the value as it is), for retrying jobs that ran out of time or memory. Unset
// values stay unset. It fails when a value is not in a Slurm format it can scale.
func Grow(spec JobSpec, timeFactor, memFactor float64) (JobSpec, error) {
	out := spec
	if timeFactor > 1 && spec.Time != "" && spec.Time != "UNLIMITED" && spec.Time != "infinite" {
		minutes, err := ParseMinutes(spec.Time)
		if err != nil {
			return spec, err
		}
		out.Time = FormatMinutes(int(math.Ceil(float64(minutes) * timeFactor)))
	}
	if memFactor > 1 && spec.Mem != "" {
		mem, err := scaleMem(spec.Mem, memFactor)
		if err != nil {
			return spec, err
		}
		out.Mem = mem
	}
	return out, nil
}

// ParseMinutes converts a Slurm time limit (minutes, minutes:seconds, hours:minutes:seconds,
// days-hours, days-hours:minutes, days-hours:minutes:seconds) to whole minutes, rounding seconds up.
func ParseMinutes(s string) (int, error) {
	bad := fmt.Errorf("time %q is not a Slurm time limit such as 90, 01:30:00 or 1-12", s)
	days := 0
	if d, rest, ok := strings.Cut(s, "-"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n < 0 {
			return 0, bad
		}
		days, s = n, rest
		parts := strings.Split(s, ":")
		for len(parts) < 3 {
			parts = append(parts, "0")
		}
		s = strings.Join(parts, ":")
	}
	var nums []int
	for _, p := range strings.Split(s, ":") {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return 0, bad
		}
		nums = append(nums, n)
	}
	var h, m, sec int
	switch len(nums) {
	case 1:
		m = nums[0]
	case 2:
		m, sec = nums[0], nums[1]
	case 3:
		h, m, sec = nums[0], nums[1], nums[2]
	default:
		return 0, bad
	}
	total := days*24*60 + h*60 + m
	if sec > 0 {
		total++
	}
	return total, nil
}

// FormatMinutes renders minutes as a Slurm time limit, days-hours:minutes:seconds.
func FormatMinutes(minutes int) string {
	d, rest := minutes/(24*60), minutes%(24*60)
	return fmt.Sprintf("%d-%02d:%02d:00", d, rest/60, rest%60)
}

// scaleMem multiplies a Slurm memory value (a number with an optional K, M, G or T suffix;
// megabytes when none) by f, rounding up in megabytes.
func scaleMem(s string, f float64) (string, error) {
	unit := 1.0 // megabytes
	num := s
	switch strings.ToUpper(s[len(s)-1:]) {
	case "K":
		unit, num = 1.0/1024, s[:len(s)-1]
	case "M":
		num = s[:len(s)-1]
	case "G":
		unit, num = 1024, s[:len(s)-1]
	case "T":
		unit, num = 1024*1024, s[:len(s)-1]
	}
	n, err := strconv.ParseFloat(num, 64)
	if err != nil || n <= 0 {
		return "", fmt.Errorf("memory %q is not a Slurm memory size such as 4G or 500M", s)
	}
	return strconv.Itoa(int(math.Ceil(n*unit*f))) + "M", nil
}
