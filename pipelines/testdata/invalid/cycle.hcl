command "a" {
  run     = ["echo"]
  inputs  = [command.c.outputs[0]]
  outputs = ["a.txt"]
}

command "b" {
  run     = ["echo"]
  inputs  = [command.a.outputs[0]]
  outputs = ["b.txt"]
}

command "c" {
  run     = ["echo"]
  inputs  = [command.b.outputs[0]]
  outputs = ["c.txt"]
}
