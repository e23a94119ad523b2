package audit

import (
	"math/bits"
	"runtime"
	"sync"
	"sync/atomic"
)

// Multi-index geometry: mihBands bands of mihBandBits bits cover the 64-bit hash.
const (
	mihBands    = 4
	mihBandBits = 64 / mihBands
	mihBuckets  = 1 << mihBandBits
	mihBlock    = 1024 // items per work unit of the parallel search
)

// mihIndex finds all pairs of hashes within a dihedral-invariant Hamming radius without comparing
// all pairs: every hash is filed under each of its band values; a query probes, for every
// flip/rotation variant and every band, all band values within radius/mihBands bits. By the
// pigeonhole principle, two hashes within the radius agree that closely in at least one band.
type mihIndex struct {
	hashes []uint64 // low hashes, indexed
	rings  []uint64 // ring hashes, verify candidates
	radius int
	offs   [mihBands][]uint32 // CSR bucket offsets per band, length mihBuckets+1
	ids    [mihBands][]uint32 // item ids per band, ascending within a bucket
	probes []uint16           // band masks with popcount <= radius/mihBands
}

// edge is a pair of item positions (a < b) within the radius.
type edge struct {
	a, b  uint32
	dist  uint8
	trans uint8   // the flip/rotation of a that matches b
	rms   float32 // pixel residual after verification (0 before)
	exact bool    // b is exactly variant trans of a, pixel for pixel (set by verification)
}

// newMIH indexes hashes for queries within radius bits.
func newMIH(hs []imageHash, radius int) *mihIndex {
	m := &mihIndex{hashes: make([]uint64, len(hs)), rings: make([]uint64, len(hs)), radius: radius}
	for i, h := range hs {
		m.hashes[i], m.rings[i] = h.low, h.ring
	}
	hashes := m.hashes
	for b := range mihBands {
		offs := make([]uint32, mihBuckets+1)
		for _, h := range hashes {
			offs[bandKey(h, b)+1]++
		}
		for k := range mihBuckets {
			offs[k+1] += offs[k]
		}
		ids := make([]uint32, len(hashes))
		next := append([]uint32(nil), offs[:mihBuckets]...)
		for i, h := range hashes {
			k := bandKey(h, b)
			ids[next[k]] = uint32(i)
			next[k]++
		}
		m.offs[b], m.ids[b] = offs, ids
	}
	r := m.probeRadius()
	for mask := range mihBuckets {
		if bits.OnesCount16(uint16(mask)) <= r {
			m.probes = append(m.probes, uint16(mask))
		}
	}
	return m
}

// probeRadius is the per-band search radius that guarantees recall at m.radius.
func (m *mihIndex) probeRadius() int { return m.radius / mihBands }

// bandKey extracts band b of h.
func bandKey(h uint64, b int) uint32 {
	return uint32(h>>(b*mihBandBits)) & (mihBuckets - 1)
}

// neighbours appends to out every item j > i within the radius of item i (see nearDistance). seen
// must have one slot per item and is marked with stamp to skip repeated candidates.
func (m *mihIndex) neighbours(i int, seen []uint32, stamp uint32, out []edge) []edge {
	vars := lowLayout.variants(m.hashes[i])
	rings := ringLayout.variants(m.rings[i])
	for t, v := range vars {
		if duplicateVariant(vars[:t], v) {
			continue
		}
		for b := range mihBands {
			key := bandKey(v, b)
			for _, p := range m.probes {
				k := key ^ uint32(p)
				for _, j := range m.ids[b][m.offs[b][k]:m.offs[b][k+1]] {
					if int(j) <= i || seen[j] == stamp {
						continue
					}
					seen[j] = stamp
					if d, t, ok := nearDistance(&vars, &rings, imageHash{m.hashes[j], m.rings[j]}, m.radius); ok {
						out = append(out, edge{a: uint32(i), b: j, dist: uint8(d), trans: uint8(t)})
					}
				}
			}
		}
	}
	return out
}

// duplicateVariant reports whether v already occurs in earlier.
func duplicateVariant(earlier []uint64, v uint64) bool {
	for _, e := range earlier {
		if e == v {
			return true
		}
	}
	return false
}

// search finds all pairs within the radius using workers goroutines (0 = GOMAXPROCS) and calls
// visit for each block of items in ascending order, so the sequence of edges is deterministic.
func (m *mihIndex) search(workers int, visit func([]edge)) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	n := len(m.hashes)
	blocks := (n + mihBlock - 1) / mihBlock
	results := make([]chan []edge, blocks)
	for i := range results {
		results[i] = make(chan []edge, 1)
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	// Workers may run ahead of the consumer by at most `workers` blocks per worker thanks to the
	// semaphore, which bounds the memory held by finished but unvisited blocks.
	sem := make(chan struct{}, 2*workers)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			seen := make([]uint32, n)
			var stamp uint32
			for {
				sem <- struct{}{}
				blk := int(next.Add(1) - 1)
				if blk >= blocks {
					<-sem
					return
				}
				var out []edge
				for i := blk * mihBlock; i < min(n, (blk+1)*mihBlock); i++ {
					stamp++
					out = m.neighbours(i, seen, stamp, out)
				}
				results[blk] <- out
			}
		}()
	}
	for blk := range blocks {
		visit(<-results[blk])
		<-sem
	}
	wg.Wait()
}
