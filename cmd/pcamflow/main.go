// Command pcamflow runs machine-learning pipelines for PatchCamelyon from declarative HCL files as a
// content-hashed, cached DAG. See the README for the quick start and the CLI reference.
package main

import (
	"os"

	"github.com/pcamflow/pcamflow/cli"
)

func main() {
	os.Exit(cli.Main())
}
