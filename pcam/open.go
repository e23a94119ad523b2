package pcam

import (
	"fmt"
	"os"
	"path/filepath"
)

// The dataset formats OpenDir understands.
const (
	FormatH5     = "pcam_h5"    // official HDF5 files (OpenH5)
	FormatKaggle = "kaggle_tif" // Kaggle TIFF folder + labels CSV (OpenKaggle)
	FormatPNG    = "png_folder" // <split>/<label>/*.png (OpenPNGFolder)
)

// Formats lists the accepted format names.
var Formats = []string{FormatH5, FormatKaggle, FormatPNG}

// OpenDir opens split of the dataset in dir stored in format (one of Formats).
func OpenDir(dir, format string, split Split) (Reader, error) {
	switch format {
	case FormatH5:
		return OpenH5(dir, split)
	case FormatKaggle:
		return OpenKaggle(dir, split)
	case FormatPNG:
		return OpenPNGFolder(dir, split)
	}
	return nil, fmt.Errorf("unknown dataset format %q, want one of %q", format, Formats)
}

// SplitPresent reports whether dir holds split in format at all: its x file (pcam_h5), its labels
// CSV (kaggle_tif) or its folder (png_folder) exists. A split that is present but fails to open is
// broken, not absent, and callers must report it rather than skip it.
func SplitPresent(dir, format string, split Split) bool {
	var p string
	switch format {
	case FormatH5:
		p = SplitFiles(dir, split).X
	case FormatKaggle:
		p = filepath.Join(dir, string(split)) + "_labels.csv"
	case FormatPNG:
		p = filepath.Join(dir, string(split))
	default:
		return false
	}
	_, err := os.Stat(p)
	return err == nil
}

// OfficialCount returns the number of patches of split in the official PCAM release
// (train 262,144, valid 32,768, test 32,768), or 0 for an unknown split.
func OfficialCount(split Split) int {
	switch split {
	case Train:
		return 262144
	case Valid, Test:
		return 32768
	}
	return 0
}

// The readers of every format implement Reader.
var (
	_ Reader = (*H5Reader)(nil)
	_ Reader = (*KaggleReader)(nil)
	_ Reader = (*PNGReader)(nil)
)
