// Package pcam reads and writes PatchCamelyon data: the official HDF5 layout, Kaggle-style TIFF folders
// and PNG folders, all behind one Reader interface, plus a deterministic synthetic generator.
package pcam

// Patch geometry of PCAM: 96x96 RGB, uint8, row-major with interleaved channels.
const (
	Height     = 96
	Width      = 96
	Channels   = 3
	PatchBytes = Height * Width * Channels // 27,648 bytes per patch
)

// Split names a PCAM split.
type Split string

// The three official splits.
const (
	Train Split = "train"
	Valid Split = "valid"
	Test  Split = "test"
)

// Splits lists the official splits in their canonical order.
var Splits = []Split{Train, Valid, Test}

// Reader gives random access to the patches and labels of one split, whatever the storage format.
// Implementations must be safe for use by one goroutine at a time; open one Reader per goroutine
// when reading concurrently.
type Reader interface {
	// Len returns the number of patches in the split.
	Len() int
	// Read copies the patches at the given indices into pix (len(indices)*PatchBytes bytes, in the
	// order of indices) and their labels (0 or 1) into labels (len(indices) bytes). Either slice may
	// be nil to skip it. It returns an error naming the file and dataset on any failure.
	Read(indices []int, pix []byte, labels []uint8) error
	// Source describes where the data comes from (file or folder path), for error messages.
	Source() string
	// Close releases the underlying files.
	Close() error
}
