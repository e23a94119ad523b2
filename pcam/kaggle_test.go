package pcam

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const kaggleFixture = "testdata/kaggle" // 15 real PCAM patches from the Kaggle release (see README there)

// readAllFrom reads every patch of r.
func readAllFrom(t *testing.T, r Reader) ([]byte, []uint8) {
	t.Helper()
	idx := make([]int, r.Len())
	for i := range idx {
		idx[i] = i
	}
	pix := make([]byte, r.Len()*PatchBytes)
	lab := make([]uint8, r.Len())
	if err := r.Read(idx, pix, lab); err != nil {
		t.Fatal(err)
	}
	return pix, lab
}

func TestKaggleRealPatches(t *testing.T) {
	r, err := OpenDir(kaggleFixture, FormatKaggle, Train)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	pix, lab := readAllFrom(t, r)
	pos := 0
	for _, l := range lab {
		pos += int(l)
	}
	if r.Len() != 15 || pos != 5 {
		t.Fatalf("%d patches, %d positive; want 15 and 5", r.Len(), pos)
	}
	kr := r.(*KaggleReader)
	for i, id := range kr.IDs() {
		if KaggleID(pix[i*PatchBytes:(i+1)*PatchBytes]) != id {
			t.Fatalf("patch %d: SHA-1 does not match id %s", i, id)
		}
	}
	var st PixelStats
	st.Add(pix)
	t.Logf("real Kaggle patches: mean %.3f std %.3f", st.Mean(), st.Std())
	if m := st.Mean(); m[1] > m[0] || m[1] > m[2] {
		t.Fatalf("real H&E should be pink/purple (green lowest), got mean %v", m)
	}
}

// copyKaggle copies the fixture into a fresh folder that a test may spoil.
func copyKaggle(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "train"), 0o755)
	files, _ := filepath.Glob(filepath.Join(kaggleFixture, "train", "*.tif"))
	for _, f := range append(files, filepath.Join(kaggleFixture, "train_labels.csv")) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(kaggleFixture, f)
		os.WriteFile(filepath.Join(dir, rel), b, 0o644)
	}
	return dir
}

func TestKaggleErrors(t *testing.T) {
	const first = "f38a6374c348f90b587e046aac6079959adf3835"
	cases := []struct {
		name    string
		spoil   func(dir string)
		openErr bool
		want    string
	}{
		{"missing tif", func(d string) { os.Remove(filepath.Join(d, "train", first+".tif")) }, true, first},
		{"label outside {0,1}", func(d string) { replaceIn(d, "train_labels.csv", first+",0", first+",2") }, true, "labels must be 0 or 1"},
		{"bad header", func(d string) { replaceIn(d, "train_labels.csv", ",id,label", "name,y") }, true, "header"},
		{"no id header, plain form", func(d string) { replaceIn(d, "train_labels.csv", ",id,label", "id,label") }, true, "line 2"},
		{"id does not match pixels", func(d string) {
			other := "c18f2d887b7ae4f6742ee445113fa1aef383ed77"
			b, _ := os.ReadFile(filepath.Join(d, "train", other+".tif"))
			os.WriteFile(filepath.Join(d, "train", first+".tif"), b, 0o644)
		}, false, "not the id in the file name"},
		{"not a tiff", func(d string) { os.WriteFile(filepath.Join(d, "train", first+".tif"), []byte("x"), 0o644) }, false, first + ".tif: not a PNG or TIFF image"},
		// bytes 8-9 of a Kaggle TIFF are its IFD entry count: 65535 entries run past the end of the file.
		{"corrupt ifd", func(d string) { spoilBytes(d, "train/"+first+".tif", 8, 0xff, 0xff) }, false, first + ".tif: reading the image header: the file is truncated or corrupt"},
		{"path in the id column", func(d string) { replaceIn(d, "train_labels.csv", first, "../../../../etc/passwd") }, true,
			"train_labels.csv line 2: id \"../../../../etc/passwd\" is not a Kaggle image id"},
		{"upper-case id", func(d string) { replaceIn(d, "train_labels.csv", first, strings.ToUpper(first)) }, true, "line 2: id"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := copyKaggle(t)
			c.spoil(dir)
			r, err := OpenKaggle(dir, Train)
			if err == nil {
				if c.openErr {
					t.Fatal("OpenKaggle accepted the spoiled folder")
				}
				err = r.Read([]int{0}, make([]byte, PatchBytes), nil)
				if err == nil {
					t.Fatal("Read accepted the spoiled patch")
				}
			} else if !c.openErr {
				t.Fatalf("OpenKaggle: %v", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q does not mention %q", err, c.want)
			}
		})
	}
}

// spoilBytes overwrites the bytes of dir/name at off.
func spoilBytes(dir, name string, off int, b ...byte) {
	p := filepath.Join(dir, name)
	data, _ := os.ReadFile(p)
	copy(data[off:], b)
	os.WriteFile(p, data, 0o644)
}

// replaceIn replaces old by new in dir/name.
func replaceIn(dir, name, old, new string) {
	p := filepath.Join(dir, name)
	b, _ := os.ReadFile(p)
	os.WriteFile(p, []byte(strings.Replace(string(b), old, new, 1)), 0o644)
}

func TestPNGFolderRoundTrip(t *testing.T) {
	k, err := OpenKaggle(kaggleFixture, Train)
	if err != nil {
		t.Fatal(err)
	}
	kpix, klab := readAllFrom(t, k)
	dir := t.TempDir()
	if err := WritePNGFolder(dir, Valid, k); err != nil {
		t.Fatal(err)
	}
	r, err := OpenDir(dir, FormatPNG, Valid)
	if err != nil {
		t.Fatal(err)
	}
	pix, lab := readAllFrom(t, r)
	// The PNG reader orders by class folder, then file name (= Kaggle index).
	pos := 0
	for _, want := range []uint8{0, 1} {
		for i, l := range klab {
			if l != want {
				continue
			}
			if lab[pos] != want || !bytes.Equal(pix[pos*PatchBytes:(pos+1)*PatchBytes], kpix[i*PatchBytes:(i+1)*PatchBytes]) {
				t.Fatalf("PNG patch %d differs from Kaggle patch %d", pos, i)
			}
			pos++
		}
	}
	if _, err := OpenPNGFolder(dir, Test); err == nil {
		t.Fatal("opened a missing PNG split")
	}
}

func TestOpenDirUnknownFormat(t *testing.T) {
	if _, err := OpenDir(".", "parquet", Train); err == nil || !strings.Contains(err.Error(), "pcam_h5") {
		t.Fatalf("unknown format error %v should list the valid formats", err)
	}
}

func TestWriteSplitFromKaggle(t *testing.T) {
	k, err := OpenKaggle(kaggleFixture, Train)
	if err != nil {
		t.Fatal(err)
	}
	kpix, klab := readAllFrom(t, k)
	dir := t.TempDir()
	if err := WriteSplit(dir, Test, k, WriteOptions{Deflate: 6}); err != nil {
		t.Fatal(err)
	}
	r, err := OpenH5(dir, Test)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	checkRead(t, r, []int{14, 2, 7, 0}, kpix, klab)
}
