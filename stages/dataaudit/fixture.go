package dataaudit

import "github.com/pcamflow/pcamflow/stages"

// Fixture implements stages.Fixtured: the kind's conformance fixture (stages/kindtest).
func (Kind) Fixture() stages.Fixture {
	return stages.Fixture{
		Pipeline: `
dataset "d" {
  synthetic = { train = 96, valid = 48, test = 48, seed = 4 }
}

data_audit "under_test" {
  dataset = dataset.d
}
`,
		// The audited folder has no data: the audit fails while reading it.
		Failing: `
data_audit "under_test" {
  dataset = { kind = "dataset", format = "pcam_h5", dir = "no-such-data", handle = "" }
}
`,
		Invalid: []string{`
dataset "d" {
  synthetic = { train = 8 }
}

data_audit "under_test" {
  dataset = dataset.d
  fail_on = ["cross_split_duplicate"]
}
`, `
dataset "d" {
  synthetic = { train = 8 }
}

data_audit "under_test" {
  dataset           = dataset.d
  hamming_threshold = 99
}
`, `
data_audit "under_test" {
  dataset = "data/pcam"
}
`},
	}
}
