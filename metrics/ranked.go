package metrics

import (
	"fmt"
	"math"
	"slices"
)

// Scored holds one set of predictions prepared for fast repeated evaluation under resampling
// weights (the bootstrap): every score's rank among the distinct scores, the prediction at a
// decision threshold and the calibration bin, computed once. Values then costs O(n + distinct
// scores) per weight vector — no sort — so B bootstrap resamples cost O(B·n) after one
// O(n log n) preparation.
type Scored struct {
	labels    []uint8
	probs     []float64
	rank      []int32 // rank of the sample's score among the distinct scores, 0 = lowest
	distinct  int
	pred      []bool
	bin       []uint16
	bins      int
	threshold float64
	beta      float64
}

// Values are the metrics of one set of predictions at a decision threshold. ROCAUC and PRAUC are
// NaN when a class is missing (PRAUC when positives are).
type Values struct {
	ROCAUC      float64 `json:"roc_auc"`
	PRAUC       float64 `json:"pr_auc"`
	FBeta       float64 `json:"f_beta"`
	Precision   float64 `json:"precision"`
	Recall      float64 `json:"recall"`
	Specificity float64 `json:"specificity"`
	Accuracy    float64 `json:"accuracy"`
	Brier       float64 `json:"brier"`
	ECE         float64 `json:"ece"`
	Confusion   Confusion
}

// NewScored prepares labels and probabilities (in [0, 1]) for Values at the decision threshold
// (positive when probability >= threshold) with the given F-beta and calibration bins. It fails
// on invalid input, a probability outside [0, 1], beta < 0 or bins < 1.
func NewScored(labels []uint8, probs []float64, threshold, beta float64, bins int) (*Scored, error) {
	if err := validate(labels, probs); err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	for i, p := range probs {
		if !(p >= 0 && p <= 1) {
			return nil, fmt.Errorf("metrics: probability[%d] = %v is outside [0, 1]", i, p)
		}
	}
	if math.IsNaN(Confusion{}.FBeta(beta)) || bins < 1 || bins > math.MaxUint16 || math.IsNaN(threshold) {
		return nil, fmt.Errorf("metrics: invalid beta %v, bins %d or threshold %v", beta, bins, threshold)
	}
	s := &Scored{labels: labels, probs: probs, rank: make([]int32, len(probs)), pred: make([]bool, len(probs)),
		bin: make([]uint16, len(probs)), bins: bins, threshold: threshold, beta: beta}
	order := make([]int32, len(probs))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int {
		switch pa, pb := probs[a], probs[b]; {
		case pa < pb:
			return -1
		case pa > pb:
			return 1
		}
		return int(a - b)
	})
	r := int32(-1)
	for k, i := range order {
		if k == 0 || probs[i] != probs[order[k-1]] {
			r++
		}
		s.rank[i] = r
	}
	s.distinct = int(r) + 1
	for i, p := range probs {
		s.pred[i] = p >= threshold
		s.bin[i] = uint16(binOf(p, bins))
	}
	return s, nil
}

// Len returns the number of samples.
func (s *Scored) Len() int { return len(s.labels) }

// Scratch is reusable working memory for Values; one per goroutine.
type Scratch struct {
	pos, neg         []int64
	binN, binP       []int64
	binSum           []float64
	rocOnlyPos, rocN []int64
}

// Values computes every metric with sample i counted w[i] times (a bootstrap resample), or once
// each when w is nil. With w nil the results equal ROCAUC, AveragePrecision, ConfusionAt and its
// rates, the mean squared error of the probabilities (Brier score) and ECE(Calibration(...)).
// scratch may be nil.
func (s *Scored) Values(w []int32, scratch *Scratch) Values {
	if scratch == nil {
		scratch = &Scratch{}
	}
	pos, neg := grow(&scratch.pos, s.distinct), grow(&scratch.neg, s.distinct)
	binN, binP := grow(&scratch.binN, s.bins), grow(&scratch.binP, s.bins)
	binSum := growF(&scratch.binSum, s.bins)
	var c Confusion
	var brier float64
	var total int64
	for i, y := range s.labels {
		k := int64(1)
		if w != nil {
			k = int64(w[i])
			if k == 0 {
				continue
			}
		}
		total += k
		p := s.probs[i]
		d := p - float64(y)
		brier += float64(k) * d * d
		b := s.bin[i]
		binN[b] += k
		binSum[b] += float64(k) * p
		if y == 1 {
			pos[s.rank[i]] += k
			binP[b] += k
			if s.pred[i] {
				c.TP += int(k)
			} else {
				c.FN += int(k)
			}
		} else {
			neg[s.rank[i]] += k
			if s.pred[i] {
				c.FP += int(k)
			} else {
				c.TN += int(k)
			}
		}
	}
	v := Values{Confusion: c, FBeta: c.FBeta(s.beta), Precision: c.Precision(), Recall: c.Recall(),
		Specificity: c.Specificity(), Accuracy: c.Accuracy(), ROCAUC: math.NaN(), PRAUC: math.NaN(), ECE: math.NaN(), Brier: math.NaN()}
	if total > 0 {
		v.Brier = brier / float64(total)
		var e float64
		for b := range binN {
			if binN[b] > 0 {
				e += math.Abs(float64(binP[b]) - binSum[b])
			}
		}
		// Σ_b n_b·|frac_b − mean_b| / N = Σ_b |positives_b − Σp_b| / N.
		v.ECE = e / float64(total)
	}
	v.ROCAUC, v.PRAUC = rankAUCs(pos, neg)
	return v
}

// rankAUCs returns the ROC-AUC and the average precision from per-rank positive and negative
// counts (rank 0 = lowest score). The ROC-AUC is accumulated in integers (exact below 2^63).
func rankAUCs(pos, neg []int64) (roc, ap float64) {
	var P, N int64
	for r := range pos {
		P += pos[r]
		N += neg[r]
	}
	roc, ap = math.NaN(), math.NaN()
	if P > 0 && N > 0 {
		var twice, below int64
		for r := range pos {
			twice += pos[r] * (2*below + neg[r])
			below += neg[r]
		}
		roc = float64(twice) / (2 * float64(P) * float64(N))
	}
	if P > 0 {
		var tp, fp int64
		var sum float64
		for r := len(pos) - 1; r >= 0; r-- {
			tp += pos[r]
			fp += neg[r]
			if pos[r] > 0 {
				sum += float64(pos[r]) * float64(tp) / float64(tp+fp)
			}
		}
		ap = sum / float64(P)
	}
	return roc, ap
}

// ROCAUCWeighted returns only the ROC-AUC under weights w (nil: each sample once), for paired
// comparisons; NaN when a class is missing.
func (s *Scored) ROCAUCWeighted(w []int32, scratch *Scratch) float64 {
	if scratch == nil {
		scratch = &Scratch{}
	}
	pos, neg := grow(&scratch.rocOnlyPos, s.distinct), grow(&scratch.rocN, s.distinct)
	for i, y := range s.labels {
		k := int64(1)
		if w != nil {
			k = int64(w[i])
		}
		if y == 1 {
			pos[s.rank[i]] += k
		} else {
			neg[s.rank[i]] += k
		}
	}
	roc, _ := rankAUCs(pos, neg)
	return roc
}

// grow returns (*buf)[:n] zeroed, reallocating when too small.
func grow(buf *[]int64, n int) []int64 {
	if cap(*buf) < n {
		*buf = make([]int64, n)
	}
	b := (*buf)[:n]
	clear(b)
	return b
}

func growF(buf *[]float64, n int) []float64 {
	if cap(*buf) < n {
		*buf = make([]float64, n)
	}
	b := (*buf)[:n]
	clear(b)
	return b
}
