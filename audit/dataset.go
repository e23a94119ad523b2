package audit

import (
	"encoding/hex"
	"sort"

	"github.com/pcamflow/pcamflow/pcam"
)

// dataset addresses the scanned splits with one global id per patch: split offset + index, so the
// id order is the canonical order (train, valid, test, then index).
type dataset struct {
	scans   []*splitScan
	offsets []int // offsets[s] is the global id of patch 0 of split s; offsets[len] is the total
	imageOf []int32
}

// newDataset lays out the scans, which must be in canonical split order.
func newDataset(scans []*splitScan) *dataset {
	d := &dataset{scans: scans, offsets: make([]int, len(scans)+1)}
	for i, s := range scans {
		d.offsets[i+1] = d.offsets[i] + len(s.infos)
	}
	return d
}

// total returns the number of patches in all splits.
func (d *dataset) total() int { return d.offsets[len(d.scans)] }

// locate returns the split position and index of a global id.
func (d *dataset) locate(gid int) (split, index int) {
	s := sort.Search(len(d.scans), func(i int) bool { return d.offsets[i+1] > gid })
	return s, gid - d.offsets[s]
}

// info returns the record of a global id.
func (d *dataset) info(gid int) *patchInfo {
	s, i := d.locate(gid)
	return &d.scans[s].infos[i]
}

// occurrence returns the split, index and label of a global id.
func (d *dataset) occurrence(gid int) Occurrence {
	s, i := d.locate(gid)
	return Occurrence{Split: d.scans[s].split, Index: i, Label: d.scans[s].infos[i].label}
}

// shaHex returns the hex SHA-1 of a global id.
func (d *dataset) shaHex(gid int) string {
	sha := d.info(gid).sha
	return hex.EncodeToString(sha[:])
}

// splitRank orders splits canonically: the official splits in their order, then the others.
func splitRank(s pcam.Split) int {
	for i, o := range pcam.Splits {
		if s == o {
			return i
		}
	}
	return len(pcam.Splits)
}

// canonicalSplits orders split names: the official splits first in their order, others by name.
func canonicalSplits[T any](m map[pcam.Split]T) []pcam.Split {
	out := make([]pcam.Split, 0, len(m))
	for s := range m {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool {
		ri, rj := splitRank(out[i]), splitRank(out[j])
		if ri != rj {
			return ri < rj
		}
		return out[i] < out[j]
	})
	return out
}
