package predict

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pcamflow/pcamflow/pcam"
	"github.com/pcamflow/pcamflow/stages/dataset"
)

// memSource is an in-memory source of n patches whose pixels all equal their index mod 256; it
// fails with failErr when a read covers patch failAt (>= 0).
type memSource struct {
	n, failAt int
	failErr   error
}

func (s *memSource) Len() int                  { return s.n }
func (s *memSource) Where(i int) (string, int) { return "mem", i }
func (s *memSource) Close() error              { return nil }
func (s *memSource) Read(start int, pix []byte, labels []uint8) error {
	k := len(pix) / pcam.PatchBytes
	if s.failAt >= start && s.failAt < start+k {
		return s.failErr
	}
	for i := range k {
		for j := range pcam.PatchBytes {
			pix[i*pcam.PatchBytes+j] = byte(start + i)
		}
		if labels != nil {
			labels[i] = byte((start + i) % 2)
		}
	}
	return nil
}

// meanPixel predicts the mean pixel value / 255.
type meanPixel struct{}

func (meanPixel) Predict(pix []byte) ([]float64, error) {
	out := make([]float64, len(pix)/pcam.PatchBytes)
	for i := range out {
		var s int
		for _, v := range pix[i*pcam.PatchBytes : (i+1)*pcam.PatchBytes] {
			s += int(v)
		}
		out[i] = float64(s) / float64(pcam.PatchBytes) / 255
	}
	return out, nil
}

// TestRunReadsEverythingInOrder checks that every patch is visited once, in order, whatever the
// batch size, with the same probabilities.
func TestRunReadsEverythingInOrder(t *testing.T) {
	var ref []float64
	for _, size := range []int{1, 3, 64, 300} {
		srcs := []Source{&memSource{n: 10, failAt: -1}, &memSource{n: 7, failAt: -1}}
		var got []float64
		var where []string
		n, err := Run(context.Background(), srcs, []Predictor{meanPixel{}}, Options{BatchSize: size, Labels: true}, func(b *Batch) error {
			got = append(got, b.Probs[0]...)
			for k := range b.Len() {
				where = append(where, fmt.Sprintf("%d:%d", b.SourceIndex, b.Start+k))
				if b.Labels[k] != byte((b.Start+k)%2) {
					t.Errorf("label of %d:%d is %d", b.SourceIndex, b.Start+k, b.Labels[k])
				}
			}
			return nil
		})
		if err != nil || n != 17 || len(got) != 17 {
			t.Fatalf("batch %d: %d patches, %d probabilities, err %v; want 17", size, n, len(got), err)
		}
		if where[9] != "0:9" || where[10] != "1:0" || where[16] != "1:6" {
			t.Errorf("batch %d: order %v", size, where)
		}
		if ref == nil {
			ref = got
		} else if !slices.Equal(ref, got) {
			t.Errorf("batch %d: probabilities differ from batch 1", size)
		}
	}
}

// TestRunDecodeErrorIsNotEndOfData checks that a read error wrapping io.EOF in the middle of a
// source (a truncated image file) fails Run instead of ending the data early.
func TestRunDecodeErrorIsNotEndOfData(t *testing.T) {
	for _, cause := range []error{io.EOF, io.ErrUnexpectedEOF, errors.New("bad pixels")} {
		src := &memSource{n: 20, failAt: 11, failErr: fmt.Errorf("input p11.tif: decoding the image: %w", cause)}
		visited := 0
		n, err := Run(context.Background(), []Source{src}, []Predictor{meanPixel{}}, Options{BatchSize: 4}, func(b *Batch) error {
			visited += b.Len()
			return nil
		})
		if err == nil || !strings.Contains(err.Error(), "p11.tif") {
			t.Errorf("cause %v: Run returned %d patches and error %v; want the decode error", cause, n, err)
		}
		if visited > 8 || n != visited {
			t.Errorf("cause %v: visited %d (reported %d): nothing after the failing batch may be visited", cause, visited, n)
		}
	}
}

// badModel returns a probability outside [0, 1] for the third patch.
type badModel struct{ v float64 }

func (m badModel) Predict(pix []byte) ([]float64, error) {
	out := make([]float64, len(pix)/pcam.PatchBytes)
	for i := range out {
		out[i] = 0.5
	}
	if len(out) > 2 {
		out[2] = m.v
	}
	return out, nil
}

func TestRunRejectsBadProbabilities(t *testing.T) {
	for _, v := range []float64{-0.1, 1.5} {
		_, err := Run(context.Background(), []Source{&memSource{n: 5, failAt: -1}}, []Predictor{badModel{v}}, Options{}, func(*Batch) error { return nil })
		if err == nil || !strings.Contains(err.Error(), "mem index 2") {
			t.Errorf("probability %v: error %v, want one naming mem index 2", v, err)
		}
	}
}

func TestRunCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	_, err := Run(ctx, []Source{&memSource{n: 50, failAt: -1}}, []Predictor{meanPixel{}}, Options{BatchSize: 2}, func(b *Batch) error {
		if b.Start == 4 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
}

// TestCollectSplit predicts a synthetic split through a dataset view and checks ids, labels and
// indices against the reader.
func TestCollectSplit(t *testing.T) {
	dir := t.TempDir()
	if _, err := pcam.Synthesize(dir, pcam.SynthOptions{Seed: 3, Train: 8, Valid: 12, NoDefects: true}); err != nil {
		t.Fatal(err)
	}
	view := dataset.View{Kind: "dataset", Format: pcam.FormatH5, Dir: dir}
	src, err := OpenSplit(view, pcam.Valid)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	p, err := Collect(context.Background(), src, []Predictor{meanPixel{}, meanPixel{}}, Options{BatchSize: 5}, nil)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := pcam.OpenH5(dir, pcam.Valid)
	defer r.Close()
	pix := make([]byte, pcam.PatchBytes)
	lab := make([]uint8, 1)
	for i := range 12 {
		if err := r.Read([]int{i}, pix, lab); err != nil {
			t.Fatal(err)
		}
		if p.Index[i] != i || p.ID[i] != pcam.KaggleID(pix) || p.Labels[i] != lab[0] || p.Probs[1][i] != p.Probs[0][i] {
			t.Errorf("patch %d: index %d id %s label %d", i, p.Index[i], p.ID[i], p.Labels[i])
		}
	}
	if _, err := OpenSplit(view, pcam.Test); err == nil || !strings.Contains(err.Error(), "has no test split (it has: [train valid])") {
		t.Errorf("missing split: %v", err)
	}
	if _, err := OpenSplit(dataset.View{Format: pcam.FormatH5, Dir: filepath.Join(dir, "none")}, pcam.Valid); err == nil {
		t.Error("a missing folder opened")
	}
}
