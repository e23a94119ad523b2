comand "a" {
  run = ["echo"]
}
