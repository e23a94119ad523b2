package pcam

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// debianPython is Debian's interpreter, which has python3-h5py (the pyenv python3 on PATH does not).
const debianPython = "/usr/bin/python3"

// requireH5py skips the test when Debian's python3-h5py is not installed.
func requireH5py(t *testing.T) {
	t.Helper()
	if err := exec.Command(debianPython, "-c", "import h5py").Run(); err != nil {
		t.Skipf("skipping: %s cannot import h5py (install Debian's python3-h5py): %v", debianPython, err)
	}
}

func TestReadH5pyFiles(t *testing.T) {
	requireH5py(t)
	const n = 10
	want := make([]byte, n*PatchBytes)
	labels := make([]uint8, n)
	for i := 0; i < n; i++ {
		for j := 0; j < PatchBytes; j++ {
			want[i*PatchBytes+j] = byte((i*7 + j) % 251)
		}
		labels[i] = uint8(i % 2)
	}
	for _, mode := range []string{"gzip", "gzip-auto", "contiguous"} {
		t.Run(mode, func(t *testing.T) {
			dir := t.TempDir()
			cmd := exec.Command(debianPython, "testdata/h5py_write.py", dir, "test", "10", mode)
			cmd.Stderr = os.Stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("h5py writer failed: %v", err)
			}
			r, err := OpenH5(dir, Test)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			t.Logf("h5py %s file layout: %s", mode, r.Layout())
			checkRead(t, r, []int{9, 0, 4, 3, 3, 8}, want, labels)
			if m := r.Meta(); len(m) != n || m[5].CoordY != 480 || !m[5].TumorPatch || m[5].WSI != "camelyon16_train_normal_002" {
				t.Fatalf("meta rows not parsed as written: %+v", m[5])
			}
		})
	}
}

func TestH5pyReadsOurFiles(t *testing.T) {
	requireH5py(t)
	pix, labels := testPatches(6, 5)
	dir := t.TempDir()
	writeTestSplit(t, dir, Train, pix, labels, WriteOptions{Deflate: 1})
	p := SplitFiles(dir, Train)
	script := `import sys, h5py, hashlib
x = h5py.File(sys.argv[1], "r")["x"]; y = h5py.File(sys.argv[2], "r")["y"]
assert x.shape == (6, 96, 96, 3) and x.dtype == "uint8", (x.shape, x.dtype)
assert y.shape == (6, 1, 1, 1) and y.dtype == "uint8", (y.shape, y.dtype)
assert x.compression == "gzip", x.compression
print(hashlib.sha256(x[:].tobytes()).hexdigest(), "".join(str(v) for v in y[:].ravel()))`
	out, err := exec.Command(debianPython, "-c", script, p.X, p.Y).CombinedOutput()
	if err != nil {
		t.Fatalf("h5py could not read our files: %v\n%s", err, out)
	}
	want := sha256Hex(pix) + " 010101\n"
	if string(out) != want {
		t.Fatalf("h5py read %q, want %q", out, want)
	}
}

// TestLZFFileNamesTheMissingFilter: h5py's compression="lzf" (HDF5 filter 32000) is not in Debian's
// HDF5; the file must be refused at open with the filter named, not on the first read with HDF5's
// plugin-path message.
func TestLZFFileNamesTheMissingFilter(t *testing.T) {
	requireH5py(t)
	dir := t.TempDir()
	cmd := exec.Command(debianPython, "testdata/h5py_write.py", dir, "valid", "3", "lzf")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("h5py writer failed: %v", err)
	}
	_, err := OpenH5(dir, Valid)
	if err == nil {
		t.Fatal("OpenH5 accepted an LZF-compressed x file this HDF5 cannot decompress")
	}
	for _, want := range []string{"camelyonpatch_level_2_split_valid_x.h5", `dataset "x"`, "HDF5 filter 32000 (LZF", "gzip"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}
