package model

import (
	"errors"
	"fmt"
	"math"
)

// Architectures and option values accepted by Config.
const (
	ArchMLP = "mlp"
	ArchCNN = "cnn"
)

// maxParams bounds the number of trainable values a Config may describe (256 Mi floats, 1 GiB),
// so that a crafted configuration (for example inside a checkpoint) cannot trigger a huge allocation.
const maxParams = 1 << 28

// Input is the geometry of one image: Height×Width pixels with Channels interleaved bytes each
// (HWC, the PCAM layout). The zero value means the PCAM patch, 96×96×3.
type Input struct {
	Height   int `json:"height"`
	Width    int `json:"width"`
	Channels int `json:"channels"`
}

// Normalize holds the per-channel normalisation applied to pixels scaled to [0,1]:
// x = (byte/255 − Mean[c]) / Std[c]. Empty slices mean mean 0 and std 1.
type Normalize struct {
	Mean []float64 `json:"mean,omitempty"`
	Std  []float64 `json:"std,omitempty"`
}

// Config describes a network and how it is trained. It is JSON-serialisable, and Defaults fills in
// every unset field, so the resolved Config is the complete description of a run.
type Config struct {
	// Arch is "mlp" or "cnn".
	Arch string `json:"arch"`
	// Input is the image geometry; zero means 96×96×3.
	Input Input `json:"input"`
	// HiddenUnits lists the widths of the MLP's hidden layers (may be empty: logistic regression).
	HiddenUnits []int `json:"hidden_units,omitempty"`
	// Activation is "relu" (default), "leaky_relu" (slope 0.01) or "tanh"; used by every hidden layer.
	Activation string `json:"activation,omitempty"`
	// Dropout is the drop probability after each hidden dense activation, in [0,1).
	Dropout float64 `json:"dropout,omitempty"`
	// Channels lists the output channels of the CNN's conv blocks (conv 3×3 same padding, optional
	// batch norm, activation, 2×2 pooling).
	Channels []int `json:"channels,omitempty"`
	// Kernel is the conv kernel size; only 3 is supported (default 3).
	Kernel int `json:"kernel,omitempty"`
	// Pooling is "max" (default) or "avg".
	Pooling string `json:"pooling,omitempty"`
	// BatchNorm adds batch normalisation (momentum 0.1, eps 1e-5, as PyTorch) after each conv.
	BatchNorm bool `json:"batch_norm,omitempty"`
	// HeadUnits lists the widths of the CNN's dense layers between the flattened features and the logit.
	HeadUnits []int `json:"head_units,omitempty"`
	// PosWeight weighs the loss of positive examples (PyTorch's pos_weight); 0 means 1.
	PosWeight float64 `json:"pos_weight,omitempty"`
	// Normalize is the per-channel input normalisation.
	Normalize Normalize `json:"normalize"`
	// Optimizer selects and parameterises the optimiser.
	Optimizer OptimizerConfig `json:"optimizer"`
	// Scheduler selects and parameterises the learning-rate schedule.
	Scheduler SchedulerConfig `json:"scheduler"`
	// ClipNorm, when positive, clips the global L2 norm of the gradients to this value.
	ClipNorm float64 `json:"clip_norm,omitempty"`
	// Seed drives weight initialisation and dropout masks.
	Seed uint64 `json:"seed"`
}

// Defaults returns a copy of c with every unset field given its default value.
func (c Config) Defaults() Config {
	if c.Input == (Input{}) {
		c.Input = Input{Height: 96, Width: 96, Channels: 3}
	}
	if c.Activation == "" {
		c.Activation = "relu"
	}
	if c.Arch == ArchCNN {
		if c.Kernel == 0 {
			c.Kernel = 3
		}
		if c.Pooling == "" {
			c.Pooling = "max"
		}
	}
	if c.PosWeight == 0 {
		c.PosWeight = 1
	}
	c.Optimizer = c.Optimizer.Defaults()
	c.Scheduler = c.Scheduler.Defaults()
	return c
}

// Validate reports the first problem of a resolved Config (call Defaults first), naming the field.
func (c Config) Validate() error {
	in := c.Input
	if in.Height < 1 || in.Width < 1 || in.Channels < 1 || in.Height > 4096 || in.Width > 4096 || in.Channels > 64 {
		return fmt.Errorf("model config: input %dx%dx%d is not a valid image geometry", in.Height, in.Width, in.Channels)
	}
	switch c.Activation {
	case "relu", "leaky_relu", "tanh":
	default:
		return fmt.Errorf("model config: activation %q is not one of relu, leaky_relu, tanh", c.Activation)
	}
	if !(c.Dropout >= 0 && c.Dropout < 1) {
		return fmt.Errorf("model config: dropout %v is not in [0,1)", c.Dropout)
	}
	if !(c.PosWeight > 0) || math.IsInf(c.PosWeight, 0) {
		return fmt.Errorf("model config: pos_weight %v must be a positive finite number", c.PosWeight)
	}
	if err := c.validateArch(); err != nil {
		return err
	}
	if err := c.validateNormalize(); err != nil {
		return err
	}
	if c.ClipNorm < 0 || math.IsNaN(c.ClipNorm) {
		return fmt.Errorf("model config: clip_norm %v must be >= 0", c.ClipNorm)
	}
	if err := c.Optimizer.Validate(); err != nil {
		return fmt.Errorf("model config: %w", err)
	}
	if err := c.Scheduler.Validate(); err != nil {
		return fmt.Errorf("model config: %w", err)
	}
	n := 0
	for _, s := range c.paramSpecs() {
		n += s.size()
	}
	if n > maxParams {
		return fmt.Errorf("model config: %d parameters exceed the limit of %d", n, maxParams)
	}
	return nil
}

func (c Config) validateArch() error {
	checkUnits := func(field string, units []int) error {
		if len(units) > 64 {
			return fmt.Errorf("model config: %s has %d layers, more than 64", field, len(units))
		}
		for i, u := range units {
			if u < 1 || u > 1<<20 {
				return fmt.Errorf("model config: %s[%d] = %d is not in [1, 1048576]", field, i, u)
			}
		}
		return nil
	}
	switch c.Arch {
	case ArchMLP:
		if len(c.Channels) > 0 || len(c.HeadUnits) > 0 || c.BatchNorm {
			return errors.New("model config: channels, head_units and batch_norm belong to arch \"cnn\", not \"mlp\"")
		}
		return checkUnits("hidden_units", c.HiddenUnits)
	case ArchCNN:
		if len(c.HiddenUnits) > 0 {
			return errors.New("model config: hidden_units belongs to arch \"mlp\"; use head_units for the cnn's dense layers")
		}
		if c.Kernel != 3 {
			return fmt.Errorf("model config: kernel %d is not supported (only 3)", c.Kernel)
		}
		if c.Pooling != "max" && c.Pooling != "avg" {
			return fmt.Errorf("model config: pooling %q is not one of max, avg", c.Pooling)
		}
		if len(c.Channels) == 0 {
			return errors.New("model config: a cnn needs at least one conv block in channels")
		}
		if err := checkUnits("channels", c.Channels); err != nil {
			return err
		}
		h, w := c.Input.Height, c.Input.Width
		for range c.Channels {
			h, w = h/2, w/2
		}
		if h < 1 || w < 1 {
			return fmt.Errorf("model config: %d pooling blocks shrink a %dx%d input to nothing", len(c.Channels), c.Input.Height, c.Input.Width)
		}
		return checkUnits("head_units", c.HeadUnits)
	default:
		return fmt.Errorf("model config: arch %q is not one of mlp, cnn", c.Arch)
	}
}

func (c Config) validateNormalize() error {
	nc := c.Input.Channels
	m, s := c.Normalize.Mean, c.Normalize.Std
	if (len(m) != 0 && len(m) != nc) || (len(s) != 0 && len(s) != nc) {
		return fmt.Errorf("model config: normalize needs %d means and stds (one per channel), got %d and %d", nc, len(m), len(s))
	}
	for i, v := range s {
		if !(v > 0) || math.IsInf(v, 0) {
			return fmt.Errorf("model config: normalize.std[%d] = %v must be positive and finite", i, v)
		}
	}
	for i, v := range m {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("model config: normalize.mean[%d] = %v must be finite", i, v)
		}
	}
	return nil
}

// paramSpec names one trainable tensor, the layer it belongs to and its shape.
type paramSpec struct {
	layer string
	name  string
	shape []int
	fanIn int
}

func (s paramSpec) size() int {
	n := 1
	for _, d := range s.shape {
		n *= d
	}
	return n
}

// paramSpecs lists the trainable tensors of the network in a fixed order. Conv weights are stored
// as (3·3·Cin, Cout) matrices whose rows are ordered (kh, kw, cin); dense weights as (in, out).
func (c Config) paramSpecs() []paramSpec {
	var specs []paramSpec
	dense := func(layer string, in, out int) {
		specs = append(specs,
			paramSpec{layer, layer + ".weight", []int{in, out}, in},
			paramSpec{layer, layer + ".bias", []int{out}, in})
	}
	in := c.Input.Height * c.Input.Width * c.Input.Channels
	units := c.HiddenUnits
	if c.Arch == ArchCNN {
		h, w, ch := c.Input.Height, c.Input.Width, c.Input.Channels
		for i, out := range c.Channels {
			layer := fmt.Sprintf("conv%d", i+1)
			k := c.Kernel * c.Kernel * ch
			specs = append(specs,
				paramSpec{layer, layer + ".weight", []int{k, out}, k},
				paramSpec{layer, layer + ".bias", []int{out}, k})
			if c.BatchNorm {
				bn := fmt.Sprintf("bn%d", i+1)
				specs = append(specs,
					paramSpec{bn, bn + ".weight", []int{out}, 0},
					paramSpec{bn, bn + ".bias", []int{out}, 0})
			}
			h, w, ch = h/2, w/2, out
		}
		in = h * w * ch
		units = c.HeadUnits
	}
	for i, u := range units {
		dense(fmt.Sprintf("fc%d", i+1), in, u)
		in = u
	}
	dense("out", in, 1)
	return specs
}

// stateSpecs lists the non-trainable tensors (batch-norm running statistics) in a fixed order.
func (c Config) stateSpecs() []paramSpec {
	var specs []paramSpec
	if c.Arch != ArchCNN || !c.BatchNorm {
		return nil
	}
	for i, out := range c.Channels {
		bn := fmt.Sprintf("bn%d", i+1)
		specs = append(specs,
			paramSpec{bn, bn + ".running_mean", []int{out}, 0},
			paramSpec{bn, bn + ".running_var", []int{out}, 0})
	}
	return specs
}
