package audit

import "fmt"

// Limits on what the near-duplicate search keeps.
const (
	maxEdgesPerGroup = 32      // edges listed per group in the report
	maxCandidates    = 1 << 22 // hash-level candidate pairs kept for verification (16 bytes each)
	verifyBatch      = 4096    // distinct patches whose thumbnails are held at once (12 KB each)
)

// nearResult holds the near-duplicate analysis over representatives.
type nearResult struct {
	groups []nearComponent
	search NearSearch
}

// nearComponent is one connected group of representative global ids with its edges.
type nearComponent struct {
	gids  []int
	edges []edge // a, b are positions in gids
}

// findNear searches near duplicates among the distinct, non-flat images of d (d.findExact must
// have run): hash candidates from the multi-index, verified on pixels re-read through loader
// when maxRMS >= 0, grouped into connected components.
func (d *dataset) findNear(radius, workers int, loader *thumbLoader, maxRMS float64) (nearResult, error) {
	var gids []int
	var hashes []imageHash
	excluded := 0
	for gid := range d.total() {
		if int(d.imageOf[gid]) != gid {
			continue // corrupt, or a copy of an earlier image
		}
		info := d.info(gid)
		if info.lowInfo || info.quality == qualityBlank || info.quality == qualityBlack {
			excluded++
			continue
		}
		gids = append(gids, gid)
		hashes = append(hashes, info.phash)
	}
	idx := newMIH(hashes, radius)
	res := nearResult{search: NearSearch{
		HammingThreshold: radius, MaxResidual: maxRMS, Searched: len(gids), ExcludedFlat: excluded,
		Bands: mihBands, ProbeRadius: idx.probeRadius(),
	}}
	var cands []edge
	idx.search(workers, func(es []edge) {
		res.search.Candidates += len(es)
		room := maxCandidates - len(cands)
		if len(es) > room {
			es, res.search.CandidatesTruncated = es[:max(0, room)], true
		}
		cands = append(cands, es...)
	})
	edges := cands
	if maxRMS >= 0 && len(cands) > 0 {
		var err error
		if edges, err = verifyEdges(cands, gids, loader, maxRMS, verifyBatch); err != nil {
			return res, err
		}
	}
	res.search.Pairs = len(edges)
	uf := newUnionFind(len(gids))
	for _, e := range edges {
		uf.union(int(e.a), int(e.b))
	}
	res.groups = components(uf, gids, edges)
	return res, nil
}

// components turns the union-find forest into groups of two or more, ordered by first member, and
// distributes the stored edges to them.
func components(uf *unionFind, gids []int, stored []edge) []nearComponent {
	pos := make(map[int]int) // root -> group position
	local := make([]int, len(gids))
	var groups []nearComponent
	for i := range gids {
		if uf.size[uf.find(i)] < 2 {
			continue
		}
		root := uf.find(i)
		g, ok := pos[root]
		if !ok {
			g = len(groups)
			pos[root] = g
			groups = append(groups, nearComponent{})
		}
		local[i] = len(groups[g].gids)
		groups[g].gids = append(groups[g].gids, gids[i])
	}
	for _, e := range stored {
		g := &groups[pos[uf.find(int(e.a))]]
		e.a, e.b = uint32(local[e.a]), uint32(local[e.b])
		g.edges = append(g.edges, e)
	}
	return groups
}

// unionFind is a disjoint-set forest whose roots are the smallest member, so the partition and
// the roots do not depend on the order of unions.
type unionFind struct {
	parent []int32
	size   []int32
}

// newUnionFind makes n singletons.
func newUnionFind(n int) *unionFind {
	u := &unionFind{parent: make([]int32, n), size: make([]int32, n)}
	for i := range u.parent {
		u.parent[i], u.size[i] = int32(i), 1
	}
	return u
}

// find returns the root of x with path halving.
func (u *unionFind) find(x int) int {
	for int(u.parent[x]) != x {
		u.parent[x] = u.parent[u.parent[x]]
		x = int(u.parent[x])
	}
	return x
}

// union merges the sets of a and b under the smaller root.
func (u *unionFind) union(a, b int) {
	ra, rb := u.find(a), u.find(b)
	if ra == rb {
		return
	}
	if rb < ra {
		ra, rb = rb, ra
	}
	u.parent[rb] = int32(ra)
	u.size[ra] += u.size[rb]
}

// phashHex formats a canonical hash as 16 hex digits.
func phashHex(h imageHash) string { return fmt.Sprintf("%016x", canonicalHash(h.low)) }
