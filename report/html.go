package report

import (
	"encoding/base64"
	"fmt"
	"html"
	"io"
	"strings"
)

// css is the whole style of the HTML page (no external resources).
const css = `
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;max-width:64rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b;line-height:1.45}
h1{font-size:1.7rem;margin-bottom:.2rem}h2{margin-top:2.4rem;border-bottom:2px solid #0072B2;padding-bottom:.2rem}
h3{margin-top:1.6rem}.sub{color:#555;margin:.1rem 0}.q{color:#555;font-style:italic;margin-top:-.4rem}
table{border-collapse:collapse;margin:.6rem 0 1rem;font-size:.9rem;display:block;overflow-x:auto}
th,td{border:1px solid #ccc;padding:.25rem .5rem;vertical-align:top;text-align:left}th{background:#f0f4f8}
td.n{text-align:right;font-variant-numeric:tabular-nums}.figs{display:grid;grid-template-columns:repeat(auto-fit,minmax(28rem,1fr));gap:.8rem;margin:1rem 0}
figure{margin:0}figure img{width:100%;height:auto;border:1px solid #e4e4e4}figcaption{color:#555;font-size:.85rem}
p.cap{font-weight:600;margin:1rem 0 .2rem}
pre{background:#f6f8fa;padding:.6rem;overflow-x:auto;font-size:.82rem}code{font-family:"DejaVu Sans Mono",monospace}
details{margin:.4rem 0}summary{cursor:pointer;color:#0072B2}.hint{background:#fff8e6;border-left:4px solid #E69F00;padding:.4rem .6rem}
nav ol{columns:2}footer{margin-top:3rem;color:#777;font-size:.8rem}
`

// writeHTML renders d as one self-contained HTML page: pictures are data URIs, nothing is loaded
// from elsewhere and no script is used.
func writeHTML(w io.Writer, d *document) error {
	b := &strings.Builder{}
	e := html.EscapeString
	fmt.Fprintf(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"+
		"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>%s</title>\n<style>%s</style>\n</head>\n<body>\n",
		e(d.Title), css)
	fmt.Fprintf(b, "<h1>%s</h1>\n", e(d.Title))
	for _, s := range d.Subtitle {
		fmt.Fprintf(b, "<p class=\"sub\">%s</p>\n", e(s))
	}
	b.WriteString("<nav><ol>\n")
	for _, s := range d.Sections {
		fmt.Fprintf(b, "<li><a href=\"#%s\">%s</a></li>\n", s.ID, e(s.Title))
	}
	b.WriteString("</ol></nav>\n")
	for i, s := range d.Sections {
		fmt.Fprintf(b, "<section id=\"%s\">\n<h2>%d. %s</h2>\n<p class=\"q\">%s</p>\n", s.ID, i+1, e(s.Title), e(s.Question))
		for j, bl := range s.Blocks {
			_, img := bl.(image)
			_, prevImg := blockAt(s.Blocks, j-1).(image)
			_, nextImg := blockAt(s.Blocks, j+1).(image)
			if img && !prevImg {
				b.WriteString("<div class=\"figs\">\n")
			}
			htmlBlock(b, bl)
			if img && !nextImg {
				b.WriteString("</div>\n")
			}
		}
		b.WriteString("</section>\n")
	}
	fmt.Fprintf(b, "<footer>%s</footer>\n</body>\n</html>\n", e(d.Footer))
	_, err := io.WriteString(w, b.String())
	return err
}

// blockAt returns blocks[i], or nil outside the slice.
func blockAt(blocks []block, i int) block {
	if i < 0 || i >= len(blocks) {
		return nil
	}
	return blocks[i]
}

// htmlBlock renders one block; consecutive pictures are laid out side by side by the caller.
func htmlBlock(b *strings.Builder, bl block) {
	e := html.EscapeString
	switch x := bl.(type) {
	case heading:
		fmt.Fprintf(b, "<h3>%s</h3>\n", e(x.Text))
	case para:
		fmt.Fprintf(b, "<p>%s</p>\n", e(x.Text))
	case list:
		b.WriteString("<ul>\n")
		for _, it := range x.Items {
			fmt.Fprintf(b, "<li>%s</li>\n", e(it))
		}
		b.WriteString("</ul>\n")
	case table:
		if x.Caption != "" {
			fmt.Fprintf(b, "<p class=\"cap\">%s</p>\n", e(x.Caption))
		}
		b.WriteString("<table>\n")
		b.WriteString("<thead><tr>")
		for _, h := range x.Head {
			fmt.Fprintf(b, "<th>%s</th>", e(h))
		}
		b.WriteString("</tr></thead>\n<tbody>\n")
		for _, row := range x.Rows {
			b.WriteString("<tr>")
			for j, c := range row {
				if j < len(x.Numeric) && x.Numeric[j] {
					fmt.Fprintf(b, "<td class=\"n\">%s</td>", e(c))
				} else {
					fmt.Fprintf(b, "<td>%s</td>", e(c))
				}
			}
			b.WriteString("</tr>\n")
		}
		b.WriteString("</tbody>\n</table>\n")
	case image:
		fmt.Fprintf(b, "<figure><img src=\"data:image/png;base64,%s\" alt=\"%s\">", base64.StdEncoding.EncodeToString(x.Data), e(x.Alt))
		if x.Caption != "" {
			fmt.Fprintf(b, "<figcaption>%s</figcaption>", e(x.Caption))
		}
		b.WriteString("</figure>\n")
	case code:
		if x.Summary != "" {
			fmt.Fprintf(b, "<details><summary>%s</summary>\n", e(x.Summary))
		}
		fmt.Fprintf(b, "<pre><code>%s</code></pre>\n", e(x.Text))
		if x.Summary != "" {
			b.WriteString("</details>\n")
		}
	case hint:
		fmt.Fprintf(b, "<p class=\"hint\">%s", e(x.Text))
		if x.Snippet != "" {
			fmt.Fprintf(b, " <code>%s</code>", e(x.Snippet))
		}
		b.WriteString("</p>\n")
	}
}
