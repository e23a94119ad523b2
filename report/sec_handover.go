package report

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Files of a bundle folder written by `pcamflow bundle`.
const (
	bundleManifest = "MANIFEST.sha256"
)

// modelCardNames are the names a bundle's model card may have.
var modelCardNames = []string{"MODEL_CARD.md", "model_card.md", "MODELCARD.md", "model-card.md"}

// handover answers: what goes on a USB stick for offline use? It shows a bundle's manifest and
// model card when the report is given the bundle folder.
func handover(s *source) *section {
	sec := &section{ID: "handover", Title: "Handover",
		Question: "What goes on a USB stick to run the model offline: the bundle's files with their checksums, and the model card?"}
	if s.bundle == "" {
		sec.add(hint{"No bundle given: write one and pass its folder to the report:",
			fmt.Sprintf("pcamflow bundle %s -o bundle && pcamflow report --bundle bundle", s.modelRef())})
		return sec
	}
	manifest, err := os.ReadFile(filepath.Join(s.bundle, bundleManifest))
	if err != nil {
		sec.add(para{fmt.Sprintf("The bundle %s has no readable %s (%v): is it a folder written by pcamflow bundle?", s.bundle, bundleManifest, err)})
		return sec
	}
	t := table{Caption: fmt.Sprintf("Files of %s with their SHA-256 (%s; check them with pcamflow bundle verify)", s.bundle, bundleManifest),
		Head: []string{"file", "size", "sha256"}, Numeric: []bool{false, true, false}}
	sc := bufio.NewScanner(bytes.NewReader(manifest))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		sum, name, ok := strings.Cut(line, "  ")
		if !ok {
			sum, name, _ = strings.Cut(line, " ")
		}
		name = strings.TrimPrefix(strings.TrimSpace(name), "*")
		size := dash
		if fi, err := os.Stat(filepath.Join(s.bundle, filepath.FromSlash(name))); err == nil {
			size = count(int(fi.Size()))
		}
		t.Rows = append(t.Rows, []string{name, size, sum})
	}
	sec.add(t)
	for _, name := range modelCardNames {
		if card, err := os.ReadFile(filepath.Join(s.bundle, name)); err == nil {
			sec.add(heading{"Model card"})
			sec.add(code{Lang: "markdown", Text: string(card)})
			return sec
		}
	}
	sec.add(para{"The bundle has no model card (" + strings.Join(modelCardNames, ", ") + ")."})
	return sec
}
