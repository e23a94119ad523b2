pipeline "many" {
  seed = 1.5
}

command "a" {
  run    = []
  colour = "red"
}

command "b" {
  run        = ["echo", var.nope]
  depends_on = [command.zzz]
}
