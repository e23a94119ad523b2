package report

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/pcamflow/pcamflow/cache"
	"github.com/pcamflow/pcamflow/track"
)

// Objects is what the report needs of the content-addressed store (*cache.Store implements it).
type Objects interface {
	// ObjectPath returns the file holding the blob with this digest.
	ObjectPath(digest string) string
	// GetRecord returns the committed record of a cache key.
	GetRecord(key string) (*cache.Record, bool, error)
}

// output is one published output of a node run, as recorded in its row.
type output struct {
	Type   string `json:"type"`
	Digest string `json:"digest"`
	Path   string `json:"path"`
}

// treeEntry is one entry of a tree manifest (the documented on-disk format of package cache).
type treeEntry struct {
	Path   string `json:"path"`
	Type   string `json:"type"`
	Digest string `json:"digest"`
	Size   int64  `json:"size"`
}

// source reads a run's records and the outputs of its nodes.
type source struct {
	db      *track.DB
	objects Objects
	project string
	run     *track.Run
	nodes   []track.NodeRun
	bundle  string
	assets  map[string]bool // picture names given out so far
}

// outputs decodes the outputs of n; a row without outputs has none.
func (s *source) outputs(n track.NodeRun) map[string]output {
	outs := map[string]output{}
	if len(n.Outputs) > 0 {
		_ = json.Unmarshal(n.Outputs, &outs) // a row the store accepted holds valid JSON
	}
	return outs
}

// has reports whether n published an output called name.
func (s *source) has(n track.NodeRun, name string) bool {
	_, ok := s.outputs(n)[name]
	return ok
}

// blob reads the object with digest and checks its content against the digest.
func (s *source) blob(digest string) ([]byte, error) {
	p := s.objects.ObjectPath(digest)
	if p == "" {
		return nil, fmt.Errorf("invalid digest %q", digest)
	}
	data, err := os.ReadFile(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("object %s is missing from the store (removed by gc?)", digest)
		}
		return nil, err
	}
	sum := sha256.Sum256(data)
	if hex.EncodeToString(sum[:]) != digest {
		return nil, fmt.Errorf("object %s is corrupt: its content does not match its digest", p)
	}
	return data, nil
}

// file reads the file output name of n.
func (s *source) file(n track.NodeRun, name string) ([]byte, error) {
	o, ok := s.outputs(n)[name]
	if !ok {
		return nil, fmt.Errorf("%s has no output %q", n.Node, name)
	}
	if o.Type != cache.TypeFile {
		return nil, fmt.Errorf("%s output %q is a %s, not a file", n.Node, name, o.Type)
	}
	data, err := s.blob(o.Digest)
	if err != nil {
		return nil, fmt.Errorf("%s output %q: %w", n.Node, name, err)
	}
	return data, nil
}

// jsonFile decodes the file output name of n into v.
func (s *source) jsonFile(n track.NodeRun, name string, v any) error {
	data, err := s.file(n, name)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s output %q is not the JSON it should be: %w", n.Node, name, err)
	}
	return nil
}

// tree lists the files of the tree output name of n, sorted by path.
func (s *source) tree(n track.NodeRun, name string) ([]treeEntry, error) {
	o, ok := s.outputs(n)[name]
	if !ok {
		return nil, fmt.Errorf("%s has no output %q", n.Node, name)
	}
	if o.Type != cache.TypeTree {
		return nil, fmt.Errorf("%s output %q is a %s, not a folder", n.Node, name, o.Type)
	}
	blob, err := s.blob(o.Digest)
	if err != nil {
		return nil, fmt.Errorf("%s output %q: %w", n.Node, name, err)
	}
	var m struct {
		Format  string      `json:"format"`
		Entries []treeEntry `json:"entries"`
	}
	if err := json.NewDecoder(bytes.NewReader(blob)).Decode(&m); err != nil || m.Format != "pcamflow-tree-v1" {
		return nil, fmt.Errorf("%s output %q: the tree manifest %s is not one this pcamflow reads", n.Node, name, o.Digest)
	}
	var files []treeEntry
	for _, e := range m.Entries {
		if e.Type == cache.TypeFile {
			files = append(files, e)
		}
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	return files, nil
}

// picture returns an image block for PNG data published by node: its file name under assets/ is
// made from the node's address and rel, unique within the report.
func (s *source) picture(node, rel, alt string, data []byte) image {
	base := slug(node) + "-" + slug(strings.TrimSuffix(rel, path.Ext(rel)))
	name := base + ".png"
	for i := 2; s.assets[name]; i++ {
		name = fmt.Sprintf("%s-%d.png", base, i)
	}
	s.assets[name] = true
	return image{Name: name, Alt: alt, Data: data}
}

// nodePictures returns image blocks for the PNG files of n at the given relative paths (see
// pictures), in that order, skipping those n did not publish. Unreadable pictures become a
// paragraph that says why.
func (s *source) nodePictures(n track.NodeRun, rels ...string) []block {
	have := s.pictures(n)
	var out []block
	for _, rel := range rels {
		e, ok := have[rel]
		if !ok {
			continue
		}
		data, err := s.blob(e.Digest)
		if err != nil {
			out = append(out, para{fmt.Sprintf("Picture %s of %s cannot be shown: %v.", rel, n.Node, err)})
			continue
		}
		out = append(out, s.picture(n.Node, rel, fmt.Sprintf("%s: %s", n.Node, rel), data))
	}
	return out
}

// treeFile reads the file at rel inside the tree output name of n.
func (s *source) treeFile(n track.NodeRun, name, rel string) ([]byte, error) {
	files, err := s.tree(n, name)
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		if f.Path == rel {
			data, err := s.blob(f.Digest)
			if err != nil {
				return nil, fmt.Errorf("%s output %s/%s: %w", n.Node, name, rel, err)
			}
			return data, nil
		}
	}
	return nil, fmt.Errorf("%s output %q has no file %s", n.Node, name, rel)
}

// pictures returns the PNG files a node published, by a slash path relative to the node's outputs
// ("plots/loss.png", "roc.png"), sorted: file outputs named *.png and *.png files in tree outputs.
func (s *source) pictures(n track.NodeRun) map[string]treeEntry {
	out := map[string]treeEntry{}
	for name, o := range s.outputs(n) {
		switch {
		case o.Type == cache.TypeFile && strings.HasSuffix(strings.ToLower(name), ".png"):
			out[name] = treeEntry{Path: name, Type: o.Type, Digest: o.Digest}
		case o.Type == cache.TypeTree:
			files, err := s.tree(n, name)
			if err != nil {
				continue
			}
			for _, f := range files {
				if strings.HasSuffix(strings.ToLower(f.Path), ".png") {
					out[path.Join(name, f.Path)] = f
				}
			}
		}
	}
	return out
}

// byStage groups the run's node runs by stage address (the address before any [..]) in recording
// order of each stage's first node, and keeps the stages of the given kinds (all when none given).
// Sweep trials (kind.name.trial[..]) belong to their sweep's stage, not to their own kind.
func (s *source) byStage(kinds ...string) []stage {
	var out []stage
	index := map[string]int{}
	for _, n := range s.nodes {
		addr, _, _ := strings.Cut(n.Node, "[")
		trial := strings.HasSuffix(addr, ".trial")
		addr = strings.TrimSuffix(addr, ".trial")
		kind, _, _ := strings.Cut(addr, ".")
		if len(kinds) > 0 && !slices.Contains(kinds, kind) {
			continue
		}
		i, ok := index[addr]
		if !ok {
			i = len(out)
			index[addr] = i
			out = append(out, stage{Addr: addr, Kind: kind})
		}
		if n.Node == addr && !trial {
			nn := n
			out[i].Main = &nn
		} else {
			out[i].Instances = append(out[i].Instances, n)
		}
	}
	return out
}

// stage is one stage of the run: its main node (the stage's own address: the only node, or the
// aggregate of a stage with seeds) and its instance nodes (seeds, for_each keys, trials).
type stage struct {
	Addr, Kind string
	Main       *track.NodeRun
	Instances  []track.NodeRun
}

// all returns the main node (if any) and then the instances.
func (st stage) all() []track.NodeRun {
	var out []track.NodeRun
	if st.Main != nil {
		out = append(out, *st.Main)
	}
	return append(out, st.Instances...)
}

// hasKind reports whether the run has a stage of kind.
func (s *source) hasKind(kind string) bool { return len(s.byStage(kind)) > 0 }

// producing returns the execution that produced n's outputs: n itself, or for a cache hit the
// earlier execution it reused (n when that is no longer recorded). Its host, executor, job id,
// times and metrics are the evidence behind n's outputs.
func (s *source) producing(n track.NodeRun) track.NodeRun {
	if n.State != track.NodeCached {
		return n
	}
	if p, err := s.db.Producer(n); err == nil && p != nil {
		return *p
	}
	return n
}

// metrics returns the per-step metrics of n, those of its producer when n is a cache hit.
func (s *source) metrics(n track.NodeRun) ([]track.MetricRow, error) {
	p := s.producing(n)
	if p.State == track.NodeCached {
		return nil, nil // the producer is no longer recorded
	}
	return s.db.Metrics(p.ID)
}
