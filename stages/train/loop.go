package train

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/pcamflow/pcamflow/metrics"
	"github.com/pcamflow/pcamflow/model"
	"github.com/pcamflow/pcamflow/pcam"
	"github.com/pcamflow/pcamflow/stages"
	"github.com/pcamflow/pcamflow/stages/dataset"
)

// Epoch is one row of the training history. It holds only values that are the same in twin runs
// (no timings), so history files and checkpoints are bit-identical for the same inputs and seed.
type Epoch struct {
	Epoch       int                `json:"epoch"`
	TrainLoss   float64            `json:"train_loss"`
	ValLoss     float64            `json:"val_loss"`
	ValROCAUC   float64            `json:"val_roc_auc"`
	ValFBeta    float64            `json:"val_f_beta"`
	ValAccuracy float64            `json:"val_accuracy"`
	LR          float64            `json:"lr"`
	GradMean    map[string]float64 `json:"grad_norm_mean"`
	GradMax     map[string]float64 `json:"grad_norm_max"`
}

// state is the loop state kept in every checkpoint's metadata, so a resumed run continues exactly.
type state struct {
	History   []Epoch `json:"history"`
	Best      float64 `json:"best"`
	BestEpoch int     `json:"best_epoch"`
	BadEpochs int     `json:"bad_epochs"`
	Stopped   bool    `json:"stopped"`
}

// loop trains one seed.
type loop struct {
	env  *stages.Env
	mc   model.Config
	opt  options
	view dataset.View
	t    *model.Trainer
	st   state
	// target is the last epoch this execution trains: the configured epochs, or fewer when the
	// node runs to a budget (Env.Budget).
	target int
	// dir holds the resume checkpoints: Env.ResumeDir, or a private folder when the shared one
	// holds a later epoch than the budget (see start).
	dir string
}

// threads is the node's kernel thread budget (Env.Threads; the process setting when it is unset).
func (l *loop) threads() int {
	if l.env.Threads > 0 {
		return l.env.Threads
	}
	return model.BLASInfo().Threads
}

func (l *loop) last() string { return filepath.Join(l.dir, "last.ckpt") }
func (l *loop) best() string { return filepath.Join(l.dir, "best.ckpt") }

// run trains until the last epoch or early stopping, then writes the outputs.
func (l *loop) run(ctx context.Context) error {
	// The kernel thread count is process-wide and owned by the program that runs the pipeline (set
	// once, before any node executes); a node only reads its budget, so nodes running at once never
	// change each other's setting.
	if l.opt.Threads > 0 && l.opt.Threads != l.env.Threads {
		fmt.Fprintf(l.env.Log, "note: threads = %d is ignored: the kernel thread count is shared by every node of the run (%d); set it with `pcamflow run --threads N`\n",
			l.opt.Threads, l.env.Threads)
	}
	l.target = l.opt.Epochs
	if l.env.Budget > 0 && l.env.Budget < l.target {
		l.target = l.env.Budget
	}
	unlock, err := lockResume(ctx, l.env.ResumeDir)
	if err != nil {
		return err
	}
	defer unlock()
	if err := l.start(); err != nil {
		return err
	}
	if l.env.Budget > 0 {
		fmt.Fprintf(l.env.Log, "budget: %d of %d epochs (training stops after epoch %d; a larger budget continues from it)\n",
			l.env.Budget, l.opt.Epochs, l.target)
	}
	train, err := openData(l.view, pcam.Train, l.opt.Limit)
	if err != nil {
		return fmt.Errorf("training data: %w", err)
	}
	defer train.r.Close()
	valid, err := openData(l.view, pcam.Valid, l.opt.ValLimit)
	if err != nil {
		return fmt.Errorf("validation data: %w", err)
	}
	defer valid.r.Close()
	info := model.BLASInfo()
	if l.env.Threads > 0 {
		info.Threads = l.env.Threads
	}
	fmt.Fprintf(l.env.Log, "train %s: %s, %d parameters, seed %d, %d train / %d valid patches, BLAS %s, %d threads, CPU %s\n",
		l.env.Node, l.mc.Arch, l.t.NumParams(), l.mc.Seed, len(train.idx), len(valid.idx), info.Backend, info.Threads, info.CPU)
	if info.Warning != "" {
		fmt.Fprintf(l.env.Log, "warning: %s\n", info.Warning)
	}
	for !l.st.Stopped && l.t.Epoch() < l.target {
		if err := l.epoch(ctx, train, valid); err != nil {
			return err
		}
	}
	return l.finish(info)
}

// start builds the trainer, or resumes it from the last complete epoch of an interrupted run or of
// a run to a smaller budget of the same configuration (they share the resume folder). When the
// folder holds a later epoch than this node's budget (a larger budget ran first), the node trains
// from the start in a private folder and leaves the shared one to the larger budgets.
func (l *loop) start() error {
	l.dir = l.env.ResumeDir
	if err := os.MkdirAll(l.dir, 0o755); err != nil {
		return err
	}
	if t, err := model.LoadTrainerFile(l.last()); err == nil {
		var st state
		switch err := json.Unmarshal(t.Meta(), &st); {
		case err != nil:
			fmt.Fprintf(l.env.Log, "note: ignoring the unusable resume checkpoint: %v\n", err)
		case t.Epoch() > l.target:
			fmt.Fprintf(l.env.Log, "the resume checkpoint is at epoch %d, past the budget of %d epochs: training from the start\n",
				t.Epoch(), l.target)
			l.dir = filepath.Join(l.env.ScratchDir, "budget-resume")
			if err := os.MkdirAll(l.dir, 0o755); err != nil {
				return err
			}
		default:
			l.t, l.st = t, st
			fmt.Fprintf(l.env.Log, "resuming from epoch %d (checkpoint %s)\n", t.Epoch(), l.last())
			return nil
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(l.env.Log, "note: ignoring the unusable resume checkpoint: %v\n", err)
	}
	t, err := model.New(l.mc)
	if err != nil {
		return err
	}
	l.t, l.st = t, state{Best: math.NaN()}
	return nil
}

// epoch trains one epoch, validates, logs and checkpoints.
func (l *loop) epoch(ctx context.Context, train, valid *data) error {
	e := l.t.Epoch() + 1
	start := time.Now()
	order := train.order(l.opt.Sampler, l.t.Rand())
	stream, err := pcam.StreamBatches(ctx, train.r, pcam.BatchOptions{Size: l.opt.BatchSize, Indices: order, Prefetch: 3})
	if err != nil {
		return err
	}
	defer stream.Close()
	var lossSum float64
	var images int
	var wait time.Duration
	grads := newGradStats()
	bar := newProgress(l.env.Progress, l.env.Terminal, l.env.Node, e, l.opt.Epochs, (len(order)+l.opt.BatchSize-1)/l.opt.BatchSize)
	for b := 1; ; b++ {
		w := time.Now()
		batch, ok, err := stream.Next()
		wait += time.Since(w)
		if err != nil {
			return fmt.Errorf("epoch %d, batch %d: reading training data: %w", e, b, err)
		}
		if !ok {
			break
		}
		augment(batch.Pix, l.opt.Flips, l.opt.Rotations, l.t.Rand())
		loss, err := l.t.Step(batch.Pix, batch.Labels)
		if err != nil {
			return fmt.Errorf("training diverged at epoch %d, batch %d: %w (lower the learning rate or set clip_norm)", e, b, err)
		}
		lossSum += loss * float64(len(batch.Labels))
		images += len(batch.Labels)
		grads.add(l.t.GradNorms())
		bar.update(b, loss, images, time.Since(start))
	}
	bar.done()
	seconds := time.Since(start).Seconds()
	row, err := l.validate(ctx, valid)
	if err != nil {
		return fmt.Errorf("epoch %d: validation: %w", e, err)
	}
	row.Epoch, row.TrainLoss, row.LR = e, lossSum/float64(max(images, 1)), l.t.LearningRate()
	row.GradMean, row.GradMax = grads.summary()
	l.t.EndEpoch(row.ValLoss)
	l.st.History = append(l.st.History, row)
	l.log(row, seconds, images, wait)
	return l.checkpoint(row)
}

// validate computes the validation loss and metrics with the forward-only graph.
func (l *loop) validate(ctx context.Context, valid *data) (Epoch, error) {
	stream, err := pcam.StreamBatches(ctx, valid.r, pcam.BatchOptions{Size: 256, Indices: valid.idx, Prefetch: 2})
	if err != nil {
		return Epoch{}, err
	}
	defer stream.Close()
	var labels []uint8
	var probs []float64
	var lossSum float64
	for b := 1; ; b++ {
		batch, ok, err := stream.Next()
		if err != nil {
			return Epoch{}, fmt.Errorf("batch %d: reading validation data: %w", b, err)
		}
		if !ok {
			break
		}
		loss, p, err := l.t.Evaluate(batch.Pix, batch.Labels)
		if err != nil {
			return Epoch{}, err
		}
		lossSum += loss * float64(len(p))
		probs = append(probs, p...)
		labels = append(labels, batch.Labels...)
	}
	row := Epoch{ValLoss: lossSum / float64(max(len(probs), 1))}
	if auc, err := metrics.ROCAUC(labels, probs); err == nil {
		row.ValROCAUC = auc
	} else {
		row.ValROCAUC = math.NaN()
	}
	c := metrics.ConfusionAt(labels, probs, 0.5)
	row.ValFBeta, row.ValAccuracy = c.FBeta(l.opt.Beta), c.Accuracy()
	return row, nil
}

// log writes the epoch to the node log, the progress stream and the tracking store.
func (l *loop) log(row Epoch, seconds float64, images int, wait time.Duration) {
	ips := float64(images) / max(seconds, 1e-9)
	waitShare := wait.Seconds() / max(seconds, 1e-9)
	line := fmt.Sprintf("epoch %d/%d: train_loss %.4f val_loss %.4f val_roc_auc %.4f val_f%g %.4f val_acc %.4f lr %.3g  %.1fs %.0f img/s data wait %.1f%%",
		row.Epoch, l.opt.Epochs, row.TrainLoss, row.ValLoss, row.ValROCAUC, l.opt.Beta, row.ValFBeta, row.ValAccuracy, row.LR,
		seconds, ips, 100*waitShare)
	fmt.Fprintln(l.env.Log, line)
	fmt.Fprintf(l.env.Progress, "           %s %s\n", l.env.Node, line)
	if l.env.Metrics == nil {
		return
	}
	values := map[string]float64{"train_loss": row.TrainLoss, "val_loss": row.ValLoss, "val_roc_auc": row.ValROCAUC,
		"val_f_beta": row.ValFBeta, "val_accuracy": row.ValAccuracy, "lr": row.LR, "epoch_seconds": seconds,
		"images_per_second": ips, "data_wait_share": waitShare, "threads": float64(l.threads())}
	for layer, v := range row.GradMean {
		values["grad_norm_mean/"+layer] = v
	}
	for layer, v := range row.GradMax {
		values["grad_norm_max/"+layer] = v
	}
	l.env.Metrics(row.Epoch, values)
}

// checkpoint updates the best checkpoint and early stopping, then writes the resume checkpoint.
func (l *loop) checkpoint(row Epoch) error {
	improvedBest := l.betterBest(row)
	if improvedBest {
		l.st.Best, l.st.BestEpoch = metricOf(row, l.opt.Monitor), row.Epoch
	}
	if l.opt.EarlyMetric != "" {
		if l.improvedEarly(row) {
			l.st.BadEpochs = 0
		} else if l.st.BadEpochs++; l.st.BadEpochs >= l.opt.EarlyPatience {
			l.st.Stopped = true
			fmt.Fprintf(l.env.Log, "early stopping after epoch %d: %s did not improve for %d epochs\n", row.Epoch, l.opt.EarlyMetric, l.st.BadEpochs)
		}
	}
	meta, err := json.Marshal(l.st)
	if err != nil {
		return err
	}
	if err := l.t.SetMeta(meta); err != nil {
		return err
	}
	if improvedBest {
		if err := l.t.SaveFile(l.best()); err != nil {
			return fmt.Errorf("saving the best checkpoint: %w", err)
		}
	}
	if err := l.t.SaveFile(l.last()); err != nil {
		return fmt.Errorf("saving the checkpoint of epoch %d: %w", row.Epoch, err)
	}
	return nil
}

// betterBest reports whether row replaces the best epoch: its monitored metric is better, or equal
// to the best with a strictly lower validation loss. The tie rule keeps a saturated metric (a
// validation ROC-AUC of 1.0 from epoch 1 on) from pinning the best checkpoint to the first epoch
// that reached it.
func (l *loop) betterBest(row Epoch) bool {
	v := metricOf(row, l.opt.Monitor)
	if better(l.opt.Monitor, v, l.st.Best, 0) {
		return true
	}
	if l.st.BestEpoch < 1 || v != l.st.Best {
		return false
	}
	return row.ValLoss < l.st.History[l.st.BestEpoch-1].ValLoss
}

// improvedEarly reports whether the early-stopping metric improved on every earlier epoch.
func (l *loop) improvedEarly(row Epoch) bool {
	best := math.NaN()
	for _, h := range l.st.History[:len(l.st.History)-1] {
		if v := metricOf(h, l.opt.EarlyMetric); better(l.opt.EarlyMetric, v, best, 0) {
			best = v
		}
	}
	return better(l.opt.EarlyMetric, metricOf(row, l.opt.EarlyMetric), best, l.opt.EarlyMinDelta)
}

func metricOf(row Epoch, name string) float64 {
	switch name {
	case "val_loss":
		return row.ValLoss
	case "val_f_beta":
		return row.ValFBeta
	case "val_accuracy":
		return row.ValAccuracy
	}
	return row.ValROCAUC
}

// Final is the metrics.json output of a training node.
type Final struct {
	Seed      int64                 `json:"seed"`
	Epochs    int                   `json:"epochs"`
	BestEpoch int                   `json:"best_epoch"`
	Monitor   string                `json:"monitor"`
	Final     map[string]float64    `json:"final"`
	Best      map[string]float64    `json:"best"`
	BLAS      model.BLASDescription `json:"blas"`
	Config    model.Config          `json:"model_config"`
}

// finish writes the checkpoint, best, history and metrics outputs.
func (l *loop) finish(info model.BLASDescription) error {
	if len(l.st.History) == 0 {
		return errors.New("no epoch was trained")
	}
	info.Threads = 0 // the thread count does not change results; keep outputs identical across machines' core counts
	if err := copyFile(l.last(), l.env.OutputPaths[outCheckpoint]); err != nil {
		return err
	}
	bestSrc := l.best()
	if _, err := os.Stat(bestSrc); err != nil {
		bestSrc = l.last()
	}
	if err := copyFile(bestSrc, l.env.OutputPaths[outBest]); err != nil {
		return err
	}
	if err := writeJSON(l.env.OutputPaths[outHistory], l.st.History); err != nil {
		return err
	}
	last := l.st.History[len(l.st.History)-1]
	best := l.st.History[max(l.st.BestEpoch-1, 0)]
	f := Final{Seed: int64(l.mc.Seed), Epochs: len(l.st.History), BestEpoch: l.st.BestEpoch, Monitor: l.opt.Monitor,
		Final: rowMetrics(last), Best: rowMetrics(best), BLAS: info, Config: l.t.Config()}
	return writeJSON(l.env.OutputPaths[outMetrics], f)
}

// rowMetrics lists the scalar metrics of an epoch row.
func rowMetrics(r Epoch) map[string]float64 {
	return map[string]float64{"train_loss": r.TrainLoss, "val_loss": r.ValLoss, "val_roc_auc": r.ValROCAUC,
		"val_f_beta": r.ValFBeta, "val_accuracy": r.ValAccuracy, "lr": r.LR}
}
