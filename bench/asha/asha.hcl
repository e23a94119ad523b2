# ASHA against no early stopping on the synthetic CNN sweep (issue 9, must-show 4; results in
# docs/bench-sweep.md, section "ASHA"). The same TPE sweep of 16 trials over a small CNN, run once
# with early_stopping = asha (rungs at epochs 1 and 3 of 6) and once without (-var asha=false).
pipeline "asha" {
  seed = 7
}

variable "asha" {
  type    = bool
  default = true
}

variable "train_size" {
  type    = number
  default = 1024
}

dataset "d" {
  synthetic = { train = var.train_size, valid = 512, test = 64, seed = 5, defects = false }
}

train "cnn" {
  dataset    = dataset.d
  model      = { arch = "cnn", channels = [8, 16], head_units = [32] }
  epochs     = 6
  batch_size = 64
  optimizer  = { name = "adam", learning_rate = 1e-3 }
}

sweep "hpo" {
  base           = train.cnn
  sampler        = "tpe"
  trials         = 16
  parallel       = 2
  objective      = { metric = "val_roc_auc", goal = "maximize" }
  early_stopping = var.asha ? { method = "asha", min_epochs = 1, reduction_factor = 3 } : null
  space = {
    "optimizer.learning_rate" = log_uniform(1e-4, 3e-2)
    "optimizer.weight_decay"  = uniform(0, 1e-3)
    "model.head_units"        = choice([16], [64])
    "batch_size"              = choice(32, 64)
  }
}
