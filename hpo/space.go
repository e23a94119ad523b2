// Package hpo holds the search core of pcamflow's sweep kind: search spaces,
// samplers (grid, random and a tree-structured Parzen estimator) and the ASHA
// promotion rule. It knows nothing about pipelines, nodes or files; the sweep
// kind maps its HCL space onto a Space and its finished trials onto
// Observations.
//
// Every sampler is a pure function of its settings (including the seed), the
// trial index and the history of earlier trials, so a sweep that is
// interrupted and run again proposes the same trials.
package hpo

import (
	"errors"
	"fmt"
	"math"
)

// Kind is the distribution of one search dimension.
type Kind int

const (
	// Uniform draws a float uniformly from [Low, High].
	Uniform Kind = iota
	// LogUniform draws a float whose logarithm is uniform in [log Low, log High]; Low must be > 0.
	LogUniform
	// IntUniform draws an integer uniformly from {Low, ..., High}; both bounds must be integers.
	IntUniform
	// Choice draws one of Choices categories; the point holds the category index.
	Choice
)

// String names the kind the way the sweep language spells it.
func (k Kind) String() string {
	switch k {
	case Uniform:
		return "uniform"
	case LogUniform:
		return "log_uniform"
	case IntUniform:
		return "int_uniform"
	case Choice:
		return "choice"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Dim is one search dimension. Low and High are inclusive bounds (integers
// for IntUniform; Low > 0 for LogUniform). Choices is the number of
// categories of a Choice dimension; Low and High are ignored for it.
type Dim struct {
	Name      string
	Kind      Kind
	Low, High float64
	Choices   int
}

// Space is an ordered list of dimensions; points list their values in the
// same order.
type Space []Dim

// DimError is one problem with one dimension of a space. Index is the
// dimension's position in the space (-1 for a problem of the whole space).
type DimError struct {
	Index int
	Name  string
	Msg   string
}

// Error returns the message prefixed with the dimension's name.
func (e *DimError) Error() string {
	if e.Index < 0 {
		return "search space: " + e.Msg
	}
	return fmt.Sprintf("dimension %q: %s", e.Name, e.Msg)
}

// Problems lists every problem of the space, in dimension order; it is empty
// for a valid space. Callers that report errors per dimension (with a source
// range) use it; Validate joins the same problems into one error.
func (s Space) Problems() []*DimError {
	var out []*DimError
	if len(s) == 0 {
		out = append(out, &DimError{Index: -1, Msg: "the space has no dimensions; give at least one"})
	}
	seen := map[string]int{}
	for i, d := range s {
		bad := func(format string, args ...any) {
			out = append(out, &DimError{Index: i, Name: d.Name, Msg: fmt.Sprintf(format, args...)})
		}
		if d.Name == "" {
			bad("dimension %d has an empty name", i)
		} else if j, dup := seen[d.Name]; dup {
			bad("the name is used by dimension %d too; give each dimension its own name", j)
		} else {
			seen[d.Name] = i
		}
		switch d.Kind {
		case Uniform, LogUniform, IntUniform:
			if math.IsNaN(d.Low) || math.IsNaN(d.High) || math.IsInf(d.Low, 0) || math.IsInf(d.High, 0) {
				bad("%s bounds must be finite numbers, got low=%v high=%v", d.Kind, d.Low, d.High)
				continue
			}
			if d.Low >= d.High {
				bad("low (%v) must be less than high (%v)", d.Low, d.High)
			} else if math.IsInf(d.High-d.Low, 0) {
				bad("the range from %v to %v is too wide to represent; narrow it", d.Low, d.High)
			}
			if d.Kind == LogUniform && d.Low <= 0 {
				bad("a log_uniform range must be above 0, got low=%v; use uniform() for ranges that touch 0", d.Low)
			}
			if d.Kind == IntUniform {
				if d.Low != math.Trunc(d.Low) || d.High != math.Trunc(d.High) {
					bad("int_uniform bounds must be integers, got low=%v high=%v", d.Low, d.High)
				} else if math.Abs(d.Low) > 1<<52 || math.Abs(d.High) > 1<<52 {
					bad("int_uniform bounds must lie within ±2^52, got low=%v high=%v", d.Low, d.High)
				}
			}
		case Choice:
			if d.Choices < 1 {
				bad("choice() needs at least one option, got %d", d.Choices)
			}
		default:
			bad("unknown kind %d", int(d.Kind))
		}
	}
	return out
}

// Validate reports every problem of the space in one error (nil when the
// space is valid). Each message names its dimension.
func (s Space) Validate() error {
	ps := s.Problems()
	if len(ps) == 0 {
		return nil
	}
	errs := make([]error, len(ps))
	for i, p := range ps {
		errs[i] = p
	}
	return errors.Join(errs...)
}

// levels returns the number of grid values of dimension d (IntUniform or
// Choice), saturated at math.MaxInt.
func levels(d Dim) int {
	if d.Kind == Choice {
		return d.Choices
	}
	n := d.High - d.Low + 1
	if n >= math.MaxInt {
		return math.MaxInt
	}
	return int(n)
}

// GridSize returns the number of points of the cartesian grid over s. Only
// IntUniform and Choice dimensions can be gridded; a Uniform or LogUniform
// dimension is an error naming it. The size saturates at math.MaxInt instead
// of overflowing, so callers compare it against their own limit.
func GridSize(s Space) (int, error) {
	if err := s.Validate(); err != nil {
		return 0, err
	}
	var errs []error
	for i, d := range s {
		if d.Kind == Uniform || d.Kind == LogUniform {
			errs = append(errs, &DimError{Index: i, Name: d.Name,
				Msg: fmt.Sprintf("a grid needs choice() or int_uniform() dimensions, not %s()", d.Kind)})
		}
	}
	if len(errs) > 0 {
		return 0, errors.Join(errs...)
	}
	size := 1
	for _, d := range s {
		n := levels(d)
		if size > math.MaxInt/n {
			return math.MaxInt, nil
		}
		size *= n
	}
	return size, nil
}

// Point holds one value per dimension in Space order: the value itself for
// Uniform and LogUniform, an integral float for IntUniform and the category
// index for Choice.
type Point []float64

// State is how a trial finished.
type State int

const (
	// Complete trials ran to the end; Value is their final objective.
	Complete State = iota
	// Pruned trials were stopped early (ASHA); Value is their last reported objective.
	Pruned
	// Failed trials carry no value and are ignored by the model-based samplers.
	Failed
)

// String names the state the way trial tables print it.
func (s State) String() string {
	switch s {
	case Complete:
		return "complete"
	case Pruned:
		return "pruned"
	case Failed:
		return "failed"
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// Observation is a finished trial. Samplers MINIMIZE Value (the caller
// negates it for a maximized objective). Failed observations carry no Value.
// Step is the epoch (or rung) at which a Pruned trial reported its Value;
// like Optuna, TPE ranks pruned trials after complete ones, those pruned later
// first, then by value. Step is ignored for other states.
type Observation struct {
	Point Point
	Value float64
	State State
	Step  int
}

// Sampler proposes the point of trial number index (0-based) given the
// observations of earlier trials. Propose is a pure function of the
// sampler's settings (seed included), index and history: the same inputs give
// the same bits.
type Sampler interface {
	Propose(index int, history []Observation) (Point, error)
}
