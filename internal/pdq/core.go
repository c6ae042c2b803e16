package pdq

import (
	"math"
	"sync"
)

// This file is the reference's hashing core (pdq/cpp/hashing/pdqhashing.cpp
// and pdq/cpp/downscaling/downscaling.cpp), from a float32 luma buffer to
// the 16×16 DCT, the quality and the bits. Every arithmetic step is done in
// float32 in the reference's order. Products are wrapped in an explicit
// float32(...) conversion: the Go specification then forbids fusing them
// into a multiply-add, which the reference binary never does and which would
// change the last bits on arm64, or on amd64 built with GOAMD64=v3.

const (
	minHashableDim = 5  // MIN_HASHABLE_DIM: smaller images hash to zero
	jaroszPasses   = 2  // PDQ_NUM_JAROSZ_XY_PASSES
	dctIn          = 64 // the blurred image is decimated to 64×64
	dctOut         = 16 // and transformed to 16×16
)

// Luma coefficients, as the reference's float constants luma_from_*_coeff.
const (
	lumaR float32 = 0.299
	lumaG float32 = 0.587
	lumaB float32 = 0.114
)

// lumaTab[c][v] is the float32 product of channel c's coefficient and the
// byte v, exactly as the reference computes it per pixel.
var lumaTab = func() (t [3][256]float32) {
	for v := 0; v < 256; v++ {
		f := float32(v)
		t[0][v] = float32(lumaR * f)
		t[1][v] = float32(lumaG * f)
		t[2][v] = float32(lumaB * f)
	}
	return t
}()

// luma is the reference's fillFloatLumaFromRGB for one pixel:
// (0.299·R + 0.587·G) + 0.114·B in float32.
func luma(r, g, b uint8) float32 {
	return float32(lumaTab[0][r]+lumaTab[1][g]) + lumaTab[2][b]
}

// dctMatrix is the reference's dct_matrix_64: 16 rows of 64, row i holding
// sqrt(2/64)·cos(π/128·(i+1)·(2j+1)), with the scale factor rounded to
// float32 first and the product computed in float64, as in C++.
var dctMatrix = func() (d [dctOut * dctIn]float32) {
	scale := float64(float32(math.Sqrt(2.0 / dctIn)))
	for i := 0; i < dctOut; i++ {
		for j := 0; j < dctIn; j++ {
			d[i*dctIn+j] = float32(scale * math.Cos(math.Pi/2/dctIn*float64(i+1)*float64(2*j+1)))
		}
	}
	return d
}()

// scratch holds the working buffers of one hash computation. Buffers are
// pooled so that hashing allocates nothing in the steady state.
type scratch struct {
	buf1, buf2 []float32 // rows×cols luma, then the blur's ping-pong buffer
	sums       []float32 // running sums for the column passes
	xs, ys     []int     // source column and row of each sampled pixel
	cx         []int     // chroma column of each sampled pixel
	a64        [dctIn * dctIn]float32
	t          [dctOut * dctIn]float32
	b          [dctOut * dctOut]float32
	aux        [dctOut * dctOut]float32
	sel        [dctOut * dctOut]float32
}

// maxPooledFloats bounds what goes back into the pool, so that hashing one
// huge image without pre-shrink does not pin its buffers forever.
const maxPooledFloats = 1024 * 1024

// NOTE: a package-level pool is shared state, but only of scratch memory:
// nothing in it outlives a call or depends on configuration.
var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

func getScratch() *scratch { return scratchPool.Get().(*scratch) }

func putScratch(s *scratch) {
	if cap(s.buf1) > maxPooledFloats {
		s.buf1, s.buf2, s.sums, s.xs, s.ys, s.cx = nil, nil, nil, nil, nil, nil
	}
	scratchPool.Put(s)
}

// grow sizes the buffers for a rows×cols luma image.
func (s *scratch) grow(rows, cols int) {
	// buf2 also holds the rows×64 output of the last row filter.
	n, n2 := rows*cols, rows*max(cols, dctIn)
	if cap(s.buf1) < n {
		s.buf1 = make([]float32, n)
	}
	if cap(s.buf2) < n2 {
		s.buf2 = make([]float32, n2)
	}
	s.buf1, s.buf2 = s.buf1[:n], s.buf2[:n2]
	if cap(s.sums) < max(cols, dctIn) {
		s.sums = make([]float32, max(cols, dctIn))
	}
	s.sums = s.sums[:max(cols, dctIn)]
	if cap(s.xs) < cols {
		s.xs = make([]int, cols)
		s.cx = make([]int, cols)
	}
	s.xs, s.cx = s.xs[:cols], s.cx[:cols]
	if cap(s.ys) < rows {
		s.ys = make([]int, rows)
	}
	s.ys = s.ys[:rows]
}

// dct computes quality and the 16×16 DCT (into s.b) of the rows×cols luma in
// s.buf1. With skip64, a 64×64 input is used as it is, without blur, as the
// reference's pdqFloat256FromFloatLuma does; its dihedral function has no
// such shortcut.
func (s *scratch) dct(rows, cols int, skip64 bool) (quality int) {
	if skip64 && rows == dctIn && cols == dctIn {
		copy(s.a64[:], s.buf1)
	} else {
		s.blurDecimate(rows, cols)
	}
	quality = qualityMetric(&s.a64)
	dct64To16(&s.a64, &s.t, &s.b)
	return quality
}

// jaroszWindow is computeJaroszFilterWindowSize: ceil(old/(2·new)).
func jaroszWindow(oldDim, newDim int) int {
	return (oldDim + 2*newDim - 1) / (2 * newDim)
}

// decimateIndex is the reference's decimateFloat sample position, computed
// in float64 as in C++: floor((out+0.5)·in/64).
func decimateIndex(out, in int) int {
	return int(((float64(out) + 0.5) * float64(in)) / dctIn)
}

// qualityMetric is pdqImageDomainQualityMetric: the sum of the truncated
// neighbour gradients of the 64×64 image, scaled by 1/90, capped at 100.
func qualityMetric(a *[dctIn * dctIn]float32) int {
	sum := 0
	for i := 0; i < dctIn-1; i++ {
		for j := 0; j < dctIn; j++ {
			sum += absInt(gradient(a[i*dctIn+j], a[(i+1)*dctIn+j]))
		}
	}
	for i := 0; i < dctIn; i++ {
		for j := 0; j < dctIn-1; j++ {
			sum += absInt(gradient(a[i*dctIn+j], a[i*dctIn+j+1]))
		}
	}
	q := sum / 90
	if q > 100 {
		q = 100
	}
	return q
}

// gradient is int d = ((u - v) * 100) / 255 with float operands.
func gradient(u, v float32) int {
	d := float32(u - v)
	d = float32(d * 100)
	return int(int32(d / 255))
}

func absInt(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// dct64To16 computes B = D·A·Dᵀ as the reference does: T = D·A with the sums
// over k in increasing order, then B = T·Dᵀ likewise. The loops are ordered
// for memory locality, but each output's additions happen in the same order
// as in the reference, so the float32 results are identical.
func dct64To16(a *[dctIn * dctIn]float32, t *[dctOut * dctIn]float32, b *[dctOut * dctOut]float32) {
	d := &dctMatrix
	for i := 0; i < dctOut; i++ {
		ti := (*[dctIn]float32)(t[i*dctIn:])
		*ti = [dctIn]float32{}
		di := (*[dctIn]float32)(d[i*dctIn:])
		for k := 0; k < dctIn; k++ {
			dk := di[k]
			ak := (*[dctIn]float32)(a[k*dctIn:])
			for j := range ti {
				ti[j] += float32(dk * ak[j])
			}
		}
	}
	for i := 0; i < dctOut; i++ {
		ti := (*[dctIn]float32)(t[i*dctIn:])
		for j := 0; j < dctOut; j++ {
			dj := (*[dctIn]float32)(d[j*dctIn:])
			var sum float32
			for k := range ti {
				sum += float32(ti[k] * dj[k])
			}
			b[i*dctOut+j] = sum
		}
	}
}

// threshold thresholds a 16×16 DCT against its median, as pdqBuffer16x16ToBits:
// bit 16·i+j is set when coefficient (i, j) is strictly above the median.
func threshold(c *[dctOut * dctOut]float32, sel *[dctOut * dctOut]float32) Hash {
	m := median(c, sel)
	var h Hash
	for k, v := range c {
		if v > m {
			h.setBit(k)
		}
	}
	return h
}

// median returns what the reference's torben() returns for 256 values: the
// lower median, i.e. the 128th smallest value (sorted index 127). It uses
// Wirth's selection on a copy in sel.
func median(c *[dctOut * dctOut]float32, sel *[dctOut * dctOut]float32) float32 {
	*sel = *c
	a := sel[:]
	const k = (len(c)+1)/2 - 1 // 127
	l, m := 0, len(a)-1
	for l < m {
		x := a[k]
		i, j := l, m
		for {
			for a[i] < x {
				i++
			}
			for x < a[j] {
				j--
			}
			if i <= j {
				a[i], a[j] = a[j], a[i]
				i++
				j--
			}
			if i > j {
				break
			}
		}
		if j < k {
			l = i
		}
		if k < i {
			m = j
		}
	}
	return a[k]
}

// Dihedral names one of the eight rotations and reflections of an image,
// in the order the reference computes and prints them.
type Dihedral int

// The eight dihedral variants, in the reference's order (pdqio.h naming).
const (
	Original   Dihedral = iota // the image as it is
	Rotate90                   // rotated 90° counter-clockwise
	Rotate180                  // rotated 180°
	Rotate270                  // rotated 270° counter-clockwise (90° clockwise)
	FlipX                      // top and bottom swapped
	FlipY                      // left and right swapped (mirror image)
	FlipPlus1                  // transposed about the main diagonal
	FlipMinus1                 // transposed about the anti-diagonal
)

var dihedralNames = [...]string{"original", "rotate90", "rotate180", "rotate270", "flipx", "flipy", "flipplus1", "flipminus1"}

// String returns the variant's name as in the reference's CSV column
// headers: original, rotate90, …, flipminus1.
func (d Dihedral) String() string {
	if d < 0 || int(d) >= len(dihedralNames) {
		return "unknown"
	}
	return dihedralNames[d]
}

// dihedralBits derives all eight hashes from the one DCT in s.b, as
// pdqDihedralHash256esFromFloatLuma does: each variant is a transpose and/or
// sign flips of the coefficients, thresholded against its own median.
func (s *scratch) dihedralBits() (hs [8]Hash) {
	a, o := &s.b, &s.aux
	hs[Original] = threshold(a, &s.sel)
	for v := Rotate90; v <= FlipMinus1; v++ {
		for i := 0; i < dctOut; i++ {
			for j := 0; j < dctOut; j++ {
				x := a[i*dctOut+j]
				var neg, xpose bool
				switch v {
				case Rotate90:
					neg, xpose = j&1 == 0, true
				case Rotate180:
					neg = (i+j)&1 == 1
				case Rotate270:
					neg, xpose = i&1 == 0, true
				case FlipX:
					neg = i&1 == 0
				case FlipY:
					neg = j&1 == 0
				case FlipPlus1:
					xpose = true
				case FlipMinus1:
					neg, xpose = (i+j)&1 == 1, true
				}
				if neg {
					x = -x
				}
				if xpose {
					o[j*dctOut+i] = x
				} else {
					o[i*dctOut+j] = x
				}
			}
		}
		hs[v] = threshold(o, &s.sel)
	}
	return hs
}
