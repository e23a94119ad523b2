package sweep

import "github.com/pcamflow/pcamflow/stages"

// Fixture implements stages.Fixtured: the kind's conformance fixture (stages/kindtest). Two random
// trials of a one-epoch MLP on a few synthetic patches; the failing sweep's trials all fail (its
// command base fails whenever the sweep sets X), so there is no champion.
func (Kind) Fixture() stages.Fixture {
	return stages.Fixture{
		Pipeline: stages.TinyModelPipeline(96, 32, 16) + `sweep "under_test" {
  base      = train.m
  sampler   = "random"
  trials    = 2
  parallel  = 2
  objective = { metric = "val_roc_auc", goal = "maximize" }
  space = {
    "optimizer.learning_rate" = log_uniform(1e-3, 1e-1)
  }
}
`,
		Failing: `
command "c" {
  run     = ["sh", "-c", "[ -z \"$X\" ] || exit 3; mkdir -p out && echo '{\"final\": {\"loss\": 1}}' > out/metrics.json"]
  outputs = { metrics = "out/metrics.json" }
}

sweep "under_test" {
  base      = command.c
  sampler   = "random"
  trials    = 2
  objective = { metric = "loss" }
  space     = { "env.X" = uniform(0, 1) }
}
`,
		Invalid: []string{`
train "m" {
  dataset = { kind = "dataset", format = "pcam_h5", dir = "data", handle = "" }
}

sweep "under_test" {
  base      = train.m
  objective = { metric = "val_roc_auc", goal = "maximize" }
  space     = { "optimizer.learning_rat" = log_uniform(1e-4, 1e-2) }
}
`, `
train "m" {
  dataset = { kind = "dataset", format = "pcam_h5", dir = "data", handle = "" }
}

sweep "under_test" {
  base      = train.m
  objective = { metric = "val_auc", goal = "maximize" }
  space     = { epochs = int_uniform(1, 3) }
}
`, `
train "m" {
  dataset = { kind = "dataset", format = "pcam_h5", dir = "data", handle = "" }
}

sweep "under_test" {
  base       = train.m
  sampler    = "grid"
  max_trials = 10
  objective  = { metric = "val_roc_auc", goal = "maximize" }
  space      = { epochs = int_uniform(1, 4), batch_size = choice(8, 16, 32) }
}
`, `
dataset "d" {
  synthetic = { train = 32, valid = 16, test = 16, seed = 1, defects = false }
}

sweep "under_test" {
  base      = dataset.d
  objective = { metric = "val_roc_auc", goal = "maximize" }
  space     = { epochs = int_uniform(1, 3) }
}
`},
	}
}
