# Source this file to build pcamflow by hand: it sets the cgo flags for Debian's HDF5 and OpenBLAS.
# The Makefile sets the same variables.
export CGO_ENABLED=1
export CGO_CFLAGS="${CGO_CFLAGS:--O2 -g} -I/usr/include/hdf5/serial"
export CGO_LDFLAGS="${CGO_LDFLAGS:-} -L/usr/lib/x86_64-linux-gnu/hdf5/serial"
