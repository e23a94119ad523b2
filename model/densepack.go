package model

// denseWeights presents a dense layer's weights (in × out, row-major) to the inference kernel
// (densePart) as column blocks of denseCols columns. When out is a multiple of denseCols the kernel
// reads the weights where they are (each block row is one 64-byte line); otherwise a packed copy
// holds the blocks, the last one padded with zeros, refreshed when the weights change (a new
// version). Both layouts give the same bits.
type denseWeights struct {
	w            []float32 // the kernel's view: the weights themselves or the packed copy
	wstride, wld int       // distance between column blocks and between rows in w
	in, out      int
	packed       []float32
	version      uint64
	src          *float32
}

// blocks is the number of column blocks.
func (p *denseWeights) blocks() int { return (p.out + denseCols - 1) / denseCols }

// use points the kernel at w, packing it unless its width allows reading it in place or the same
// buffer at the same version is packed already.
func (p *denseWeights) use(w []float32, in, out int, version uint64) {
	p.in, p.out = in, out
	if out%denseCols == 0 {
		p.w, p.wstride, p.wld = w, denseCols, out
		return
	}
	if p.packed != nil && p.src == &w[0] && p.version == version && len(p.packed) == p.blocks()*in*denseCols {
		p.w, p.wstride, p.wld = p.packed, in*denseCols, denseCols
		return
	}
	p.version, p.src = version, &w[0]
	ncb := p.blocks()
	p.packed = grow(p.packed, ncb*in*denseCols)
	for cb := 0; cb < ncb; cb++ {
		blk := p.packed[cb*in*denseCols : (cb+1)*in*denseCols]
		j0 := cb * denseCols
		cols := min(denseCols, out-j0)
		for k := 0; k < in; k++ {
			dst := blk[k*denseCols : (k+1)*denseCols]
			copy(dst, w[k*out+j0:k*out+j0+cols])
			clear(dst[cols:])
		}
	}
	p.w, p.wstride, p.wld = p.packed, in*denseCols, denseCols
}

// forward computes y = x·W + b for n rows with the inference kernel: the inner dimension in
// blocks fixed by its length (splitKBlock), one task per block, the blocks' partial sums added to
// the bias in block order. Every row is computed by the same operations whatever n, so a patch's
// prediction does not depend on the batch it is in.
func (p *denseWeights) forward(y, x, b []float32, n int, s *splitScratch) {
	in, out, ncb := p.in, p.out, p.blocks()
	kb := splitKBlock(in)
	nb := (in + kb - 1) / kb
	ldp := ncb * denseCols
	parts := s.get(nb * n * ldp)
	parallelTasks(nb, func(_, t int) {
		k0 := t * kb
		kk := min(kb, in-k0)
		densePart(x[k0:], in, n, p.w[k0*p.wld:], kk, ncb, p.wstride, p.wld, parts[t*n*ldp:], ldp)
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
