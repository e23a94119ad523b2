package model

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
)

// Close releases the compiled graphs; the trainer must not be used afterwards.
func (t *Trainer) Close() error {
	var first error
	for _, g := range t.train {
		if err := g.vm.Close(); err != nil && first == nil {
			first = err
		}
	}
	for _, g := range t.pred {
		if err := g.vm.Close(); err != nil && first == nil {
			first = err
		}
	}
	t.train, t.pred, t.infer = map[int]*netGraph{}, map[int]*netGraph{}, nil
	return first
}

// Config returns the resolved configuration (defaults applied).
func (t *Trainer) Config() Config { return t.cfg }

// NumParams returns the number of trainable values.
func (t *Trainer) NumParams() int {
	n := 0
	for _, p := range t.params {
		n += len(p.data)
	}
	return n
}

// Rand returns the trainer's seeded generator (PCG), which drew the initial weights and draws the
// dropout masks. Callers may use it for sampling order and augmentation so that one seed drives
// everything: its state is part of every checkpoint, so a resumed run continues the same stream.
func (t *Trainer) Rand() *rand.Rand { return t.rng }

// LearningRate returns the learning rate the next Step uses.
func (t *Trainer) LearningRate() float64 { return t.lr }

// SetLearningRate overrides the learning rate for the following steps (the scheduler's next
// EndEpoch may replace it again). It rejects non-positive or non-finite values.
func (t *Trainer) SetLearningRate(lr float64) error {
	if !(lr > 0) || math.IsInf(lr, 0) {
		return fmt.Errorf("learning rate %v must be positive and finite", lr)
	}
	t.lr = lr
	return nil
}

// EndEpoch marks the end of an epoch: it advances the epoch counter, steps the scheduler with the
// epoch's validation loss and adopts its learning rate, which it returns.
func (t *Trainer) EndEpoch(valLoss float64) float64 {
	t.epoch++
	t.lr = t.sched.Step(valLoss)
	return t.lr
}

// Epoch returns the number of completed epochs (EndEpoch calls, restored by Load).
func (t *Trainer) Epoch() int { return t.epoch }

// Steps returns the number of successful training steps.
func (t *Trainer) Steps() int64 { return t.steps }

// Scheduler returns the trainer's scheduler (to inspect its state).
func (t *Trainer) Scheduler() *Scheduler { return t.sched }

// SetMeta stores an arbitrary JSON document (metrics, resolved stage config...) saved with the
// checkpoint. It rejects invalid JSON.
func (t *Trainer) SetMeta(meta json.RawMessage) error {
	if len(meta) > maxMetaBytes {
		return fmt.Errorf("metadata of %d bytes exceeds the limit of %d", len(meta), maxMetaBytes)
	}
	if len(meta) > 0 && !json.Valid(meta) {
		return fmt.Errorf("metadata is not valid JSON")
	}
	t.meta = append(json.RawMessage(nil), meta...)
	return nil
}

// Meta returns the metadata stored with SetMeta or restored by Load.
func (t *Trainer) Meta() json.RawMessage { return append(json.RawMessage(nil), t.meta...) }
