# The pipeline half of bench/perf/run.sh: train the benchmark models of bench/train on synthetic
# PCAM through the real train stage (HDF5 reading, batching, progress, per-epoch validation,
# metrics and checkpoints included). torch_pipeline.py does the same in PyTorch. run.sh reads the
# images/s that the stage logs for every epoch.
pipeline "perf" {
  seed = 1
}

variable "data" {
  type        = string
  description = "Folder with synthetic PCAM in the official layout (pcamflow data synth)."
}

variable "epochs" {
  type    = number
  default = 2
}

variable "threads" {
  type    = number
  default = 2
}

variable "cnn_limit" {
  type        = number
  default     = 1536
  description = "Training patches of the CNN per epoch (torch_pipeline.py: --limit 1536)."
}

dataset "pcam" {
  dir = var.data
}

train "mlp" {
  dataset    = dataset.pcam
  model      = { arch = "mlp", hidden_units = [128] }
  epochs     = var.epochs
  batch_size = 128
  optimizer  = { name = "adam", learning_rate = 1e-4 }
  sampler    = "shuffle"
  val_limit  = 1024
  threads    = var.threads
}

train "cnn" {
  dataset    = dataset.pcam
  model      = { arch = "cnn", channels = [16, 32] }
  epochs     = var.epochs
  batch_size = 64
  optimizer  = { name = "adam", learning_rate = 1e-4 }
  sampler    = "shuffle"
  limit      = var.cnn_limit
  val_limit  = 1024
  threads    = var.threads
}
