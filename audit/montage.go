package audit

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"os"
	"path/filepath"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"github.com/pcamflow/pcamflow/pcam"
)

// Montage layout: up to montageCols cells per row, montageRows rows per class.
const (
	montageCols    = 8
	montageRows    = 8
	montagePad     = 4
	montageCaption = 28
	montageTitle   = 22
	cellW          = pcam.Width + 2*montagePad
	cellH          = pcam.Height + montageCaption + montagePad
)

// montageCell is one patch to draw with its caption.
type montageCell struct {
	split pcam.Split
	index int
	label uint8
	note  string
}

// WriteMontages draws one PNG per finding class that has findings, named montage_<class>.png in
// dir, and returns their paths in class order. Duplicate classes draw one row per group (its members
// side by side, the kept one first); per-patch classes draw a grid. Each cell is captioned with
// split:index and label. Patches are read through readers (one call per patch, from this goroutine);
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
		err := writeAtomic(path, func(f *os.File) error { return png.Encode(f, img) })
		if err != nil {
			return paths, err
		}
		paths = append(paths, path)
	}
	return paths, nil
}

// montageRows selects the rows of cells of every class.
func (r *Report) montageRows() map[string][][]montageCell {
	rows := map[string][][]montageCell{}
	add := func(c string, row []montageCell) {
		if len(rows[c]) < montageRows {
			rows[c] = append(rows[c], row[:min(len(row), montageCols)])
		}
	}
	v := newGroupView(r)
	for i := range r.ExactDuplicateGroups {
		g := &r.ExactDuplicateGroups[i]
		var row []montageCell
		for _, m := range g.Members {
			row = append(row, montageCell{split: m.Split, index: m.Index, label: m.Label})
		}
		for _, c := range groupClasses(classifyOccurrences(v.exact(g)), false, g.LabelConflict) {
			add(c, row)
		}
	}
	for i := range r.NearDuplicateGroups {
		g := &r.NearDuplicateGroups[i]
		var row []montageCell
		for _, m := range g.Members {
			row = append(row, montageCell{split: m.Split, index: m.Index, label: m.Label, note: "near"})
		}
		for _, c := range groupClasses(classifyOccurrences(v.near(g)), true, g.LabelConflict) {
			add(c, row)
		}
	}
	grid := func(c string, refs []PatchRef) {
		for start := 0; start < len(refs) && len(rows[c]) < montageRows; start += montageCols {
			var row []montageCell
			for _, p := range refs[start:min(len(refs), start+montageCols)] {
				row = append(row, montageCell{split: p.Split, index: p.Index})
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
		grid(WSIOverlap, r.WSI.Leaked)
	}
	return rows
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
func drawMontage(class string, f Finding, rows [][]montageCell, readers map[pcam.Split]pcam.Reader) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, montageCols*cellW, montageTitle+len(rows)*cellH))
	draw.Draw(img, img.Bounds(), image.NewUniform(color.RGBA{250, 250, 250, 255}), image.Point{}, draw.Src)
	title := fmt.Sprintf("%s: %s patches", class, commas(f.Patches))
	if f.Groups > 0 {
		title += fmt.Sprintf(", %s groups (one row per group)", commas(f.Groups))
	}
	title += fmt.Sprintf(", first %d rows", len(rows))
	drawText(img, montagePad, 15, title, color.Black)
	pix := make([]byte, pcam.PatchBytes)
	for ri, row := range rows {
		y0 := montageTitle + ri*cellH
		if ri > 0 {
			draw.Draw(img, image.Rect(0, y0-1, img.Bounds().Dx(), y0), image.NewUniform(color.Gray{180}), image.Point{}, draw.Src)
		}
		for ci, cell := range row {
			drawCell(img, ci*cellW+montagePad, y0+montagePad, cell, readers, pix)
		}
	}
	return img
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
