command "a" {
  outputs = ["x"]
}
