package pcam

import (
	"fmt"

	"gonum.org/v1/hdf5"
)

// knownFilters names the registered HDF5 filters a PCAM file is likely to use, by filter id
// (https://github.com/HDFGroup/hdf5_plugins/blob/master/docs/RegisteredFilterPlugins.md).
var knownFilters = map[int]string{
	1:     "deflate (gzip)",
	2:     "shuffle",
	3:     "fletcher32",
	4:     "szip",
	5:     "nbit",
	6:     "scaleoffset",
	307:   "bzip2",
	32000: `LZF, h5py's compression="lzf"`,
	32001: "Blosc",
	32004: "LZ4",
	32008: "bitshuffle",
	32013: "zfp",
	32015: "Zstandard",
	32026: "Blosc2",
}

// filterName names an HDF5 filter id for messages.
func filterName(id int) string {
	if n, ok := knownFilters[id]; ok {
		return n
	}
	return "an unregistered or third-party filter"
}

// checkFilters returns an error naming the file, the dataset and each filter of info that this HDF5
// library cannot apply, so that an LZF- or Blosc-compressed file is refused at open with what to do,
// instead of failing on the first read with HDF5's "can't open directory" plugin message.
func checkFilters(info dsetInfo, path, name string) error {
	for _, id := range info.filters {
		if filterAvailable(id) {
			continue
		}
		return fmt.Errorf("%s: dataset %q is compressed with HDF5 filter %d (%s), which the HDF5 library pcamflow uses cannot decompress "+
			"(no plugin for it is installed; built in are deflate/gzip, shuffle, fletcher32, szip, nbit and scaleoffset); "+
			"rewrite the file with gzip or without compression, e.g. with h5py, which reads LZF: "+
			"copy %q in slices into a new file created with compression=\"gzip\"",
			path, name, id, filterName(id), name)
	}
	return nil
}

// CheckDatasetFilters checks that every filter (compression) of dataset d can be applied by the HDF5
// library in use; the error names path, the dataset name and the missing filter (for example 32000,
// LZF). Readers that open HDF5 datasets themselves should call it before reading.
func CheckDatasetFilters(d *hdf5.Dataset, path, name string) error {
	dims, err := datasetDims(d, path, name)
	if err != nil {
		return err
	}
	info, err := inspect(d.ID(), max(len(dims), 1))
	if err != nil {
		return fmt.Errorf("%s: dataset %q: %w", path, name, err)
	}
	return checkFilters(info, path, name)
}
