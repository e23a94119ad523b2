package cli

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/pcamflow/pcamflow/bundle"
	"github.com/pcamflow/pcamflow/internal/atomicfile"
	"github.com/pcamflow/pcamflow/predict"
)

// maxInferBatch bounds --batch (65,536 patches are 1.7 GiB of pixels).
const maxInferBatch = predict.MaxBatch

// inferHelp is the description printed by `pcamflow infer -h`.
const inferHelp = `Predicts the probability of tumour tissue in the centre of each 96x96 RGB patch with a model
checkpoint written by the train stage. An INPUT is an HDF5 file whose dataset "x" is (N,96,96,3)
uint8 (the official ..._x.h5 files; read in batches, never whole), a folder (every .png, .tif and
.tiff file below it, in path order), or PNG/TIFF patch files. Other image sizes are rejected.

The output is CSV with the header input,index,id,probability[,label]: input is the file the patch
came from (the HDF5 file, or the image file), index the patch's row in dataset "x" (0 for image
files), id the Kaggle id (hex SHA-1 of the patch's 27,648 RGB bytes), probability the model's
output in [0,1], and label (only with --threshold) 1 when probability >= T, else 0.

With --bundle DIR (a folder written by pcamflow bundle; DIR/pcamflow sets it for you) the model,
the threshold and the drift statistics come from the bundle: no workspace and no network are
needed, labels use the bundle's threshold (--threshold overrides it), and a last column drift
flags each patch unlike the training data: "blank", "black", or "far:MEASURE=+Z.Zsd" when a
channel mean, the brightness or the tissue fraction lies more than 4 sd from the training mean.
When any patch is flagged, or the mean of a measure over all patches moves more than 1 sd, one
"drift:" warning line with the counts goes to stderr. --drift FILE applies a bundle's drift.json
to --model predictions.`

// thresholdFlag is an optional probability threshold.
type thresholdFlag struct {
	set bool
	v   float64
}

func (t *thresholdFlag) String() string {
	if !t.set {
		return ""
	}
	return strconv.FormatFloat(t.v, 'g', -1, 64)
}

func (t *thresholdFlag) Set(s string) error {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || !(v >= 0 && v <= 1) {
		return fmt.Errorf("%q is not a probability between 0 and 1", s)
	}
	t.set, t.v = true, v
	return nil
}

// inferOptions are the parsed options of `pcamflow infer`.
type inferOptions struct {
	model     string
	bundle    string
	drift     string
	threshold thresholdFlag
	batch     int
	out       string
	inputs    []string
}

// parseInferArgs parses the command line; it returns a usage exit code when it is wrong.
func parseInferArgs(e *env, args []string) (*inferOptions, int) {
	o := &inferOptions{}
	fs := newFlags(e, "infer", "(--model CHECKPOINT | --bundle DIR) [--threshold T] [--batch N] [-o FILE] INPUT...", inferHelp)
	fs.StringVar(&o.model, "model", "", "the model `CHECKPOINT` file (a train stage's checkpoint or best output)")
	fs.StringVar(&o.bundle, "bundle", "", "predict with the offline bundle in `DIR` (model, threshold and drift check; default $"+bundle.EnvBundle+" without --model)")
	fs.StringVar(&o.drift, "drift", "", "flag patches unlike the training data described by `FILE` (a bundle's drift.json)")
	fs.Var(&o.threshold, "threshold", "add a label column: 1 when probability >= `T` (0..1), else 0")
	fs.IntVar(&o.batch, "batch", 256, "predict `N` patches at a time (memory: N x 27 KiB)")
	fs.StringVar(&o.out, "o", "", "write the CSV to `FILE` (replaced atomically: complete or untouched) instead of stdout")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return nil, exitUsage
	}
	if o.model == "" && o.bundle == "" {
		o.bundle = os.Getenv(bundle.EnvBundle)
	}
	switch {
	case o.model != "" && o.bundle != "":
		return nil, usageError(e.stderr, "infer takes --model CHECKPOINT or --bundle DIR, not both")
	case o.model == "" && o.bundle == "":
		return nil, usageError(e.stderr, "infer needs --model CHECKPOINT (or --bundle DIR)")
	case o.bundle != "" && o.drift != "":
		return nil, usageError(e.stderr, "--drift is for --model: a bundle brings its own drift statistics")
	case len(pos) == 0:
		return nil, usageError(e.stderr, "infer needs at least one INPUT (an _x.h5 file, a folder or PNG/TIFF patch files)")
	case o.batch < 1 || o.batch > maxInferBatch:
		return nil, usageError(e.stderr, "--batch must be between 1 and %d, not %d", maxInferBatch, o.batch)
	}
	o.inputs = pos
	return o, exitOK
}

// cmdInfer implements `pcamflow infer`: flags, output file and messages; reading and predicting
// are package predict's.
func cmdInfer(ctx context.Context, e *env, args []string) int {
	o, code := parseInferArgs(e, args)
	if o == nil {
		return code
	}
	start := time.Now()
	m, drift, err := o.predictor()
	if err != nil {
		return e.inferFail(err)
	}
	defer m.Close()
	srcs, err := predict.Open(o.inputs)
	if err != nil {
		return e.inferFail(err)
	}
	defer predict.CloseAll(srcs)
	copt := predict.CSVOptions{BatchSize: o.batch, Threshold: o.threshold.v, HasThreshold: o.threshold.set}
	var checker *bundle.Checker
	if drift != nil {
		checker = bundle.NewChecker(drift)
		copt.Flag, copt.FlagColumn = checker.Flag, "drift"
	}
	var rows int
	write := func(w io.Writer) error {
		var err error
		rows, err = predict.WriteCSV(ctx, w, srcs, m, copt)
		return err
	}
	if o.out == "" {
		bw := bufio.NewWriterSize(e.stdout, 1<<16)
		err = write(bw)
		if ferr := bw.Flush(); err == nil {
			err = ferr
		}
	} else {
		err = atomicfile.WriteFunc(o.out, 0o644, func(w *bufio.Writer) error { return write(w) })
	}
	if err != nil && ctx.Err() != nil {
		fmt.Fprintln(e.stderr, "pcamflow: infer: interrupted")
		return 130
	}
	if err != nil {
		return e.inferFail(err)
	}
	if checker != nil {
		if w := checker.Warning(); w != "" {
			fmt.Fprintf(e.stderr, "pcamflow: infer: %s\n", w)
		}
	}
	where := "stdout"
	if o.out != "" {
		where = o.out
	}
	fmt.Fprintf(e.stderr, "pcamflow: infer: %d patches from %d input(s) to %s in %s\n", rows, len(o.inputs), where,
		time.Since(start).Round(time.Millisecond))
	return exitOK
}

// closingPredictor is a predictor with resources to release.
type closingPredictor interface {
	predict.Predictor
	Close() error
}

// predictor loads the model of --model or --bundle; with a bundle it sets the threshold from the
// bundle unless --threshold was given. It returns the drift statistics to check patches against
// (nil: no drift check).
func (o *inferOptions) predictor() (closingPredictor, *bundle.Drift, error) {
	if o.bundle == "" {
		var drift *bundle.Drift
		if o.drift != "" {
			d, err := bundle.ReadDrift(o.drift)
			if err != nil {
				return nil, nil, err
			}
			drift = d
		}
		m, err := predict.Load(o.model)
		if err != nil {
			return nil, nil, err
		}
		return m, drift, nil
	}
	b, err := bundle.Open(o.bundle)
	if err != nil {
		return nil, nil, err
	}
	if t := b.Meta.Threshold; t != nil && !o.threshold.set {
		o.threshold.set, o.threshold.v = true, t.Value
	}
	ens, err := b.LoadModels()
	if err != nil {
		return nil, nil, err
	}
	return ens, b.Drift, nil
}

// inferFail prints an infer error and returns the failure exit code.
func (e *env) inferFail(err error) int {
	fmt.Fprintf(e.stderr, "pcamflow: infer: %v\n", err)
	return exitFailure
}
