# A sweep over an external script (docs/language.md, "sweep"): the command stage runs
# examples/branin.py, which reads its parameters from environment variables and writes
# metrics.json; the sweep minimises its value with TPE. The same shape drives any train.py (PyTorch
# or otherwise) that writes metrics.json, inside a cached DAG: every trial is a cached node.
#
#   pcamflow run pipelines/sweep_command.hcl
pipeline "branin" {
  seed = 3
}

command "branin" {
  run     = ["python3", "examples/branin.py"]
  outputs = { metrics = "results/branin/metrics.json" }
  env     = { X1 = "0", X2 = "0" }
}

sweep "branin" {
  base      = command.branin
  sampler   = "tpe"
  trials    = 30
  parallel  = 2
  objective = { metric = "value", goal = "minimize" }
  space = {
    X1 = uniform(-5, 10)
    X2 = uniform(0, 15)
  }
}

# The best parameters found, as a report next to the champion's metrics.
command "best" {
  run     = ["sh", "-c", "echo \"X1=$X1 X2=$X2\" > results/branin/best.txt; cat \"$METRICS\" >> results/branin/best.txt"]
  env     = { X1 = sweep.branin.best_params.X1, X2 = sweep.branin.best_params.X2, METRICS = sweep.branin.champion.outputs.metrics }
  outputs = ["results/branin/best.txt"]
}
