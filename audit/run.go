package audit

import (
	"context"
	"errors"
	"fmt"

	"github.com/pcamflow/pcamflow/pcam"
)

// Run audits the given splits and returns the report.
//
// splits maps each split to audit to an open Reader; Run reads each reader from one goroutine only,
// in consecutive chunks of Options.ChunkSize patches, and does not close it. metas, which may be
// nil, maps splits to their meta CSV rows (row i describes patch i); a split without rows is left
// out of the slide analysis. progress, which may be nil, is called from Run's goroutine after each
// chunk with the number of patches scanned so far and the total over all splits.
//
// Memory stays bounded whatever the split sizes: (Workers+2) chunk buffers plus about 48 bytes per
// patch. The report is the same for the same data and options whatever Workers and ChunkSize are.
// Run returns an error for invalid options, a nil reader, meta rows that do not match a split,
// a split with more than MaxCorrupt unreadable patches, or a cancelled ctx.
func Run(ctx context.Context, splits map[pcam.Split]pcam.Reader, metas map[pcam.Split][]MetaRow,
	opt Options, progress func(done, total int)) (*Report, error) {
	if err := checkRunArgs(splits, metas, opt); err != nil {
		return nil, err
	}
	order := canonicalSplits(splits)
	total, done := 0, 0
	for _, s := range order {
		total += splits[s].Len()
	}
	sc := newScanner(opt, func(n int) {
		done += n
		if progress != nil {
			progress(done, total)
		}
	})
	scans := make([]*splitScan, 0, len(order))
	for _, s := range order {
		res, err := sc.scan(ctx, s, splits[s])
		if err != nil {
			return nil, err
		}
		scans = append(scans, res)
	}
	readers := make([]pcam.Reader, len(order))
	for i, s := range order {
		readers[i] = splits[s]
	}
	return buildReport(newDataset(scans), readers, metas, opt, sc.workers)
}

// checkRunArgs validates the arguments of Run before any data is read.
func checkRunArgs(splits map[pcam.Split]pcam.Reader, metas map[pcam.Split][]MetaRow, opt Options) error {
	if err := opt.Validate(); err != nil {
		return fmt.Errorf("audit: invalid options: %w", err)
	}
	if len(splits) == 0 {
		return errors.New("audit: no splits to audit")
	}
	for s, r := range splits {
		if r == nil {
			return fmt.Errorf("audit: split %s has a nil reader", s)
		}
	}
	return checkMetas(splits, metas)
}
