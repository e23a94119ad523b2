pipeline "diamond" {
  seed = 7
}

variable "greeting" {
  type    = string
  default = "hello"
}

locals {
  upper = upper(var.greeting)
}

command "a" {
  run     = ["sh", "-c", "echo ${local.upper} > out/a.txt"]
  outputs = ["out/a.txt"]
}

command "b" {
  run     = ["sh", "-c", "cat ${command.a.outputs[0]} > out/b.txt"]
  inputs  = [command.a.outputs[0]]
  outputs = ["out/b.txt"]
}

command "c" {
  run     = ["sh", "-c", "cat out/a.txt > out/c.txt"]
  inputs  = command.a.outputs
  outputs = { c = "out/c.txt" }
}

command "d" {
  run        = ["sh", "-c", "cat out/b.txt out/c.txt > out/d.txt"]
  inputs     = [command.b.outputs[0], command.c.outputs.c]
  outputs    = ["out/d.txt"]
  depends_on = [command.a]

  resources {
    executor  = "local"
    partition = "thin_course"
    time      = "00:10:00"
  }
}
