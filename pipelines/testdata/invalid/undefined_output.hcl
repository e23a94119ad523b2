command "prep" {
  run     = ["echo"]
  outputs = { data = "x" }
}

command "b" {
  run    = ["cat"]
  inputs = [command.prep.outputs.dta]
}
