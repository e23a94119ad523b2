package pcam

import (
	"fmt"
	"os"
	"runtime"
)

// SynthOptions configures Synthesize. The zero value of every field but the counts is a sensible
// default: defects planted, one-patch chunks, no compression, all cores.
type SynthOptions struct {
	// Seed drives every random choice; the same options give byte-identical files.
	Seed uint64 `json:"seed"`
	// Train, Valid and Test are the split sizes (the official ones are 262,144 / 32,768 / 32,768).
	// A split of size 0 is not written.
	Train int `json:"train"`
	Valid int `json:"valid"`
	Test  int `json:"test"`
	// NoDefects disables planting; the manifest then lists no defects.
	NoDefects bool `json:"no_defects,omitempty"`
	// HardStainGroup, when HardPaleHaematoxylin, makes a third of the patches (chosen per patch) a
	// stain group that is harder on purpose: pale haematoxylin (half the nuclear stain, almost none
	// elsewhere: the lowest haematoxylin density of the dataset), and a centre whose appearance contradicts the label
	// (tumour-labelled centres look benign and the reverse), so an evaluation can be checked to name
	// that group the worst slice. Other patches are byte-identical to a dataset without the option.
	HardStainGroup string `json:"hard_stain_group,omitempty"`
	// ChunkRows and Deflate choose the HDF5 storage of x (see WriteOptions).
	ChunkRows int `json:"chunk_rows,omitempty"`
	Deflate   int `json:"deflate,omitempty"`
	// Workers is the number of rendering goroutines (0: GOMAXPROCS). Output does not depend on it.
	Workers int `json:"-"`
}

// HardPaleHaematoxylin is the hard stain group SynthOptions.HardStainGroup accepts.
const HardPaleHaematoxylin = "pale_haematoxylin"

// synthBatch is the number of patches rendered per work item.
const synthBatch = 256

// Synthesize writes a synthetic PCAM dataset into dir (created if missing): for each non-empty split
// the official `camelyonpatch_level_2_split_<split>_{x,y}.h5` and `_meta.csv`, then manifest.json with
// every planted defect. Patches are rendered in parallel with one seeded generator per patch, so the
// bytes depend only on the options (not on Workers); memory stays bounded by a few batches.
func Synthesize(dir string, opt SynthOptions) (*Manifest, error) {
	if opt.HardStainGroup != "" && opt.HardStainGroup != HardPaleHaematoxylin {
		return nil, fmt.Errorf("synthesize: hard stain group %q is not %q", opt.HardStainGroup, HardPaleHaematoxylin)
	}
	if opt.Train < 0 || opt.Valid < 0 || opt.Test < 0 || opt.Train+opt.Valid+opt.Test == 0 {
		return nil, fmt.Errorf("synthesize: split sizes %d/%d/%d: need non-negative sizes, not all zero", opt.Train, opt.Valid, opt.Test)
	}
	wopt := WriteOptions{ChunkRows: opt.ChunkRows, Deflate: opt.Deflate}
	if err := wopt.validate(); err != nil {
		return nil, fmt.Errorf("synthesize: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("synthesize: %w", err)
	}
	p, err := newPlan(opt)
	if err != nil {
		return nil, fmt.Errorf("synthesize: %w", err)
	}
	g := &generator{opt: opt, plan: p, wopt: wopt, labels: map[Split][]uint8{}}
	g.sharedWSI = g.wsiName(Train, 0, g.labelOf(PatchRef{Train, 0}))
	for _, s := range Splits {
		if p.counts[s] == 0 {
			continue
		}
		if err := g.writeSplit(dir, s); err != nil {
			return nil, fmt.Errorf("synthesize %s split: %w", s, err)
		}
	}
	m := g.manifest()
	if err := writeManifest(dir, m); err != nil {
		return nil, fmt.Errorf("synthesize: %w", err)
	}
	return m, nil
}

// generator renders and writes the splits of one Synthesize call.
type generator struct {
	opt       SynthOptions
	plan      *plan
	wopt      WriteOptions
	sharedWSI string
	labels    map[Split][]uint8
}

// synthJob is one batch in flight.
type synthJob struct {
	start, n int
	pix      []byte
	labels   []uint8
	tumour   []bool
	done     chan struct{}
}

// writeSplit renders split s on worker goroutines and writes it in index order.
func (g *generator) writeSplit(dir string, s Split) error {
	n := g.plan.counts[s]
	w, err := CreateSplit(dir, s, n, g.wopt)
	if err != nil {
		return err
	}
	mw, err := CreateMeta(SplitFiles(dir, s).Meta)
	if err != nil {
		w.Abort()
		return err
	}
	err = g.pipeline(s, func(j *synthJob) error {
		if err := w.Write(j.pix[:j.n*PatchBytes], j.labels[:j.n]); err != nil {
			return err
		}
		for k := 0; k < j.n; k++ {
			if err := mw.Write(g.metaRow(s, j.start+k, j.labels[k], j.tumour[k])); err != nil {
				return err
			}
		}
		g.labels[s] = append(g.labels[s], j.labels[:j.n]...)
		return nil
	})
	if err == nil {
		err = w.Close()
	}
	if err == nil {
		return mw.Close()
	}
	w.Abort()
	mw.Abort()
	return err
}

// pipeline renders the batches of split s on the workers and hands them to sink in index order.
// At most 2*workers+2 batches exist at any time.
func (g *generator) pipeline(s Split, sink func(*synthJob) error) error {
	workers := g.opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	depth := 2*workers + 2
	free := make(chan *synthJob, depth)
	for i := 0; i < depth; i++ {
		free <- &synthJob{pix: make([]byte, synthBatch*PatchBytes), labels: make([]uint8, synthBatch), tumour: make([]bool, synthBatch)}
	}
	work, ordered, quit := make(chan *synthJob), make(chan *synthJob, depth), make(chan struct{})
	go g.produce(s, free, work, ordered, quit)
	for i := 0; i < workers; i++ {
		go func() {
			var cv canvas
			for j := range work {
				for k := 0; k < j.n; k++ {
					j.labels[k], j.tumour[k] = g.render(s, j.start+k, j.pix[k*PatchBytes:(k+1)*PatchBytes], &cv)
				}
				close(j.done)
			}
		}()
	}
	var err error
	for j := range ordered {
		<-j.done
		if err == nil {
			if err = sink(j); err != nil {
				close(quit)
			}
		}
		free <- j
	}
	return err
}

// produce issues the batches of split s in order until done or quit.
func (g *generator) produce(s Split, free chan *synthJob, work, ordered chan<- *synthJob, quit <-chan struct{}) {
	defer close(ordered)
	defer close(work)
	n := g.plan.counts[s]
	for start := 0; start < n; start += synthBatch {
		var j *synthJob
		select {
		case j = <-free:
		case <-quit:
			return
		}
		j.start, j.n, j.done = start, min(synthBatch, n-start), make(chan struct{})
		ordered <- j
		work <- j
	}
}
