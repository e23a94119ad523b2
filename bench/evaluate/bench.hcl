# The evaluate benchmark (bench/evaluate/run.sh): a 32,768-patch synthetic test split (the official
# size), the course's MLP (one short epoch: the cost of prediction does not depend on training), and
# an evaluation with 2,000 bootstrap resamples, two baselines and the default slices.
pipeline "bench_evaluate" {
  seed = 7
}

variable "bootstrap" {
  type    = number
  default = 2000
}

variable "test_size" {
  type    = number
  default = 32768
}

dataset "d" {
  synthetic = { train = 4096, valid = 512, test = var.test_size, seed = 3 }
}

train "mlp" {
  dataset    = dataset.d
  model      = { arch = "mlp", hidden_units = [128] }
  epochs     = 1
  limit      = 1024
  val_limit  = 256
  optimizer  = { name = "adam", learning_rate = 1e-3 }
}

evaluate "bench" {
  model     = train.mlp
  dataset   = dataset.d
  threshold = 0.5
  bootstrap = var.bootstrap
}
