package benchmark

import "github.com/pcamflow/pcamflow/stages"

// Fixture implements stages.Fixtured: the kind's conformance fixture (stages/kindtest). A one-epoch
// MLP on a few synthetic patches is measured at three batch sizes on the 16 patches of the test
// split, read from HDF5 (batch 32 cycles over the split twice).
func (Kind) Fixture() stages.Fixture {
	return stages.Fixture{
		Pipeline: stages.TinyModelPipeline(64, 32, 16) + `benchmark "under_test" {
  model       = train.m
  data        = dataset.d
  split       = "test"
  batch_sizes = [1, 4, 32]
  images      = 40
  warmup      = 4
}
`,
		// The checkpoint named by the model reference does not exist: loading it fails.
		Failing: `
benchmark "under_test" {
  model       = { kind = "model", checkpoint = "no-such.ckpt", best = "no-such.ckpt", history = "", metrics = "" }
  batch_sizes = [1]
  images      = 4
}
`,
		Invalid: []string{`
benchmark "under_test" {
  model   = { kind = "model", checkpoint = "m.ckpt", best = "m.ckpt", history = "", metrics = "" }
  command = ["python3", "bench.py"]
}
`, `
benchmark "under_test" {
  model       = { kind = "model", checkpoint = "m.ckpt", best = "m.ckpt", history = "", metrics = "" }
  batch_sizes = [0, 8]
}
`, `
benchmark "under_test" {
  batch_sizes = [1]
}
`, `
benchmark "under_test" {
  command = []
}
`, `
benchmark "under_test" {
  model = { kind = "model", checkpoint = "m.ckpt", best = "m.ckpt", history = "", metrics = "" }
  split = "tset"
}
`, `
benchmark "under_test" {
  collect = [{ kind = "threshold" }]
}
`},
	}
}
