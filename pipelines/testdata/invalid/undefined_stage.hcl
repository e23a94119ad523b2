command "prep" {
  run     = ["echo"]
  outputs = ["x"]
}

command "b" {
  run    = ["cat"]
  inputs = [command.perp.outputs[0]]
}
