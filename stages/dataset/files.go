package dataset

import (
	"os"

	"github.com/pcamflow/pcamflow/internal/atomicfile"
)

// writeFile writes data to path atomically.
func writeFile(path string, data []byte) error {
	return atomicfile.Write(path, data, os.FileMode(0o644))
}
