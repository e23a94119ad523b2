// Package plots is the one drawing style of pcamflow: every stage kind that writes a picture
// (training curves, ROC and PR curves, threshold curves, sweep plots, throughput plots) builds it
// with this package, so all pictures share fonts, sizes and a colour palette that stays readable
// for colour-blind readers (Okabe & Ito, 2008).
//
// Make a plot with New, add data with AddLine (thin for single seeds), AddDashed, AddPoints,
// AddBand or AddMeanBand (mean ± std over seeds), AddHLine (reference levels), AddBars or AddHBars
// (grouped bars with value labels); call LogX or LogY first for a log axis (non-positive values are
// left out, never drawn as garbage). Save or PNG renders it with the legend beside the data, never
// over it; GridPNG and SaveGrid render small multiples with one shared legend. SweepObjectivePNG,
// SweepParamsPNG and SweepCurvesPNG draw the three pictures of a hyperparameter sweep. Tests check
// pictures by their data, not pixels: Ranges gives the axis ranges the data set, LegendNames the
// legend entries, Texts every string drawn.
//
// A picture is always written together with the data behind it (a CSV or JSON file written by
// the stage), so nothing exists only as pixels. PNG output is deterministic: the same series give
// the same bytes, which keeps twin runs of a stage bit-identical.
package plots
