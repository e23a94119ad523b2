package benchmark

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"

	"github.com/pcamflow/pcamflow/stages"
)

// Line is one line a benchmark command prints on its standard output: one timed call (or a group
// of calls) of its engine. batch, images and seconds are required; the rest is optional.
type Line struct {
	// Batch is the batch size; Images the images the timed call(s) held (Batch for one call);
	// Seconds their wall time.
	Batch   *int     `json:"batch"`
	Images  *int     `json:"images"`
	Seconds *float64 `json:"seconds"`
	// Warmup marks a call that is not counted.
	Warmup bool `json:"warmup,omitempty"`
	// Read, Preprocess and Compute split Seconds (all three or none).
	Read       *float64 `json:"read,omitempty"`
	Preprocess *float64 `json:"preprocess,omitempty"`
	Compute    *float64 `json:"compute,omitempty"`
	// Engine, Model and Device describe what was measured ("torch 1.13.0", "cnn", "cpu" or "cuda:0");
	// Threads the threads it used; BLAS its BLAS or backend.
	Engine  string `json:"engine,omitempty"`
	Model   string `json:"model,omitempty"`
	Device  string `json:"device,omitempty"`
	Threads int    `json:"threads,omitempty"`
	BLAS    string `json:"blas,omitempty"`
}

// maxLineBytes bounds one output line of a command.
const maxLineBytes = 1 << 20

// measureCommand runs an external engine's program and reads its JSON lines.
func measureCommand(ctx context.Context, env *stages.Env, c *config) (*Results, error) {
	cmd := exec.CommandContext(ctx, c.command[0], c.command[1:]...)
	cmd.Dir = env.ProjectDir
	sizes := make([]string, len(c.batches))
	for i, b := range c.batches {
		sizes[i] = strconv.Itoa(b)
	}
	cmd.Env = append(os.Environ(), "PCAMFLOW_NODE="+env.Node, "PCAMFLOW_SEED="+strconv.FormatInt(env.Seed, 10),
		"PCAMFLOW_PROJECT="+env.ProjectDir, "PCAMFLOW_SCRATCH="+env.ScratchDir,
		"PCAMFLOW_BATCH_SIZES="+strings.Join(sizes, ","), "PCAMFLOW_IMAGES="+strconv.Itoa(c.images),
		"PCAMFLOW_WARMUP="+strconv.Itoa(c.warmup))
	if c.threads > 0 {
		t := strconv.Itoa(c.threads)
		cmd.Env = append(cmd.Env, "PCAMFLOW_THREADS="+t, "OMP_NUM_THREADS="+t)
	}
	var stdout bytes.Buffer
	cmd.Stdout = io.MultiWriter(&stdout, env.Log)
	cmd.Stderr = env.Log
	mach := machine(c.threads)
	// pcamflow's BLAS is not the command's: it says its own, or nothing is claimed
	mach.BLAS, mach.BLASConfig, mach.SIMD = "not said", "", ""
	fmt.Fprintf(env.Log, "benchmark %s: running %q\n", env.Node, c.command)
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return nil, &stages.ExitError{Code: ee.ExitCode(), Err: fmt.Errorf("command %q: %w (its output is in the node's log)", c.command, err)}
		}
		return nil, fmt.Errorf("command %q: %w", c.command, err)
	}
	lines, err := ParseLines(&stdout)
	if err != nil {
		return nil, fmt.Errorf("command %q: %w", c.command, err)
	}
	r := NodeResult{Node: env.Node, Engine: strings.Join(c.command, " "), Data: "the command's own", Machine: mach,
		Settings: Settings{BatchSizes: c.batches, Images: c.images, Warmup: c.warmup, Threads: c.threads}}
	byBatch := map[int][]call{}
	var extra []int
	for _, l := range lines {
		r.Model = firstNonEmpty(r.Model, l.Model)
		if l.Engine != "" && !strings.Contains(r.Engine, "(") {
			r.Engine = l.Engine + " (" + r.Engine + ")"
		}
		if l.Device != "" {
			r.Machine.Device = l.Device
			r.Machine.GPUUsed = r.Machine.GPUUsed || strings.HasPrefix(strings.ToLower(l.Device), "cuda") || strings.HasPrefix(strings.ToLower(l.Device), "gpu")
		}
		if l.Threads > 0 {
			r.Machine.Threads = l.Threads
		}
		if l.BLAS != "" {
			r.Machine.BLAS = l.BLAS
		}
		if l.Warmup {
			continue
		}
		b := *l.Batch
		if _, seen := byBatch[b]; !seen && !slices.Contains(c.batches, b) {
			extra = append(extra, b)
		}
		cl := call{batch: b, images: *l.Images, total: *l.Seconds}
		if l.Read != nil {
			cl.read, cl.preprocess, cl.compute, cl.hasSplit = *l.Read, *l.Preprocess, *l.Compute, true
		}
		byBatch[b] = append(byBatch[b], cl)
	}
	if r.Model == "" {
		r.Model = "(not said)"
	}
	if err := r.label(c); err != nil {
		return nil, err
	}
	for _, b := range append(slices.Clone(c.batches), extra...) {
		calls := byBatch[b]
		if len(calls) == 0 {
			return nil, fmt.Errorf("command %q printed no measurement for batch size %d (batch_sizes = %v; it gets them in PCAMFLOW_BATCH_SIZES)", c.command, b, c.batches)
		}
		res := summarize(b, calls)
		fmt.Fprintf(env.Log, "  batch %4d: %10.1f img/s, latency p50 %.3f ms p95 %.3f ms p99 %.3f ms, bottleneck %s\n",
			b, res.ImagesPerSecond, res.LatencyMS.P50, res.LatencyMS.P95, res.LatencyMS.P99, res.Bottleneck)
		r.Batches = append(r.Batches, res)
	}
	return &Results{Nodes: []NodeResult{r}}, nil
}

// ParseLines reads a benchmark command's standard output: every line that is not blank must be a
// JSON object with a whole batch >= 1, a whole images >= 1 and seconds > 0; read, preprocess and
// compute come all three or not at all, each >= 0. The first bad line is an error naming its
// number (1-based).
func ParseLines(r io.Reader) ([]Line, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLineBytes)
	var out []Line
	for n := 1; sc.Scan(); n++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		l, err := parseLine(text)
		if err != nil {
			return nil, fmt.Errorf("output line %d: %v: %s (every line must be a JSON object such as {\"batch\": 8, \"images\": 8, \"seconds\": 0.0123})",
				n, err, clip(text))
		}
		out = append(out, l)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading the output: %w", err)
	}
	if len(out) == 0 {
		return nil, errors.New(`printed no JSON lines; print one per timed call, e.g. {"batch": 8, "images": 8, "seconds": 0.0123}`)
	}
	return out, nil
}

// parseLine decodes and checks one line.
func parseLine(text string) (Line, error) {
	var l Line
	dec := json.NewDecoder(strings.NewReader(text))
	if err := dec.Decode(&l); err != nil {
		return Line{}, fmt.Errorf("not a JSON object (%v)", err)
	}
	if dec.More() {
		return Line{}, errors.New("more than one JSON value on the line")
	}
	switch {
	case l.Batch == nil || l.Images == nil || l.Seconds == nil:
		return Line{}, errors.New(`batch, images and seconds are required`)
	case *l.Batch < 1:
		return Line{}, fmt.Errorf("batch %d is not a batch size", *l.Batch)
	case *l.Images < 1:
		return Line{}, fmt.Errorf("images %d is not positive", *l.Images)
	case !(*l.Seconds > 0) || math.IsInf(*l.Seconds, 0):
		return Line{}, fmt.Errorf("seconds %v is not a positive time", *l.Seconds)
	}
	split := []*float64{l.Read, l.Preprocess, l.Compute}
	set := 0
	for _, p := range split {
		if p != nil {
			set++
			if !(*p >= 0) || math.IsInf(*p, 0) {
				return Line{}, fmt.Errorf("a phase time (%v) is not a time >= 0", *p)
			}
		}
	}
	if set != 0 && set != 3 {
		return Line{}, errors.New("read, preprocess and compute go together: give all three or none")
	}
	return l, nil
}

// clip shortens a line for an error message.
func clip(s string) string {
	if len(s) > 120 {
		return strconv.Quote(s[:120]) + "…"
	}
	return strconv.Quote(s)
}
