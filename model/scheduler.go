package model

import (
	"encoding/json"
	"fmt"
	"math"
)

// SchedulerConfig selects a learning-rate schedule, stepped once per epoch. Semantics follow
// PyTorch: "reduce_on_plateau" is ReduceLROnPlateau(mode="min", threshold_mode="rel") on the
// validation loss (defaults factor 0.1, patience 10, threshold 1e-4, cooldown 0, min_lr 0, eps 1e-8);
// "step" is StepLR(step_size, gamma 0.1 by default); "cosine" is CosineAnnealingLR(T_max, eta_min) in
// its closed form; "none" keeps the learning rate. Patience and Threshold are pointers because
// 0 is a meaningful value for both; nil means the default.
type SchedulerConfig struct {
	// Name is "reduce_on_plateau", "step", "cosine" or "none" (default).
	Name string `json:"name"`
	// Factor, Patience, Threshold (relative), Cooldown and MinLR parameterise reduce_on_plateau.
	Factor    float64  `json:"factor,omitempty"`
	Patience  *int     `json:"patience,omitempty"`
	Threshold *float64 `json:"threshold,omitempty"`
	Cooldown  int      `json:"cooldown,omitempty"`
	MinLR     float64  `json:"min_lr,omitempty"`
	// StepSize (epochs) and Gamma parameterise step.
	StepSize int     `json:"step_size,omitempty"`
	Gamma    float64 `json:"gamma,omitempty"`
	// TMax (epochs) and EtaMin parameterise cosine.
	TMax   int     `json:"t_max,omitempty"`
	EtaMin float64 `json:"eta_min,omitempty"`
}

// Defaults returns a copy with unset fields given PyTorch's defaults for the named scheduler.
func (s SchedulerConfig) Defaults() SchedulerConfig {
	if s.Name == "" {
		s.Name = "none"
	}
	switch s.Name {
	case "reduce_on_plateau":
		if s.Factor == 0 {
			s.Factor = 0.1
		}
		if s.Patience == nil {
			p := 10
			s.Patience = &p
		}
		if s.Threshold == nil {
			t := 1e-4
			s.Threshold = &t
		}
	case "step":
		if s.Gamma == 0 {
			s.Gamma = 0.1
		}
	}
	return s
}

// Validate reports an unknown scheduler or an out-of-range parameter.
func (s SchedulerConfig) Validate() error {
	switch s.Name {
	case "none":
	case "reduce_on_plateau":
		if !(s.Factor > 0 && s.Factor < 1) {
			return fmt.Errorf("scheduler.factor %v is not in (0,1)", s.Factor)
		}
		if s.Patience == nil || s.Threshold == nil {
			return fmt.Errorf("scheduler: patience and threshold must be set (call Defaults)")
		}
		if *s.Patience < 0 || s.Cooldown < 0 || !(*s.Threshold >= 0) || !(s.MinLR >= 0) {
			return fmt.Errorf("scheduler: patience, cooldown, threshold and min_lr must be >= 0")
		}
	case "step":
		if s.StepSize < 1 {
			return fmt.Errorf("scheduler.step_size %d must be >= 1", s.StepSize)
		}
		if !(s.Gamma > 0) {
			return fmt.Errorf("scheduler.gamma %v must be positive", s.Gamma)
		}
	case "cosine":
		if s.TMax < 1 {
			return fmt.Errorf("scheduler.t_max %d must be >= 1", s.TMax)
		}
		if !(s.EtaMin >= 0) {
			return fmt.Errorf("scheduler.eta_min %v must be >= 0", s.EtaMin)
		}
	default:
		return fmt.Errorf("scheduler %q is not one of reduce_on_plateau, step, cosine, none", s.Name)
	}
	return nil
}

// SchedulerState is the complete, JSON-serialisable state of a Scheduler.
type SchedulerState struct {
	// BaseLR is the initial learning rate.
	BaseLR float64 `json:"base_lr"`
	// LR is the current learning rate.
	LR float64 `json:"lr"`
	// Epoch counts the Step calls so far (PyTorch's last_epoch).
	Epoch int `json:"epoch"`
	// Best, BadEpochs and CooldownLeft are ReduceLROnPlateau's bookkeeping (Best is +Inf, stored as
	// null in JSON, until a metric was seen).
	Best         *float64 `json:"best,omitempty"`
	BadEpochs    int      `json:"bad_epochs"`
	CooldownLeft int      `json:"cooldown_left"`
}

// Scheduler is a pure state machine over epochs: Step takes the epoch's validation loss (ignored
// by all but reduce_on_plateau) and returns the learning rate for the next epoch.
type Scheduler struct {
	cfg SchedulerConfig
	st  SchedulerState
}

// NewScheduler returns a scheduler at epoch 0 with learning rate baseLR. cfg must be valid.
func NewScheduler(cfg SchedulerConfig, baseLR float64) *Scheduler {
	return &Scheduler{cfg: cfg, st: SchedulerState{BaseLR: baseLR, LR: baseLR}}
}

// LR returns the current learning rate.
func (s *Scheduler) LR() float64 { return s.st.LR }

// State returns a copy of the scheduler's state.
func (s *Scheduler) State() SchedulerState {
	st := s.st
	if st.Best != nil {
		b := *st.Best
		st.Best = &b
	}
	return st
}

// SetState replaces the state, after checking it is plausible (a finite positive base rate, a
// finite current rate >= 0, counts >= 0). The current rate may be 0: cosine annealing with
// eta_min 0 reaches it at epoch t_max, and a checkpoint of that epoch must load.
func (s *Scheduler) SetState(st SchedulerState) error {
	if !(st.LR >= 0) || !(st.BaseLR > 0) || math.IsInf(st.LR, 0) || math.IsInf(st.BaseLR, 0) {
		return fmt.Errorf("scheduler state: learning rates %v/%v must be finite, the base rate positive and the current one not negative", st.BaseLR, st.LR)
	}
	if st.Epoch < 0 || st.BadEpochs < 0 || st.CooldownLeft < 0 {
		return fmt.Errorf("scheduler state: negative counter")
	}
	s.st = st
	return nil
}

// Step advances one epoch, given that epoch's validation loss, and returns the new learning rate.
func (s *Scheduler) Step(valLoss float64) float64 {
	s.st.Epoch++
	c, st := s.cfg, &s.st
	switch c.Name {
	case "step":
		if st.Epoch%c.StepSize == 0 {
			st.LR *= c.Gamma
		}
	case "cosine":
		st.LR = c.EtaMin + (st.BaseLR-c.EtaMin)*(1+math.Cos(math.Pi*float64(st.Epoch)/float64(c.TMax)))/2
	case "reduce_on_plateau":
		s.plateau(valLoss)
	}
	return st.LR
}

// plateau is ReduceLROnPlateau.step for mode "min", threshold_mode "rel". A NaN metric counts as
// a bad epoch, as in PyTorch (NaN < x is false).
func (s *Scheduler) plateau(metric float64) {
	c, st := s.cfg, &s.st
	if st.Best == nil || metric < *st.Best*(1-*c.Threshold) {
		if !math.IsNaN(metric) {
			b := metric
			st.Best = &b
			st.BadEpochs = 0
		} else {
			st.BadEpochs++
		}
	} else {
		st.BadEpochs++
	}
	if st.CooldownLeft > 0 {
		st.CooldownLeft--
		st.BadEpochs = 0
	}
	if st.BadEpochs > *c.Patience {
		newLR := math.Max(st.LR*c.Factor, c.MinLR)
		if st.LR-newLR > 1e-8 {
			st.LR = newLR
		}
		st.CooldownLeft = c.Cooldown
		st.BadEpochs = 0
	}
}

// marshal and unmarshal give the checkpoint encoding of the state.
func (s *Scheduler) marshal() ([]byte, error) { return json.Marshal(s.st) }

func (s *Scheduler) unmarshal(b []byte) error {
	var st SchedulerState
	if err := json.Unmarshal(b, &st); err != nil {
		return fmt.Errorf("scheduler state: %w", err)
	}
	return s.SetState(st)
}
