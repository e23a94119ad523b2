package cli

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/pcamflow/pcamflow/pcam"
)

// cmdData dispatches `pcamflow data synth|verify`.
func cmdData(ctx context.Context, e *env, args []string) int {
	if len(args) > 0 {
		switch args[0] {
		case "synth":
			return cmdDataSynth(ctx, e, args[1:])
		case "verify":
			return cmdDataVerify(ctx, e, args[1:])
		}
	}
	return usageError(e.stderr, "usage: pcamflow data synth -o DIR [--train N --valid N --test N --seed S] | pcamflow data verify DIR")
}

// cmdDataSynth writes a synthetic PCAM dataset in the official layout.
func cmdDataSynth(_ context.Context, e *env, args []string) int {
	fs := newFlags(e, "data synth", "-o DIR", "Writes synthetic PCAM data in the official HDF5 layout and naming, a meta CSV per split and\nmanifest.json listing every planted defect. The same options give byte-identical files.")
	out := fs.String("o", "", "output `DIR` (created)")
	train := fs.Int("train", 4096, "train patches (official: 262144)")
	valid := fs.Int("valid", 512, "valid patches (official: 32768)")
	test := fs.Int("test", 512, "test patches (official: 32768)")
	seed := fs.Uint64("seed", 1, "seed")
	noDefects := fs.Bool("no-defects", false, "plant no defects")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return exitUsage
	}
	if *out == "" || len(pos) > 0 {
		return usageError(e.stderr, "data synth needs -o DIR and no other arguments")
	}
	start := time.Now()
	m, err := pcam.Synthesize(*out, pcam.SynthOptions{Seed: *seed, Train: *train, Valid: *valid, Test: *test, NoDefects: *noDefects})
	if err != nil {
		fmt.Fprintf(e.stderr, "pcamflow: %v\n", err)
		return exitFailure
	}
	fmt.Fprintf(e.stdout, "wrote synthetic PCAM to %s in %s: train %d, valid %d, test %d; %d planted defects (manifest.json)\n",
		*out, time.Since(start).Round(time.Millisecond), *train, *valid, *test, len(m.Defects))
	return exitOK
}

// cmdDataVerify checks official PCAM files against the published MD5 sums.
func cmdDataVerify(_ context.Context, e *env, args []string) int {
	fs := newFlags(e, "data verify", "DIR", "Checks the six official PCAM .h5 files in DIR against the published MD5 sums and says\nwhich file is missing, truncated or different.")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return exitUsage
	}
	if len(pos) != 1 {
		return usageError(e.stderr, "data verify needs exactly one DIR")
	}
	if fi, err := os.Stat(pos[0]); err != nil || !fi.IsDir() {
		fmt.Fprintf(e.stderr, "pcamflow: %s is not a folder\n", pos[0])
		return exitFailure
	}
	checks, err := pcam.VerifyMD5(pos[0])
	if err != nil {
		fmt.Fprintf(e.stderr, "pcamflow: %v\n", err)
		return exitFailure
	}
	bad := 0
	for _, c := range checks {
		line := fmt.Sprintf("%-48s %s", c.File, c.Status)
		if c.Detail != "" {
			line += " (" + c.Detail + ")"
		}
		fmt.Fprintln(e.stdout, line)
		if c.Status != pcam.CheckOK {
			bad++
		}
	}
	if bad > 0 {
		fmt.Fprintf(e.stdout, "%d of %d files do not match the published MD5 sums\n", bad, len(checks))
		return exitFailure
	}
	fmt.Fprintln(e.stdout, "all files match the published MD5 sums")
	return exitOK
}
