package evaluate

import "github.com/pcamflow/pcamflow/stages"

// Fixture implements stages.Fixtured: the kind's conformance fixture (stages/kindtest). A one-epoch
// MLP on a few synthetic patches, evaluated on test with the two built-in baselines and a small
// bootstrap.
func (Kind) Fixture() stages.Fixture {
	return stages.Fixture{
		Pipeline: stages.TinyModelPipeline(96, 32, 64) + `evaluate "under_test" {
  model           = train.m
  dataset         = dataset.d
  threshold       = 0.5
  split           = "test"
  baselines       = { majority = true, colour_logistic = true }
  bootstrap       = 50
  min_slice_count = 5
  montage         = 4
}
`,
		// The checkpoint named by the model reference does not exist: prediction fails.
		Failing: `
dataset "d" {
  synthetic = { train = 32, valid = 16, test = 16, seed = 1, defects = false }
}

evaluate "under_test" {
  model     = { kind = "model", checkpoint = "no-such.ckpt", best = "no-such.ckpt", history = "", metrics = "" }
  dataset   = dataset.d
  threshold = 0.5
}
`,
		Invalid: []string{`
evaluate "under_test" {
  model     = { kind = "model", checkpoint = "m.ckpt", best = "m.ckpt", history = "", metrics = "" }
  dataset   = { kind = "dataset", format = "pcam_h5", dir = "data", handle = "" }
  threshold = 1.5
}
`, `
evaluate "under_test" {
  model     = { kind = "model", checkpoint = "m.ckpt", best = "m.ckpt", history = "", metrics = "" }
  dataset   = { kind = "dataset", format = "pcam_h5", dir = "data", handle = "" }
  threshold = 0.5
  bootstrap = -1
}
`},
	}
}
