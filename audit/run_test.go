package audit

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/pcamflow/pcamflow/pcam"
)

// planted is a small dataset with one or more defects of every class at known positions.
type planted struct {
	readers map[pcam.Split]pcam.Reader
	metas   map[pcam.Split][]MetaRow
}

// newPlanted builds train 240 / valid 60 / test 60 distinct textured patches and plants defects.
func newPlanted() planted {
	train, valid, test := newTextured("mem:train", 240, 1), newTextured("mem:valid", 60, 2), newTextured("mem:test", 60, 3)
	rng := rand.New(rand.NewPCG(11, 12))
	near := func(src []byte, t int) []byte { return jitter(transform(src, t), rng, 0.06, 10, 3) }
	train.set(10, train.patch(3), train.labels[3])                            // exact within train
	valid.set(5, train.patch(20), train.labels[20])                           // exact train -> valid
	test.set(7, train.patch(20), train.labels[20])                            // exact train -> test
	train.set(31, train.patch(30), 1-train.labels[30])                        // exact, conflicting label
	train.set(41, near(train.patch(40), 5), train.labels[40])                 // near within train (rotation)
	test.set(12, near(train.patch(50), 1), train.labels[50])                  // near train -> test (flip)
	valid.set(20, near(train.patch(60), 6), 1-train.labels[60])               // near train -> valid, conflicting
	train.set(100, jitter(uniformPatch(242, 240, 244), rng, 0, 0, 4), 0)      // blank
	valid.set(30, jitter(uniformPatch(236, 238, 240), rng, 0, 0, 3), 0)       // blank
	train.set(110, jitter(uniformPatch(6, 5, 8), rng, 0, 0, 3), 0)            // black
	train.set(120, jitter(train.patch(120), rng, 0, 0, 0), train.labels[120]) // placeholder, replaced below
	train.set(120, saturate(train.patch(120)), 1)                             // saturated
	train.set(130, lowTissuePatch(), 0)                                       // low tissue
	train.fail = map[int]bool{140: true}                                      // unreadable
	train.labels[141] = 2                                                     // label outside {0,1}
	metas := map[pcam.Split][]MetaRow{
		pcam.Train: slideRows("t", 240, 40), pcam.Valid: slideRows("v", 60, 30), pcam.Test: slideRows("s", 60, 30),
	}
	for i := range 10 {
		metas[pcam.Test][i].WSI = "t2" // slide t2 of train leaks into test
	}
	for _, r := range []*memReader{train, valid, test} {
		for i, lab := range r.labels {
			if m := metas[pcam.Split(strings.TrimPrefix(r.name, "mem:"))]; lab <= 1 {
				m[i].CenterTumor = lab == 1
			}
		}
	}
	return planted{
		readers: map[pcam.Split]pcam.Reader{pcam.Train: train, pcam.Valid: valid, pcam.Test: test},
		metas:   metas,
	}
}

// slideRows makes meta rows assigning perSlide consecutive patches to each slide prefix<k>.
func slideRows(prefix string, n, perSlide int) []MetaRow {
	rows := make([]MetaRow, n)
	for i := range rows {
		rows[i] = MetaRow{CoordY: i, CoordX: i, WSI: fmt.Sprintf("%s%d", prefix, i/perSlide)}
	}
	return rows
}

// saturate scales contrast up until most pixels clip.
func saturate(p []byte) []byte {
	out := make([]byte, len(p))
	for i, v := range p {
		out[i] = clamp8((float64(v) - 128) * 6)
	}
	return out
}

// lowTissuePatch is white-grey glass with one small stained spot (about 3% tissue).
func lowTissuePatch() []byte {
	p := uniformPatch(200, 200, 205)
	for y := 40; y < 56; y++ {
		for x := 40; x < 56; x++ {
			copy(p[(y*pcam.Width+x)*3:], []byte{150, 60, 140})
		}
	}
	return p
}

// plantedOnce caches the planted dataset; readers are read-only, so tests can share it.
var plantedOnce = sync.OnceValue(newPlanted)

// runPlanted audits the planted dataset with opt.
func runPlanted(t *testing.T, opt Options) *Report {
	t.Helper()
	d := plantedOnce()
	r, err := Run(context.Background(), d.readers, d.metas, opt, nil)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return r
}

// refs formats patch references for comparison.
func refs(ps []PatchRef) []string {
	out := []string{}
	for _, p := range ps {
		out = append(out, fmt.Sprintf("%s:%d", p.Split, p.Index))
	}
	return out
}

func TestRunFindsEveryPlantedDefect(t *testing.T) {
	r := runPlanted(t, DefaultOptions())
	want := map[string][2]int{ // class -> {groups, patches}
		ExactDuplicates: {2, 2}, CrossSplitDuplicates: {1, 2}, NearDuplicates: {1, 1},
		CrossSplitNearDuplicates: {2, 2}, LabelConflicts: {2, 4}, Blank: {0, 2}, Black: {0, 1},
		Saturated: {0, 1}, LowTissue: {0, 1}, Corrupt: {0, 2}, WSIOverlap: {1, 10},
	}
	for _, c := range Classes {
		f := r.Finding(c)
		if got := [2]int{f.Groups, f.Patches}; got != want[c] {
			t.Errorf("%s: groups, patches = %v, want %v", c, got, want[c])
		}
	}
	var exact []string
	for _, g := range r.ExactDuplicateGroups {
		var ms []string
		for _, m := range g.Members {
			ms = append(ms, fmt.Sprintf("%s:%d", m.Split, m.Index))
		}
		exact = append(exact, strings.Join(ms, " "))
	}
	wantExact := []string{"train:3 train:10", "train:20 valid:5 test:7", "train:30 train:31"}
	if !slices.Equal(exact, wantExact) {
		t.Errorf("exact groups = %q, want %q (no other exact duplicates)", exact, wantExact)
	}
	var near []string
	for _, g := range r.NearDuplicateGroups {
		var ms []string
		for _, m := range g.Members {
			ms = append(ms, fmt.Sprintf("%s:%d", m.Split, m.Index))
		}
		near = append(near, strings.Join(ms, " "))
	}
	wantNear := []string{"train:40 train:41", "train:50 test:12", "train:60 valid:20"}
	if !slices.Equal(near, wantNear) {
		t.Errorf("near groups = %q, want %q", near, wantNear)
	}
	checks := []struct {
		name string
		got  []string
		want []string
	}{
		{"blank", refs(r.Flagged.Blank), []string{"train:100", "valid:30"}},
		{"black", refs(r.Flagged.Black), []string{"train:110"}},
		{"saturated", refs(r.Flagged.Saturated), []string{"train:120"}},
		{"low_tissue", refs(r.Flagged.LowTissue), []string{"train:130"}},
	}
	for _, c := range checks {
		if !slices.Equal(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if len(r.Corrupt) != 2 || r.Corrupt[0].Index != 140 || !strings.Contains(r.Corrupt[0].Error, "checksum mismatch") ||
		r.Corrupt[1].Index != 141 || !strings.Contains(r.Corrupt[1].Error, "label 2") {
		t.Errorf("corrupt = %+v, want train:140 (read error) and train:141 (label 2)", r.Corrupt)
	}
	if r.WSI == nil || len(r.WSI.Overlaps) != 1 || !slices.Equal(r.WSI.Overlaps[0].WSIs, []string{"t2"}) {
		t.Errorf("wsi overlaps = %+v, want train/test sharing t2", r.WSI)
	}
}

func TestRunCountsAndSizeExplanation(t *testing.T) {
	r := runPlanted(t, DefaultOptions())
	tr := r.Splits[0]
	if tr.Split != pcam.Train || tr.Patches != 240 || tr.Official != 262144 || tr.DeltaVsOfficial != 240-262144 {
		t.Errorf("train summary = %+v", tr)
	}
	// 240 patches - 2 corrupt = 238 readable, 2 of them extra copies.
	if tr.Positives+tr.Negatives != 238 || tr.UniqueImages != 236 || tr.DuplicateCopies != 2 || tr.Corrupt != 2 {
		t.Errorf("train counts = %+v", tr)
	}
	va := r.Splits[1]
	if va.UniqueImages != 60 || va.NewImages != 59 {
		t.Errorf("valid unique/new = %d/%d, want 60/59", va.UniqueImages, va.NewImages)
	}
	if r.Overall.Patches != 360 || r.Overall.UniqueImages != 236+59+59 {
		t.Errorf("overall = %+v", r.Overall)
	}
	text := strings.Join(r.SizeExplanation, "\n")
	for _, s := range []string{"220,025", "236 distinct images", "official 262,144"} {
		if !strings.Contains(text, s) {
			t.Errorf("size explanation lacks %q:\n%s", s, text)
		}
	}
	if m := r.Splits[0].Pixels.ChannelMean; m[0] < 0.5 || m[0] > 0.95 {
		t.Errorf("train mean R = %v, want an H&E-like value", m[0])
	}
	if r.Splits[1].Pixels.MeanShiftVsTrain == nil {
		t.Errorf("valid has no mean shift vs train")
	}
}

func TestRunIsDeterministic(t *testing.T) {
	var first []byte
	for _, o := range []struct{ workers, chunk int }{{1, 7}, {2, 64}, {2, 0}, {3, 1000}} {
		opt := DefaultOptions()
		opt.Workers, opt.ChunkSize = o.workers, o.chunk
		b, err := runPlanted(t, opt).JSON()
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = b
			continue
		}
		if string(b) != string(first) {
			t.Errorf("workers=%d chunk=%d: JSON differs from workers=1 chunk=7", o.workers, o.chunk)
		}
	}
}

func TestFailedGates(t *testing.T) {
	r := runPlanted(t, DefaultOptions())
	clean := mustRun(t, map[pcam.Split]pcam.Reader{pcam.Train: newTextured("mem:clean", 50, 9)}, DefaultOptions())
	cases := []struct {
		name   string
		report *Report
		failOn []string
		want   []string
	}{
		{"no gates", r, nil, nil},
		{"leakage gate trips", r, []string{CrossSplitDuplicates}, []string{CrossSplitDuplicates}},
		{"class order", r, []string{WSIOverlap, Corrupt, ExactDuplicates}, []string{ExactDuplicates, Corrupt, WSIOverlap}},
		{"unknown name never trips", r, []string{"typo"}, nil},
		{"clean data passes", clean, Classes, nil},
	}
	for _, c := range cases {
		if got := c.report.Failed(c.failOn); !slices.Equal(got, c.want) {
			t.Errorf("%s: Failed(%v) = %v, want %v", c.name, c.failOn, got, c.want)
		}
	}
	opt := DefaultOptions()
	opt.FailOn = []string{CrossSplitDuplicates, LowTissue}
	g := runPlanted(t, opt)
	if f := g.Finding(CrossSplitDuplicates); !f.Gate || !f.Failed {
		t.Errorf("finding %+v: want gate and failed", f)
	}
	if f := g.Finding(Blank); f.Gate || f.Failed {
		t.Errorf("finding %+v: blank is not a gate", f)
	}
}

// mustRun audits readers without meta.
func mustRun(t *testing.T, readers map[pcam.Split]pcam.Reader, opt Options) *Report {
	t.Helper()
	r, err := Run(context.Background(), readers, nil, opt, nil)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return r
}

func TestNearDuplicatesOffSkipsClasses(t *testing.T) {
	opt := DefaultOptions()
	opt.NearDuplicates = false
	r := runPlanted(t, opt)
	if len(r.NearDuplicateGroups) != 0 || r.NearSearch != nil || !r.Finding(NearDuplicates).Skipped {
		t.Errorf("near search off but report has %d groups, skipped=%v", len(r.NearDuplicateGroups), r.Finding(NearDuplicates).Skipped)
	}
	if got := r.Failed([]string{NearDuplicates}); got != nil {
		t.Errorf("skipped class tripped a gate: %v", got)
	}
	if r.Finding(ExactDuplicates).Patches != 2 {
		t.Errorf("exact duplicates must not depend on near search")
	}
}

func TestCleanPolicy(t *testing.T) {
	r := runPlanted(t, DefaultOptions())
	dropped := func(exclude []string, policy string) map[pcam.Split][]int {
		view, err := Clean(r, exclude, policy)
		if err != nil {
			t.Fatal(err)
		}
		out := map[pcam.Split][]int{}
		for _, s := range r.Splits {
			k := 0
			for i := range s.Patches {
				if kept := view.Keep[s.Split]; k < len(kept) && kept[k] == i {
					k++
					continue
				}
				out[s.Split] = append(out[s.Split], i)
			}
		}
		return out
	}
	seq := func(a, b int) []int {
		var out []int
		for i := a; i < b; i++ {
			out = append(out, i)
		}
		return out
	}
	// The planted set (newPlanted): train:3/train:10 exact; train:20 copied to valid:5 and test:7;
	// train:30/31 exact with conflicting labels; train:40/41 near; train:50 near test:12; train:60
	// near valid:20 with conflicting labels; blank train:100 and valid:30; black train:110;
	// saturated train:120; low tissue train:130; corrupt train:140, 141; slide t2 (train 80..119)
	// shared with test 0..9.
	cases := []struct {
		exclude []string
		policy  string
		want    map[pcam.Split][]int
	}{
		{nil, LeakDropTrain, map[pcam.Split][]int{}},
		{[]string{ExactDuplicates}, LeakDropTrain, map[pcam.Split][]int{pcam.Train: {10, 31}}}, // 31 copies 30 (its label differs)
		// Leaks: drop_train removes the train side and keeps valid and test intact ...
		{[]string{CrossSplitDuplicates}, LeakDropTrain, map[pcam.Split][]int{pcam.Train: {20}}},
		{[]string{CrossSplitNearDuplicates}, LeakDropTrain, map[pcam.Split][]int{pcam.Train: {50, 60}}},
		{[]string{WSIOverlap}, LeakDropTrain, map[pcam.Split][]int{pcam.Train: seq(80, 120)}},
		// ... drop_eval the later copy, as before.
		{[]string{CrossSplitDuplicates}, LeakDropEval, map[pcam.Split][]int{pcam.Valid: {5}, pcam.Test: {7}}},
		{[]string{CrossSplitNearDuplicates}, LeakDropEval, map[pcam.Split][]int{pcam.Valid: {20}, pcam.Test: {12}}},
		{[]string{WSIOverlap}, LeakDropEval, map[pcam.Split][]int{pcam.Test: seq(0, 10)}},
		{[]string{NearDuplicates}, LeakDropTrain, map[pcam.Split][]int{pcam.Train: {41}}},
		{[]string{LabelConflicts}, LeakDropTrain, map[pcam.Split][]int{pcam.Train: {30, 31, 60}}},
		// Quality classes apply to every split alike.
		{[]string{Blank}, LeakDropTrain, map[pcam.Split][]int{pcam.Train: {100}, pcam.Valid: {30}}},
		{[]string{Black, Saturated, LowTissue}, LeakDropEval, map[pcam.Split][]int{pcam.Train: {110, 120, 130}}},
		{[]string{Corrupt}, LeakDropTrain, map[pcam.Split][]int{pcam.Train: {140, 141}}},
		{DefaultExclude, LeakDropTrain, map[pcam.Split][]int{
			pcam.Train: {10, 20, 30, 31, 50, 60, 100, 110, 140, 141}, pcam.Valid: {30}}},
		{DefaultExclude, LeakDropEval, map[pcam.Split][]int{
			pcam.Train: {10, 30, 31, 60, 100, 110, 140, 141}, pcam.Valid: {5, 20, 30}, pcam.Test: {7, 12}}},
	}
	for _, c := range cases {
		if got := dropped(c.exclude, c.policy); !reflect.DeepEqual(got, c.want) {
			t.Errorf("exclude %v, %s: dropped %v, want %v", c.exclude, c.policy, got, c.want)
		}
	}
	if _, err := Clean(r, []string{"duplicates"}, LeakDropTrain); err == nil || !strings.Contains(err.Error(), "unknown finding class") {
		t.Errorf("Clean with unknown class: err = %v", err)
	}
	if _, err := Clean(r, nil, "drop_test"); err == nil || !strings.Contains(err.Error(), `"drop_train"`) {
		t.Errorf("Clean with unknown leak policy: err = %v", err)
	}
	if r.Splits[0].Clean != 240-10 || r.Splits[1].Clean != 60-1 || r.Splits[2].Clean != 60 || r.Overall.Clean != 360-11 {
		t.Errorf("clean counts = %d, %d, %d / %d, want 230, 59, 60 / 349", r.Splits[0].Clean, r.Splits[1].Clean, r.Splits[2].Clean, r.Overall.Clean)
	}
	wantDropped := map[string]int{ExactDuplicates: 2, CrossSplitDuplicates: 1, CrossSplitNearDuplicates: 2, LabelConflicts: 3, Blank: 1, Black: 1, Corrupt: 2}
	if !reflect.DeepEqual(r.Splits[0].Dropped, wantDropped) {
		t.Errorf("train dropped by class = %v, want %v", r.Splits[0].Dropped, wantDropped)
	}
}

// TestFlatDuplicatesAreNotLeaks: identical blank patches in train and test are blank patches, not a
// cross-split leak; the blank class alone removes them, from every split.
func TestFlatDuplicatesAreNotLeaks(t *testing.T) {
	train, test := newTextured("mem:train", 20, 1), newTextured("mem:test", 20, 2)
	white := uniformPatch(255, 255, 255)
	train.set(4, white, 0)
	test.set(6, white, 1)
	r := mustRun(t, map[pcam.Split]pcam.Reader{pcam.Train: train, pcam.Test: test}, DefaultOptions())
	if len(r.ExactDuplicateGroups) != 1 || r.ExactDuplicateGroups[0].Quality != Blank {
		t.Fatalf("exact groups = %+v, want the blank pair", r.ExactDuplicateGroups)
	}
	for _, c := range []string{ExactDuplicates, CrossSplitDuplicates, LabelConflicts} {
		if f := r.Finding(c); f.Patches != 0 {
			t.Errorf("%s counts %d patches for a pair of blank patches", c, f.Patches)
		}
	}
	if r.Finding(Blank).Patches != 2 || r.Splits[0].Clean != 19 || r.Splits[1].Clean != 19 {
		t.Errorf("blank = %d, clean = %d/%d; want 2 blanks, one removed from each split",
			r.Finding(Blank).Patches, r.Splits[0].Clean, r.Splits[1].Clean)
	}
}

// TestCleanWarnsAboutEmptiedSplits: when the excluded classes remove every patch of a split, the
// report says so with the numbers and the classes responsible.
func TestCleanWarnsAboutEmptiedSplits(t *testing.T) {
	train, valid := newTextured("mem:train", 30, 1), newTextured("mem:valid", 20, 2)
	metas := map[pcam.Split][]MetaRow{pcam.Train: slideRows("a", 30, 10), pcam.Valid: slideRows("a", 20, 10)}
	opt := DefaultOptions()
	opt.Exclude = append(opt.Exclude, WSIOverlap)
	for _, c := range []struct {
		policy, split, want string
	}{
		{LeakDropTrain, "train", "keeps only 10 of the 30 train patches (wsi_overlap removes 20)"},
		{LeakDropEval, "valid", "keeps none of the 20 valid patches (wsi_overlap removes 20)"},
	} {
		opt.LeakPolicy = c.policy
		r, err := Run(context.Background(), map[pcam.Split]pcam.Reader{pcam.Train: train, pcam.Valid: valid}, metas, opt, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], c.want) {
			t.Errorf("%s: warnings %q, want one saying %q", c.policy, r.Warnings, c.want)
		}
		var md strings.Builder
		r.WriteMarkdown(&md)
		if !strings.Contains(md.String(), "**Warning:** The clean view") {
			t.Errorf("%s: the summary does not show the warning", c.policy)
		}
	}
}

// TestNearEdgesNameTheTransform: every near-duplicate link says which flip or rotation maps one
// member onto the other, and whether it does so exactly or only up to colour and noise (the report
// used to show distance 0 and residual 0 for all of them alike).
func TestNearEdgesNameTheTransform(t *testing.T) {
	train := newTextured("mem:train", 40, 5)
	rng := rand.New(rand.NewPCG(3, 4))
	for tr := 1; tr < 8; tr++ { // patch 20+tr is patch tr under transform tr, exactly
		train.set(20+tr, transform(train.patch(tr), tr), train.labels[tr])
	}
	train.set(30, jitter(train.patch(10), rng, 0.05, 8, 2), train.labels[10]) // same geometry, new colour
	train.set(31, jitter(transform(train.patch(11), 5), rng, 0.05, 8, 2), 1)  // rot90 and new colour
	r := mustRun(t, map[pcam.Split]pcam.Reader{pcam.Train: train}, DefaultOptions())
	got := map[string]string{}
	for _, g := range r.NearDuplicateGroups {
		for _, e := range g.Edges {
			a, b := g.Members[e.A], g.Members[e.B]
			got[fmt.Sprintf("%d->%d", a.Index, b.Index)] = fmt.Sprintf("%s exact=%v", e.Transform, e.Exact)
		}
	}
	want := map[string]string{
		"1->21": "flip_h exact=true", "2->22": "flip_v exact=true", "3->23": "rot180 exact=true",
		"4->24": "transpose exact=true", "5->25": "rot90 exact=true", "6->26": "rot270 exact=true",
		"7->27": "anti_transpose exact=true", "10->30": "identity exact=false", "11->31": "rot90 exact=false",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("near links = %v, want %v", got, want)
	}
	var md strings.Builder
	r.WriteMarkdown(&md)
	for _, s := range []string{"train:25 = rot90(train:5), exact", "train:30 = identity(train:10), near, residual"} {
		if !strings.Contains(md.String(), s) {
			t.Errorf("summary lacks %q", s)
		}
	}
}
