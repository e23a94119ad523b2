# The quickstart pipeline: generate a small synthetic PCAM dataset (official HDF5 layout, planted
# defects), audit it for leakage and bad patches, train the course's MLP baseline on the audited
# view with three seeds (mean ± std of the validation ROC-AUC and F2), choose the F2 decision
# threshold on validation, and evaluate on test: ROC-AUC and F2 with 95% intervals, baselines,
# slices and the worst slice.
pipeline "quickstart" {
  seed = 42
}

variable "train_size" {
  type        = number
  default     = 4096
  description = "Synthetic training patches (the official split has 262,144)."

  validation {
    condition     = var.train_size >= 256
    error_message = "train_size must be at least 256."
  }
}

variable "valid_size" {
  type        = number
  default     = 1024
  description = "Synthetic validation and test patches each (the official splits have 32,768)."
}

variable "epochs" {
  type    = number
  default = 3
}

dataset "pcam" {
  synthetic = { train = var.train_size, valid = var.valid_size, test = var.valid_size, seed = 1 }
}

data_audit "pcam" {
  dataset = dataset.pcam
  fail_on = []
}

train "mlp" {
  dataset    = data_audit.pcam.clean
  model      = { arch = "mlp", hidden_units = [128] }
  epochs     = var.epochs
  batch_size = 128
  optimizer  = { name = "adam", learning_rate = 1e-4 }
  scheduler  = { name = "reduce_on_plateau", factor = 0.5, patience = 1 }
  sampler    = "weighted"
  seeds      = [1, 2, 3]
}

threshold "f2" {
  model   = train.mlp                  # the mean prediction of the three seeds
  dataset = data_audit.pcam.clean
  split   = "valid"
  method  = "max_f_beta"
  beta    = 2
}

evaluate "test" {
  model     = train.mlp
  dataset   = data_audit.pcam.clean
  threshold = threshold.f2
  split     = "test"
  baselines = { majority = true, colour_logistic = true }
  bootstrap = 1000
}
