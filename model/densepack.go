package model

// packedDense holds a dense layer's weights in the layout of the inference kernel (densePart):
// column blocks of denseCols columns, the last one padded with zeros, each block's rows
// contiguous, so the kernel streams every block sequentially. It is rebuilt when the weights
// change (a new version).
type packedDense struct {
	wp      []float32
	version uint64
	src     *float32
	in, out int
}

// blocks is the number of column blocks.
func (p *packedDense) blocks() int { return (p.out + denseCols - 1) / denseCols }

// pack lays out w (in × out, row-major) unless the same buffer at the same version is packed.
func (p *packedDense) pack(w []float32, in, out int, version uint64) {
	if p.wp != nil && p.src == &w[0] && p.version == version && p.in == in && p.out == out {
		return
	}
	p.in, p.out, p.version, p.src = in, out, version, &w[0]
	ncb := p.blocks()
	p.wp = grow(p.wp, ncb*in*denseCols)
	parallelFor(ncb, func(lo, hi int) {
		for cb := lo; cb < hi; cb++ {
			blk := p.wp[cb*in*denseCols : (cb+1)*in*denseCols]
			j0 := cb * denseCols
			cols := min(denseCols, out-j0)
			for k := 0; k < in; k++ {
				dst := blk[k*denseCols : (k+1)*denseCols]
				copy(dst, w[k*out+j0:k*out+j0+cols])
				clear(dst[cols:])
			}
		}
	})
}

// forward computes y = x·W + b for n rows with the inference kernel: the inner dimension in
// blocks fixed by its length (splitKBlock), one task per block, the blocks' partial sums added to
// the bias in block order. Every row is computed by the same operations whatever n, so a patch's
// prediction does not depend on the batch it is in.
func (p *packedDense) forward(y, x, b []float32, n int, s *splitScratch) {
	in, out, ncb := p.in, p.out, p.blocks()
	kb := splitKBlock(in)
	nb := (in + kb - 1) / kb
	ldp := ncb * denseCols
	parts := s.get(nb * n * ldp)
	parallelTasks(nb, func(_, t int) {
		k0 := t * kb
		kk := min(kb, in-k0)
		densePart(x[k0:], in, n, p.wp[k0*denseCols:], kk, ncb, in*denseCols, parts[t*n*ldp:], ldp)
	})
	for r := 0; r < n; r++ {
		row := y[r*out : (r+1)*out]
		copy(row, b)
		for t := 0; t < nb; t++ {
			for j, v := range parts[(t*n+r)*ldp : (t*n+r)*ldp+out] {
				row[j] += v
			}
		}
	}
}
