package report

import (
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/pcamflow/pcamflow/track"
)

// failures answers: where does the model fail? It shows the evaluate stages' slices (metrics per
// slice, the worst slice) and their error montages: the fields and files of their outputs that are
// about failures (see aboutFailures).
func failures(s *source) *section {
	sec := &section{ID: "where-it-fails", Title: "Where it fails",
		Question: "On which slices (stain, brightness, tissue, slide, centre) is the model worst, and what do its most confident errors look like?"}
	sec.add(kindBlocks(s, "evaluate", func(n track.NodeRun) []block { return failureBlocks(s, n) })...)
	return sec
}

// failureBlocks shows the failure analysis of one evaluate node: from each JSON output the top-level
// fields about slices and errors, and from JSON outputs about them everything; then the montages.
func failureBlocks(s *source, n track.NodeRun) []block {
	var out []block
	for _, name := range slices.Sorted(maps.Keys(s.outputs(n))) {
		if !strings.HasSuffix(name, ".json") {
			continue
		}
		data, err := s.file(n, name)
		if err != nil {
			continue
		}
		v, err := decodeJSON(data)
		if err != nil {
			continue
		}
		whole := aboutFailures(name)
		var skip func(string) bool
		if !whole {
			m, ok := v.(map[string]any)
			if !ok || !anyKey(m, aboutFailures) {
				continue
			}
			skip = func(key string) bool { return !aboutFailures(key) }
		}
		out = append(out, jsonBlocks(n.Node+" "+name, v, maxTableRows, skip)...)
	}
	var rels []string
	for rel := range s.pictures(n) {
		if aboutFailures(rel) {
			rels = append(rels, rel)
		}
	}
	sort.Strings(rels)
	out = append(out, s.nodePictures(n, rels...)...)
	if len(out) == 0 {
		out = append(out, para{n.Node + " published no slices or error montages."})
	}
	return out
}

// anyKey reports whether some key of m satisfies f.
func anyKey(m map[string]any, f func(string) bool) bool {
	for k := range m {
		if f(k) {
			return true
		}
	}
	return false
}
