package model

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"slices"
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

// updateTorch rewrites testdata/torch_schedulers.json from the installed PyTorch.
var updateTorch = flag.Bool("update-torch", false, "rewrite testdata/torch_schedulers.json with torch's learning rates (needs /usr/bin/python3 with torch)")

const torchReferenceFile = "testdata/torch_schedulers.json"

// torchReference is testdata/torch_schedulers.json: the scheduler cases and the learning rate after
// each epoch that torch.optim.lr_scheduler gave for them (written by testdata/torch_schedulers.py).
type torchReference struct {
	Torch  string      `json:"torch_version,omitempty"`
	Python string      `json:"python,omitempty"`
	Cases  []torchCase `json:"cases"`
}

type torchCase struct {
	Name    string          `json:"name"`
	Cfg     SchedulerConfig `json:"cfg"`
	Base    float64         `json:"base"`
	Losses  []jsonFloat     `json:"losses"`
	TorchLR []float64       `json:"torch_lr,omitempty"`
}

// jsonFloat is a float64 that JSON carries as a number, or as the string "NaN" (JSON has no NaN).
type jsonFloat float64

func (f jsonFloat) MarshalJSON() ([]byte, error) {
	if math.IsNaN(float64(f)) {
		return []byte(`"NaN"`), nil
	}
	return json.Marshal(float64(f))
}

func (f *jsonFloat) UnmarshalJSON(b []byte) error {
	if string(b) == `"NaN"` {
		*f = jsonFloat(math.NaN())
		return nil
	}
	var v float64
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("loss %s: want a number or \"NaN\": %w", b, err)
	}
	*f = jsonFloat(v)
	return nil
}

// torchCases is schedulerCases as the torch reference records them (without the learning rates).
func torchCases() []torchCase {
	var cases []torchCase
	for _, tc := range schedulerCases {
		c := torchCase{Name: tc.name, Cfg: tc.cfg.Defaults(), Base: tc.base}
		for _, l := range tc.losses {
			c.Losses = append(c.Losses, jsonFloat(l))
		}
		cases = append(cases, c)
	}
	return cases
}

// checkAgainstTorch steps every case's scheduler and compares each epoch's learning rate with
// torch's.
func checkAgainstTorch(t *testing.T, cases []torchCase) {
	t.Helper()
	for _, c := range cases {
		if len(c.TorchLR) != len(c.Losses) {
			t.Errorf("%s: %d torch learning rates for %d epochs", c.Name, len(c.TorchLR), len(c.Losses))
			continue
		}
		s := NewScheduler(c.Cfg, c.Base)
		for e, l := range c.Losses {
			if got := s.Step(float64(l)); math.Abs(got-c.TorchLR[e]) > 1e-12 {
				t.Errorf("%s epoch %d: lr %v, PyTorch %v", c.Name, e+1, got, c.TorchLR[e])
			}
		}
	}
}

// sameCases reports whether the recorded cases are exactly the current test cases.
func sameCases(recorded, current []torchCase) bool {
	strip := func(cs []torchCase) string {
		var out []torchCase
		for _, c := range cs {
			c.TorchLR = nil
			out = append(out, c)
		}
		b, _ := json.Marshal(out)
		return string(b)
	}
	return strip(recorded) == strip(current)
}

// TestSchedulersMatchPyTorchReference compares every scheduler case with the learning rates
// PyTorch 1.13 produced for it, recorded in testdata/torch_schedulers.json, so the comparison runs
// in every test run, with or without torch.
func TestSchedulersMatchPyTorchReference(t *testing.T) {
	data, err := os.ReadFile(torchReferenceFile)
	if err != nil {
		t.Fatal(err)
	}
	var ref torchReference
	if err := json.Unmarshal(data, &ref); err != nil {
		t.Fatalf("%s: %v", torchReferenceFile, err)
	}
	if !sameCases(ref.Cases, torchCases()) {
		t.Fatalf("%s does not hold the current scheduler cases: regenerate it with\n"+
			"  go test ./model -run TestSchedulersAgainstPyTorch -update-torch", torchReferenceFile)
	}
	if !strings.HasPrefix(ref.Torch, "1.13") {
		t.Errorf("%s was made with torch %q, want the 1.13 of Debian's python3-torch", torchReferenceFile, ref.Torch)
	}
	checkAgainstTorch(t, ref.Cases)
}

// TestSchedulersAgainstPyTorch runs the cases through torch.optim.lr_scheduler when Debian's
// python3-torch is installed: pcamflow must agree with it, and so must the recorded reference
// (with -update-torch the reference is rewritten instead).
func TestSchedulersAgainstPyTorch(t *testing.T) {
	if testing.Short() && !*updateTorch {
		t.Skip("skipping the PyTorch cross-check in -short mode")
	}
	if err := exec.Command("/usr/bin/python3", "-c", "import torch").Run(); err != nil {
		if *updateTorch {
			t.Fatal("-update-torch needs PyTorch in /usr/bin/python3 (apt-get install python3-torch)")
		}
		t.Skip("PyTorch is not available to /usr/bin/python3 (apt-get install python3-torch); testdata/torch_schedulers.json is checked instead")
	}
	raw, err := json.Marshal(torchReference{Cases: torchCases()})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("/usr/bin/python3", "testdata/torch_schedulers.py")
	cmd.Stdin = bytes.NewReader(raw)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("torch_schedulers.py: %v\n%s", err, stderr.String())
	}
	var live torchReference
	if err := json.Unmarshal(out, &live); err != nil {
		t.Fatalf("decoding %s: %v", out, err)
	}
	checkAgainstTorch(t, live.Cases)
	if *updateTorch {
		if err := os.WriteFile(torchReferenceFile, out, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s (torch %s)", torchReferenceFile, live.Torch)
		return
	}
	var ref torchReference
	if data, err := os.ReadFile(torchReferenceFile); err != nil || json.Unmarshal(data, &ref) != nil || !sameCases(ref.Cases, live.Cases) {
		return // TestSchedulersMatchPyTorchReference reports a stale or unreadable reference
	}
	for i, c := range ref.Cases {
		if !slices.Equal(c.TorchLR, live.Cases[i].TorchLR) {
			t.Errorf("%s: recorded torch learning rates %v, torch %s now gives %v (regenerate with -update-torch)",
				c.Name, c.TorchLR, live.Torch, live.Cases[i].TorchLR)
		}
	}
}
