package audit

import (
	"bytes"
	"sort"
)

// exactResult holds the exact-duplicate analysis.
type exactResult struct {
	groups [][]int // global ids of each group of >= 2, groups ordered by first id
	unique []int   // distinct images per split position
	newImg []int   // distinct images first seen in each split position
}

// findExact groups readable patches by SHA-1. It sets d.imageOf[gid] to the first global id with
// the same pixels (-1 for corrupt patches).
func (d *dataset) findExact() exactResult {
	n := d.total()
	d.imageOf = make([]int32, n)
	ids := make([]int32, 0, n)
	for gid := range n {
		d.imageOf[gid] = -1
		if !d.info(gid).corrupt {
			ids = append(ids, int32(gid))
		}
	}
	infos := make([]*patchInfo, n)
	for gid := range n {
		infos[gid] = d.info(gid)
	}
	sort.Slice(ids, func(i, j int) bool {
		if c := bytes.Compare(infos[ids[i]].sha[:], infos[ids[j]].sha[:]); c != 0 {
			return c < 0
		}
		return ids[i] < ids[j]
	})
	res := exactResult{unique: make([]int, len(d.scans)), newImg: make([]int, len(d.scans))}
	for start := 0; start < len(ids); {
		end := start + 1
		for end < len(ids) && infos[ids[end]].sha == infos[ids[start]].sha {
			end++
		}
		res.addRun(d, ids[start:end])
		start = end
	}
	sort.Slice(res.groups, func(i, j int) bool { return res.groups[i][0] < res.groups[j][0] })
	return res
}

// addRun records one run of identical images (ids ascending).
func (res *exactResult) addRun(d *dataset, run []int32) {
	rep := run[0]
	lastSplit := -1
	for _, gid := range run {
		d.imageOf[gid] = rep
		if s, _ := d.locate(int(gid)); s != lastSplit {
			res.unique[s]++
			lastSplit = s
		}
	}
	first, _ := d.locate(int(rep))
	res.newImg[first]++
	if len(run) > 1 {
		g := make([]int, len(run))
		for i, gid := range run {
			g[i] = int(gid)
		}
		res.groups = append(res.groups, g)
	}
}
