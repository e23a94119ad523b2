package slurm

import (
	"slices"
	"strings"
	"testing"
)

func TestCompactRangesRoundTrip(t *testing.T) {
	tests := []struct {
		in   []int
		want string
	}{
		{[]int{0}, "0"},
		{[]int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12}, "0-9,12"},
		{[]int{7, 3}, "3,7"},
		{[]int{5, 4, 4, 3, 10, 11, 20}, "3-5,10-11,20"},
		{[]int{1, 3, 5}, "1,3,5"},
	}
	for _, tc := range tests {
		in := slices.Clone(tc.in)
		if got := CompactRanges(tc.in); got != tc.want {
			t.Errorf("CompactRanges(%v) = %q, want %q", tc.in, got, tc.want)
		}
		if !slices.Equal(in, tc.in) {
			t.Errorf("CompactRanges modified its input %v", in)
		}
		back, err := ParseRanges(tc.want)
		want := slices.Compact(slices.Sorted(slices.Values(tc.in)))
		if err != nil || !slices.Equal(back, want) {
			t.Errorf("ParseRanges(%q) = %v, %v; want %v", tc.want, back, err, want)
		}
	}
}

func TestParseRanges(t *testing.T) {
	got, err := ParseRanges("0-6:3,10%4")
	if err != nil || !slices.Equal(got, []int{0, 3, 6, 10}) {
		t.Errorf("ParseRanges = %v, %v", got, err)
	}
	for _, bad := range []string{"", "a", "3-1", "1-", "-1", "1:0", "0-99999999"} {
		if _, err := ParseRanges(bad); err == nil {
			t.Errorf("ParseRanges(%q) succeeded, want an error", bad)
		}
	}
}

func TestRetrySpecKeepsOnlyFailedIndices(t *testing.T) {
	spec := JobSpec{Name: "sweep", Command: []string{"true"}, Array: &ArraySpec{Indices: []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, Parallel: 3}}
	outcomes := []Outcome{
		{TaskStatus: TaskStatus{TaskID: 3, State: StateFailed}, Failure: FailureExit},
		{TaskStatus: TaskStatus{TaskID: 1, State: StateCompleted}},
		{TaskStatus: TaskStatus{TaskID: 7, State: StateTimeout}, Failure: FailureTimeout},
	}
	failed := FailedIndices(outcomes)
	if !slices.Equal(failed, []int{3, 7}) {
		t.Fatalf("FailedIndices = %v, want [3 7]", failed)
	}
	retry, err := RetrySpec(spec, failed)
	if err != nil {
		t.Fatal(err)
	}
	script, err := Render(retry)
	if err != nil {
		t.Fatal(err)
	}
	if want := "#SBATCH --array=3,7%3\n"; !strings.Contains(script, want) {
		t.Errorf("retry script lacks %q:\n%s", want, script)
	}
	if len(spec.Array.Indices) != 10 {
		t.Error("RetrySpec modified the original spec")
	}
	if _, err := RetrySpec(JobSpec{Command: []string{"true"}}, []int{1}); err == nil {
		t.Error("RetrySpec of a non-array job succeeded")
	}
	if _, err := RetrySpec(spec, nil); err == nil {
		t.Error("RetrySpec without indices succeeded")
	}
}
