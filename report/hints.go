package report

import "fmt"

// The one-line hints of sections whose stage is not in the pipeline. Snippets name the stages the
// pipeline has, so they can be pasted as they are.

// firstStage returns the address of the first stage of kind in the run, or "".
func (s *source) firstStage(kind string) string {
	if st := s.byStage(kind); len(st) > 0 {
		return st[0].Addr
	}
	return ""
}

// modelRef is the model a new downstream stage should use: the sweep's champion, else a training
// stage, else a placeholder.
func (s *source) modelRef() string {
	if a := s.firstStage("sweep"); a != "" {
		return a + ".champion"
	}
	if a := s.firstStage("train"); a != "" {
		return a
	}
	return "train.mlp"
}

// datasetRef is the data a new training stage should read: the audited view, else the dataset.
func (s *source) datasetRef() string {
	if a := s.firstStage("data_audit"); a != "" {
		return a + ".clean"
	}
	if a := s.firstStage("dataset"); a != "" {
		return a
	}
	return "dataset.pcam"
}

// kindHint says that the pipeline has no stage of kind, what adding one answers, and how.
func (s *source) kindHint(kind string) hint {
	ds := s.firstStage("dataset")
	if ds == "" {
		ds = "dataset.pcam"
	}
	switch kind {
	case "data_audit":
		return hint{"No data_audit stage in this pipeline: add one to count duplicates, leakage and bad patches:",
			fmt.Sprintf(`data_audit "pcam" { dataset = %s }`, ds)}
	case "train":
		return hint{"No train stage in this pipeline: add one to train and log curves:",
			fmt.Sprintf(`train "mlp" { dataset = %s }`, s.datasetRef())}
	case "sweep":
		base := s.firstStage("train")
		if base == "" {
			base = "train.mlp"
		}
		return hint{"No sweep stage in this pipeline: add one (with trials, objective and space; docs/language.md) to find the hyperparameters that win:",
			fmt.Sprintf(`sweep "hpo" { base = %s }`, base)}
	case "threshold":
		return hint{"No threshold stage in this pipeline: add one to choose the decision threshold on validation:",
			fmt.Sprintf(`threshold "f2" { model = %s }`, s.modelRef())}
	case "evaluate":
		return hint{"No evaluate stage in this pipeline: add one for test metrics with intervals, baselines, slices and error montages:",
			fmt.Sprintf(`evaluate "test" { model = %s }`, s.modelRef())}
	case "benchmark":
		return hint{"No benchmark stage in this pipeline: add one to measure inference throughput per partition with Slurm job ids:",
			fmt.Sprintf(`benchmark "inference" { model = %s }`, s.modelRef())}
	}
	return hint{Text: fmt.Sprintf("No %s stage in this pipeline.", kind)}
}
