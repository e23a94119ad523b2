package audit

import (
	"bufio"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"github.com/pcamflow/pcamflow/internal/atomicfile"
	"github.com/pcamflow/pcamflow/pcam"
)

// Montage layout: up to montageCols cells per row, montageRows rows per class.
const (
	montageCols     = 8
	montageRows     = 8
	montagePad      = 4
	montageCaption  = 28
	montageTitle    = 22
	montageRowTitle = 16 // height of a row's own title line (slide rows)
	cellW           = pcam.Width + 2*montagePad
	cellH           = pcam.Height + montageCaption + montagePad
)

// montageRow is one row of a montage: an optional title line and its cells.
type montageRow struct {
	title string
	cells []montageCell
}

// montageCell is one patch to draw with its caption.
type montageCell struct {
	split pcam.Split
	index int
	label uint8
	note  string
}

// WriteMontages draws one PNG per finding class that has findings, named montage_<class>.png in
// dir, and returns their paths in class order. Duplicate classes draw one row per group (its members
// side by side in canonical order); wsi_overlap draws one row per shared slide, titled with the slide
// id and its patch count per split, with patches of each split; the other per-patch classes draw a
// grid. Each cell is captioned with split:index and label. Patches are read through readers (one call per patch, from this goroutine);
// a patch that cannot be read, or whose split has no reader, is drawn as a red placeholder. Files are
// written atomically.
func (r *Report) WriteMontages(dir string, readers map[pcam.Split]pcam.Reader) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("audit: montage directory %s: %w", dir, err)
	}
	rows := r.montageRows()
	var paths []string
	for _, c := range Classes {
		if len(rows[c]) == 0 {
			continue
		}
		img := drawMontage(c, r.Finding(c), rows[c], readers)
		path := filepath.Join(dir, "montage_"+c+".png")
		err := atomicfile.WriteFunc(path, 0o644, func(w *bufio.Writer) error { return png.Encode(w, img) })
		if err != nil {
			return paths, err
		}
		paths = append(paths, path)
	}
	return paths, nil
}

// montageRows selects the rows of every class.
func (r *Report) montageRows() map[string][]montageRow {
	rows := map[string][]montageRow{}
	add := func(c string, row montageRow) {
		if len(rows[c]) < montageRows {
			row.cells = row.cells[:min(len(row.cells), montageCols)]
			rows[c] = append(rows[c], row)
		}
	}
	v := newGroupView(r)
	for i := range r.ExactDuplicateGroups {
		g := &r.ExactDuplicateGroups[i]
		if flatGroup(g) {
			continue // drawn as blank or black patches
		}
		var row montageRow
		for _, m := range g.Members {
			row.cells = append(row.cells, montageCell{split: m.Split, index: m.Index, label: m.Label})
		}
		for _, c := range groupClasses(classifyOccurrences(v.exact(g)), false, g.LabelConflict) {
			add(c, row)
		}
	}
	for i := range r.NearDuplicateGroups {
		g := &r.NearDuplicateGroups[i]
		var row montageRow
		for _, m := range g.Members {
			row.cells = append(row.cells, montageCell{split: m.Split, index: m.Index, label: m.Label, note: "near"})
		}
		for _, c := range groupClasses(classifyOccurrences(v.near(g)), true, g.LabelConflict) {
			add(c, row)
		}
	}
	grid := func(c string, refs []PatchRef) {
		for start := 0; start < len(refs) && len(rows[c]) < montageRows; start += montageCols {
			var row montageRow
			for _, p := range refs[start:min(len(refs), start+montageCols)] {
				row.cells = append(row.cells, montageCell{split: p.Split, index: p.Index})
			}
			add(c, row)
		}
	}
	for _, c := range []string{Blank, Black, Saturated, LowTissue} {
		grid(c, r.Flagged.byClass(c))
	}
	var corrupt []PatchRef
	for _, p := range r.Corrupt {
		corrupt = append(corrupt, PatchRef{Split: p.Split, Index: p.Index})
	}
	grid(Corrupt, corrupt)
	if r.WSI != nil {
		for _, s := range r.WSI.Shared {
			add(WSIOverlap, slideRow(s))
		}
	}
	return rows
}

// slideRow is the montage row of a shared slide: its id and patch count per split as the title,
// then its first patches of each split, an equal share per split.
func slideRow(s SharedSlide) montageRow {
	bySplit := map[pcam.Split][]PatchRef{}
	for _, p := range s.Patches {
		bySplit[p.Split] = append(bySplit[p.Split], p)
	}
	var counts []string
	for _, sp := range s.Splits {
		counts = append(counts, fmt.Sprintf("%s %s", sp, commas(len(bySplit[sp]))))
	}
	row := montageRow{title: fmt.Sprintf("slide %s: %s patches", s.WSI, strings.Join(counts, ", "))}
	share := (montageCols + len(s.Splits) - 1) / max(len(s.Splits), 1)
	for _, sp := range s.Splits {
		for _, p := range bySplit[sp][:min(share, len(bySplit[sp]))] {
			row.cells = append(row.cells, montageCell{split: p.Split, index: p.Index})
		}
	}
	return row
}

// groupClasses lists the duplicate classes a group belongs to.
func groupClasses(reds []redundancy, near, conflict bool) []string {
	var within, cross bool
	for _, red := range reds {
		if near {
			within, cross = within || red.nearWithin, cross || red.nearCross
		} else {
			within, cross = within || red.exactWithin, cross || red.exactCross
		}
	}
	var out []string
	wc, cc := ExactDuplicates, CrossSplitDuplicates
	if near {
		wc, cc = NearDuplicates, CrossSplitNearDuplicates
	}
	if within {
		out = append(out, wc)
	}
	if cross {
		out = append(out, cc)
	}
	if conflict {
		out = append(out, LabelConflicts)
	}
	return out
}

// drawMontage renders the rows of one class with a title.
func drawMontage(class string, f Finding, rows []montageRow, readers map[pcam.Split]pcam.Reader) *image.RGBA {
	rowH := cellH
	if class == WSIOverlap {
		rowH += montageRowTitle
	}
	img := image.NewRGBA(image.Rect(0, 0, montageCols*cellW, montageTitle+len(rows)*rowH))
	draw.Draw(img, img.Bounds(), image.NewUniform(color.RGBA{250, 250, 250, 255}), image.Point{}, draw.Src)
	drawText(img, montagePad, 15, montageTitleText(class, f, len(rows)), color.Black)
	pix := make([]byte, pcam.PatchBytes)
	for ri, row := range rows {
		y0 := montageTitle + ri*rowH
		if ri > 0 {
			draw.Draw(img, image.Rect(0, y0-1, img.Bounds().Dx(), y0), image.NewUniform(color.Gray{180}), image.Point{}, draw.Src)
		}
		if row.title != "" {
			drawText(img, montagePad, y0+13, row.title, color.RGBA{120, 30, 30, 255})
		}
		for ci, cell := range row.cells {
			drawCell(img, ci*cellW+montagePad, y0+rowH-cellH+montagePad, cell, readers, pix)
		}
	}
	return img
}

// montageTitleText says what a montage shows and how its rows are organised.
func montageTitleText(class string, f Finding, rows int) string {
	switch {
	case class == WSIOverlap:
		slides := "slides"
		if f.Groups == 1 {
			slides = "slide"
		}
		return fmt.Sprintf("%s: %s leaked patches from %s shared %s; one row per slide (first %d)", class, commas(f.Patches), commas(f.Groups), slides, rows)
	case f.Groups > 0:
		return fmt.Sprintf("%s: %s patches, %s groups; one row per group (first %d)", class, commas(f.Patches), commas(f.Groups), rows)
	}
	return fmt.Sprintf("%s: %s patches (first %d rows)", class, commas(f.Patches), rows)
}

// drawCell draws one patch (or a placeholder) and its two caption lines.
func drawCell(img *image.RGBA, x0, y0 int, cell montageCell, readers map[pcam.Split]pcam.Reader, pix []byte) {
	label := []uint8{cell.label}
	rd, ok := readers[cell.split]
	var err error
	if ok && rd != nil {
		err = rd.Read([]int{cell.index}, pix, label)
	} else {
		err = fmt.Errorf("no reader")
	}
	if err != nil {
		draw.Draw(img, image.Rect(x0, y0, x0+pcam.Width, y0+pcam.Height), image.NewUniform(color.RGBA{200, 40, 40, 255}), image.Point{}, draw.Src)
		drawText(img, x0+4, y0+50, "unreadable", color.White)
	} else {
		for y := range pcam.Height {
			for x := range pcam.Width {
				p := pix[(y*pcam.Width+x)*3:]
				img.SetRGBA(x0+x, y0+y, color.RGBA{p[0], p[1], p[2], 255})
			}
		}
	}
	drawText(img, x0, y0+pcam.Height+12, fmt.Sprintf("%s:%d", cell.split, cell.index), color.Black)
	second := fmt.Sprintf("y=%d", label[0])
	if err != nil {
		second = "y=?"
	}
	if cell.note != "" {
		second += " " + cell.note
	}
	drawText(img, x0, y0+pcam.Height+25, second, color.RGBA{60, 60, 160, 255})
}

// drawText writes s with the basic 7x13 font, baseline at (x, y).
func drawText(img *image.RGBA, x, y int, s string, c color.Color) {
	d := font.Drawer{Dst: img, Src: image.NewUniform(c), Face: basicfont.Face7x13,
		Dot: fixed.P(x, y)}
	d.DrawString(s)
}
