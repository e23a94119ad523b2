command "a" {
  run = ["echo", "hi"
}
