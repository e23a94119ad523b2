package bundle

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
)

// relocator rewrites the absolute paths of the machine that writes a bundle in the text files the
// bundle carries (threshold.json, the copied reports, the resolved configuration), so that a
// bundle moved to another machine names no path that exists only on the first one: a checkpoint
// the bundle carries becomes its path inside the bundle (model/seed-1.ckpt), any other path inside
// the project becomes relative to the project (.pcamflow/out/dataset.pcam/data: where it was, for
// the record, as in the model card and drift.json). Paths outside the project (a dataset folder
// the pipeline names, /data/pcam) are the pipeline's own words and are kept.
type relocator struct {
	json, text *strings.Replacer
}

// newRelocator returns the relocator of a bundle written from project (absolute; "" rewrites no
// project path) whose checkpoints maps absolute checkpoint paths to their paths in the bundle.
func newRelocator(project string, checkpoints map[string]string) relocator {
	var js, txt []string
	// Checkpoints first: a Replacer tries its pairs in order at each position, and a checkpoint
	// path also starts with the project's.
	for _, from := range sortedKeys(checkpoints) {
		to := checkpoints[from]
		for _, q := range jsonForms(from) {
			js = append(js, q, jsonForms(to)[0])
		}
		txt = append(txt, from, to)
	}
	if project != "" {
		prefix := filepath.Clean(project) + string(filepath.Separator)
		for _, q := range jsonForms(prefix) {
			js = append(js, q[:len(q)-1], `"`) // the opening quote and the prefix: a string starting with it
		}
		txt = append(txt, prefix, "")
	}
	return relocator{json: strings.NewReplacer(js...), text: strings.NewReplacer(txt...)}
}

// jsonForms returns s as a JSON string, quotes included, in the forms encoders write it: with and
// without encoding/json's escaping of <, > and & (the first form is the escaped one).
func jsonForms(s string) []string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	plain := strings.TrimSuffix(b.String(), "\n")
	escaped, _ := json.Marshal(s)
	if string(escaped) == plain {
		return []string{plain}
	}
	return []string{string(escaped), plain}
}

// relocate returns data with its paths rewritten: as JSON strings when name ends in .json, as
// plain text otherwise.
func (r relocator) relocate(name string, data []byte) []byte {
	if strings.HasSuffix(name, ".json") {
		return []byte(r.json.Replace(string(data)))
	}
	return []byte(r.text.Replace(string(data)))
}

// copyRelocated copies the text file from into a new file to (mode 0644) with its paths rewritten
// by r.
func (r relocator) copyRelocated(from, to string) error {
	data, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		return err
	}
	return os.WriteFile(to, r.relocate(filepath.Base(to), data), 0o644)
}
