package command

import "github.com/pcamflow/pcamflow/stages"

// Fixture implements stages.Fixtured: the kind's conformance fixture (stages/kindtest).
func (Kind) Fixture() stages.Fixture {
	return stages.Fixture{
		Files: map[string]string{"in/data.txt": "some input\n", "script.sh": "cat in/data.txt > out/copy.txt\necho $PCAMFLOW_SEED > out/seed.txt\n"},
		Pipeline: `
command "under_test" {
  run     = ["sh", "script.sh"]
  inputs  = ["in/data.txt"]
  outputs = { copy = "out/copy.txt", seed = "out/seed.txt" }
}
`,
		Failing: `
command "under_test" {
  run     = ["sh", "-c", "echo partial > out/copy.txt; exit 3"]
  outputs = ["out/copy.txt"]
}
`,
		Invalid: []string{`
command "under_test" {
  run = []
}
`, `
command "under_test" {
  run     = ["true"]
  outputs = ["../outside.txt"]
}
`, `
command "under_test" {
  run     = ["true"]
  workdir = "/tmp"
}
`},
	}
}
