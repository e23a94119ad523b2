package train

import "github.com/pcamflow/pcamflow/stages"

// Fixture implements stages.Fixtured: the kind's conformance fixture (stages/kindtest). Two seeds,
// so that the aggregate node is checked too; one epoch on a few patches.
func (Kind) Fixture() stages.Fixture {
	return stages.Fixture{
		Pipeline: `
dataset "d" {
  synthetic = { train = 96, valid = 32, test = 16, seed = 1, defects = false }
}

train "under_test" {
  dataset    = dataset.d
  model      = { arch = "mlp", hidden_units = [4] }
  epochs     = 1
  batch_size = 32
  seeds      = [1, 2]
}
`,
		// The dataset reference points at a folder without data: training fails while reading it.
		Failing: `
train "under_test" {
  dataset = { kind = "dataset", format = "pcam_h5", dir = "no-such-data", handle = "" }
  model   = { arch = "mlp", hidden_units = [4] }
  epochs  = 1
}
`,
		Invalid: []string{`
train "under_test" {
  dataset = { kind = "dataset", format = "pcam_h5", dir = "data", handle = "" }
  model   = { arch = "transformer" }
}
`, `
train "under_test" {
  dataset = { kind = "dataset", format = "pcam_h5", dir = "data", handle = "" }
  epochs  = 0
}
`, `
train "under_test" {
  dataset = "data/pcam"
}
`},
	}
}
