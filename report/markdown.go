package report

import (
	"fmt"
	"io"
	"strings"
)

// assetsDir is the folder, next to report.md, that holds its pictures.
const assetsDir = "assets"

// writeMarkdown renders d as GitHub-flavoured Markdown. Pictures are linked by the relative path
// assets/NAME; the caller writes the files.
func writeMarkdown(w io.Writer, d *document) error {
	b := &strings.Builder{}
	fmt.Fprintf(b, "# %s\n\n", mdText(d.Title))
	for _, s := range d.Subtitle {
		fmt.Fprintf(b, "%s  \n", mdText(s))
	}
	b.WriteString("\n")
	for i, s := range d.Sections {
		fmt.Fprintf(b, "%d. [%s](#%d-%s)\n", i+1, mdText(s.Title), i+1, s.ID)
	}
	for i, s := range d.Sections {
		fmt.Fprintf(b, "\n## %d. %s\n\n*%s*\n\n", i+1, mdText(s.Title), mdText(s.Question))
		for _, bl := range s.Blocks {
			mdBlock(b, bl)
		}
	}
	fmt.Fprintf(b, "\n---\n%s\n", mdText(d.Footer))
	_, err := io.WriteString(w, b.String())
	return err
}

// mdBlock renders one block.
func mdBlock(b *strings.Builder, bl block) {
	switch x := bl.(type) {
	case heading:
		fmt.Fprintf(b, "### %s\n\n", mdText(x.Text))
	case para:
		fmt.Fprintf(b, "%s\n\n", mdText(x.Text))
	case list:
		for _, it := range x.Items {
			fmt.Fprintf(b, "- %s\n", mdText(it))
		}
		b.WriteString("\n")
	case table:
		if x.Caption != "" {
			fmt.Fprintf(b, "**%s**\n\n", mdText(x.Caption))
		}
		b.WriteString("|")
		for _, h := range x.Head {
			fmt.Fprintf(b, " %s |", mdCell(h))
		}
		b.WriteString("\n|")
		for j := range x.Head {
			if j < len(x.Numeric) && x.Numeric[j] {
				b.WriteString("---:|")
			} else {
				b.WriteString("---|")
			}
		}
		b.WriteString("\n")
		for _, row := range x.Rows {
			b.WriteString("|")
			for _, c := range row {
				fmt.Fprintf(b, " %s |", mdCell(c))
			}
			b.WriteString("\n")
		}
		b.WriteString("\n")
	case image:
		fmt.Fprintf(b, "![%s](%s/%s)\n", mdAlt(x.Alt), assetsDir, x.Name)
		if x.Caption != "" {
			fmt.Fprintf(b, "\n*%s*\n", mdText(x.Caption))
		}
		b.WriteString("\n")
	case code:
		if x.Summary != "" {
			fmt.Fprintf(b, "<details><summary>%s</summary>\n\n", htmlText(x.Summary))
		}
		fence := "```"
		for strings.Contains(x.Text, fence) {
			fence += "`"
		}
		fmt.Fprintf(b, "%s%s\n%s\n%s\n\n", fence, x.Lang, strings.TrimRight(x.Text, "\n"), fence)
		if x.Summary != "" {
			b.WriteString("</details>\n\n")
		}
	case hint:
		fmt.Fprintf(b, "> %s", mdText(x.Text))
		if x.Snippet != "" {
			fmt.Fprintf(b, " %s", mdCode(x.Snippet))
		}
		b.WriteString("\n\n")
	}
}

// mdText escapes the characters that would start Markdown or HTML markup in running text. An
// underscore inside a word (data_audit) starts nothing in GitHub Markdown and is left as it is.
func mdText(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	var b strings.Builder
	for i, r := range s {
		switch r {
		case '\\', '*', '`', '[', ']', '#', '|':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '_':
			if i > 0 && i+1 < len(s) && wordByte(s[i-1]) && wordByte(s[i+1]) {
				b.WriteByte('_')
			} else {
				b.WriteString("\\_")
			}
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// wordByte reports whether c is an ASCII letter or digit.
func wordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// mdCell is mdText for a table cell.
func mdCell(s string) string { return mdText(s) }

// mdAlt is the alt text of a picture: no brackets or newlines.
func mdAlt(s string) string {
	return strings.NewReplacer("[", "(", "]", ")", "\n", " ").Replace(s)
}

// mdCode sets s as inline code, with a fence longer than any run of backticks inside.
func mdCode(s string) string {
	fence := "`"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	pad := ""
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		pad = " "
	}
	return fence + pad + s + pad + fence
}

// htmlText escapes text placed inside raw HTML of the Markdown file.
var htmlText = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace
