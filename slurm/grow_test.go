package slurm

import "testing"

func TestGrow(t *testing.T) {
	cases := []struct {
		time, mem         string
		tf, mf            float64
		wantTime, wantMem string
		fail              bool
	}{
		{"30", "4G", 2, 1.5, "0-01:00:00", "6144M", false},
		{"01:30:00", "500M", 2, 2, "0-03:00:00", "1000M", false},
		{"1-12", "", 2, 2, "3-00:00:00", "", false},
		{"0:30", "1024K", 3, 2, "0-00:03:00", "2M", false},
		{"", "", 2, 2, "", "", false},
		{"45", "2G", 1, 1, "45", "2G", false},
		{"soon", "", 2, 1, "", "", true},
		{"10", "lots", 1, 2, "", "", true},
	}
	for _, c := range cases {
		got, err := Grow(JobSpec{Time: c.time, Mem: c.mem}, c.tf, c.mf)
		if c.fail {
			if err == nil {
				t.Errorf("Grow(%q, %q) should fail", c.time, c.mem)
			}
			continue
		}
		if err != nil || got.Time != c.wantTime || got.Mem != c.wantMem {
			t.Errorf("Grow(%q, %q, %v, %v) = %q, %q, %v; want %q, %q", c.time, c.mem, c.tf, c.mf, got.Time, got.Mem, err, c.wantTime, c.wantMem)
		}
	}
}
