package predict

import (
	"context"
	"encoding/csv"
	"io"
	"strconv"

	"github.com/pcamflow/pcamflow/pcam"
)

// CSVOptions configures WriteCSV.
type CSVOptions struct {
	// BatchSize is passed to Run.
	BatchSize int
	// Threshold, when HasThreshold, adds a label column: 1 when probability >= Threshold, else 0.
	Threshold    float64
	HasThreshold bool
	// Flag, when set, adds a last column named FlagColumn holding Flag of each patch's pixels (the
	// offline bundle's drift check; "" for an unflagged patch).
	Flag       func(pix []byte) string
	FlagColumn string
}

// WriteCSV predicts every patch of srcs with p and writes the CSV `input,index,id,probability`
// (plus `label` with a threshold) to w: the input file of the patch, its index in that file (0 for
// an image file), its Kaggle id and the probability, written with the shortest representation
// that round-trips. It returns the number of data rows written; rows of batches predicted before
// an error are written.
func WriteCSV(ctx context.Context, w io.Writer, srcs []Source, p Predictor, opt CSVOptions) (int, error) {
	cw := csv.NewWriter(w)
	header := []string{"input", "index", "id", "probability"}
	if opt.HasThreshold {
		header = append(header, "label")
	}
	if opt.Flag != nil {
		header = append(header, opt.FlagColumn)
	}
	if err := cw.Write(header); err != nil {
		return 0, err
	}
	rows, err := Run(ctx, srcs, []Predictor{p}, Options{BatchSize: opt.BatchSize}, func(b *Batch) error {
		for i, prob := range b.Probs[0] {
			in, idx := b.Source.Where(b.Start + i)
			pix := b.Pix[i*pcam.PatchBytes : (i+1)*pcam.PatchBytes]
			rec := []string{in, strconv.Itoa(idx), pcam.KaggleID(pix),
				strconv.FormatFloat(prob, 'f', -1, 64)}
			if opt.HasThreshold {
				label := "0"
				if prob >= opt.Threshold {
					label = "1"
				}
				rec = append(rec, label)
			}
			if opt.Flag != nil {
				rec = append(rec, opt.Flag(pix))
			}
			if err := cw.Write(rec); err != nil {
				return err
			}
		}
		return nil
	})
	cw.Flush()
	if err != nil {
		return rows, err
	}
	return rows, cw.Error()
}
