package cli

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/pcamflow/pcamflow/model"
	"github.com/pcamflow/pcamflow/pcam"
)

// maxInferBatch bounds --batch (65,536 patches are 1.7 GiB of pixels).
const maxInferBatch = 1 << 16

// inferHelp is the description printed by `pcamflow infer -h`.
const inferHelp = `Predicts the probability of tumour tissue in the centre of each 96x96 RGB patch with a model
checkpoint written by the train stage. An INPUT is an HDF5 file whose dataset "x" is (N,96,96,3)
uint8 (the official ..._x.h5 files; read in batches, never whole), a folder (every .png, .tif and
.tiff file below it, in path order), or PNG/TIFF patch files. Other image sizes are rejected.

The output is CSV with the header input,index,id,probability[,label]: input is the file the patch
came from (the HDF5 file, or the image file), index the patch's row in dataset "x" (0 for image
files), id the Kaggle id (hex SHA-1 of the patch's 27,648 RGB bytes), probability the model's
output in [0,1], and label (only with --threshold) 1 when probability >= T, else 0.`

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
	threshold thresholdFlag
	batch     int
	out       string
	inputs    []string
}

// parseInferArgs parses the command line; it returns a usage exit code when it is wrong.
func parseInferArgs(e *env, args []string) (*inferOptions, int) {
	o := &inferOptions{}
	fs := newFlags(e, "infer", "--model CHECKPOINT [--threshold T] [--batch N] [-o FILE] INPUT...", inferHelp)
	fs.StringVar(&o.model, "model", "", "the model `CHECKPOINT` file (a train stage's checkpoint or best output)")
	fs.Var(&o.threshold, "threshold", "add a label column: 1 when probability >= `T` (0..1), else 0")
	fs.IntVar(&o.batch, "batch", 256, "predict `N` patches at a time (memory: N x 27 KiB)")
	fs.StringVar(&o.out, "o", "", "write the CSV to `FILE` (replaced atomically: complete or untouched) instead of stdout")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return nil, exitUsage
	}
	switch {
	case o.model == "":
		return nil, usageError(e.stderr, "infer needs --model CHECKPOINT")
	case len(pos) == 0:
		return nil, usageError(e.stderr, "infer needs at least one INPUT (an _x.h5 file, a folder or PNG/TIFF patch files)")
	case o.batch < 1 || o.batch > maxInferBatch:
		return nil, usageError(e.stderr, "--batch must be between 1 and %d, not %d", maxInferBatch, o.batch)
	}
	o.inputs = pos
	return o, exitOK
}

// cmdInfer implements `pcamflow infer`.
func cmdInfer(ctx context.Context, e *env, args []string) int {
	o, code := parseInferArgs(e, args)
	if o == nil {
		return code
	}
	start := time.Now()
	t, err := loadInferModel(o.model)
	if err != nil {
		return e.inferFail(err)
	}
	srcs, err := openSources(o.inputs)
	if err != nil {
		return e.inferFail(err)
	}
	defer closeSources(srcs)
	var rows int
	predict := func(w io.Writer) error {
		var err error
		rows, err = writePredictions(ctx, t, srcs, o, w)
		return err
	}
	if o.out == "" {
		bw := bufio.NewWriterSize(e.stdout, 1<<16)
		err = predict(bw)
		if ferr := bw.Flush(); err == nil {
			err = ferr
		}
	} else {
		err = model.WriteFileAtomic(o.out, func(w *bufio.Writer) error { return predict(w) })
	}
	if err != nil && ctx.Err() != nil {
		fmt.Fprintln(e.stderr, "pcamflow: infer: interrupted")
		return 130
	}
	if err != nil {
		return e.inferFail(err)
	}
	where := "stdout"
	if o.out != "" {
		where = o.out
	}
	fmt.Fprintf(e.stderr, "pcamflow: infer: %d patches from %d input(s) to %s in %s\n", rows, len(o.inputs), where,
		time.Since(start).Round(time.Millisecond))
	return exitOK
}

// inferFail prints an infer error and returns the failure exit code.
func (e *env) inferFail(err error) int {
	fmt.Fprintf(e.stderr, "pcamflow: infer: %v\n", err)
	return exitFailure
}

// loadInferModel opens a checkpoint and checks that the model takes PCAM patches.
func loadInferModel(path string) (*model.Trainer, error) {
	t, err := model.LoadTrainerFile(path)
	if err != nil {
		return nil, err
	}
	in := t.Config().Input
	if in.Height != pcam.Height || in.Width != pcam.Width || in.Channels != pcam.Channels {
		return nil, fmt.Errorf("model %s takes %dx%dx%d images; PCAM patches are %dx%dx%d", path, in.Height, in.Width,
			in.Channels, pcam.Height, pcam.Width, pcam.Channels)
	}
	return t, nil
}

// writePredictions predicts every patch of srcs in batches and writes the CSV to w. It returns
// the number of data rows written.
func writePredictions(ctx context.Context, t *model.Trainer, srcs []patchSource, o *inferOptions, w io.Writer) (int, error) {
	cw := csv.NewWriter(w)
	header := []string{"input", "index", "id", "probability"}
	if o.threshold.set {
		header = append(header, "label")
	}
	if err := cw.Write(header); err != nil {
		return 0, err
	}
	pix := make([]byte, 0, o.batch*pcam.PatchBytes)
	rows := 0
	for _, s := range srcs {
		for start := 0; start < s.Len(); start += o.batch {
			if err := ctx.Err(); err != nil {
				return rows, err
			}
			k := min(o.batch, s.Len()-start)
			pix = pix[:k*pcam.PatchBytes]
			if err := s.Read(start, pix); err != nil {
				return rows, err
			}
			probs, err := t.Predict(pix)
			if err != nil {
				in, idx := s.Where(start)
				return rows, fmt.Errorf("predicting the patches of %s from index %d: %w", in, idx, err)
			}
			if err := writeBatch(cw, s, start, pix, probs, o.threshold); err != nil {
				return rows, err
			}
			rows += k
		}
	}
	cw.Flush()
	return rows, cw.Error()
}

// writeBatch writes the CSV rows of one predicted batch. A probability that is not finite (a
// diverged model) is an error naming the patch.
func writeBatch(cw *csv.Writer, s patchSource, start int, pix []byte, probs []float64, thr thresholdFlag) error {
	for i, p := range probs {
		in, idx := s.Where(start + i)
		if math.IsNaN(p) || math.IsInf(p, 0) {
			return fmt.Errorf("the model's output for %s index %d is %v: its weights are not finite (a diverged run?)", in, idx, p)
		}
		rec := []string{in, strconv.Itoa(idx), pcam.KaggleID(pix[i*pcam.PatchBytes : (i+1)*pcam.PatchBytes]),
			strconv.FormatFloat(p, 'f', -1, 64)}
		if thr.set {
			label := "0"
			if p >= thr.v {
				label = "1"
			}
			rec = append(rec, label)
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	return nil
}
