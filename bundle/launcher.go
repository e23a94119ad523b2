package bundle

import (
	"fmt"
	"strings"
)

// launcher returns the shell script DIR/pcamflow: it puts the bundle's lib/ first on
// LD_LIBRARY_PATH (so the bundled HDF5 and OpenBLAS are used even where the machine has its own,
// which keeps predictions bit-identical to the machine that wrote the bundle), sets
// PCAMFLOW_BUNDLE so `infer` uses the bundle's model, and runs bin/pcamflow. The binary is run by
// the machine's own ELF interpreter (interp), which belongs to the C library: the script checks
// that it exists and says what is needed when it does not.
func launcher(interp string) string {
	check := ""
	if interp != "" {
		check = fmt.Sprintf(`if [ ! -e %[1]s ]; then
	echo "pcamflow bundle: this machine has no %[1]s: the bundle needs x86-64 Linux with the GNU C library (e.g. Debian 12 or newer)" >&2
	exit 1
fi
`, shellQuote(interp))
	}
	return `#!/bin/sh
# Launcher of a pcamflow offline bundle (written by pcamflow bundle). It runs bin/pcamflow with the
# shared libraries in lib/ and the bundle's model: "./pcamflow infer PATCHES..." needs no workspace
# and no network. See README.md.
set -e
here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
` + check + `LD_LIBRARY_PATH="$here/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
PCAMFLOW_BUNDLE="$here"
export LD_LIBRARY_PATH PCAMFLOW_BUNDLE
exec "$here/bin/pcamflow" "$@"
`
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// readme returns README.md: how to use the bundle offline.
func readme(m Meta, hasDrift bool) string {
	thr := "The bundle has no decision threshold: `infer` prints probabilities; add `--threshold T` for labels."
	if m.Threshold != nil {
		thr = fmt.Sprintf("Labels use the bundled threshold %.6g (`%s`): label 1 (tumour) when probability ≥ %.6g. `--threshold T` overrides it.",
			m.Threshold.Value, m.Threshold.Ref, m.Threshold.Value)
	}
	drift := "This bundle has no drift statistics (the model reference did not say which data it was trained on)."
	if hasDrift {
		drift = fmt.Sprintf("Every patch is compared with the training data's input statistics (`%s`): the last CSV column, `drift`, is "+
			"empty for a patch like the training data, `blank` or `black` for an unusable patch, or `far:MEASURE=+Z.Zsd` when a "+
			"measure (a channel mean, brightness or tissue fraction) lies more than %d standard deviations from the training mean. "+
			"When any patch is flagged, or the mean of a measure over all patches moves more than %d sd, `infer` prints one "+
			"`drift:` line with the counts on stderr. Do not trust predictions on flagged patches.", m.Drift, DriftSD, BatchShiftSD)
	}
	cols, colText := "input,index,id,probability", ""
	if m.Threshold != nil {
		cols, colText = cols+",label", ", the label"
	}
	if hasDrift {
		cols, colText = cols+",drift", colText+", the drift flag"
	}
	return fmt.Sprintf(`# pcamflow offline bundle: %[1]s

This folder runs the model %[1]s on 96×96 RGB PatchCamelyon patches without a pcamflow workspace
and without network access. **Research use only; not a diagnostic device** — read model_card.md.

## Use

    ./pcamflow infer PATCHES...                 # CSV on stdout
    ./pcamflow infer -o predictions.csv PATCHES...

(run it from this folder, or give its path: /media/usb/bundle/pcamflow infer ...). PATCHES are
HDF5 files whose dataset "x" is (N,96,96,3) uint8 (the official camelyonpatch_level_2_split_*_x.h5
files), folders of .tif/.tiff/.png patches (the Kaggle release), or single patch files. The CSV has
the columns %[7]s: the file, the row in the HDF5 file (0 for an image file), the Kaggle id (SHA-1
of the patch's pixels), the tumour probability%[8]s. An installed pcamflow can use the bundle too: pcamflow infer --bundle THIS_FOLDER PATCHES...

%[2]s

%[3]s

## Check the bundle

    ./pcamflow bundle verify .      # or: sha256sum -c MANIFEST.sha256

checks every file against MANIFEST.sha256 and names any missing, changed or extra file.

## What is inside

- pcamflow: the launcher; bin/pcamflow: the program; lib/: %[4]d shared libraries it needs that a
  bare Debian lacks (HDF5, OpenBLAS, libgfortran, libsz/libaec, curl and its dependencies, ...).
  The C library is not included: the machine needs %[5]s, glibc with %[6]s (Debian 12 or newer).
- model/: the checkpoint(s); threshold.json: the decision threshold; drift.json: the training data's
  input statistics; pipeline/: the pipeline file and the resolved configuration of every node;
  reports/: the data audit and evaluation summaries; model_card.md; bundle.json: the index.
`, m.ModelRef, thr, drift, len(m.Libraries), m.Interpreter, orNone(m.GlibcNeeded), cols, colText)
}
