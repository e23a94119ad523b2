package audit

import (
	"fmt"
	"os"
)

// readFile reads a whole file with an error that names it.
func readFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("audit: read %s: %w", path, err)
	}
	return b, nil
}
