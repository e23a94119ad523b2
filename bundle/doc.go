// Package bundle writes, checks and opens the offline bundle of `pcamflow bundle`: a folder a user
// copies to a USB stick that runs a trained model with no workspace and no network.
//
// # Layout
//
//	pcamflow            launcher: sets LD_LIBRARY_PATH to lib/ and runs bin/pcamflow
//	bin/pcamflow        the pcamflow binary that wrote the bundle
//	lib/                the shared libraries the binary needs that a bare Debian lacks (see Libraries)
//	model/              the checkpoint(s): model.ckpt, or seed-S.ckpt per seed of an ensemble
//	threshold.json      the decision threshold (the threshold stage's output), when one was given
//	drift.json          the training data's input statistics for the drift check (see Drift)
//	pipeline/           the pipeline file and config.json, the resolved configuration of every node
//	reports/            the audit and evaluation summaries the model card draws on, when cached
//	bundle.json         what the bundle holds (read by Open)
//	model_card.md       the model card
//	README.md           how to use the bundle offline
//	MANIFEST.sha256     the SHA-256 of every other file (sha256sum format; Verify checks it)
//
// A bundle is written into a temporary sibling folder and renamed into place, so DIR is either the
// complete new bundle or what it was before. The bytes of a bundle are a function of the binary,
// the libraries, the pipeline and the cached outputs it is made from: it holds no timestamps.
package bundle
