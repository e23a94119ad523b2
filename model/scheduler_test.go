package model

import (
	"encoding/json"
	"math"
	"os/exec"
	"strings"
	"testing"
)

func ip(v int) *int         { return &v }
func fp(v float64) *float64 { return &v }

var schedulerCases = []struct {
	name   string
	cfg    SchedulerConfig
	base   float64
	losses []float64
	want   []float64
}{
	{"none", SchedulerConfig{Name: "none"}, 0.1, []float64{1, 2, 3}, []float64{0.1, 0.1, 0.1}},
	{"step", SchedulerConfig{Name: "step", StepSize: 2, Gamma: 0.5}, 0.1, []float64{0, 0, 0, 0, 0},
		[]float64{0.1, 0.05, 0.05, 0.025, 0.025}},
	{"cosine", SchedulerConfig{Name: "cosine", TMax: 4}, 1, []float64{0, 0, 0, 0, 0},
		[]float64{0.8535533905932737, 0.5, 0.14644660940672627, 0, 0.14644660940672627}},
	{"cosine-eta-min", SchedulerConfig{Name: "cosine", TMax: 2, EtaMin: 0.1}, 1, []float64{0, 0},
		[]float64{0.55, 0.1}},
	{"plateau", SchedulerConfig{Name: "reduce_on_plateau", Factor: 0.5, Patience: ip(2)}, 1,
		[]float64{1, 0.9, 0.9, 0.9, 0.9, 0.8, 0.8, 0.8, 0.8},
		[]float64{1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.25}},
	{"plateau-threshold", SchedulerConfig{Name: "reduce_on_plateau", Factor: 0.5, Patience: ip(0), Threshold: fp(0.1)}, 1,
		[]float64{1, 0.95, 0.85, 0.84},
		[]float64{1, 0.5, 0.5, 0.25}},
	{"plateau-min-lr", SchedulerConfig{Name: "reduce_on_plateau", Factor: 0.1, Patience: ip(0), MinLR: 0.05}, 1,
		[]float64{1, 1, 1, 1}, []float64{1, 0.1, 0.05, 0.05}},
	{"plateau-cooldown", SchedulerConfig{Name: "reduce_on_plateau", Factor: 0.5, Patience: ip(0), Cooldown: 1}, 1,
		[]float64{1, 1, 1, 1}, []float64{1, 0.5, 0.5, 0.25}},
	{"plateau-nan-is-bad", SchedulerConfig{Name: "reduce_on_plateau", Factor: 0.5, Patience: ip(0)}, 1,
		[]float64{math.NaN(), 1, math.NaN()}, []float64{0.5, 0.5, 0.25}},
}

// TestSchedulers checks the learning rate after each epoch against PyTorch's semantics.
func TestSchedulers(t *testing.T) {
	for _, tc := range schedulerCases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg.Defaults()
			if err := cfg.Validate(); err != nil {
				t.Fatal(err)
			}
			s := NewScheduler(cfg, tc.base)
			for i, l := range tc.losses {
				if got := s.Step(l); math.Abs(got-tc.want[i]) > 1e-12 {
					t.Errorf("epoch %d: lr %v, want %v", i+1, got, tc.want[i])
				}
			}
		})
	}
}

// TestSchedulerStateRoundTrip checks that a scheduler restored mid-way continues identically.
func TestSchedulerStateRoundTrip(t *testing.T) {
	cfg := SchedulerConfig{Name: "reduce_on_plateau", Factor: 0.5, Patience: ip(1), Cooldown: 1}.Defaults()
	a := NewScheduler(cfg, 1)
	losses := []float64{1, 0.9, 0.95, 0.97, 0.96, 0.5, 0.6, 0.7, 0.8}
	for _, l := range losses[:4] {
		a.Step(l)
	}
	raw, err := a.marshal()
	if err != nil {
		t.Fatal(err)
	}
	b := NewScheduler(cfg, 1)
	if err := b.unmarshal(raw); err != nil {
		t.Fatal(err)
	}
	for _, l := range losses[4:] {
		if x, y := a.Step(l), b.Step(l); x != y {
			t.Fatalf("restored scheduler diverged: %v vs %v", x, y)
		}
	}
	if err := b.unmarshal([]byte(`{"base_lr":1,"lr":-1}`)); err == nil {
		t.Error("a negative learning rate in a scheduler state was accepted")
	}
}

// TestSchedulersAgainstPyTorch runs the same tables through torch.optim.lr_scheduler when
// Debian's python3-torch is installed.
func TestSchedulersAgainstPyTorch(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping the PyTorch cross-check in -short mode")
	}
	if err := exec.Command("/usr/bin/python3", "-c", "import torch").Run(); err != nil {
		t.Skip("PyTorch is not available to /usr/bin/python3 (apt-get install python3-torch)")
	}
	type pyCase struct {
		Cfg    SchedulerConfig `json:"cfg"`
		Base   float64         `json:"base"`
		Losses []float64       `json:"losses"`
	}
	var in []pyCase
	for _, tc := range schedulerCases {
		if strings.Contains(tc.name, "nan") {
			continue // JSON has no NaN
		}
		in = append(in, pyCase{tc.cfg.Defaults(), tc.base, tc.losses})
	}
	raw, _ := json.Marshal(in)
	cmd := exec.Command("/usr/bin/python3", "testdata/torch_schedulers.py")
	cmd.Stdin = strings.NewReader(string(raw))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("torch_schedulers.py: %v", err)
	}
	var want [][]float64
	if err := json.Unmarshal(out, &want); err != nil {
		t.Fatalf("decoding %s: %v", out, err)
	}
	for i, c := range in {
		s := NewScheduler(c.Cfg, c.Base)
		for e, l := range c.Losses {
			if got := s.Step(l); math.Abs(got-want[i][e]) > 1e-12 {
				t.Errorf("%s epoch %d: lr %v, PyTorch %v", c.Cfg.Name, e+1, got, want[i][e])
			}
		}
	}
}
