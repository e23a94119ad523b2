# The quickstart pipeline: a small chain of command stages that runs anywhere.
pipeline "quickstart" {
  seed = 42
}

variable "count" {
  type        = number
  default     = 1000
  description = "How many numbers to generate."

  validation {
    condition     = var.count > 0
    error_message = "count must be positive."
  }
}

command "generate" {
  run     = ["sh", "-c", "seq 1 ${var.count} > data/numbers.txt"]
  outputs = { numbers = "data/numbers.txt" }
}

command "sum" {
  run     = ["sh", "-c", "awk '{s += $1} END {print s}' ${command.generate.outputs.numbers} > results/sum.txt"]
  inputs  = [command.generate.outputs.numbers]
  outputs = { sum = "results/sum.txt" }
}
