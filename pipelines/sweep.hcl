# Hyperparameter search over the CNN on synthetic data (docs/language.md, "sweep"): a TPE sweep of
# 16 trials, two at once, with ASHA early stopping (one rung, at epoch 2 of 4: a trial outside the top
# half of the trials so far stops there; after one epoch the curves of this CNN still cross, so the
# first rung is at epoch 2 — docs/bench-sweep.md compares). Every trial is an ordinary train node, cached
# by its configuration; the champion is thresholded and evaluated like any trained model.
#
#   pcamflow run pipelines/sweep.hcl
#   pcamflow run --executor slurm pipelines/sweep.hcl    # each TPE wave of 2 trials is one job array
pipeline "sweep" {
  seed = 7
}

variable "trials" {
  type    = number
  default = 16
}

dataset "pcam" {
  synthetic = { train = 512, valid = 256, test = 256, seed = 1 }
}

# The base configuration: what the sweep varies, and the reference its champion is compared with.
train "cnn" {
  dataset    = dataset.pcam
  model      = { arch = "cnn", channels = [4, 8], head_units = [16] }
  epochs     = 4
  batch_size = 64
  optimizer  = { name = "adam", learning_rate = 1e-3 }
}

sweep "hpo" {
  base           = train.cnn
  sampler        = "tpe"
  trials         = var.trials
  parallel       = 2
  objective      = { metric = "val_roc_auc", goal = "maximize" }
  early_stopping = { method = "asha", min_epochs = 2, reduction_factor = 2 }
  space = {
    "optimizer.learning_rate" = log_uniform(1e-4, 3e-2)
    "optimizer.weight_decay"  = uniform(0, 1e-3)
    "model.channels"          = choice([4, 8], [8, 16])
    "batch_size"              = choice(32, 64)
  }
  resources {
    partition = "cpu"
  }
}

threshold "f2" {
  model   = sweep.hpo.champion
  dataset = dataset.pcam
  split   = "valid"
  method  = "max_f_beta"
  beta    = 2
}

evaluate "valid" {
  model     = sweep.hpo.champion
  dataset   = dataset.pcam
  threshold = threshold.f2
  split     = "valid"
}
