// Package plots is the one drawing style of pcamflow: every stage kind that writes a picture
// (training curves, ROC and PR curves, threshold curves, sweep plots, throughput plots) builds it
// with this package, so all pictures share fonts, sizes and a colour palette that stays readable
// for colour-blind readers (Okabe & Ito, 2008).
//
// A picture is always written together with the data behind it (a CSV or JSON file written by
// the stage), so nothing exists only as pixels. PNG output is deterministic: the same series give
// the same bytes, which keeps twin runs of a stage bit-identical.
package plots
