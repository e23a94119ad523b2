package threshold

import "github.com/pcamflow/pcamflow/stages"

// Fixture implements stages.Fixtured: the kind's conformance fixture (stages/kindtest). A one-epoch
// MLP on a few synthetic patches gives the model; the threshold is chosen on its validation split.
func (Kind) Fixture() stages.Fixture {
	return stages.Fixture{
		Pipeline: stages.TinyModelPipeline(96, 48, 16) + `threshold "under_test" {
  model   = train.m
  dataset = dataset.d
  split   = "valid"
  method  = "max_f_beta"
  beta    = 2
}
`,
		// The checkpoint named by the model reference does not exist: prediction fails.
		Failing: `
dataset "d" {
  synthetic = { train = 32, valid = 16, test = 16, seed = 1, defects = false }
}

threshold "under_test" {
  model   = { kind = "model", checkpoint = "no-such.ckpt", best = "no-such.ckpt", history = "", metrics = "" }
  dataset = dataset.d
}
`,
		Invalid: []string{`
threshold "under_test" {
  model   = { kind = "model", checkpoint = "m.ckpt", best = "m.ckpt", history = "", metrics = "" }
  dataset = { kind = "dataset", format = "pcam_h5", dir = "data", handle = "" }
  split   = "test"
}
`, `
threshold "under_test" {
  model   = { kind = "model", checkpoint = "m.ckpt", best = "m.ckpt", history = "", metrics = "" }
  dataset = { kind = "dataset", format = "pcam_h5", dir = "data", handle = "" }
  method  = "max_recall"
}
`, `
threshold "under_test" {
  model   = { kind = "model", checkpoint = "m.ckpt", best = "m.ckpt", history = "", metrics = "" }
  dataset = { kind = "dataset", format = "pcam_h5", dir = "data", handle = "" }
  method  = "min_recall"
  target  = 1.5
}
`},
	}
}
