package cli

import "testing"

// TestPlanGCPercent checks that plan runs with the default collector unless the user set GOGC.
func TestPlanGCPercent(t *testing.T) {
	for _, tc := range []struct {
		gogc string
		want int
	}{{"", 100}, {"400", -1}, {"off", -1}} {
		t.Setenv("GOGC", tc.gogc)
		if got := planGCPercent(); got != tc.want {
			t.Errorf("GOGC=%q: planGCPercent() = %d, want %d", tc.gogc, got, tc.want)
		}
	}
}
