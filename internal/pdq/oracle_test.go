package pdq

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// This file is an oracle: a plain, line-by-line translation of the C++
// reference's downscaling.cpp and pdqhashing.cpp (strided box filter, torben
// median, …) with none of the rearrangements made for speed. The tests check
// that the fast code agrees with it bit for bit.

func refBox1D(in, out []float32, base, n, stride, w int) {
	half := (w + 2) / 2
	p1, p2, p3, p4 := half-1, w-half+1, n-w, half-1
	li, ri, oi := base, base, base
	var sum float32
	cur := 0
	for i := 0; i < p1; i++ {
		sum += in[ri]
		cur++
		ri += stride
	}
	for i := 0; i < p2; i++ {
		sum += in[ri]
		cur++
		out[oi] = sum / float32(cur)
		ri += stride
		oi += stride
	}
	for i := 0; i < p3; i++ {
		sum += in[ri]
		sum -= in[li]
		out[oi] = sum / float32(cur)
		li += stride
		ri += stride
		oi += stride
	}
	for i := 0; i < p4; i++ {
		sum -= in[li]
		cur--
		out[oi] = sum / float32(cur)
		li += stride
		oi += stride
	}
}

func refJarosz(b1, b2 []float32, rows, cols, wr, wc int) {
	for rep := 0; rep < jaroszPasses; rep++ {
		for i := 0; i < rows; i++ {
			refBox1D(b1, b2, i*cols, cols, 1, wr)
		}
		for j := 0; j < cols; j++ {
			refBox1D(b2, b1, j, rows, cols, wc)
		}
	}
}

func refDecimate(in []float32, rows, cols int) (out [dctIn * dctIn]float32) {
	for oi := 0; oi < dctIn; oi++ {
		ii := int(((float64(oi) + 0.5) * float64(rows)) / dctIn)
		for oj := 0; oj < dctIn; oj++ {
			ij := int(((float64(oj) + 0.5) * float64(cols)) / dctIn)
			out[oi*dctIn+oj] = in[ii*cols+ij]
		}
	}
	return out
}

func refDCT(a *[dctIn * dctIn]float32) (b [dctOut * dctOut]float32) {
	var t [dctOut][dctIn]float32
	d := &dctMatrix
	for i := 0; i < dctOut; i++ {
		for j := 0; j < dctIn; j++ {
			var sum float32
			for k := 0; k < dctIn; k++ {
				sum += float32(d[i*dctIn+k] * a[k*dctIn+j])
			}
			t[i][j] = sum
		}
	}
	for i := 0; i < dctOut; i++ {
		for j := 0; j < dctOut; j++ {
			var sum float32
			for k := 0; k < dctIn; k++ {
				sum += float32(t[i][k] * d[j*dctIn+k])
			}
			b[i*dctOut+j] = sum
		}
	}
	return b
}

func refTorben(m []float32) float32 {
	n := len(m)
	lo, hi := m[0], m[0]
	for _, v := range m[1:] {
		lo, hi = min(lo, v), max(hi, v)
	}
	var less, greater, equal int
	var guess, maxlt, mingt float32
	for {
		guess = (lo + hi) / 2
		less, greater, equal = 0, 0, 0
		maxlt, mingt = lo, hi
		for _, v := range m {
			switch {
			case v < guess:
				less++
				if v > maxlt {
					maxlt = v
				}
			case v > guess:
				greater++
				if v < mingt {
					mingt = v
				}
			default:
				equal++
			}
		}
		if less <= (n+1)/2 && greater <= (n+1)/2 {
			break
		} else if less > greater {
			hi = maxlt
		} else {
			lo = mingt
		}
	}
	switch {
	case less >= (n+1)/2:
		return maxlt
	case less+equal >= (n+1)/2:
		return guess
	}
	return mingt
}

func refBits(c *[dctOut * dctOut]float32) (h Hash) {
	m := refTorben(c[:])
	for i := 0; i < dctOut; i++ {
		for j := 0; j < dctOut; j++ {
			if c[i*dctOut+j] > m {
				h[Size-1-(i*16+j)/8] |= 1 << ((i*16 + j) % 8)
			}
		}
	}
	return h
}

func refQuality(a *[dctIn * dctIn]float32) int {
	sum := 0
	for i := 0; i < 63; i++ {
		for j := 0; j < 64; j++ {
			d := int32(float32(float32(a[i*64+j]-a[(i+1)*64+j])*100) / 255)
			sum += absInt(int(d))
		}
	}
	for i := 0; i < 64; i++ {
		for j := 0; j < 63; j++ {
			d := int32(float32(float32(a[i*64+j]-a[i*64+j+1])*100) / 255)
			sum += absInt(int(d))
		}
	}
	return min(sum/90, 100)
}

// refHashLuma is pdqHash256FromFloatLuma (dihedral=false) or the Original
// output of pdqDihedralHash256esFromFloatLuma (dihedral=true).
func refHashLuma(luma []float32, rows, cols int, dihedral bool) (Hash, int, [dctIn * dctIn]float32) {
	if rows < minHashableDim || cols < minHashableDim {
		return Hash{}, 0, [dctIn * dctIn]float32{}
	}
	b1 := append([]float32(nil), luma...)
	b2 := make([]float32, len(luma))
	var a [dctIn * dctIn]float32
	if !dihedral && rows == 64 && cols == 64 {
		copy(a[:], b1)
	} else {
		refJarosz(b1, b2, rows, cols, jaroszWindow(cols, 64), jaroszWindow(rows, 64))
		a = refDecimate(b1, rows, cols)
	}
	q := refQuality(&a)
	c := refDCT(&a)
	return refBits(&c), q, a
}

func randomLuma(rng *rand.Rand, n int) []float32 {
	l := make([]float32, n)
	for i := range l {
		l[i] = luma(uint8(rng.IntN(256)), uint8(rng.IntN(256)), uint8(rng.IntN(256)))
	}
	return l
}

// smoothLuma is a smooth pattern with noise, closer to a photograph than
// white noise, so that the hash bits depend on low frequencies.
func smoothLuma(rng *rand.Rand, rows, cols int) []float32 {
	l := make([]float32, rows*cols)
	fx, fy := 1+rng.Float64()*3, 1+rng.Float64()*3
	for y := 0; y < rows; y++ {
		for x := 0; x < cols; x++ {
			v := 128 + 60*sinApprox(fx*float64(x)/float64(cols)) + 50*sinApprox(fy*float64(y)/float64(rows)) + rng.Float64()*10
			l[y*cols+x] = float32(int(v))
		}
	}
	return l
}

func sinApprox(x float64) float64 { // a triangle wave: enough for a pattern
	x -= float64(int(x))
	if x < 0.5 {
		return 4*x - 1
	}
	return 3 - 4*x
}

var oracleSizes = [][2]int{ // rows, cols
	{5, 5}, {5, 9}, {7, 200}, {63, 64}, {64, 64}, {64, 65}, {100, 34},
	{127, 129}, {128, 128}, {129, 257}, {200, 384}, {385, 300}, {399, 224},
	{512, 512}, {512, 511}, {700, 300}, {1004, 1600},
}

func TestCoreMatchesOracle(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, sz := range oracleSizes {
		rows, cols := sz[0], sz[1]
		for _, dihedral := range []bool{false, true} {
			for k, gen := range []func() []float32{
				func() []float32 { return randomLuma(rng, rows*cols) },
				func() []float32 { return smoothLuma(rng, rows, cols) },
			} {
				t.Run(fmt.Sprintf("%dx%d/dihedral=%v/%d", rows, cols, dihedral, k), func(t *testing.T) {
					l := gen()
					wantH, wantQ, wantA := refHashLuma(l, rows, cols, dihedral)
					s := new(scratch)
					s.grow(rows, cols)
					copy(s.buf1, l)
					q := s.dct(rows, cols, !dihedral)
					if s.a64 != wantA {
						t.Fatalf("64×64 image differs from the oracle")
					}
					if q != wantQ {
						t.Errorf("quality %d, want %d", q, wantQ)
					}
					h := threshold(&s.b, &s.sel)
					if h != wantH {
						t.Errorf("got %v, want %v", h, wantH)
					}
				})
			}
		}
	}
}

func TestMedianMatchesTorben(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for n := 0; n < 2000; n++ {
		var c, sel [256]float32
		levels := []int{2, 3, 7, 50, 1 << 20}[n%5]
		for i := range c {
			c[i] = float32(rng.IntN(levels)) - float32(levels/2)
			if n%7 == 0 {
				c[i] *= 0.001
			}
		}
		if got, want := median(&c, &sel), refTorben(c[:]); got != want {
			t.Fatalf("case %d: median %v, torben %v", n, got, want)
		}
	}
}

// TestDihedralMatchesReference checks the sign/transpose rules against the
// reference's dct16OriginalTo* functions, transcribed one by one.
func TestDihedralMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	s := new(scratch)
	for i := range s.b {
		s.b[i] = rng.Float32()*2 - 1
	}
	a := s.b
	ref := [8]func(i, j int) (int, int, float32){
		func(i, j int) (int, int, float32) { return i, j, a[i*16+j] },
		func(i, j int) (int, int, float32) { // rot90: B[j][i] = (j&1) ? A : -A
			if j&1 == 1 {
				return j, i, a[i*16+j]
			}
			return j, i, -a[i*16+j]
		},
		func(i, j int) (int, int, float32) {
			if (i+j)&1 == 1 {
				return i, j, -a[i*16+j]
			}
			return i, j, a[i*16+j]
		},
		func(i, j int) (int, int, float32) {
			if i&1 == 1 {
				return j, i, a[i*16+j]
			}
			return j, i, -a[i*16+j]
		},
		func(i, j int) (int, int, float32) {
			if i&1 == 1 {
				return i, j, a[i*16+j]
			}
			return i, j, -a[i*16+j]
		},
		func(i, j int) (int, int, float32) {
			if j&1 == 1 {
				return i, j, a[i*16+j]
			}
			return i, j, -a[i*16+j]
		},
		func(i, j int) (int, int, float32) { return j, i, a[i*16+j] },
		func(i, j int) (int, int, float32) {
			if (i+j)&1 == 1 {
				return j, i, -a[i*16+j]
			}
			return j, i, a[i*16+j]
		},
	}
	got := s.dihedralBits()
	for v, f := range ref {
		var b [256]float32
		for i := 0; i < 16; i++ {
			for j := 0; j < 16; j++ {
				bi, bj, x := f(i, j)
				b[bi*16+bj] = x
			}
		}
		if want := refBits(&b); got[v] != want {
			t.Errorf("%v: got %v, want %v", Dihedral(v), got[v], want)
		}
	}
}
