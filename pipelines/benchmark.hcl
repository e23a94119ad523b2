# Inference benchmark (issue 11): how fast is inference on a CPU node and on a GPU node, at batch 1
# and above, with the Slurm job id as evidence; and pcamflow's engine against PyTorch on the same
# MLP and CNN, in one table.
#
#   pcamflow run pipelines/benchmark.hcl -target benchmark.partitions   # both partitions, on Slurm
#   pcamflow run pipelines/benchmark.hcl -target benchmark.engines -var python=/usr/bin/python3
#
# The partitions are the local cluster's (scripts/slurm-local.sh: cpu, and gpu with two fake GPUs
# that Slurm hands out with --gres but that compute nothing); on a course cluster write
# thin_course / gpu_course. Read benchmark.partitions' table.md and scaling.png (pcamflow outputs).
pipeline "benchmark" {
  seed = 7
}

variable "python" {
  type        = string
  default     = "python3"
  description = "The Python that has PyTorch (Debian's python3-torch: /usr/bin/python3)."
}

variable "torch_env" {
  type        = list(string)
  default     = []
  description = "Put before PyTorch's command line, e.g. [\"env\", \"OMP_WAIT_POLICY=PASSIVE\"] (no spin-waiting threads on a loaded machine)."
}

variable "cpus" {
  type        = number
  default     = 2
  description = "CPUs of each benchmark job. On the one-node local cluster 2 is the whole node, so the two partitions' jobs run one after the other instead of sharing the cores."
}

variable "batch_sizes" {
  type    = list(number)
  default = [1, 8, 32, 128]
}

variable "images" {
  type        = number
  default     = 2048
  description = "Images measured per batch size, after the warm-up."
}

variable "warmup" {
  type    = number
  default = 64
}

variable "threads" {
  type        = number
  default     = 2
  description = "Threads of the engine comparison (pcamflow run --threads must match)."
}

dataset "pcam" {
  synthetic = { train = 512, valid = 128, test = 128, seed = 7, defects = false }
}

train "mlp" {
  dataset    = dataset.pcam
  model      = { arch = "mlp", hidden_units = [128] }
  epochs     = 1
  batch_size = 128
}

train "cnn" {
  dataset    = dataset.pcam
  model      = { arch = "cnn", channels = [16, 32] }
  epochs     = 1
  batch_size = 64
}

# One node per partition, each its own Slurm job; partition = each.value puts the partition in the
# node's key, so the two measurements are two cache entries.
benchmark "inference" {
  for_each    = { cpu = "cpu", gpu = "gpu" }
  model       = train.cnn
  batch_sizes = var.batch_sizes
  images      = var.images
  warmup      = var.warmup
  partition   = each.value

  resources {
    executor  = "slurm"
    partition = each.value
    gpus      = each.key == "gpu" ? 1 : 0
    cpus      = var.cpus
  }
}

# The table over both partitions: | Partition | Node type | Throughput (img/s) | Job ID |
benchmark "partitions" {
  collect = benchmark.inference
}

# pcamflow's engine and PyTorch on the same MLP and CNN, same threads, one after the other.
benchmark "native_mlp" {
  model       = train.mlp
  batch_sizes = var.batch_sizes
  images      = var.images
  warmup      = var.warmup
  threads     = var.threads
}

benchmark "torch_mlp" {
  command     = concat(var.torch_env, [var.python, "examples/bench_torch.py", "--arch", "mlp", "--hidden-units", "128"])
  batch_sizes = var.batch_sizes
  images      = var.images
  warmup      = var.warmup
  threads     = var.threads
  depends_on  = [benchmark.native_mlp]
}

benchmark "native_cnn" {
  model       = train.cnn
  batch_sizes = var.batch_sizes
  images      = var.images
  warmup      = var.warmup
  threads     = var.threads
  depends_on  = [benchmark.torch_mlp]
}

benchmark "torch_cnn" {
  command     = concat(var.torch_env, [var.python, "examples/bench_torch.py", "--arch", "cnn", "--channels", "16,32"])
  batch_sizes = var.batch_sizes
  images      = var.images
  warmup      = var.warmup
  threads     = var.threads
  depends_on  = [benchmark.native_cnn]
}

benchmark "engines" {
  collect = [benchmark.native_mlp, benchmark.torch_mlp, benchmark.native_cnn, benchmark.torch_cnn]
}
