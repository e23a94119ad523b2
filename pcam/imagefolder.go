package pcam

import "fmt"

// imageFolder is a Reader over one image file per patch, decoded on demand.
type imageFolder struct {
	source string
	paths  []string
	labels []uint8
	check  func(i int, pix []byte) error // optional per-patch validation (Kaggle ids)
}

// Len returns the number of patches.
func (f *imageFolder) Len() int { return len(f.paths) }

// Source returns the folder the patches come from.
func (f *imageFolder) Source() string { return f.source }

// Close does nothing: files are opened per read.
func (f *imageFolder) Close() error { return nil }

// Labels returns all labels in index order (do not modify).
func (f *imageFolder) Labels() []uint8 { return f.labels }

// Path returns the file of patch i.
func (f *imageFolder) Path(i int) string { return f.paths[i] }

// Read decodes the files at indices (see Reader).
func (f *imageFolder) Read(indices []int, pix []byte, labels []uint8) error {
	if err := checkReadArgs(f, indices, pix, labels); err != nil {
		return err
	}
	for k, i := range indices {
		if labels != nil {
			labels[k] = f.labels[i]
		}
		if pix == nil {
			continue
		}
		dst := pix[k*PatchBytes : (k+1)*PatchBytes]
		if err := f.readOne(i, dst); err != nil {
			return err
		}
	}
	return nil
}

// readOne decodes patch i into dst as RGB bytes (DecodePatchFile: header checked before decoding,
// opaque images only) and applies the folder's per-patch check.
func (f *imageFolder) readOne(i int, dst []byte) error {
	if err := DecodePatchFile(f.paths[i], dst); err != nil {
		return fmt.Errorf("patch %d: %w", i, err)
	}
	if f.check != nil {
		return f.check(i, dst)
	}
	return nil
}
