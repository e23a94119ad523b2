package plots

import (
	"bytes"
	"image/png"
	"math"
	"testing"
)

func TestPNGIsDeterministicAndDecodes(t *testing.T) {
	draw := func() []byte {
		p := New("loss", "epoch", "loss")
		if err := AddLine(p, Series{Name: "train", X: []float64{1, 2, 3}, Y: []float64{0.9, 0.5, 0.4}}, 0, false); err != nil {
			t.Fatal(err)
		}
		if err := AddBand(p, []float64{1, 2, 3}, []float64{0.8, 0.4, 0.3}, []float64{1, 0.6, 0.5}, 0); err != nil {
			t.Fatal(err)
		}
		b, err := PNG(p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	a, b := draw(), draw()
	if !bytes.Equal(a, b) {
		t.Fatal("two renderings of the same plot differ")
	}
	img, err := png.Decode(bytes.NewReader(a))
	if err != nil {
		t.Fatalf("decoding: %v", err)
	}
	if w := img.Bounds().Dx(); w != 1200 {
		t.Fatalf("width %d, want 1200", w)
	}
}

func TestSeriesSkipsNonFiniteAndChecksLengths(t *testing.T) {
	p := New("t", "x", "y")
	if err := AddLine(p, Series{Name: "a", X: []float64{1, 2, 3}, Y: []float64{1, math.NaN(), 3}}, 1, false); err != nil {
		t.Fatal(err)
	}
	if p.Y.Max != 3 || p.Y.Min != 1 {
		t.Fatalf("y range %v..%v, want 1..3", p.Y.Min, p.Y.Max)
	}
	if err := AddLine(p, Series{Name: "b", X: []float64{1}, Y: []float64{1, 2}}, 1, false); err == nil {
		t.Fatal("mismatched lengths accepted")
	}
}
