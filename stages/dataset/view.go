package dataset

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/zclconf/go-cty/cty"

	"github.com/pcamflow/pcamflow/pcam"
)

// View is what a dataset or data_audit.clean reference carries to downstream stages: where the
// data is and, for a cleaned view, which patch indices to use. Its exposed cty form is an object
// with the same attributes.
type View struct {
	// Kind is "dataset" for a whole dataset, "dataset_view" for a subset (e.g. after an audit).
	Kind string `json:"kind"`
	// Format is the storage format (pcam.FormatH5, ...).
	Format string `json:"format"`
	// Dir is the data folder (absolute or project-relative).
	Dir string `json:"dir"`
	// Handle is the path of the dataset's handle file (counts, balance, file digests).
	Handle string `json:"handle"`
	// Indices is the path of the index lists of a view ("" for a whole dataset).
	Indices string `json:"indices,omitempty"`
}

// Value returns the view as the cty object downstream expressions see.
func (v View) Value() cty.Value {
	return cty.ObjectVal(map[string]cty.Value{
		"kind": cty.StringVal(v.Kind), "format": cty.StringVal(v.Format), "dir": cty.StringVal(v.Dir),
		"handle": cty.StringVal(v.Handle), "indices": cty.StringVal(v.Indices),
	})
}

// UnknownValue is the shape of a view before its stage has run.
func UnknownValue() cty.Value {
	return cty.ObjectVal(map[string]cty.Value{
		"kind": cty.UnknownVal(cty.String), "format": cty.UnknownVal(cty.String), "dir": cty.UnknownVal(cty.String),
		"handle": cty.UnknownVal(cty.String), "indices": cty.UnknownVal(cty.String),
	})
}

// ViewOf decodes a reference to a dataset or a dataset view; it explains what is expected when v is
// something else (for example a string path).
func ViewOf(v cty.Value) (View, error) {
	const want = "a dataset reference such as dataset.pcam or data_audit.pcam.clean"
	if v.IsNull() || !v.Type().IsObjectType() {
		return View{}, fmt.Errorf("expected %s", want)
	}
	get := func(name string) (string, bool) {
		if !v.Type().HasAttribute(name) {
			return "", false
		}
		a := v.GetAttr(name)
		if !a.IsKnown() || a.IsNull() || a.Type() != cty.String {
			return "", a.IsKnown() == false
		}
		return a.AsString(), true
	}
	var view View
	var ok bool
	if view.Kind, ok = get("kind"); !ok || (view.Kind != "dataset" && view.Kind != "dataset_view" && view.Kind != "") {
		return View{}, fmt.Errorf("expected %s", want)
	}
	view.Format, _ = get("format")
	view.Dir, _ = get("dir")
	view.Handle, _ = get("handle")
	view.Indices, _ = get("indices")
	return view, nil
}

// Handle is the dataset stage's summary of a dataset: per split, the count, the class balance and
// the content digests of its files.
type Handle struct {
	Format string                `json:"format"`
	Splits map[string]SplitStats `json:"splits"`
	// Synthetic is the generator's manifest summary when the data is synthetic.
	Synthetic map[string]int `json:"synthetic,omitempty"`
}

// SplitStats describes one split.
type SplitStats struct {
	N         int               `json:"n"`
	Positives int               `json:"positives"`
	Official  int               `json:"official"`
	Files     map[string]string `json:"files,omitempty"`
}

// ReadHandle reads a handle file.
func ReadHandle(path string) (*Handle, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the dataset handle: %w", err)
	}
	var h Handle
	if err := json.Unmarshal(data, &h); err != nil {
		return nil, fmt.Errorf("dataset handle %s is corrupt: %w", path, err)
	}
	return &h, nil
}

// Indices are the patch indices of each split that a view keeps.
type Indices struct {
	Splits map[string][]int `json:"splits"`
	// Dropped counts, per split, how many patches the view removed; Patches how many the split has.
	Dropped map[string]int `json:"dropped,omitempty"`
	Patches map[string]int `json:"patches,omitempty"`
	// DroppedBy counts, per split and finding class, the patches the class removed (a patch removed
	// by several classes counts under each); LeakPolicy is the audit's leak policy.
	DroppedBy  map[string]map[string]int `json:"dropped_by,omitempty"`
	LeakPolicy string                    `json:"leak_policy,omitempty"`
}

// emptyError explains why a view keeps no patch of split, with the numbers.
func (ix *Indices) emptyError(path string, split pcam.Split, n int) error {
	s := string(split)
	if _, ok := ix.Splits[s]; !ok {
		return fmt.Errorf("the view %s has no %s split (the audit did not see one); it cannot be used where the %s split is needed", path, split, split)
	}
	var parts []string
	for class, k := range ix.DroppedBy[s] {
		parts = append(parts, fmt.Sprintf("%s removes %d", class, k))
	}
	sort.Strings(parts)
	why := ""
	if len(parts) > 0 {
		why = " (" + strings.Join(parts, ", ") + ")"
	}
	return fmt.Errorf("the clean view %s keeps none of the %d %s patches%s: exclude fewer classes in the data_audit stage, or change its leak_policy (now %q)",
		path, n, split, why, ix.LeakPolicy)
}

// Open opens one split of the view and returns the indices to use: every index of a whole dataset,
// or the view's kept indices (sorted). A view that keeps no patch of a non-empty split is an error
// that says how many patches each class removed, so that a stage needing the split fails up front
// with the numbers. The caller closes the reader.
func (v View) Open(split pcam.Split) (pcam.Reader, []int, error) {
	r, err := pcam.OpenDir(v.Dir, v.Format, split)
	if err != nil {
		return nil, nil, err
	}
	if v.Indices == "" {
		idx := make([]int, r.Len())
		for i := range idx {
			idx[i] = i
		}
		return r, idx, nil
	}
	data, err := os.ReadFile(v.Indices)
	if err != nil {
		r.Close()
		return nil, nil, fmt.Errorf("reading the view's index lists: %w", err)
	}
	var ix Indices
	if err := json.Unmarshal(data, &ix); err != nil {
		r.Close()
		return nil, nil, fmt.Errorf("index lists %s are corrupt: %w", v.Indices, err)
	}
	idx := append([]int(nil), ix.Splits[string(split)]...)
	if len(idx) == 0 && r.Len() > 0 {
		r.Close()
		return nil, nil, ix.emptyError(v.Indices, split, r.Len())
	}
	sort.Ints(idx)
	for _, i := range idx {
		if i < 0 || i >= r.Len() {
			r.Close()
			return nil, nil, fmt.Errorf("index lists %s: index %d out of range for split %s of %d patches", v.Indices, i, split, r.Len())
		}
	}
	return r, idx, nil
}
