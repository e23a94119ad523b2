package hpo

import (
	"encoding/binary"
	"math"
	"testing"
)

// FuzzTPEPropose decodes arbitrary bytes into a history (values, states,
// steps and points, including NaN, infinities and out-of-range numbers) over
// a space with every kind, and checks that TPE returns an in-range point or
// an error, never a panic or a NaN:
//
//	go test ./hpo -run '^$' -fuzz FuzzTPEPropose -fuzztime 60s
func FuzzTPEPropose(f *testing.F) {
	f.Add([]byte{}, int64(0), false)
	f.Add(make([]byte, 400), int64(1), true)
	seed := make([]byte, 0, 800)
	for i := 0; i < 800; i++ {
		seed = append(seed, byte(i*37))
	}
	f.Add(seed, int64(2), false)
	f.Fuzz(func(t *testing.T, data []byte, seed int64, mv bool) {
		const rec = 1 + 1 + 8 + 4*8 // state, step, value, 4 coordinates
		var hist []Observation
		for len(data) >= rec && len(hist) < 200 {
			r := data[:rec]
			data = data[rec:]
			o := Observation{State: State(r[0] % 4), Step: int(int8(r[1])),
				Value: math.Float64frombits(binary.LittleEndian.Uint64(r[2:]))}
			o.Point = make(Point, 4)
			for j := range o.Point {
				o.Point[j] = math.Float64frombits(binary.LittleEndian.Uint64(r[10+8*j:]))
			}
			// Mostly valid points, so the model is exercised: fold raw bits into range.
			if r[1]&1 == 0 {
				for j, d := range mixed {
					x := o.Point[j]
					if math.IsNaN(x) || math.IsInf(x, 0) {
						x = 0
					}
					u := math.Abs(math.Mod(x, 1))
					switch d.Kind {
					case Choice:
						o.Point[j] = math.Floor(u * float64(d.Choices))
					case IntUniform:
						o.Point[j] = math.Floor(d.Low + u*(d.High-d.Low+1))
					default:
						o.Point[j] = d.Low + u*(d.High-d.Low)
					}
				}
			}
			hist = append(hist, o)
		}
		p, err := NewTPE(mixed, seed, TPEOptions{StartupTrials: 2, Multivariate: mv}).Propose(len(hist), hist)
		if err != nil {
			return // malformed points are reported, which is fine
		}
		checkInSpace(t, mixed, p)
	})
}
