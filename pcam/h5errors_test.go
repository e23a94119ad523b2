package pcam

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gonum.org/v1/hdf5"
)

// writeRawH5 writes one dataset of any type and shape into a new HDF5 file with gonum, for building
// malformed inputs the package's own writer refuses to produce.
func writeRawH5(t *testing.T, path, name string, dtype *hdf5.Datatype, dims []uint, data any) {
	t.Helper()
	f, err := hdf5.CreateFile(path, hdf5.F_ACC_TRUNC)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sp, err := hdf5.CreateSimpleDataspace(dims, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	d, err := f.CreateDataset(name, dtype, sp)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ptr := reflect.New(reflect.TypeOf(data))
	ptr.Elem().Set(reflect.ValueOf(data))
	if err := d.Write(ptr.Interface()); err != nil {
		t.Fatal(err)
	}
}

func TestOpenH5Errors(t *testing.T) {
	const n = 4
	pix, labels := testPatches(n, 2)
	cases := []struct {
		name  string
		spoil func(t *testing.T, p SplitPaths)
		want  []string // substrings of the error; "X"/"Y"/"META" stand for the file paths
	}{
		{"missing x file", func(t *testing.T, p SplitPaths) { os.Remove(p.X) },
			[]string{"X", "no such file"}},
		{"missing y file", func(t *testing.T, p SplitPaths) { os.Remove(p.Y) },
			[]string{"Y", "no such file"}},
		{"truncated x file", func(t *testing.T, p SplitPaths) { os.Truncate(p.X, 40000) },
			[]string{"X", "truncated or corrupt"}},
		{"not HDF5 at all", func(t *testing.T, p SplitPaths) { os.WriteFile(p.X, []byte("garbage, not hdf5"), 0o644) },
			[]string{"X", "truncated or corrupt"}},
		{"wrong dataset name", func(t *testing.T, p SplitPaths) {
			writeRawH5(t, p.X, "images", hdf5.T_NATIVE_UINT8, []uint{n, 96, 96, 3}, pix)
		}, []string{"X", `no dataset "x"`, `"images"`}},
		{"wrong shape", func(t *testing.T, p SplitPaths) {
			writeRawH5(t, p.X, "x", hdf5.T_NATIVE_UINT8, []uint{n, 96, 96, 1}, make([]uint8, n*96*96))
		}, []string{"X", `dataset "x" has shape (4,96,96,1)`}},
		{"wrong x dtype", func(t *testing.T, p SplitPaths) {
			writeRawH5(t, p.X, "x", hdf5.T_NATIVE_FLOAT, []uint{n, 96, 96, 3}, make([]float32, n*PatchBytes))
		}, []string{"X", `dataset "x" has element type`, "want uint8"}},
		{"signed x dtype", func(t *testing.T, p SplitPaths) {
			writeRawH5(t, p.X, "x", hdf5.T_NATIVE_INT8, []uint{n, 96, 96, 3}, make([]int8, n*PatchBytes))
		}, []string{"X", "int8", "want uint8"}},
		{"wrong y dtype", func(t *testing.T, p SplitPaths) {
			writeRawH5(t, p.Y, "y", hdf5.T_NATIVE_DOUBLE, []uint{n, 1, 1, 1}, make([]float64, n))
		}, []string{"Y", `dataset "y"`, "want an integer type"}},
		{"wrong y shape", func(t *testing.T, p SplitPaths) {
			writeRawH5(t, p.Y, "y", hdf5.T_NATIVE_UINT8, []uint{n, 2}, make([]uint8, 2*n))
		}, []string{"Y", `dataset "y" has shape (4,2)`}},
		{"label outside {0,1}", func(t *testing.T, p SplitPaths) {
			writeRawH5(t, p.Y, "y", hdf5.T_NATIVE_INT64, []uint{n, 1, 1, 1}, []int64{0, 1, 2, 0})
		}, []string{"Y", "label at index 2 is 2"}},
		{"negative label", func(t *testing.T, p SplitPaths) {
			writeRawH5(t, p.Y, "y", hdf5.T_NATIVE_INT16, []uint{n, 1, 1, 1}, []int16{0, 1, 0, -1})
		}, []string{"Y", "label at index 3 is -1"}},
		{"x and y lengths differ", func(t *testing.T, p SplitPaths) {
			writeRawH5(t, p.Y, "y", hdf5.T_NATIVE_UINT8, []uint{n - 1, 1, 1, 1}, []uint8{0, 1, 0})
		}, []string{"Y", "has 3 labels", "X", "has 4 images"}},
		{"meta CSV row count", func(t *testing.T, p SplitPaths) {
			os.WriteFile(p.Meta, []byte(",coord_y,coord_x,tumor_patch,center_tumor_patch,wsi\n0,1,2,False,False,w\n"), 0o644)
		}, []string{"META", "has 1 rows", "has 4 images"}},
		{"meta CSV bad header", func(t *testing.T, p SplitPaths) {
			os.WriteFile(p.Meta, []byte("a,b\n"), 0o644)
		}, []string{"META", "header"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			writeTestSplit(t, dir, Train, pix, labels, WriteOptions{})
			p := SplitFiles(dir, Train)
			c.spoil(t, p)
			r, err := OpenH5(dir, Train)
			if err == nil {
				r.Close()
				t.Fatal("OpenH5 accepted a malformed split")
			}
			t.Logf("error: %v", err)
			for _, w := range c.want {
				w = strings.NewReplacer("META", p.Meta, "X", p.X, "Y", p.Y).Replace(w)
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestOpenH5SilencesHDF5Stack(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "camelyonpatch_level_2_split_test_x.h5"), []byte("nope"), 0o644)
	stderr := captureStderr(t, func() {
		if _, err := OpenH5(dir, Test); err == nil {
			t.Fatal("opened a non-HDF5 file")
		}
	})
	if strings.Contains(stderr, "HDF5-DIAG") {
		t.Fatalf("HDF5 printed its error stack:\n%s", stderr)
	}
}

// captureStderr runs fn with file descriptor 2 redirected and returns what was written to it.
func captureStderr(t *testing.T, fn func()) string {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	restore := redirectFD2(t, f)
	fn()
	restore()
	b, _ := os.ReadFile(f.Name())
	return string(b)
}

func TestReadCorruptChunk(t *testing.T) {
	dir := t.TempDir()
	pix, labels := testPatches(5, 8)
	writeTestSplit(t, dir, Valid, pix, labels, WriteOptions{Deflate: 1})
	r, err := OpenH5(dir, Valid)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := readChunks(r.xid, []uint64{2}, &[]byte{0})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(SplitFiles(dir, Valid).X)
	at := bytes.Index(raw, stored[0].data)
	r.Close()
	if at < 0 {
		t.Fatal("stored chunk bytes not found in the file")
	}
	f, err := os.OpenFile(SplitFiles(dir, Valid).X, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte("this is not a deflate stream at all"), int64(at)+2)
	f.Close()
	r, err = OpenH5(dir, Valid)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	err = r.Read([]int{0, 2}, make([]byte, 2*PatchBytes), nil)
	if err == nil || !strings.Contains(err.Error(), "chunk at row 2") || !strings.Contains(err.Error(), SplitFiles(dir, Valid).X) {
		t.Fatalf("corrupt chunk: error %v should name the file and the chunk", err)
	}
	t.Logf("error: %v", err)
}
