package pdq

// This file is the reference's Jarosz filter (jaroszFilterFloat: two
// passes, each a box filter along every row then along every column) and its
// decimation to 64×64, rearranged for speed without changing a single bit:
//
//   - A box filter keeps a running float32 sum per line: add the sample
//     entering the window, subtract the one leaving it, divide by the number
//     of samples in the window. Each output depends on the whole history of
//     its line's sum, so every add and subtract of the reference is done, in
//     the reference's order.
//   - Rows are filtered four at a time in lock-step, so that four
//     independent sums keep the CPU busy instead of waiting on one chain of
//     additions. Columns are filtered all at once, row by row, which walks
//     memory in order.
//   - Of the second pass, only what the decimation samples is divided and
//     stored: the row filter's outputs at the 64 sampled columns, then the
//     column filter's outputs at the 64 sampled rows.
//   - Dividing by a window count that is a power of two is done as a
//     multiplication by its reciprocal. The two are the same real number, so
//     IEEE rounding gives the same float32.
//
// oracle_test.go holds a line-by-line translation of the C++ and checks that
// this file agrees with it exactly.

// divider divides a running sum by a window count as the reference does.
type divider struct {
	c   float32 // the count, as float32
	inv float32 // 1/count when the count is a power of two, else 0
}

func newDivider(cnt int) divider {
	d := divider{c: float32(cnt)}
	if cnt > 0 && cnt&(cnt-1) == 0 {
		d.inv = 1 / d.c
	}
	return d
}

func (d divider) div(s float32) float32 {
	if d.inv != 0 {
		return s * d.inv
	}
	return s / d.c
}

// blurDecimate applies the reference's two-pass Jarosz filter to the
// rows×cols luma in s.buf1 and decimates the result into s.a64. buf1 and
// buf2 are both overwritten.
func (s *scratch) blurDecimate(rows, cols int) {
	wr := jaroszWindow(cols, dctIn) // window along rows
	wc := jaroszWindow(rows, dctIn) // window along columns
	var atCols, atRows [dctIn]int
	for t := range atCols {
		atCols[t] = decimateIndex(t, cols)
		atRows[t] = decimateIndex(t, rows)
	}
	in, tmp := s.buf1, s.buf2
	for pass := 1; pass < jaroszPasses; pass++ {
		boxRows(in, tmp, rows, cols, wr)
		boxCols(tmp, in, rows, cols, wc, s.sums)
	}
	// Last pass: the row filter keeps only the sampled columns (tmp becomes
	// rows×64), the column filter only the sampled rows.
	boxRowsAt(in, tmp, rows, cols, wr, atCols[:])
	boxColsAt(tmp, rows, wc, atRows[:], s.sums[:dctIn], &s.a64)
}

// boxRows filters every row of in (rows×cols) into out.
func boxRows(in, out []float32, rows, cols, w int) {
	for r := 0; r < rows; r += 4 {
		// Past the last row, lanes repeat it: same input, same output.
		r1, r2, r3 := min(r+1, rows-1), min(r+2, rows-1), min(r+3, rows-1)
		box4(in[r*cols:][:cols], in[r1*cols:][:cols], in[r2*cols:][:cols], in[r3*cols:][:cols],
			out[r*cols:][:cols], out[r1*cols:][:cols], out[r2*cols:][:cols], out[r3*cols:][:cols], w)
	}
}

// box4 is box1DFloat on four rows of equal length at once.
func box4(i0, i1, i2, i3, o0, o1, o2, o3 []float32, w int) {
	n := len(i0)
	i1, i2, i3 = i1[:n], i2[:n], i3[:n]
	o0, o1, o2, o3 = o0[:n], o1[:n], o2[:n], o3[:n]
	h := (w + 2) / 2
	var s0, s1, s2, s3 float32
	ri, li, oi := 0, 0, 0
	// Phase 1: fill the first half window, no output.
	for ; ri < h-1; ri++ {
		s0 += i0[ri]
		s1 += i1[ri]
		s2 += i2[ri]
		s3 += i3[ri]
	}
	// Phase 2: grow the window to full size, with outputs.
	cnt := h - 1
	for k := 0; k < w-h+1; k++ {
		s0 += i0[ri]
		s1 += i1[ri]
		s2 += i2[ri]
		s3 += i3[ri]
		cnt++
		d := newDivider(cnt)
		o0[oi], o1[oi], o2[oi], o3[oi] = d.div(s0), d.div(s1), d.div(s2), d.div(s3)
		ri++
		oi++
	}
	// Phase 3: slide the full window.
	if d := newDivider(cnt); d.inv != 0 {
		inv := d.inv
		for ; ri < n; ri, li, oi = ri+1, li+1, oi+1 {
			s0 = s0 + i0[ri] - i0[li]
			s1 = s1 + i1[ri] - i1[li]
			s2 = s2 + i2[ri] - i2[li]
			s3 = s3 + i3[ri] - i3[li]
			o0[oi] = s0 * inv
			o1[oi] = s1 * inv
			o2[oi] = s2 * inv
			o3[oi] = s3 * inv
		}
	} else {
		c := d.c
		for ; ri < n; ri, li, oi = ri+1, li+1, oi+1 {
			s0 = s0 + i0[ri] - i0[li]
			s1 = s1 + i1[ri] - i1[li]
			s2 = s2 + i2[ri] - i2[li]
			s3 = s3 + i3[ri] - i3[li]
			o0[oi] = s0 / c
			o1[oi] = s1 / c
			o2[oi] = s2 / c
			o3[oi] = s3 / c
		}
	}
	// Phase 4: shrink the window at the end.
	for ; oi < n; oi, li = oi+1, li+1 {
		s0 -= i0[li]
		s1 -= i1[li]
		s2 -= i2[li]
		s3 -= i3[li]
		cnt--
		d := newDivider(cnt)
		o0[oi], o1[oi], o2[oi], o3[oi] = d.div(s0), d.div(s1), d.div(s2), d.div(s3)
	}
}

// boxCols filters every column of in (rows×cols) into out, all columns
// together, one row at a time.
func boxCols(in, out []float32, rows, cols, w int, sums []float32) {
	sums = sums[:cols]
	clear(sums)
	h := (w + 2) / 2
	row := func(r int) []float32 { return in[r*cols:][:cols] }
	ri, li, oi := 0, 0, 0
	for ; ri < h-1; ri++ {
		a := row(ri)
		for j := range sums {
			sums[j] += a[j]
		}
	}
	cnt := h - 1
	for k := 0; k < w-h+1; k++ {
		cnt++
		d := newDivider(cnt)
		a, o := row(ri), out[oi*cols:][:cols]
		for j := range sums {
			sums[j] += a[j]
			o[j] = d.div(sums[j])
		}
		ri++
		oi++
	}
	d := newDivider(cnt)
	for ; ri < rows; ri, li, oi = ri+1, li+1, oi+1 {
		a, b, o := row(ri), row(li), out[oi*cols:][:cols]
		if d.inv != 0 {
			for j := range sums {
				v := sums[j] + a[j] - b[j]
				sums[j] = v
				o[j] = v * d.inv
			}
		} else {
			for j := range sums {
				v := sums[j] + a[j] - b[j]
				sums[j] = v
				o[j] = v / d.c
			}
		}
	}
	for ; oi < rows; oi, li = oi+1, li+1 {
		cnt--
		d := newDivider(cnt)
		b, o := row(li), out[oi*cols:][:cols]
		for j := range sums {
			sums[j] -= b[j]
			o[j] = d.div(sums[j])
		}
	}
}

// boxRowsAt filters every row of in (rows×cols) but keeps only the outputs
// at the columns listed in at (ascending, repeats allowed): out becomes
// rows×len(at).
func boxRowsAt(in, out []float32, rows, cols, w int, at []int) {
	m := len(at)
	for r := 0; r < rows; r += 4 {
		r1, r2, r3 := min(r+1, rows-1), min(r+2, rows-1), min(r+3, rows-1)
		box4At(in[r*cols:][:cols], in[r1*cols:][:cols], in[r2*cols:][:cols], in[r3*cols:][:cols],
			out[r*m:][:m], out[r1*m:][:m], out[r2*m:][:m], out[r3*m:][:m], w, at)
	}
}

// box4At is box4 that divides and stores only the outputs listed in at.
func box4At(i0, i1, i2, i3, o0, o1, o2, o3 []float32, w int, at []int) {
	n := len(i0)
	i1, i2, i3 = i1[:n], i2[:n], i3[:n]
	m := len(at)
	o0, o1, o2, o3 = o0[:m], o1[:m], o2[:m], o3[:m]
	h := (w + 2) / 2
	var s0, s1, s2, s3 float32
	t := 0 // next entry of at
	// emit stores output oi of the four lanes for every entry of at naming
	// it. It takes the sums as arguments so that they can stay in registers.
	emit := func(oi, cnt int, s0, s1, s2, s3 float32) {
		d := newDivider(cnt)
		for ; t < m && at[t] == oi; t++ {
			o0[t], o1[t], o2[t], o3[t] = d.div(s0), d.div(s1), d.div(s2), d.div(s3)
		}
	}
	ri, li, oi := 0, 0, 0
	for ; ri < h-1; ri++ {
		s0 += i0[ri]
		s1 += i1[ri]
		s2 += i2[ri]
		s3 += i3[ri]
	}
	cnt := h - 1
	for k := 0; k < w-h+1; k++ {
		s0 += i0[ri]
		s1 += i1[ri]
		s2 += i2[ri]
		s3 += i3[ri]
		cnt++
		emit(oi, cnt, s0, s1, s2, s3)
		ri++
		oi++
	}
	// Phase 3 in stretches: slide without output up to the next sampled
	// column, then emit.
	for ri < n {
		stop := n // exclusive bound for ri
		if t < m && at[t]+h <= n {
			stop = at[t] + h // ri after the step that produces output at[t]
		}
		for ; ri < stop; ri, li, oi = ri+1, li+1, oi+1 {
			s0 = s0 + i0[ri] - i0[li]
			s1 = s1 + i1[ri] - i1[li]
			s2 = s2 + i2[ri] - i2[li]
			s3 = s3 + i3[ri] - i3[li]
		}
		if t < m && at[t] == oi-1 {
			emit(oi-1, cnt, s0, s1, s2, s3)
		}
	}
	for ; oi < n; oi, li = oi+1, li+1 {
		s0 -= i0[li]
		s1 -= i1[li]
		s2 -= i2[li]
		s3 -= i3[li]
		cnt--
		if t < m && at[t] == oi {
			emit(oi, cnt, s0, s1, s2, s3)
		}
	}
}

// boxColsAt filters the columns of in (rows×len(sums)) and stores the
// outputs at the rows listed in at (ascending, repeats allowed) into a64,
// row t of a64 holding output row at[t].
func boxColsAt(in []float32, rows, w int, at []int, sums []float32, a64 *[dctIn * dctIn]float32) {
	cols := len(sums)
	clear(sums)
	h := (w + 2) / 2
	row := func(r int) []float32 { return in[r*cols:][:cols] }
	t := 0
	emit := func(oi, cnt int) {
		d := newDivider(cnt)
		for ; t < len(at) && at[t] == oi; t++ {
			o := a64[t*cols:][:cols]
			for j := range o {
				o[j] = d.div(sums[j])
			}
		}
	}
	ri, li, oi := 0, 0, 0
	for ; ri < h-1; ri++ {
		a := row(ri)
		for j := range sums {
			sums[j] += a[j]
		}
	}
	cnt := h - 1
	for k := 0; k < w-h+1; k++ {
		a := row(ri)
		for j := range sums {
			sums[j] += a[j]
		}
		cnt++
		emit(oi, cnt)
		ri++
		oi++
	}
	for ; ri < rows; ri, li, oi = ri+1, li+1, oi+1 {
		a, b := row(ri), row(li)
		for j := range sums {
			sums[j] = sums[j] + a[j] - b[j]
		}
		emit(oi, cnt)
	}
	for ; oi < rows; oi, li = oi+1, li+1 {
		b := row(li)
		for j := range sums {
			sums[j] -= b[j]
		}
		cnt--
		emit(oi, cnt)
	}
}
