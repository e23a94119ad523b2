package report

import (
	"fmt"
	"path"

	"github.com/pcamflow/pcamflow/stages/train"
	"github.com/pcamflow/pcamflow/track"
)

// trainPlots are the pictures a training node publishes, by path among its outputs.
var trainPlots = inFolder(train.PlotsOutput, train.PlotFiles)

// inFolder returns the paths of files in folder.
func inFolder(folder string, files []string) []string {
	out := make([]string, len(files))
	for i, f := range files {
		out[i] = path.Join(folder, f)
	}
	return out
}

// optimisation answers: what did the loss, the learning rate and the gradients do? Per training
// stage it shows the aggregate's pictures (each seed thin, mean ± std band) or, for a stage of one
// node, that node's, and a table of each node's epochs.
func optimisation(s *source) *section {
	sec := &section{ID: "optimisation", Title: "Optimisation",
		Question: "How did training go: loss curves, validation metrics, the learning-rate schedule and per-layer gradient norms?"}
	stages := s.byStage("train")
	if len(stages) == 0 {
		sec.add(s.kindHint("train"))
		return sec
	}
	for _, st := range stages {
		sec.add(heading{"Training " + st.Addr})
		sec.add(epochTable(s, st))
		var pics []block
		if st.Main != nil {
			pics = s.nodePictures(*st.Main, trainPlots...)
		}
		if len(pics) == 0 && len(st.Instances) > 0 && len(st.Instances) <= 3 {
			for _, n := range st.Instances {
				pics = append(pics, s.nodePictures(n, trainPlots...)...)
			}
		}
		if len(pics) == 0 {
			pics = []block{para{"No training pictures: these nodes were trained by a pcamflow without them (train version 1); rerun them to draw them."}}
		}
		sec.add(pics...)
	}
	return sec
}

// epochTable lists, per training node of the stage, the epochs run, the best epoch by the monitored
// metric, and the final losses and learning rate (from each node's metrics.json).
func epochTable(s *source, st stage) table {
	t := table{Head: []string{"node", "seed", "epochs", "best epoch", "monitor", "final train loss", "final val loss", "final learning rate"},
		Numeric: []bool{false, true, true, true, false, true, true, true}}
	var nodes []track.NodeRun
	if len(st.Instances) > 0 {
		nodes = st.Instances
	} else if st.Main != nil {
		nodes = []track.NodeRun{*st.Main}
	}
	for _, n := range nodes {
		var m train.Final
		if err := s.jsonFile(n, "metrics.json", &m); err != nil {
			t.Rows = append(t.Rows, []string{n.Node + " (" + string(n.State) + ", no metrics)", dash, dash, dash, dash, dash, dash, dash})
			continue
		}
		t.Rows = append(t.Rows, []string{n.Node, fmt.Sprint(m.Seed), fmt.Sprint(m.Epochs), fmt.Sprint(m.BestEpoch), m.Monitor,
			num(m.Final["train_loss"]), num(m.Final["val_loss"]), scalar(m.Final["lr"])})
	}
	return t
}
