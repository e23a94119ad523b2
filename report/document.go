package report

// A document is a list of sections, each a list of blocks; the HTML and Markdown writers render the
// same document.

// section is one numbered question of the report.
type section struct {
	// ID is the anchor ("reproducibility"), Title the heading and Question what it answers.
	ID, Title, Question string
	Blocks              []block
}

// block is one of heading, para, list, table, image, code and hint.
type block interface{ isBlock() }

// heading is a sub-heading inside a section.
type heading struct{ Text string }

// para is a paragraph of plain text.
type para struct{ Text string }

// list is a bulleted list of plain-text items.
type list struct{ Items []string }

// table is a table with a header row; Numeric marks right-aligned columns.
type table struct {
	Caption string
	Head    []string
	Rows    [][]string
	Numeric []bool
}

// image is a PNG picture published by a stage. Name is the file name under assets/.
type image struct {
	Name, Alt, Caption string
	Data               []byte
}

// code is preformatted text (a pipeline file, resolved parameters); with a Summary it is folded
// away in HTML.
type code struct {
	Lang, Summary, Text string
}

// hint says in one line what is missing and how to add it: Text, then Snippet set as code.
type hint struct{ Text, Snippet string }

func (heading) isBlock() {}
func (para) isBlock()    {}
func (list) isBlock()    {}
func (table) isBlock()   {}
func (image) isBlock()   {}
func (code) isBlock()    {}
func (hint) isBlock()    {}

// add appends blocks to s.
func (s *section) add(b ...block) { s.Blocks = append(s.Blocks, b...) }

// document is the whole report.
type document struct {
	Title    string
	Subtitle []string
	Sections []*section
	Footer   string
}
