package pcam

// The HDF5 operations gonum.org/v1/hdf5 does not wrap: reads with an explicit native memory type and
// multi-run selections, direct chunk I/O (so that deflate runs in parallel outside the HDF5 global
// lock), dataset layout inspection, creation property lists without timestamps, quiet error stacks.

/*
#cgo LDFLAGS: -lhdf5 -lz
#include <stdlib.h>
#include <string.h>
#include <hdf5.h>
#include <zlib.h>

static void pc_quiet(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

static herr_t pc_walk_cb(unsigned n, const H5E_error2_t *e, void *data) {
	char *buf = (char *)data;
	if (n == 0 && e->desc != NULL) {
		strncpy(buf, e->desc, 255);
		buf[255] = 0;
	}
	return 0;
}

// pc_errmsg copies the most specific message of this thread's HDF5 error stack into buf (256 bytes).
static void pc_errmsg(char *buf) {
	buf[0] = 0;
	H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, pc_walk_cb, buf);
	H5Eclear2(H5E_DEFAULT);
}

// pc_info describes dataset d: layout, chunk dims (up to 8), filter count, the ids of the first 8
// filters, whether the only filter is deflate, and the element type class, size and sign.
static int pc_info(hid_t d, int *layout, hsize_t *chunk, int *nfilters, int *filters, int *deflate_only,
                   int *tclass, size_t *tsize, int *tsign) {
	hid_t p = H5Dget_create_plist(d);
	if (p < 0) return -1;
	*layout = (int)H5Pget_layout(p);
	*nfilters = 0;
	*deflate_only = 0;
	if (*layout == H5D_CHUNKED) {
		if (H5Pget_chunk(p, 8, chunk) < 0) { H5Pclose(p); return -1; }
		*nfilters = H5Pget_nfilters(p);
		for (int i = 0; i < *nfilters && i < 8; i++) {
			unsigned flags; size_t nelm = 0; unsigned cd[8]; char name[64]; unsigned fc;
			filters[i] = (int)H5Pget_filter2(p, (unsigned)i, &flags, &nelm, cd, sizeof name, name, &fc);
		}
		*deflate_only = (*nfilters == 1 && filters[0] == H5Z_FILTER_DEFLATE);
	}
	H5Pclose(p);
	hid_t t = H5Dget_type(d);
	if (t < 0) return -1;
	*tclass = (int)H5Tget_class(t);
	*tsize = H5Tget_size(t);
	*tsign = (int)H5Tget_sign(t);
	H5Tclose(t);
	return 0;
}

// pc_read_rows reads nruns runs of whole rows [start, start+count) along dimension 0 of the rank-r
// dataset d into buf (contiguous, in run order), converting to memory type kind (0 = uint8, 1 = int64).
static herr_t pc_read_rows(hid_t d, int kind, int rank, const hsize_t *dims, int nruns,
                           const hsize_t *starts, const hsize_t *counts, void *buf) {
	hid_t fs = H5Dget_space(d);
	if (fs < 0) return -1;
	hsize_t off[8] = {0}, cnt[8];
	hsize_t total = 0;
	herr_t rc = 0;
	for (int i = 0; i < rank; i++) cnt[i] = dims[i];
	for (int r = 0; r < nruns && rc >= 0; r++) {
		off[0] = starts[r];
		cnt[0] = counts[r];
		total += counts[r];
		rc = H5Sselect_hyperslab(fs, r == 0 ? H5S_SELECT_SET : H5S_SELECT_OR, off, NULL, cnt, NULL);
	}
	if (rc < 0) { H5Sclose(fs); return -1; }
	hsize_t mdims[8];
	mdims[0] = total;
	for (int i = 1; i < rank; i++) mdims[i] = dims[i];
	hid_t ms = H5Screate_simple(rank, mdims, NULL);
	hid_t mt = kind == 0 ? H5T_NATIVE_UINT8 : H5T_NATIVE_INT64;
	rc = H5Dread(d, mt, ms, fs, H5P_DEFAULT, buf);
	H5Sclose(ms);
	H5Sclose(fs);
	return rc;
}

// pc_read_chunks reads the stored bytes of n chunks (given by their first row) back to back into buf
// (capacity cap), recording each chunk's offset, size and filter mask. It returns -1 on success,
// or the position of the failing chunk; *need is set when the buffer was too small.
static int pc_read_chunks(hid_t d, int n, const hsize_t *rows, unsigned char *buf, size_t cap,
                          size_t *offs, size_t *sizes, uint32_t *masks, size_t *need) {
	hsize_t off[8] = {0};
	size_t at = 0;
	*need = 0;
	for (int i = 0; i < n; i++) {
		hsize_t sz;
		off[0] = rows[i];
		if (H5Dget_chunk_storage_size(d, off, &sz) < 0 || sz == 0) return i;
		if (at + sz > cap) { *need = at + sz; return i; }
		if (H5Dread_chunk(d, H5P_DEFAULT, off, &masks[i], buf + at) < 0) return i;
		offs[i] = at;
		sizes[i] = (size_t)sz;
		at += sz;
	}
	return -1;
}

// pc_write_chunk writes size raw bytes as the chunk starting at row, with filter mask (0 = all
// filters applied).
static herr_t pc_write_chunk(hid_t d, hsize_t row, uint32_t mask, const void *buf, size_t size) {
	hsize_t off[8] = {0};
	off[0] = row;
	return H5Dwrite_chunk(d, H5P_DEFAULT, mask, off, size, buf);
}

// pc_write_rows writes count rows starting at row from buf (memory type uint8).
static herr_t pc_write_rows(hid_t d, int rank, const hsize_t *dims, hsize_t row, hsize_t count, const void *buf) {
	hid_t fs = H5Dget_space(d);
	if (fs < 0) return -1;
	hsize_t off[8] = {0}, cnt[8];
	for (int i = 0; i < rank; i++) cnt[i] = dims[i];
	off[0] = row;
	cnt[0] = count;
	herr_t rc = H5Sselect_hyperslab(fs, H5S_SELECT_SET, off, NULL, cnt, NULL);
	if (rc >= 0) {
		hid_t ms = H5Screate_simple(rank, cnt, NULL);
		rc = H5Dwrite(d, H5T_NATIVE_UINT8, ms, fs, H5P_DEFAULT, buf);
		H5Sclose(ms);
	}
	H5Sclose(fs);
	return rc;
}

// pc_create_u8 creates a uint8 dataset of the given dims in file f: chunked with chunk rows crows and
// deflate level (0 = none) when crows > 0, contiguous otherwise; never records timestamps.
static hid_t pc_create_u8(hid_t f, const char *name, int rank, const hsize_t *dims, hsize_t crows, int level) {
	hid_t sp = H5Screate_simple(rank, dims, NULL);
	if (sp < 0) return -1;
	hid_t p = H5Pcreate(H5P_DATASET_CREATE);
	H5Pset_obj_track_times(p, 0);
	if (crows > 0) {
		hsize_t c[8];
		for (int i = 0; i < rank; i++) c[i] = dims[i];
		c[0] = crows;
		H5Pset_chunk(p, rank, c);
		H5Pset_fill_time(p, H5D_FILL_TIME_NEVER);
		if (level > 0) H5Pset_deflate(p, (unsigned)level);
	}
	hid_t d = H5Dcreate2(f, name, H5T_STD_U8LE, sp, H5P_DEFAULT, p, H5P_DEFAULT);
	H5Pclose(p);
	H5Sclose(sp);
	return d;
}

static int pc_inflate(void *dst, size_t dstlen, const void *src, size_t srclen) {
	uLongf n = (uLongf)dstlen;
	int rc = uncompress((Bytef *)dst, &n, (const Bytef *)src, (uLong)srclen);
	if (rc != Z_OK) return rc;
	return n == dstlen ? 0 : -100;
}

static int pc_deflate(void *dst, size_t *dstlen, const void *src, size_t srclen, int level) {
	uLongf n = (uLongf)*dstlen;
	int rc = compress2((Bytef *)dst, &n, (const Bytef *)src, (uLong)srclen, level);
	*dstlen = (size_t)n;
	return rc;
}

// pc_offset returns the file address of a contiguous dataset's raw data, or -1 when it has none.
static long long pc_offset(hid_t d) {
	haddr_t a = H5Dget_offset(d);
	return a == HADDR_UNDEF ? -1 : (long long)a;
}

static size_t pc_deflate_bound(size_t n) { return (size_t)compressBound((uLong)n); }
*/
import "C"

import (
	"errors"
	"fmt"
	"runtime"
	"unsafe"
)

// HDF5 storage layouts as returned by H5Pget_layout.
const (
	layoutContiguous = int(C.H5D_CONTIGUOUS)
	layoutChunked    = int(C.H5D_CHUNKED)
	typeClassInteger = int(C.H5T_INTEGER)
	typeClassFloat   = int(C.H5T_FLOAT)
)

// h5call runs fn on one locked OS thread with HDF5's automatic error printing switched off for that
// thread (HDF5 error stacks are per thread in thread-safe builds). When fn fails, the most specific
// message of the HDF5 error stack is appended to its error.
func h5call(fn func() error) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	C.pc_quiet()
	err := fn()
	if err != nil {
		var buf [256]C.char
		C.pc_errmsg(&buf[0])
		if msg := C.GoString(&buf[0]); msg != "" {
			return fmt.Errorf("%w (hdf5: %s)", err, msg)
		}
	}
	return err
}

// herr converts an HDF5 status code into an error.
func herr(rc C.herr_t, what string) error {
	if rc < 0 {
		return errors.New(what + " failed")
	}
	return nil
}

// dsetInfo is the layout and element type of one dataset.
type dsetInfo struct {
	layout       int
	chunk        []uint64
	nfilters     int
	filters      []int // HDF5 filter ids, in pipeline order (at most 8)
	deflateOnly  bool
	typeClass    int
	typeSize     int
	typeUnsigned bool
}

// inspect returns the layout and type of dataset id (rank dimensions).
func inspect(id int64, rank int) (dsetInfo, error) {
	var layout, nf, dfl, tclass, tsign C.int
	var tsize C.size_t
	var chunk [8]C.hsize_t
	var filters [8]C.int
	var info dsetInfo
	err := h5call(func() error {
		if C.pc_info(C.hid_t(id), &layout, &chunk[0], &nf, &filters[0], &dfl, &tclass, &tsize, &tsign) < 0 {
			return errors.New("reading the dataset's creation properties failed")
		}
		return nil
	})
	if err != nil {
		return info, err
	}
	info = dsetInfo{layout: int(layout), nfilters: int(nf), deflateOnly: dfl != 0,
		typeClass: int(tclass), typeSize: int(tsize), typeUnsigned: tsign == C.H5T_SGN_NONE}
	for i := 0; i < min(int(nf), len(filters)); i++ {
		info.filters = append(info.filters, int(filters[i]))
	}
	if info.layout == layoutChunked {
		for i := 0; i < rank; i++ {
			info.chunk = append(info.chunk, uint64(chunk[i]))
		}
	}
	return info, nil
}

// filterAvailable reports whether this HDF5 library can apply filter id (H5Zfilter_avail, which also
// looks for a dynamically loaded plugin).
func filterAvailable(id int) bool {
	var ok bool
	_ = h5call(func() error {
		ok = C.H5Zfilter_avail(C.H5Z_filter_t(id)) > 0
		return nil
	})
	return ok
}

// readRows reads the given row runs of dataset id into buf. kind 0 reads uint8 into a []byte, kind 1
// reads int64 into an []int64; buf must hold exactly the selected elements.
func readRows(id int64, kind int, dims []uint64, starts, counts []uint64, buf unsafe.Pointer) error {
	if len(starts) == 0 {
		return nil
	}
	cdims := toHsize(dims)
	cs, cc := toHsize(starts), toHsize(counts)
	return h5call(func() error {
		return herr(C.pc_read_rows(C.hid_t(id), C.int(kind), C.int(len(dims)), &cdims[0], C.int(len(cs)),
			&cs[0], &cc[0], buf), "H5Dread")
	})
}

// writeRows writes count rows from buf (uint8) at row of the dataset.
func writeRows(id int64, dims []uint64, row, count uint64, buf []byte) error {
	if count == 0 {
		return nil
	}
	cdims := toHsize(dims)
	return h5call(func() error {
		return herr(C.pc_write_rows(C.hid_t(id), C.int(len(dims)), &cdims[0], C.hsize_t(row), C.hsize_t(count),
			unsafe.Pointer(&buf[0])), "H5Dwrite")
	})
}

// storedChunk is one chunk's stored bytes inside a batch buffer and its filter mask.
type storedChunk struct {
	data []byte
	mask uint32
}

// readChunks reads the stored bytes of the chunks starting at rows with one cgo call (and one pass of
// HDF5's global lock), into buf, growing it as needed. The returned slices alias *buf.
func readChunks(id int64, rows []uint64, buf *[]byte) ([]storedChunk, error) {
	n := len(rows)
	crows := toHsize(rows)
	offs := make([]C.size_t, n)
	sizes := make([]C.size_t, n)
	masks := make([]C.uint32_t, n)
	for {
		var need C.size_t
		var bad C.int
		err := h5call(func() error {
			bad = C.pc_read_chunks(C.hid_t(id), C.int(n), &crows[0], (*C.uchar)(unsafe.Pointer(&(*buf)[0])), C.size_t(len(*buf)),
				&offs[0], &sizes[0], &masks[0], &need)
			if bad >= 0 && need == 0 {
				return errors.New("H5Dread_chunk failed or the chunk is not allocated")
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("chunk at row %d: %w", rows[bad], err)
		}
		if need > 0 {
			*buf = make([]byte, 2*int(need))
			continue
		}
		out := make([]storedChunk, n)
		for i := range out {
			out[i] = storedChunk{data: (*buf)[offs[i] : offs[i]+sizes[i]], mask: uint32(masks[i])}
		}
		return out, nil
	}
}

// writeChunk writes raw as the stored bytes of the chunk starting at row; filtered says whether the
// dataset's filters (deflate) have been applied to raw.
func writeChunk(id int64, row uint64, raw []byte, filtered bool) error {
	mask := C.uint32_t(0)
	if !filtered {
		mask = 1
	}
	return h5call(func() error {
		return herr(C.pc_write_chunk(C.hid_t(id), C.hsize_t(row), mask, unsafe.Pointer(&raw[0]), C.size_t(len(raw))),
			"H5Dwrite_chunk")
	})
}

// createU8 creates a uint8 dataset in file fid (see pc_create_u8) and returns its id.
func createU8(fid int64, name string, dims []uint64, chunkRows uint64, level int) (int64, error) {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	cdims := toHsize(dims)
	var id C.hid_t
	err := h5call(func() error {
		id = C.pc_create_u8(C.hid_t(fid), cname, C.int(len(dims)), &cdims[0], C.hsize_t(chunkRows), C.int(level))
		if id < 0 {
			return errors.New("H5Dcreate failed")
		}
		return nil
	})
	return int64(id), err
}

// closeDataset closes a dataset id created by createU8.
func closeDataset(id int64) error {
	return h5call(func() error { return herr(C.H5Dclose(C.hid_t(id)), "H5Dclose") })
}

// inflate decompresses a zlib stream src into dst, which must be exactly the uncompressed size.
// It runs outside the HDF5 library and may be called from many goroutines at once.
func inflate(dst, src []byte) error {
	if len(src) == 0 {
		return errors.New("empty compressed chunk")
	}
	rc := C.pc_inflate(unsafe.Pointer(&dst[0]), C.size_t(len(dst)), unsafe.Pointer(&src[0]), C.size_t(len(src)))
	if rc != 0 {
		return fmt.Errorf("corrupt deflate chunk (zlib code %d)", int(rc))
	}
	return nil
}

// contiguousOffset returns the file offset of the raw data of a contiguous dataset, or -1.
func contiguousOffset(id int64) int64 {
	var off C.longlong
	_ = h5call(func() error {
		off = C.pc_offset(C.hid_t(id))
		return nil
	})
	return int64(off)
}

// deflateBound is the largest compressed size of n bytes.
func deflateBound(n int) int { return int(C.pc_deflate_bound(C.size_t(n))) }

// deflate compresses src at level into dst (at least deflateBound(len(src)) bytes) and returns the
// compressed length. The output is the same zlib stream HDF5's deflate filter writes.
func deflate(dst, src []byte, level int) (int, error) {
	n := C.size_t(len(dst))
	rc := C.pc_deflate(unsafe.Pointer(&dst[0]), &n, unsafe.Pointer(&src[0]), C.size_t(len(src)), C.int(level))
	if rc != 0 {
		return 0, fmt.Errorf("zlib compress2 failed (code %d)", int(rc))
	}
	return int(n), nil
}

// toHsize converts to the C hsize_t type.
func toHsize(v []uint64) []C.hsize_t {
	out := make([]C.hsize_t, len(v))
	for i, x := range v {
		out[i] = C.hsize_t(x)
	}
	return out
}
