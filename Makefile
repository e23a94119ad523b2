# pcamflow — the two commands of the README:
#   make demo   install what is needed, build, run the quickstart pipeline and write its report
#   make test   install what is needed, build, start the local Slurm cluster, and run every check
SHELL := /bin/bash
export PATH := /usr/local/go/bin:$(PATH)
export CGO_ENABLED := 1
export CGO_CFLAGS := -O2 -g -I/usr/include/hdf5/serial
export CGO_LDFLAGS := -L/usr/lib/x86_64-linux-gnu/hdf5/serial

BIN := bin/pcamflow
GOTEST_FLAGS ?= -p 2 -count=1 -timeout 30m

.PHONY: demo test build setup check vet fmtcheck tidycheck bench fuzz clean bundle-check

demo: setup build
	./$(BIN) run
	./$(BIN) report --last

setup:
	scripts/setup.sh build

build:
	go build -o $(BIN) ./cmd/pcamflow

test:
	scripts/setup.sh test
	$(MAKE) --no-print-directory build
	scripts/slurm-local.sh start
	$(MAKE) --no-print-directory check
	PCAMFLOW_SLURM_SLOW=1 go test $(GOTEST_FLAGS) ./...

check: vet fmtcheck tidycheck

vet:
	go vet ./...

fmtcheck:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

# go.mod and go.sum must be what `go mod tidy` makes them (direct dependencies not // indirect).
tidycheck:
	@go mod tidy -diff || { echo "go.mod/go.sum are not tidy: run go mod tidy"; exit 1; }

bench: build
	scripts/setup.sh bench
	bench/noop/run.sh

# Opt-in (root, debootstrap, network on the first run; about a minute once the Debian root is
# cached): the offline bundle runs in a minimal Debian chroot without network, bit-identically.
bundle-check:
	scripts/bundle-check.sh

fuzz:
	go test ./pipelines -run '^$$' -fuzz FuzzLoad -fuzztime 60s
	go test ./hpo -run '^$$' -fuzz FuzzTPEPropose -fuzztime 30s

clean:
	rm -rf bin
