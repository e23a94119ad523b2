package report

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkReport writes the report of the pipeline of the speed requirement: a train stage with 3
// seeds × 20 epochs, a 32-trial sweep (each trial a node with its own outputs), a data audit with
// montages, threshold, evaluate and two benchmark nodes, all as run-store rows and stored outputs.
// The requirement is under 3 s per report (docs/benchmarks.md).
func BenchmarkReport(b *testing.B) {
	f := newFixture(b, fullSpec)
	out := filepath.Join(b.TempDir(), "r")
	b.ResetTimer()
	for b.Loop() {
		if _, err := Write(Options{DB: f.db, Objects: f.store, ProjectDir: f.dir, OutDir: out}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	page, _ := os.Stat(filepath.Join(out, HTMLFile))
	b.ReportMetric(float64(page.Size())/1e6, "MB-html")
}

// BenchmarkReportReference is the floor the report cannot beat: reading the same pictures from the
// store, encoding them as base64 and writing them twice (assets and page), with no run-store query,
// no JSON and no layout.
func BenchmarkReportReference(b *testing.B) {
	f := newFixture(b, fullSpec)
	res := f.write(Options{})
	entries, err := os.ReadDir(filepath.Join(filepath.Dir(res.HTML), assetsDir))
	if err != nil {
		b.Fatal(err)
	}
	out := b.TempDir()
	b.ResetTimer()
	for b.Loop() {
		var page []byte
		for _, e := range entries {
			data, err := os.ReadFile(filepath.Join(filepath.Dir(res.HTML), assetsDir, e.Name()))
			if err != nil {
				b.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(out, e.Name()), data, 0o644); err != nil {
				b.Fatal(err)
			}
			page = base64.StdEncoding.AppendEncode(page, data)
		}
		if err := os.WriteFile(filepath.Join(out, "page"), page, 0o644); err != nil {
			b.Fatal(err)
		}
	}
}
