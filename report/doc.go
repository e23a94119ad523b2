// Package report writes the report of one pipeline run: a self-contained HTML page (every picture
// inlined as a data URI, no network, no JavaScript) and a Markdown file whose pictures are files
// under assets/ next to it, ready to commit beside a README.
//
// The report is organised by the questions a pipeline answers (DESIGN.md §1): reproducibility,
// data, configuration, optimisation, results, failure analysis, speed and handover. Each section
// shows the evidence the run recorded: rows of the run store (package track), cache records, and
// the outputs the stages published (JSON, CSV and the PNG pictures every kind draws with package
// plots). The report reads; it computes nothing a stage should have computed — no metric, no
// curve, no picture is derived here. A section whose stage is not in the pipeline says in one line
// how to add it.
//
// Outputs are read from the content-addressed store by digest (file outputs are hashed as they are
// read; a mismatch is an error), so a report of an old run shows that run's outputs even after
// later runs have replaced the materialised copies.
package report
