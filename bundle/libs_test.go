package bundle

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseLdd(t *testing.T) {
	out := `	linux-vdso.so.1 (0x00007ffd)
	libhdf5_serial.so.103 => /lib/x86_64-linux-gnu/libhdf5_serial.so.103 (0x00007f2f5d400000)
	libm.so.6 => /lib/x86_64-linux-gnu/libm.so.6 (0x00007f2f5d856000)
	libopenblas.so.0 => /lib/x86_64-linux-gnu/libopenblas.so.0 (0x00007f2f5b118000)
	libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f2f5af36000)
	libnss_files.so.2 => /lib/x86_64-linux-gnu/libnss_files.so.2 (0x1)
	libgfortran.so.5 => /lib/x86_64-linux-gnu/libgfortran.so.5 (0x00007f2f5a600000)
	/lib64/ld-linux-x86-64.so.2 (0x00007f2f5d969000)
	libldap-2.5.so.0 => /lib/x86_64-linux-gnu/libldap-2.5.so.0 (0x1)
`
	libs, err := parseLdd([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, l := range libs {
		names = append(names, l.Soname)
	}
	want := "libgfortran.so.5 libhdf5_serial.so.103 libldap-2.5.so.0 libopenblas.so.0"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("libraries %q, want %q (glibc, the vDSO and the interpreter left out)", got, want)
	}
	if libs[1].Path != "/lib/x86_64-linux-gnu/libhdf5_serial.so.103" {
		t.Errorf("path %q", libs[1].Path)
	}
	_, err = parseLdd([]byte("\tlibhdf5_serial.so.103 => not found\n\tlibsz.so.2 => not found\n"))
	if err == nil || !strings.Contains(err.Error(), "cannot find libhdf5_serial.so.103, libsz.so.2") {
		t.Errorf("missing libraries: %v", err)
	}
}

func TestIsGlibc(t *testing.T) {
	for name, want := range map[string]bool{
		"libc.so.6": true, "libm.so.6": true, "libpthread.so.0": true, "/lib64/ld-linux-x86-64.so.2": true,
		"libnss_dns.so.2": true, "libcrypt.so.1": false, "libstdc++.so.6": false, "libcurl.so.4": false,
		"libcom_err.so.2": false, "libhdf5_serial.so.103": false,
	} {
		if got := isGlibc(name); got != want {
			t.Errorf("isGlibc(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestVersionLess(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want bool
	}{{"", "GLIBC_2.2.5", true}, {"GLIBC_2.2.5", "GLIBC_2.14", true}, {"GLIBC_2.34", "GLIBC_2.4", false},
		{"GLIBC_2.35", "GLIBC_2.35", false}, {"GLIBC_2.3", "GLIBC_2.3.4", true}} {
		if got := versionLess(c.a, c.b); got != c.want {
			t.Errorf("versionLess(%q, %q) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}

// TestLibrariesOfThisTest runs ldd on the test binary itself (cgo: HDF5, OpenBLAS) and checks that
// HDF5 and OpenBLAS are found and glibc is not, and that its interpreter and glibc version read.
func TestLibrariesOfThisTest(t *testing.T) {
	if _, err := exec.LookPath("ldd"); err != nil {
		t.Skip("no ldd")
	}
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	libs, err := Libraries(bin)
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, l := range libs {
		have[strings.SplitN(l.Soname, ".so", 2)[0]] = true
		if !filepath.IsAbs(l.Path) {
			t.Errorf("%s: path %q is not absolute", l.Soname, l.Path)
		}
	}
	for _, want := range []string{"libhdf5_serial", "libopenblas"} {
		if !have[want] {
			t.Errorf("ldd view of the test binary lacks %s: %v", want, libs)
		}
	}
	if have["libc"] || have["libm"] {
		t.Errorf("glibc bundled: %v", libs)
	}
	interp, err := Interpreter(bin)
	if err != nil || !strings.Contains(interp, "ld-linux") {
		t.Errorf("interpreter %q, %v", interp, err)
	}
	v, err := GlibcNeeded([]string{bin})
	if err != nil || !strings.HasPrefix(v, "GLIBC_2.") {
		t.Errorf("glibc needed %q, %v", v, err)
	}
}
