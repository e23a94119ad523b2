# MLP vs CNN on the same audited synthetic data (the experiment behind the numbers in
# docs/benchmarks.md). Run: bin/pcamflow run pipelines/compare.hcl -j 1
pipeline "compare" {
  seed = 7
}

variable "train_size" {
  type    = number
  default = 4096
}

variable "epochs" {
  type    = number
  default = 4
}

variable "seeds" {
  type    = list(number)
  default = [1, 2]
}

dataset "pcam" {
  synthetic = { train = var.train_size, valid = 2048, test = 2048, seed = 2 }
}

data_audit "pcam" {
  dataset = dataset.pcam
}

train "mlp" {
  dataset    = data_audit.pcam.clean
  model      = { arch = "mlp", hidden_units = [128] }
  epochs     = var.epochs
  batch_size = 128
  optimizer  = { name = "adam", learning_rate = 1e-4 }
  sampler    = "weighted"
  seeds      = var.seeds
}

train "cnn" {
  dataset    = data_audit.pcam.clean
  model      = { arch = "cnn", channels = [16, 32], head_units = [64] }
  epochs     = var.epochs
  batch_size = 64
  optimizer  = { name = "adam", learning_rate = 1e-3 }
  augment    = { flips = true, rotations = true }
  sampler    = "weighted"
  seeds      = var.seeds
}
