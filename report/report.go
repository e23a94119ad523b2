package report

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pcamflow/pcamflow/internal/atomicfile"
	"github.com/pcamflow/pcamflow/track"
)

// File names written into the output folder.
const (
	HTMLFile     = "report.html"
	MarkdownFile = "report.md"
)

// Options say which run to report and where to write the report.
type Options struct {
	// DB is the run store and Objects the content-addressed store of the workspace.
	DB      *track.DB
	Objects Objects
	// ProjectDir is the project root: run records name pipeline files relative to it.
	ProjectDir string
	// RunID is a run id or an unambiguous prefix of one; empty means the newest run.
	RunID string
	// OutDir receives report.html, report.md and assets/. When it is empty, the report goes to
	// ReportsDir/RUN_ID.
	OutDir, ReportsDir string
	// BundleDir, when set, is a folder written by `pcamflow bundle` whose manifest and model card
	// the handover section shows.
	BundleDir string
	// Tool names the program writing the report ("pcamflow 0.1.0"), for the footer.
	Tool string
	// Now is the time written in the footer; zero means time.Now().
	Now time.Time
}

// Result says what was written.
type Result struct {
	// RunID is the reported run.
	RunID string
	// HTML and Markdown are the paths of the two files; Assets counts the pictures under assets/.
	HTML, Markdown string
	Assets         int
	// Hints lists the sections (by title) that only say how to add their stage.
	Hints []string
}

// Write writes the report of one run: OutDir/report.html (self-contained), OutDir/report.md and the
// pictures of the Markdown file under OutDir/assets/. Files are replaced atomically; other files in
// OutDir and assets/ are left alone.
func Write(opt Options) (*Result, error) {
	if opt.DB == nil || opt.Objects == nil {
		return nil, errors.New("report: no run store or object store")
	}
	src, err := load(opt)
	if err != nil {
		return nil, err
	}
	if opt.OutDir == "" {
		if opt.ReportsDir == "" {
			return nil, errors.New("report: no output folder")
		}
		opt.OutDir = filepath.Join(opt.ReportsDir, src.run.ID)
	}
	doc, hints := build(src, opt)
	if err := os.MkdirAll(filepath.Join(opt.OutDir, assetsDir), 0o755); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	res := &Result{RunID: src.run.ID, HTML: filepath.Join(opt.OutDir, HTMLFile), Markdown: filepath.Join(opt.OutDir, MarkdownFile), Hints: hints}
	for _, s := range doc.Sections {
		for _, b := range s.Blocks {
			if img, ok := b.(image); ok {
				if err := atomicfile.Write(filepath.Join(opt.OutDir, assetsDir, img.Name), img.Data, 0o644); err != nil {
					return nil, fmt.Errorf("report: writing a picture: %w", err)
				}
				res.Assets++
			}
		}
	}
	var md, page bytes.Buffer
	if err := writeMarkdown(&md, doc); err != nil {
		return nil, err
	}
	if err := writeHTML(&page, doc); err != nil {
		return nil, err
	}
	if err := atomicfile.Write(res.Markdown, md.Bytes(), 0o644); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	if err := atomicfile.Write(res.HTML, page.Bytes(), 0o644); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	return res, nil
}

// load finds the run and its node runs.
func load(opt Options) (*source, error) {
	var run *track.Run
	var nodes []track.NodeRun
	var err error
	if opt.RunID == "" {
		run, nodes, err = opt.DB.LastRun("")
		if err == nil && run == nil {
			err = errors.New("no run is recorded in this workspace yet: run `pcamflow run` first")
		}
	} else {
		run, nodes, err = opt.DB.GetRun(opt.RunID)
	}
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	return &source{db: opt.DB, objects: opt.Objects, project: opt.ProjectDir, run: run, nodes: nodes,
		bundle: opt.BundleDir, assets: map[string]bool{}}, nil
}

// build assembles the document and lists the sections that only hold hints.
func build(src *source, opt Options) (*document, []string) {
	r := src.run
	doc := &document{Title: fmt.Sprintf("pcamflow report: %s, run %s", r.Pipeline, r.ID)}
	doc.Subtitle = append(doc.Subtitle,
		fmt.Sprintf("Pipeline file %s, %s; started %s on %s, took %s.", r.File, r.Status, when(r.Started), orDash(r.Host), took(r.Started, r.Finished)))
	if len(r.Args) > 0 {
		doc.Subtitle = append(doc.Subtitle, "Command: pcamflow "+strings.Join(r.Args, " "))
	}
	now := opt.Now
	if now.IsZero() {
		now = time.Now()
	}
	doc.Footer = fmt.Sprintf("Written by %s on %s from the run store and the cached outputs of run %s; "+
		"every number and picture here was recorded or drawn by the stage that owns it.", orDash(opt.Tool), when(now), r.ID)
	builders := []func(*source) *section{reproducibility, data, configuration, optimisation, results, failures, speed, handover}
	var hints []string
	for _, b := range builders {
		s := b(src)
		doc.Sections = append(doc.Sections, s)
		if onlyHints(s) {
			hints = append(hints, s.Title)
		}
	}
	return doc, hints
}

// onlyHints reports whether a section holds nothing but hints.
func onlyHints(s *section) bool {
	for _, b := range s.Blocks {
		if _, ok := b.(hint); !ok {
			return false
		}
	}
	return true
}
