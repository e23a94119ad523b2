package audit

import (
	"context"
	"strings"
	"testing"

	"github.com/pcamflow/pcamflow/pcam"
)

func TestCorruptBeyondLimitIsFatal(t *testing.T) {
	r := newTextured("mem:broken.h5", 40, 5)
	r.fail = map[int]bool{3: true, 4: true, 30: true}
	cases := []struct {
		maxCorrupt int
		wantErr    string
	}{
		{0, ""}, // default 1000: reported, not fatal
		{3, ""}, // exactly at the limit
		{2, "3 unreadable patches exceed max_corrupt = 2"},
		{-1, "mem:broken.h5"},
	}
	for _, c := range cases {
		opt := DefaultOptions()
		opt.MaxCorrupt, opt.ChunkSize = c.maxCorrupt, 16
		rep, err := Run(context.Background(), map[pcam.Split]pcam.Reader{pcam.Train: r}, nil, opt, nil)
		switch {
		case c.wantErr == "" && err != nil:
			t.Errorf("max_corrupt %d: unexpected error %v", c.maxCorrupt, err)
		case c.wantErr == "" && len(rep.Corrupt) != 3:
			t.Errorf("max_corrupt %d: %d corrupt patches reported, want 3", c.maxCorrupt, len(rep.Corrupt))
		case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
			t.Errorf("max_corrupt %d: err = %v, want it to mention %q", c.maxCorrupt, err, c.wantErr)
		}
	}
}

func TestRunRejectsBadArguments(t *testing.T) {
	good := map[pcam.Split]pcam.Reader{pcam.Train: newTextured("mem:train", 10, 1)}
	bad := DefaultOptions()
	bad.HammingThreshold = 40
	typo := DefaultOptions()
	typo.FailOn = []string{"cross_split_duplicate"}
	cases := []struct {
		name    string
		splits  map[pcam.Split]pcam.Reader
		metas   map[pcam.Split][]MetaRow
		opt     Options
		wantErr string
	}{
		{"threshold", good, nil, bad, "hamming_threshold: 40 is outside 0..16"},
		{"unknown gate", good, nil, typo, `fail_on: unknown finding class "cross_split_duplicate"`},
		{"no splits", nil, nil, DefaultOptions(), "no splits"},
		{"nil reader", map[pcam.Split]pcam.Reader{pcam.Valid: nil}, nil, DefaultOptions(), "split valid has a nil reader"},
		{"meta rows", good, map[pcam.Split][]MetaRow{pcam.Train: make([]MetaRow, 9)}, DefaultOptions(),
			"meta CSV has 9 rows but mem:train has 10 patches"},
		{"meta split", good, map[pcam.Split][]MetaRow{pcam.Test: nil}, DefaultOptions(), "split test, which is not being audited"},
	}
	for _, c := range cases {
		_, err := Run(context.Background(), c.splits, c.metas, c.opt, nil)
		if err == nil || !strings.Contains(err.Error(), c.wantErr) {
			t.Errorf("%s: err = %v, want it to contain %q", c.name, err, c.wantErr)
		}
	}
}

func TestRunStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Run(ctx, map[pcam.Split]pcam.Reader{pcam.Train: newTextured("mem:train", 100, 1)}, nil, DefaultOptions(), nil)
	if err == nil || !strings.Contains(err.Error(), "context canceled") {
		t.Errorf("err = %v, want context canceled", err)
	}
}

func TestProgressReachesTotal(t *testing.T) {
	var calls, last, total int
	opt := DefaultOptions()
	opt.ChunkSize = 8
	_, err := Run(context.Background(), map[pcam.Split]pcam.Reader{
		pcam.Train: newTextured("mem:train", 30, 1), pcam.Test: newTextured("mem:test", 10, 2),
	}, nil, opt, func(done, tot int) {
		if done < last {
			t.Errorf("progress went back from %d to %d", last, done)
		}
		calls, last, total = calls+1, done, tot
	})
	if err != nil {
		t.Fatal(err)
	}
	if last != 40 || total != 40 || calls != 6 {
		t.Errorf("progress ended at %d/%d after %d calls, want 40/40 after 6", last, total, calls)
	}
}
