command "a" {
  run    = ["echo"]
  ouputs = ["x"]
}
