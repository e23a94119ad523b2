package dataset

import "github.com/pcamflow/pcamflow/stages"

// Fixture implements stages.Fixtured: the kind's conformance fixture (stages/kindtest).
func (Kind) Fixture() stages.Fixture {
	return stages.Fixture{
		Files: map[string]string{
			"broken/camelyonpatch_level_2_split_train_x.h5": "this is not HDF5",
			"broken/camelyonpatch_level_2_split_train_y.h5": "this is not HDF5",
		},
		Pipeline: `
dataset "under_test" {
  synthetic = { train = 64, valid = 48, test = 48, seed = 2 }
}
`,
		Failing: `
dataset "under_test" {
  dir = "broken"
}
`,
		Invalid: []string{`
dataset "under_test" {
  format = "jpeg_zip"
  dir    = "data"
}
`, `
dataset "under_test" {
  format = "pcam_h5"
}
`, `
dataset "under_test" {
  format    = "png_folder"
  synthetic = { train = 8 }
}
`},
	}
}
