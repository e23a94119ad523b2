package evaluate

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/pcamflow/pcamflow/audit"
	"github.com/pcamflow/pcamflow/metrics"
	"github.com/pcamflow/pcamflow/pcam"
	"github.com/pcamflow/pcamflow/predict"
	"github.com/pcamflow/pcamflow/stages/dataset"
)

// sliceDef is one slice: a named subset of the evaluated patches (positions in the predictions).
type sliceDef struct {
	Family string
	Name   string
	// Rule says how membership was decided, e.g. "haematoxylin <= 0.41".
	Rule string
	idx  []int
}

// ID is the slice's name in reports: family=name.
func (s sliceDef) ID() string { return s.Family + "=" + s.Name }

// sliceInput is what the slice families are built from.
type sliceInput struct {
	cfg   *config
	split pcam.Split
	view  dataset.View
	preds *predict.Predictions
	feats []Features
	meta  []pcam.MetaRow
	// projectDir resolves relative user slice files.
	projectDir string
}

// buildSlices returns the slices of every configured family and notes on families that do not
// apply to this dataset. A user slice file that is wrong is an error naming the file, the line and
// the field.
func buildSlices(in *sliceInput) ([]sliceDef, []string, error) {
	var out []sliceDef
	var notes []string
	for _, family := range in.cfg.sliceNames() {
		spec := in.cfg.slices[family]
		var defs []sliceDef
		var note string
		var err error
		switch family {
		case sliceBrightness:
			defs = tertiles("brightness", in.feats, func(f Features) float64 { return f.Brightness })
		case sliceTissue:
			defs = tertiles("tissue", in.feats, func(f Features) float64 { return f.Tissue })
		case sliceStain:
			defs = append(tertiles("haematoxylin", in.feats, func(f Features) float64 { return f.Haematoxylin }),
				tertiles("eosin", in.feats, func(f Features) float64 { return f.Eosin })...)
		case sliceSlide:
			defs, note = in.bySlide()
		case sliceCentre:
			defs, note = in.byCentre(spec)
		case sliceAudit:
			defs, note, err = in.byAudit(spec)
		default:
			defs, err = in.byCSV(family, spec)
		}
		if err != nil {
			return nil, nil, err
		}
		if note != "" {
			notes = append(notes, family+": "+note)
		}
		for _, d := range defs {
			if len(d.idx) > 0 {
				out = append(out, d)
			}
		}
	}
	return out, notes, nil
}

// tertiles cuts the patches into three slices at the 1/3 and 2/3 quantiles of a feature (NumPy's
// linear quantiles): low (<= q1), mid (q1 < v <= q2), high (> q2).
func tertiles(family string, feats []Features, get func(Features) float64) []sliceDef {
	vals := make([]float64, len(feats))
	for i, f := range feats {
		vals[i] = get(f)
	}
	sorted := slices.Clone(vals)
	slices.Sort(sorted)
	q1, q2 := metrics.Quantile(sorted, 1.0/3), metrics.Quantile(sorted, 2.0/3)
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', 4, 64) }
	defs := []sliceDef{
		{Family: family, Name: "low", Rule: fmt.Sprintf("%s <= %s", family, f(q1))},
		{Family: family, Name: "mid", Rule: fmt.Sprintf("%s < %s <= %s", f(q1), family, f(q2))},
		{Family: family, Name: "high", Rule: fmt.Sprintf("%s > %s", family, f(q2))},
	}
	for i, v := range vals {
		switch {
		case v <= q1:
			defs[0].idx = append(defs[0].idx, i)
		case v <= q2:
			defs[1].idx = append(defs[1].idx, i)
		default:
			defs[2].idx = append(defs[2].idx, i)
		}
	}
	return defs
}

// groupBy makes one slice per distinct key (sorted), skipping patches whose key is "".
func groupBy(family, rule string, n int, key func(i int) string) []sliceDef {
	groups := map[string][]int{}
	for i := range n {
		if k := key(i); k != "" {
			groups[k] = append(groups[k], i)
		}
	}
	names := slices.Sorted(maps.Keys(groups))
	out := make([]sliceDef, len(names))
	for j, k := range names {
		out[j] = sliceDef{Family: family, Name: k, Rule: rule, idx: groups[k]}
	}
	return out
}

// wsi returns the slide name of prediction i, or "" without meta rows.
func (in *sliceInput) wsi(i int) string {
	idx := in.preds.Index[i]
	if idx >= len(in.meta) {
		return ""
	}
	return in.meta[idx].WSI
}

// bySlide makes one slice per whole-slide image of the meta CSV.
func (in *sliceInput) bySlide() ([]sliceDef, string) {
	if len(in.meta) == 0 {
		return nil, "skipped: the dataset has no meta CSV (wsi column)"
	}
	return groupBy("slide", "meta CSV wsi", len(in.preds.Labels), in.wsi), ""
}

// camelyon17 matches Camelyon17 slide names; its 100 patients per set come 20 from each of 5 centres,
// numbered in centre order.
var camelyon17 = regexp.MustCompile(`patient_(\d+)`)

// byCentre groups slides by centre: from a user regex's first capture group, or for "auto" from
// Camelyon17 patient numbers (centre = patient / 20).
func (in *sliceInput) byCentre(spec string) ([]sliceDef, string) {
	if len(in.meta) == 0 {
		return nil, "skipped: the dataset has no meta CSV (wsi column)"
	}
	n := len(in.preds.Labels)
	if re, ok := strings.CutPrefix(spec, "meta.wsi:"); ok {
		r := regexp.MustCompile(re) // checked by decode
		return groupBy("centre", "wsi =~ "+re, n, func(i int) string {
			if m := r.FindStringSubmatch(in.wsi(i)); m != nil {
				return m[1]
			}
			return "(no match)"
		}), ""
	}
	defs := groupBy("centre", "Camelyon17 patient number / 20", n, func(i int) string {
		if m := camelyon17.FindStringSubmatch(in.wsi(i)); m != nil {
			p, _ := strconv.Atoi(m[1])
			return fmt.Sprintf("centre_%d", p/20)
		}
		return ""
	})
	if len(defs) == 0 {
		return nil, `skipped: the slide names do not carry a centre (not Camelyon17 patient_NNN names); give centre = "meta.wsi:REGEX"`
	}
	return defs, ""
}

// byAudit makes one slice per data-audit flag (and one of unflagged patches) from the audit report:
// the given report, or for "auto" the report published next to an audited view's index lists.
func (in *sliceInput) byAudit(spec string) ([]sliceDef, string, error) {
	path := spec
	if spec == "auto" {
		if in.view.Indices == "" {
			return nil, "skipped: the dataset is not an audited view (use data_audit.NAME.clean, or audit = data_audit.NAME.report)", nil
		}
		path = filepath.Join(filepath.Dir(in.view.Indices), "report.json")
		if _, err := os.Stat(path); err != nil {
			return nil, "skipped: no data_audit report.json next to the view's index lists; give audit = data_audit.NAME.report", nil
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, "", fmt.Errorf("slices.audit: reading the audit report: %w", err)
	}
	var rep audit.Report
	if err := json.Unmarshal(data, &rep); err != nil {
		return nil, "", fmt.Errorf("slices.audit: %s is not a data_audit report: %w", path, err)
	}
	flags := map[int][]string{} // reader index -> flags
	add := func(flag string, split pcam.Split, index int) {
		if split == in.split && !slices.Contains(flags[index], flag) {
			flags[index] = append(flags[index], flag)
		}
	}
	for _, g := range rep.ExactDuplicateGroups {
		for _, m := range g.Members {
			add("exact_duplicate", m.Split, m.Index)
		}
	}
	for _, g := range rep.NearDuplicateGroups {
		for _, m := range g.Members {
			add("near_duplicate", m.Split, m.Index)
		}
	}
	for flag, refs := range map[string][]audit.PatchRef{"blank": rep.Flagged.Blank, "black": rep.Flagged.Black,
		"saturated": rep.Flagged.Saturated, "low_tissue": rep.Flagged.LowTissue} {
		for _, r := range refs {
			add(flag, r.Split, r.Index)
		}
	}
	byFlag := map[string][]int{}
	for i, idx := range in.preds.Index {
		fs := flags[idx]
		if len(fs) == 0 {
			byFlag["unflagged"] = append(byFlag["unflagged"], i)
		}
		for _, f := range fs {
			byFlag[f] = append(byFlag[f], i)
		}
	}
	var out []sliceDef
	for _, f := range []string{"unflagged", "exact_duplicate", "near_duplicate", "low_tissue", "saturated", "blank", "black"} {
		out = append(out, sliceDef{Family: "audit", Name: f, Rule: "data_audit report " + filepath.Base(path), idx: byFlag[f]})
	}
	return out, "", nil
}

// byCSV reads a user slice file: a header with slice and index or id, one row per patch.
func (in *sliceInput) byCSV(family, path string) ([]sliceDef, error) {
	fail := func(format string, a ...any) error {
		return fmt.Errorf("slices.%s: %s: %s", family, path, fmt.Sprintf(format, a...))
	}
	abs := path
	if !filepath.IsAbs(abs) && in.projectDir != "" {
		abs = filepath.Join(in.projectDir, path)
	}
	f, err := os.Open(abs)
	if err != nil {
		return nil, fmt.Errorf("slices.%s: %w", family, err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	head, err := r.Read()
	if err != nil {
		return nil, fail("reading the header: %v", err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[strings.TrimSpace(strings.ToLower(h))] = i
	}
	sc, okSlice := col["slice"]
	key, okKey := col["index"], false
	keyName := "index"
	if _, ok := col["index"]; ok {
		okKey = true
	} else if k, ok := col["id"]; ok {
		key, okKey, keyName = k, true, "id"
	}
	if !okSlice || !okKey {
		return nil, fail("line 1: the header %q needs a slice column and an index or id column", strings.Join(head, ","))
	}
	pos := map[string]int{} // index or id -> position in the predictions
	for i := range in.preds.Index {
		if keyName == "index" {
			pos[strconv.Itoa(in.preds.Index[i])] = i
		} else if _, dup := pos[in.preds.ID[i]]; !dup {
			pos[in.preds.ID[i]] = i
		}
	}
	firstLine := map[int]int{}
	groups := map[string][]int{}
	for line := 2; ; line++ {
		rec, err := r.Read()
		if err == io.EOF { //nolint:errorlint // csv.Reader's bare end-of-input value; a wrapped EOF is a decode error
			break
		}
		if err != nil {
			return nil, fail("%v", err)
		}
		if len(rec) <= max(sc, key) {
			return nil, fail("line %d: %d fields, the header has %d", line, len(rec), len(head))
		}
		k, name := strings.TrimSpace(rec[key]), strings.TrimSpace(rec[sc])
		i, ok := pos[k]
		if !ok {
			return nil, fail("line %d: %s %q is not a patch of the %s split being evaluated", line, keyName, k, in.split)
		}
		if name == "" {
			return nil, fail("line %d: the slice field is empty", line)
		}
		if first, dup := firstLine[i]; dup {
			return nil, fail("line %d: %s %s is listed again (first on line %d): a patch belongs to one slice per file", line, keyName, k, first)
		}
		firstLine[i] = line
		groups[name] = append(groups[name], i)
	}
	var out []sliceDef
	for _, n := range slices.Sorted(maps.Keys(groups)) {
		idx := groups[n]
		sort.Ints(idx)
		out = append(out, sliceDef{Family: family, Name: n, Rule: filepath.Base(path), idx: idx})
	}
	return out, nil
}
