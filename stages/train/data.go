package train

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/pcamflow/pcamflow/model"
	"github.com/pcamflow/pcamflow/pcam"
	"github.com/pcamflow/pcamflow/stages/dataset"
)

// data is one opened split: the reader, the indices used (a view's, cut to limit) and their labels.
type data struct {
	r      pcam.Reader
	idx    []int
	labels []uint8
}

// openData opens a split of the view and reads the labels of the used indices.
func openData(view dataset.View, split pcam.Split, limit int) (*data, error) {
	r, idx, err := view.Open(split)
	if err != nil {
		return nil, err
	}
	if limit > 0 && limit < len(idx) {
		idx = idx[:limit]
	}
	if len(idx) == 0 {
		r.Close()
		return nil, fmt.Errorf("the %s split of %s has no patches to use", split, view.Dir)
	}
	labels := make([]uint8, len(idx))
	if lr, ok := r.(interface{ Labels() []uint8 }); ok {
		all := lr.Labels()
		for i, j := range idx {
			labels[i] = all[j]
		}
	} else {
		for start := 0; start < len(idx); start += 4096 {
			end := min(start+4096, len(idx))
			if err := r.Read(idx[start:end], nil, labels[start:end]); err != nil {
				r.Close()
				return nil, err
			}
		}
	}
	return &data{r: r, idx: idx, labels: labels}, nil
}

// order draws one epoch's sample order with the trainer's generator: a permutation ("shuffle"),
// class-balanced draws with replacement ("weighted", like PyTorch's WeightedRandomSampler with
// weights 1/class count), or the index order ("sequential").
func (d *data) order(sampler string, rng *rand.Rand) []int {
	n := len(d.idx)
	out := make([]int, n)
	switch sampler {
	case "sequential":
		copy(out, d.idx)
	case "weighted":
		var pos, neg []int
		for i, l := range d.labels {
			if l == 1 {
				pos = append(pos, d.idx[i])
			} else {
				neg = append(neg, d.idx[i])
			}
		}
		for i := range out {
			switch {
			case len(pos) == 0:
				out[i] = neg[rng.IntN(len(neg))]
			case len(neg) == 0 || rng.IntN(2) == 1:
				out[i] = pos[rng.IntN(len(pos))]
			default:
				out[i] = neg[rng.IntN(len(neg))]
			}
		}
	default:
		for i, j := range rng.Perm(n) {
			out[i] = d.idx[j]
		}
	}
	return out
}

// augment applies random flips and 90° rotations in place to each 96×96×3 image, drawing from rng
// (so augmentation is part of the seeded stream and of every checkpoint's random state).
func augment(pix []byte, flips, rotations bool, rng *rand.Rand) {
	if !flips && !rotations {
		return
	}
	const h, w, c = pcam.Height, pcam.Width, pcam.Channels
	tmp := make([]byte, pcam.PatchBytes)
	for off := 0; off+pcam.PatchBytes <= len(pix); off += pcam.PatchBytes {
		img := pix[off : off+pcam.PatchBytes]
		hflip, vflip, rot := false, false, 0
		if flips {
			hflip, vflip = rng.IntN(2) == 1, rng.IntN(2) == 1
		}
		if rotations {
			rot = rng.IntN(4)
		}
		if !hflip && !vflip && rot == 0 {
			continue
		}
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				sy, sx := y, x
				if vflip {
					sy = h - 1 - sy
				}
				if hflip {
					sx = w - 1 - sx
				}
				for r := 0; r < rot; r++ { // rotate the source coordinate by 90° per step
					sy, sx = sx, w-1-sy
				}
				copy(tmp[(y*w+x)*c:(y*w+x)*c+c], img[(sy*w+sx)*c:(sy*w+sx)*c+c])
			}
		}
		copy(img, tmp)
	}
}

// gradStats accumulates per-layer gradient norms over an epoch.
type gradStats struct {
	sum, max map[string]float64
	n        map[string]int
}

func newGradStats() *gradStats {
	return &gradStats{sum: map[string]float64{}, max: map[string]float64{}, n: map[string]int{}}
}

func (g *gradStats) add(norms []model.LayerNorm) {
	for _, ln := range norms {
		g.sum[ln.Layer] += ln.Norm
		g.n[ln.Layer]++
		if ln.Norm > g.max[ln.Layer] {
			g.max[ln.Layer] = ln.Norm
		}
	}
}

// summary returns the mean and max norm per layer.
func (g *gradStats) summary() (mean, maxNorm map[string]float64) {
	mean = map[string]float64{}
	for layer, s := range g.sum {
		mean[layer] = s / float64(g.n[layer])
	}
	return mean, g.max
}

// progress prints training progress: a bar redrawn in place on a terminal, else a plain line every
// quarter of an epoch.
type progress struct {
	w        io.Writer
	terminal bool
	prefix   string
	total    int
	last     time.Time
	quarter  int
}

func newProgress(w io.Writer, terminal bool, node string, epoch, epochs, batches int) *progress {
	return &progress{w: w, terminal: terminal, prefix: fmt.Sprintf("%s epoch %d/%d", node, epoch, epochs), total: batches}
}

func (p *progress) update(batch int, loss float64, images int, elapsed time.Duration) {
	ips := float64(images) / max(elapsed.Seconds(), 1e-9)
	eta := time.Duration(float64(elapsed) / float64(batch) * float64(p.total-batch)).Round(time.Second)
	if p.terminal {
		if time.Since(p.last) < 200*time.Millisecond && batch < p.total {
			return
		}
		p.last = time.Now()
		width := 24
		filled := width * batch / max(p.total, 1)
		fmt.Fprintf(p.w, "\r           %s [%s%s] %d/%d loss %.4f %.0f img/s ETA %s ", p.prefix,
			strings.Repeat("=", filled), strings.Repeat(" ", width-filled), batch, p.total, loss, ips, eta)
		return
	}
	if q := 4 * batch / max(p.total, 1); q > p.quarter && batch < p.total {
		p.quarter = q
		fmt.Fprintf(p.w, "           %s batch %d/%d loss %.4f %.0f img/s ETA %s\n", p.prefix, batch, p.total, loss, ips, eta)
	}
}

func (p *progress) done() {
	if p.terminal {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

// copyFile copies src to dst.
func copyFile(src, dst string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return fmt.Errorf("copying %s: %w", src, err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	return os.WriteFile(dst, data, 0o644)
}

// writeJSON writes v as indented JSON with sorted keys (deterministic bytes).
func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
