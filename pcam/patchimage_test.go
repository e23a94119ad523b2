package pcam

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// craftTIFF returns a little-endian baseline RGB TIFF that declares w×h pixels with bps bits per
// sample and the given compression (1 none, 8 deflate), with strip as its only strip. Only the header
// has to be believable: the readers must refuse the file from it.
func craftTIFF(w, h uint32, bps, compression uint16, strip []byte) []byte {
	type entry struct {
		tag, typ uint16
		count    uint32
		value    uint32
	}
	const short, long = 3, 4
	const nEntries = 9
	ifd := uint32(8)
	bpsAt := ifd + 2 + nEntries*12 + 4
	stripAt := bpsAt + 6
	entries := []entry{
		{256, long, 1, w}, {257, long, 1, h}, {258, short, 3, bpsAt}, {259, short, 1, uint32(compression)},
		{262, short, 1, 2}, {273, long, 1, stripAt}, {277, short, 1, 3}, {278, long, 1, h},
		{279, long, 1, uint32(len(strip))},
	}
	var b bytes.Buffer
	le := binary.LittleEndian
	b.WriteString("II*\x00")
	binary.Write(&b, le, ifd)
	binary.Write(&b, le, uint16(len(entries)))
	for _, e := range entries {
		binary.Write(&b, le, e.tag)
		binary.Write(&b, le, e.typ)
		binary.Write(&b, le, e.count)
		if e.typ == short && e.count == 1 {
			binary.Write(&b, le, uint16(e.value))
			binary.Write(&b, le, uint16(0))
		} else {
			binary.Write(&b, le, e.value)
		}
	}
	binary.Write(&b, le, uint32(0)) // no next IFD
	for range 3 {
		binary.Write(&b, le, bps)
	}
	b.Write(strip)
	return b.Bytes()
}

// zlibOf compresses n zero bytes.
func zlibOf(n int) []byte {
	var b bytes.Buffer
	z, _ := zlib.NewWriterLevel(&b, zlib.BestCompression)
	z.Write(make([]byte, n))
	z.Close()
	return b.Bytes()
}

// craftPNG returns an 8-bit RGB PNG declaring w×h pixels whose IDAT holds the given zlib stream.
func craftPNG(w, h uint32, idat []byte) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		binary.Write(&b, binary.BigEndian, uint32(len(data)))
		crc := crc32.NewIEEE()
		crc.Write([]byte(typ))
		crc.Write(data)
		b.WriteString(typ)
		b.Write(data)
		binary.Write(&b, binary.BigEndian, crc.Sum32())
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 2 // 8-bit truecolour
	chunk("IHDR", ihdr)
	chunk("IDAT", idat)
	chunk("IEND", nil)
	return b.Bytes()
}

// encodePNG encodes img as PNG.
func encodePNG(t *testing.T, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// opaqueNRGBA is a 96×96 opaque test image.
func opaqueNRGBA() *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, Width, Height))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 7)
		if i%4 == 3 {
			img.Pix[i] = 255
		}
	}
	return img
}

// allocatedBy returns the bytes allocated while f runs.
func allocatedBy(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestDecodePatchFileRefusesBadImages: every file below must be refused with a message naming the
// file and the problem, and files that declare a big image must be refused from their header, before
// any pixel memory is allocated (they used to be decoded in full: out of memory for the big ones).
func TestDecodePatchFileRefusesBadImages(t *testing.T) {
	translucent := opaqueNRGBA()
	translucent.Pix[4*(5*Width+3)+3] = 200 // pixel (3,5)
	pal := image.NewPaletted(image.Rect(0, 0, Width, Height), color.Palette{color.NRGBA{10, 20, 30, 255}, color.NRGBA{0, 0, 0, 0}})
	pal.Pix[Width*2+1] = 1 // pixel (1,2) transparent
	deep := image.NewRGBA64(image.Rect(0, 0, Width, Height))
	for i := range deep.Pix {
		deep.Pix[i] = 0xff
	}
	cases := []struct {
		name     string
		file     []byte
		want     string
		maxAlloc uint64 // 0: not measured
	}{
		{"tiff declaring 100000x100000", craftTIFF(100000, 100000, 8, 1, make([]byte, 16)), "declares 100000x100000 pixels", 1 << 20},
		{"deflate tiff of 60000x60000", craftTIFF(60000, 60000, 8, 8, zlibOf(1<<16)), "declares 60000x60000 pixels", 1 << 20},
		{"png of 60000x60000", craftPNG(60000, 60000, zlibOf(1<<20)), "declares 60000x60000 pixels", 1 << 20},
		// Small enough to be decoded by the old code (64 MB) so that the allocation check fails there.
		{"tiff declaring 4000x4000", craftTIFF(4000, 4000, 8, 8, zlibOf(4000*3*4000)), "declares 4000x4000 pixels", 1 << 20},
		{"16-bit png", encodePNG(t, deep), "16 bits per channel", 0},
		{"translucent rgba png", encodePNG(t, translucent), "pixel (3,5) has alpha 200 of 255", 0},
		{"transparent palette entry", encodePNG(t, pal), "pixel (1,2) has alpha 0 of 255", 0},
		{"not an image", []byte("GIF89a, or anything else"), "not a PNG or TIFF image", 0},
		{"truncated png", encodePNG(t, opaqueNRGBA())[:200], "decoding the png image", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "patch.img")
			if err := os.WriteFile(path, c.file, 0o644); err != nil {
				t.Fatal(err)
			}
			var err error
			alloc := allocatedBy(func() { err = DecodePatchFile(path, make([]byte, PatchBytes)) })
			if err == nil {
				t.Fatal("DecodePatchFile accepted the file")
			}
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q does not name the file and say %q", err, c.want)
			}
			if c.maxAlloc > 0 && alloc > c.maxAlloc+PatchBytes {
				t.Errorf("refusing the file allocated %d bytes; the header alone must decide", alloc)
			}
		})
	}
}

// TestDecodePatchFileAcceptsPatches: opaque RGBA, gray and opaque paletted PNGs are converted to RGB
// with their exact bytes, and CheckPatchFile agrees with DecodePatchFile on the header.
func TestDecodePatchFileAcceptsPatches(t *testing.T) {
	src := opaqueNRGBA()
	gray := image.NewGray(image.Rect(0, 0, Width, Height))
	for i := range gray.Pix {
		gray.Pix[i] = byte(i)
	}
	for _, c := range []struct {
		name string
		img  image.Image
		want func(x, y int) [3]byte
	}{
		{"opaque rgba", src, func(x, y int) [3]byte {
			p := src.Pix[4*(y*Width+x):]
			return [3]byte{p[0], p[1], p[2]}
		}},
		{"gray", gray, func(x, y int) [3]byte { v := gray.Pix[y*Width+x]; return [3]byte{v, v, v} }},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "p.png")
			os.WriteFile(path, encodePNG(t, c.img), 0o644)
			if err := CheckPatchFile(path); err != nil {
				t.Fatal(err)
			}
			dst := make([]byte, PatchBytes)
			if err := DecodePatchFile(path, dst); err != nil {
				t.Fatal(err)
			}
			for y := range Height {
				for x := range Width {
					if got := [3]byte(dst[3*(y*Width+x):]); got != c.want(x, y) {
						t.Fatalf("pixel (%d,%d) = %v, want %v", x, y, got, c.want(x, y))
					}
				}
			}
		})
	}
}

// TestFolderReadersRefuseBombsAndAlpha: the dataset readers go through DecodePatchFile, so a bomb or a
// translucent patch in a png_folder or kaggle_tif dataset fails its read naming the file.
func TestFolderReadersRefuseBombsAndAlpha(t *testing.T) {
	t.Run("png_folder", func(t *testing.T) {
		dir := t.TempDir()
		translucent := opaqueNRGBA()
		translucent.Pix[3] = 254
		files := map[string][]byte{
			"0/a.png": encodePNG(t, opaqueNRGBA()), "0/b.png": craftPNG(60000, 60000, zlibOf(1<<16)),
			"1/c.png": encodePNG(t, translucent),
		}
		for name, b := range files {
			p := filepath.Join(dir, "train", name)
			os.MkdirAll(filepath.Dir(p), 0o755)
			os.WriteFile(p, b, 0o644)
		}
		r, err := OpenPNGFolder(dir, Train)
		if err != nil {
			t.Fatal(err)
		}
		pix := make([]byte, PatchBytes)
		if err := r.Read([]int{0}, pix, nil); err != nil {
			t.Fatalf("opaque patch: %v", err)
		}
		for i, want := range map[int]string{1: "b.png: the png header declares 60000x60000", 2: "c.png: pixel (0,0) has alpha 254"} {
			if err := r.Read([]int{i}, pix, nil); err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("patch %d: error %v, want %q", i, err, want)
			}
		}
	})
	t.Run("kaggle_tif", func(t *testing.T) {
		dir := copyKaggle(t)
		const first = "f38a6374c348f90b587e046aac6079959adf3835"
		os.WriteFile(filepath.Join(dir, "train", first+".tif"), craftTIFF(100000, 100000, 8, 1, nil), 0o644)
		r, err := OpenKaggle(dir, Train)
		if err != nil {
			t.Fatal(err)
		}
		err = r.Read([]int{0}, make([]byte, PatchBytes), nil)
		if err == nil || !strings.Contains(err.Error(), first+".tif: the tiff header declares 100000x100000 pixels") {
			t.Fatalf("bomb in a Kaggle folder: error %v", err)
		}
	})
}
