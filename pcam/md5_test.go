package pcam

import (
	"os"
	"testing"
)

func TestVerifyMD5(t *testing.T) {
	dir := t.TempDir()
	pix, labels := testPatches(5, 4)
	writeTestSplit(t, dir, Train, pix, labels, WriteOptions{})
	writeTestSplit(t, dir, Valid, pix, labels, WriteOptions{Deflate: 1})
	p := SplitFiles(dir, Valid)
	st, _ := os.Stat(p.X)
	os.Truncate(p.X, st.Size()-1000)
	os.WriteFile(p.Y, []byte("definitely not hdf5"), 0o644)
	checks, err := VerifyMD5(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []CheckStatus{CheckMismatch, CheckMismatch, CheckTruncated, CheckNotHDF5, CheckMissing, CheckMissing}
	for i, c := range checks {
		if c.Status != want[i] {
			t.Errorf("%s: status %s, want %s (%s)", c.File, c.Status, want[i], c.Detail)
		}
		if c.Want == "" {
			t.Errorf("%s: no published MD5", c.File)
		}
	}
	if checks[0].Got == "" || checks[2].Detail == "" {
		t.Errorf("missing details: %+v", checks[:3])
	}
}

func TestVerifyMD5AcceptsMatchingFile(t *testing.T) {
	dir := t.TempDir()
	pix, labels := testPatches(3, 4)
	writeTestSplit(t, dir, Test, pix, labels, WriteOptions{})
	p := SplitFiles(dir, Test)
	c, err := checkFile(p.Y)
	if err != nil {
		t.Fatal(err)
	}
	// Pretend this file is official: the same bytes must then verify as ok.
	saved := OfficialMD5["camelyonpatch_level_2_split_test_y.h5"]
	OfficialMD5["camelyonpatch_level_2_split_test_y.h5"] = c.Got
	defer func() { OfficialMD5["camelyonpatch_level_2_split_test_y.h5"] = saved }()
	if c, _ = checkFile(p.Y); c.Status != CheckOK {
		t.Fatalf("status %s, want ok", c.Status)
	}
}
