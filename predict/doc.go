// Package predict is the one prediction path of pcamflow: it reads patches from any supported
// input — an HDF5 file or split, a dataset view (dataset.pcam, data_audit.pcam.clean), a Kaggle
// TIFF folder, PNG/TIFF files — in batches, with the next batch read on a background goroutine
// while the current one is predicted, and returns probabilities with the identity of every patch
// (input file, index, Kaggle id). `pcamflow infer`, the threshold and evaluate stages, the
// benchmark stage and the offline bundle all predict through it.
//
// # Contracts
//
//   - A Source is a finite sequence of patches read in consecutive ranges. End of data is the
//     end of the range [0, Len): Run reads exactly Len patches of every source and treats every
//     error — including one that wraps io.EOF, as a truncated image does — as a failure naming the
//     input. No error value is ever taken to mean "no more data".
//   - Model.Predict is the single place that calls the model package; a faster entry point of
//     package model is switched there and nowhere else.
//   - Predictions are bit-identical across runs and batch sizes: the model predicts each patch
//     independently and batches only group the reads.
//   - A probability that is not finite or lies outside [0, 1] (a diverged model) is an error that
//     names the patch.
package predict
