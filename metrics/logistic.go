package metrics

import (
	"errors"
	"fmt"
	"math"
)

// Logistic is an L2-regularised logistic regression on standardised features, fitted by Newton's
// method. It minimises Σ log-loss + ‖coef‖²/(2C) with the intercept not penalised — the objective
// of scikit-learn's LogisticRegression(C=C) — after standardising every feature with the training
// mean and population standard deviation (scikit-learn's StandardScaler).
type Logistic struct {
	// Mean and Std standardise the features (a zero std is taken as 1).
	Mean []float64 `json:"mean"`
	Std  []float64 `json:"std"`
	// Coef are the weights of the standardised features; Intercept the bias.
	Coef      []float64 `json:"coef"`
	Intercept float64   `json:"intercept"`
	// C is the inverse regularisation strength; Iterations the Newton steps taken.
	C          float64 `json:"c"`
	Iterations int     `json:"iterations"`
}

// FitLogistic fits a Logistic to n samples of d features (x row-major, n×d) with labels y. The fit
// is deterministic: the same data give the same bits. It fails on mismatched sizes, non-finite
// features, C <= 0, or when a class is missing.
func FitLogistic(x []float64, d int, y []uint8, c float64) (*Logistic, error) {
	n := len(y)
	if d < 1 || len(x) != n*d || n == 0 {
		return nil, fmt.Errorf("metrics: logistic: %d values for %d samples of %d features", len(x), n, d)
	}
	if !(c > 0) || math.IsInf(c, 0) {
		return nil, fmt.Errorf("metrics: logistic: C = %v must be positive and finite", c)
	}
	pos, _ := classCounts(y)
	if pos == 0 || pos == n {
		return nil, fmt.Errorf("metrics: logistic: %w", ErrOneClass)
	}
	m := &Logistic{Mean: make([]float64, d), Std: make([]float64, d), Coef: make([]float64, d), C: c}
	for _, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, errors.New("metrics: logistic: a feature is not finite")
		}
	}
	for j := range d {
		var s float64
		for i := range n {
			s += x[i*d+j]
		}
		m.Mean[j] = s / float64(n)
		var ss float64
		for i := range n {
			dv := x[i*d+j] - m.Mean[j]
			ss += dv * dv
		}
		m.Std[j] = math.Sqrt(ss / float64(n))
		if m.Std[j] == 0 {
			m.Std[j] = 1
		}
	}
	z := make([]float64, n*d)
	for i := range n {
		for j := range d {
			z[i*d+j] = (x[i*d+j] - m.Mean[j]) / m.Std[j]
		}
	}
	m.newton(z, d, y)
	return m, nil
}

// newton runs damped Newton steps on the standardised features z until the step is negligible.
func (m *Logistic) newton(z []float64, d int, y []uint8) {
	n, k := len(y), d+1 // parameters: coef[0..d-1], intercept at d
	beta := make([]float64, k)
	obj := m.objective(z, d, y, beta)
	for it := 1; it <= 100; it++ {
		g := make([]float64, k)
		h := make([]float64, k*k)
		row := make([]float64, k)
		for i := range n {
			copy(row, z[i*d:(i+1)*d])
			row[d] = 1
			p := sigmoid(dot(row, beta))
			r := p - float64(y[i])
			s := p * (1 - p)
			for a := range k {
				g[a] += r * row[a]
				for b := 0; b <= a; b++ {
					h[a*k+b] += s * row[a] * row[b]
				}
			}
		}
		for a := range d {
			g[a] += beta[a] / m.C
			h[a*k+a] += 1 / m.C
		}
		for a := range k {
			for b := 0; b < a; b++ {
				h[b*k+a] = h[a*k+b]
			}
		}
		step := solve(h, g, k)
		m.Iterations = it
		t := 1.0
		next := make([]float64, k)
		for range 50 { // backtracking: the objective must not increase
			for a := range k {
				next[a] = beta[a] - t*step[a]
			}
			if o := m.objective(z, d, y, next); o <= obj {
				obj = o
				break
			}
			t /= 2
		}
		var size float64
		for a := range k {
			size = math.Max(size, math.Abs(beta[a]-next[a]))
		}
		copy(beta, next)
		if size < 1e-12 {
			break
		}
	}
	copy(m.Coef, beta[:d])
	m.Intercept = beta[d]
}

// objective is Σ log-loss + ‖coef‖²/(2C) at beta.
func (m *Logistic) objective(z []float64, d int, y []uint8, beta []float64) float64 {
	var o float64
	for i := range y {
		t := beta[d]
		for j := range d {
			t += z[i*d+j] * beta[j]
		}
		// log(1+e^t) − y·t, computed without overflow.
		if t > 0 {
			o += t + math.Log1p(math.Exp(-t))
		} else {
			o += math.Log1p(math.Exp(t))
		}
		o -= float64(y[i]) * t
	}
	for j := range d {
		o += beta[j] * beta[j] / (2 * m.C)
	}
	return o
}

// Predict returns the probability of the positive class for one sample's raw (unstandardised)
// features.
func (m *Logistic) Predict(features []float64) float64 {
	t := m.Intercept
	for j, v := range features {
		t += m.Coef[j] * (v - m.Mean[j]) / m.Std[j]
	}
	return sigmoid(t)
}

func dot(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// sigmoid is 1/(1+e^−t) without overflow.
func sigmoid(t float64) float64 {
	if t >= 0 {
		return 1 / (1 + math.Exp(-t))
	}
	e := math.Exp(t)
	return e / (1 + e)
}

// solve returns x with A x = b for the k×k matrix a (row-major; destroyed) by Gaussian
// elimination with partial pivoting.
func solve(a, b []float64, k int) []float64 {
	x := append([]float64(nil), b...)
	for col := range k {
		p := col
		for r := col + 1; r < k; r++ {
			if math.Abs(a[r*k+col]) > math.Abs(a[p*k+col]) {
				p = r
			}
		}
		if p != col {
			for c := range k {
				a[col*k+c], a[p*k+c] = a[p*k+c], a[col*k+c]
			}
			x[col], x[p] = x[p], x[col]
		}
		piv := a[col*k+col]
		if piv == 0 {
			continue
		}
		for r := col + 1; r < k; r++ {
			f := a[r*k+col] / piv
			if f == 0 {
				continue
			}
			for c := col; c < k; c++ {
				a[r*k+c] -= f * a[col*k+c]
			}
			x[r] -= f * x[col]
		}
	}
	for r := k - 1; r >= 0; r-- {
		s := x[r]
		for c := r + 1; c < k; c++ {
			s -= a[r*k+c] * x[c]
		}
		if a[r*k+r] != 0 {
			x[r] = s / a[r*k+r]
		} else {
			x[r] = 0
		}
	}
	return x
}
