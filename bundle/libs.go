package bundle

import (
	"bufio"
	"bytes"
	"debug/elf"
	"fmt"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Library is one shared library the binary loads, as the dynamic loader resolves it.
type Library struct {
	// Soname is the name the binary (or another library) asks for, e.g. libhdf5_serial.so.103; the
	// bundle stores the library under this name in lib/.
	Soname string `json:"soname"`
	// Path is where the loader found it on the machine that wrote the bundle.
	Path string `json:"path"`
}

// glibcLibs are the libraries of the GNU C library itself, which the bundle never carries: they
// must match the kernel interface and the ELF interpreter (/lib64/ld-linux-x86-64.so.2) of the
// machine that runs the bundle, and every Debian has them (package libc6, which is Essential).
// Everything else the loader resolves — HDF5, OpenBLAS, libgfortran, libsz/libaec, zlib, curl and
// its TLS and Kerberos dependencies, libstdc++ and libgcc_s — goes into lib/.
var glibcLibs = map[string]bool{
	"libc": true, "libm": true, "libpthread": true, "libdl": true, "librt": true, "libresolv": true,
	"libutil": true, "libanl": true, "libnsl": true, "libmvec": true, "libBrokenLocale": true,
	"libthread_db": true, "libc_malloc_debug": true, "libmemusage": true, "libpcprofile": true,
	"ld-linux-x86-64": true, "ld-linux-aarch64": true, "ld-linux": true, "linux-vdso": true, "linux-gate": true,
}

// isGlibc reports whether a soname or path names a library of the C library itself.
func isGlibc(name string) bool {
	base := filepath.Base(name)
	stem, _, _ := strings.Cut(base, ".so")
	return glibcLibs[stem] || strings.HasPrefix(stem, "libnss_")
}

// Libraries returns the shared libraries binary needs that the bundle must carry: everything `ldd`
// (the dynamic loader's own view, transitive dependencies included) resolves, except the C
// library (see glibcLibs), sorted by soname. A library ldd reports as "not found" is an error.
func Libraries(binary string) ([]Library, error) {
	out, err := exec.Command("ldd", binary).CombinedOutput()
	if err != nil {
		if bytes.Contains(out, []byte("not a dynamic executable")) {
			return nil, nil
		}
		return nil, fmt.Errorf("ldd %s: %v: %s", binary, err, strings.TrimSpace(string(out)))
	}
	return parseLdd(out)
}

// parseLdd reads the output of ldd.
func parseLdd(out []byte) ([]Library, error) {
	var libs []Library
	var missing []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		name, target, arrow := strings.Cut(line, " => ")
		if !arrow {
			continue // linux-vdso.so.1 (0x...) or the interpreter /lib64/ld-linux-x86-64.so.2 (0x...)
		}
		name = strings.TrimSpace(name)
		if strings.HasPrefix(strings.TrimSpace(target), "not found") {
			missing = append(missing, name)
			continue
		}
		path, _, _ := strings.Cut(strings.TrimSpace(target), " (")
		if isGlibc(name) || path == "" {
			continue
		}
		libs = append(libs, Library{Soname: name, Path: path})
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("the dynamic loader cannot find %s on this machine: install it before bundling", strings.Join(missing, ", "))
	}
	sort.Slice(libs, func(i, j int) bool { return libs[i].Soname < libs[j].Soname })
	return libs, nil
}

// Interpreter returns the ELF interpreter (PT_INTERP) of binary, "" for a static binary.
func Interpreter(binary string) (string, error) {
	f, err := elf.Open(binary)
	if err != nil {
		return "", err
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			b := make([]byte, p.Filesz)
			if _, err := p.ReadAt(b, 0); err != nil {
				return "", err
			}
			return string(bytes.TrimRight(b, "\x00")), nil
		}
	}
	return "", nil
}

// GlibcNeeded returns the highest GLIBC_x.y symbol version the files ask for ("" when none): the
// oldest C library that can run the bundle.
func GlibcNeeded(files []string) (string, error) {
	best := ""
	for _, p := range files {
		f, err := elf.Open(p)
		if err != nil {
			return "", fmt.Errorf("%s: %w", p, err)
		}
		syms, err := f.ImportedSymbols()
		f.Close()
		if err != nil {
			continue // no dynamic symbols
		}
		for _, s := range syms {
			if strings.HasPrefix(s.Version, "GLIBC_") && versionLess(best, s.Version) {
				best = s.Version
			}
		}
	}
	return best, nil
}

// versionLess orders GLIBC_x.y[.z] versions numerically; "" is the least.
func versionLess(a, b string) bool {
	if a == "" {
		return b != ""
	}
	pa := strings.Split(strings.TrimPrefix(a, "GLIBC_"), ".")
	pb := strings.Split(strings.TrimPrefix(b, "GLIBC_"), ".")
	for i := 0; i < len(pa) || i < len(pb); i++ {
		var x, y int
		if i < len(pa) {
			x, _ = strconv.Atoi(pa[i])
		}
		if i < len(pb) {
			y, _ = strconv.Atoi(pb[i])
		}
		if x != y {
			return x < y
		}
	}
	return false
}
