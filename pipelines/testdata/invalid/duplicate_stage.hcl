command "a" {
  run = ["echo"]
}

command "a" {
  run = ["echo", "again"]
}
