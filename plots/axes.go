package plots

import (
	"math"
	"strconv"

	"gonum.org/v1/plot"
)

// LogX puts the x axis of p on a log scale and LogY the y axis. Call them before adding data: on a
// log axis, AddLine, AddPoints, AddBand and AddBars leave out points whose coordinate on that axis
// is zero or negative (they cannot be drawn), so the axis range stays positive.
func LogX(p *plot.Plot) { setLog(&p.X) }

// LogY puts the y axis of p on a log scale; see LogX.
func LogY(p *plot.Plot) { setLog(&p.Y) }

func setLog(ax *plot.Axis) {
	ax.Scale = plot.LogScale{}
	ax.Tick.Marker = logTicks{}
}

// IsLog reports whether ax is on a log scale.
func IsLog(ax *plot.Axis) bool {
	_, ok := ax.Scale.(plot.LogScale)
	return ok
}

// drawable reports whether v can be placed on ax: finite and, on a log axis, positive.
func drawable(ax *plot.Axis, v float64) bool {
	return finite(v) && (v > 0 || !IsLog(ax))
}

// sanitize makes the axes of p drawable before rendering: a log axis with no positive range
// (no data at all) gets the range 1..10 instead of making gonum panic.
func sanitize(p *plot.Plot) {
	for _, ax := range []*plot.Axis{&p.X, &p.Y} {
		if !IsLog(ax) {
			continue
		}
		if !(ax.Min > 0) || !(ax.Max > 0) || math.IsInf(ax.Max, 0) {
			ax.Min, ax.Max = 1, 10
		}
		if ax.Min == ax.Max {
			ax.Min, ax.Max = ax.Min/2, ax.Max*2
		}
	}
}

// logTicks labels a log axis at powers of ten and, when the range spans less than two decades,
// also at 2 and 5 times them, so a short range (a learning rate that halves twice) still has labels.
type logTicks struct{}

// Ticks implements plot.Ticker.
func (logTicks) Ticks(min, max float64) []plot.Tick {
	if !(min > 0) || !(max > 0) || max < min {
		return nil
	}
	dense := math.Log10(max)-math.Log10(min) < 2
	lo := int(math.Floor(math.Log10(min)))
	hi := int(math.Ceil(math.Log10(max)))
	var ticks []plot.Tick
	for e := lo; e <= hi; e++ {
		base := math.Pow(10, float64(e))
		for m := 1; m < 10; m++ {
			v := float64(m) * base
			if v < min*(1-1e-9) || v > max*(1+1e-9) {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 || (dense && (m == 2 || m == 5)) {
				t.Label = tickLabel(v)
			}
			ticks = append(ticks, t)
		}
	}
	if countLabels(ticks) < 2 { // less than two labels in range: label the ends
		ticks = append(ticks, plot.Tick{Value: min, Label: tickLabel(min)}, plot.Tick{Value: max, Label: tickLabel(max)})
	}
	return ticks
}

func countLabels(ts []plot.Tick) int {
	n := 0
	for _, t := range ts {
		if t.Label != "" {
			n++
		}
	}
	return n
}

// tickLabel formats a log-axis tick: whole numbers from 1 with thousands separators ("100,000"),
// others with three significant digits ("0.0005", "1e-05").
func tickLabel(v float64) string {
	if v >= 1 && v < 1e15 && v == math.Trunc(v) {
		return Thousands(int64(v))
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}
