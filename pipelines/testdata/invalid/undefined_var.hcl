variable "data_dir" {
  default = "data"
}

command "a" {
  run = ["ls", var.data_dri]
}
