package pdq

import (
	"image"
	"image/color"
)

// This file turns a decoded image into the float32 luma buffer the hashing
// core works on, the way the reference's I/O layer does (pdq/cpp/io/pdqio.cpp
// with CImg, which hands the file to ImageMagick and reads back a PNM):
//
//   - Every colour model becomes straight (not premultiplied) 8-bit R, G, B.
//     Alpha is dropped, not composited: the reference never sees it.
//   - If every pixel of the whole image has R = G = B, ImageMagick writes a
//     one-channel PGM and the reference takes its greyscale path, luma = the
//     byte. Otherwise luma = (0.299·R + 0.587·G) + 0.114·B in float32. The
//     two are not bit-identical for 35 of the 256 grey levels, so the
//     choice is made here exactly as the reference makes it.
//   - The pre-shrink picks pixels (nearest neighbour), so luma is computed
//     only for the pixels it keeps.
//
// NOTE: for 16-bit samples (16-bit PNG and TIFF) the reference's CImg keeps
// only the low byte of each sample, which is noise; we keep the high byte,
// which is what every other PDQ implementation does.

// fillLuma writes the luma of img, sampled at the columns s.xs and rows s.ys
// (absolute coordinates), into s.buf1 (len(ys) rows of len(xs)).
func (s *scratch) fillLuma(img image.Image) {
	xs, ys, out := s.xs, s.ys, s.buf1
	cols := len(xs)
	switch m := img.(type) {
	case *image.YCbCr:
		fillYCbCr(m, xs, ys, out, s.cx)
	case *image.NYCbCrA:
		fillYCbCr(&m.YCbCr, xs, ys, out, s.cx)
	case *image.Gray:
		for y, sy := range ys {
			row := out[y*cols:][:cols]
			off := (sy-m.Rect.Min.Y)*m.Stride - m.Rect.Min.X
			for x, sx := range xs {
				row[x] = float32(m.Pix[off+sx])
			}
		}
	case *image.Gray16:
		for y, sy := range ys {
			row := out[y*cols:][:cols]
			off := (sy-m.Rect.Min.Y)*m.Stride - 2*m.Rect.Min.X
			for x, sx := range xs {
				row[x] = float32(m.Pix[off+2*sx])
			}
		}
	case *image.NRGBA:
		grey := nrgbaAllGrey(m)
		for y, sy := range ys {
			row := out[y*cols:][:cols]
			off := (sy-m.Rect.Min.Y)*m.Stride - 4*m.Rect.Min.X
			for x, sx := range xs {
				p := m.Pix[off+4*sx:][:3]
				if grey {
					row[x] = float32(p[0])
				} else {
					row[x] = luma(p[0], p[1], p[2])
				}
			}
		}
	case *image.RGBA:
		grey := rgbaAllGrey(m)
		for y, sy := range ys {
			row := out[y*cols:][:cols]
			off := (sy-m.Rect.Min.Y)*m.Stride - 4*m.Rect.Min.X
			for x, sx := range xs {
				p := m.Pix[off+4*sx:][:4]
				r, g, b := p[0], p[1], p[2]
				if a := p[3]; a != 0xff {
					r, g, b = unpremultiply(r, g, b, a)
				}
				if grey {
					row[x] = float32(r)
				} else {
					row[x] = luma(r, g, b)
				}
			}
		}
	case *image.Paletted:
		var pal [256][3]uint8
		var palGrey [256]bool
		for i := range pal {
			c := color.Color(color.Black) // out-of-palette indices read as black, as At does
			if i < len(m.Palette) {
				c = m.Palette[i]
			}
			r, g, b := straightRGB(c)
			pal[i] = [3]uint8{r, g, b}
			palGrey[i] = r == g && g == b
		}
		grey := true
		for y := m.Rect.Min.Y; y < m.Rect.Max.Y && grey; y++ {
			for _, p := range m.Pix[(y-m.Rect.Min.Y)*m.Stride:][:m.Rect.Dx()] {
				if !palGrey[p] {
					grey = false
					break
				}
			}
		}
		for y, sy := range ys {
			row := out[y*cols:][:cols]
			off := (sy-m.Rect.Min.Y)*m.Stride - m.Rect.Min.X
			for x, sx := range xs {
				p := &pal[m.Pix[off+sx]]
				if grey {
					row[x] = float32(p[0])
				} else {
					row[x] = luma(p[0], p[1], p[2])
				}
			}
		}
	default:
		b := img.Bounds()
		grey := true
	scan:
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				if r, g, bl := straightRGB(img.At(x, y)); r != g || g != bl {
					grey = false
					break scan
				}
			}
		}
		for y, sy := range ys {
			row := out[y*cols:][:cols]
			for x, sx := range xs {
				r, g, bl := straightRGB(img.At(sx, sy))
				if grey {
					row[x] = float32(r)
				} else {
					row[x] = luma(r, g, bl)
				}
			}
		}
	}
}

// straightRGB returns a colour's straight 8-bit R, G and B.
func straightRGB(c color.Color) (r, g, b uint8) {
	switch c := c.(type) {
	case nil:
		return 0, 0, 0
	case color.NRGBA:
		return c.R, c.G, c.B
	case color.RGBA:
		if c.A == 0xff {
			return c.R, c.G, c.B
		}
		return unpremultiply(c.R, c.G, c.B, c.A)
	case color.Gray:
		return c.Y, c.Y, c.Y
	case color.YCbCr:
		return color.YCbCrToRGB(c.Y, c.Cb, c.Cr)
	case color.NYCbCrA:
		return color.YCbCrToRGB(c.Y, c.Cb, c.Cr)
	case color.NRGBA64:
		return uint8(c.R >> 8), uint8(c.G >> 8), uint8(c.B >> 8)
	}
	n := color.NRGBA64Model.Convert(c).(color.NRGBA64)
	return uint8(n.R >> 8), uint8(n.G >> 8), uint8(n.B >> 8)
}

// unpremultiply undoes alpha premultiplication like color.NRGBAModel.
func unpremultiply(r, g, b, a uint8) (uint8, uint8, uint8) {
	if a == 0 {
		return 0, 0, 0
	}
	a16 := uint32(a) * 0x101
	f := func(c uint8) uint8 { return uint8((uint32(c) * 0x101 * 0xffff / a16) >> 8) }
	return f(r), f(g), f(b)
}

func nrgbaAllGrey(m *image.NRGBA) bool {
	w := 4 * m.Rect.Dx()
	for y := 0; y < m.Rect.Dy(); y++ {
		row := m.Pix[y*m.Stride:][:w]
		for i := 0; i < w; i += 4 {
			if row[i] != row[i+1] || row[i+1] != row[i+2] {
				return false
			}
		}
	}
	return true
}

func rgbaAllGrey(m *image.RGBA) bool {
	w := 4 * m.Rect.Dx()
	for y := 0; y < m.Rect.Dy(); y++ {
		row := m.Pix[y*m.Stride:][:w]
		for i := 0; i < w; i += 4 {
			// Premultiplication by the same alpha keeps grey grey, and
			// unpremultiply maps equal inputs to equal outputs.
			if row[i] != row[i+1] || row[i+1] != row[i+2] {
				return false
			}
		}
	}
	return true
}

// chromaShift returns log2 of how many luma columns and rows share one
// chroma sample.
func chromaShift(r image.YCbCrSubsampleRatio) (h, v uint) {
	switch r {
	case image.YCbCrSubsampleRatio422:
		return 1, 0
	case image.YCbCrSubsampleRatio420:
		return 1, 1
	case image.YCbCrSubsampleRatio440:
		return 0, 1
	case image.YCbCrSubsampleRatio411:
		return 2, 0
	case image.YCbCrSubsampleRatio410:
		return 2, 1
	}
	return 0, 0
}

// chromaRow and chromaCol are image.YCbCr.COffset split in a row and a
// column part.
func chromaRow(m *image.YCbCr, y int, vs uint) int {
	return (divPow2(y, vs) - divPow2(m.Rect.Min.Y, vs)) * m.CStride
}

func chromaCol(m *image.YCbCr, x int, hs uint) int {
	return divPow2(x, hs) - divPow2(m.Rect.Min.X, hs)
}

// divPow2 is x / (1<<s), rounding toward zero like Go's division, without
// a division instruction in the common case.
func divPow2(x int, s uint) int {
	if x >= 0 {
		return x >> s
	}
	return x / (1 << s)
}

// ycbcrToRGB is color.YCbCrToRGB, inlined. Its 8-bit results are also the
// top bytes of color.YCbCr.RGBA, so every Go path from a decoded JPEG to
// 8-bit RGB (At, draw.Draw, YCbCrToRGB) gives these values.
func ycbcrToRGB(y, cb, cr uint8) (uint8, uint8, uint8) {
	yy1 := int32(y) * 0x10101
	cb1 := int32(cb) - 128
	cr1 := int32(cr) - 128
	r := yy1 + 91881*cr1
	if uint32(r)&0xff000000 == 0 {
		r >>= 16
	} else {
		r = ^(r >> 31)
	}
	g := yy1 - 22554*cb1 - 46802*cr1
	if uint32(g)&0xff000000 == 0 {
		g >>= 16
	} else {
		g = ^(g >> 31)
	}
	b := yy1 + 116130*cb1
	if uint32(b)&0xff000000 == 0 {
		b >>= 16
	} else {
		b = ^(b >> 31)
	}
	return uint8(r), uint8(g), uint8(b)
}

// fillYCbCr is fillLuma for *image.YCbCr: the JPEG and lossy WebP case.
// cx is scratch space for the chroma column of each sampled column.
func fillYCbCr(m *image.YCbCr, xs, ys []int, out []float32, cx []int) {
	hs, vs := chromaShift(m.SubsampleRatio)
	grey := ycbcrAllGrey(m, hs, vs)
	cols := len(xs)
	cx = cx[:cols]
	for x, sx := range xs {
		cx[x] = chromaCol(m, sx, hs)
	}
	for y, sy := range ys {
		row := out[y*cols:][:cols]
		yoff := (sy-m.Rect.Min.Y)*m.YStride - m.Rect.Min.X
		coff := chromaRow(m, sy, vs)
		cb, cr := m.Cb[coff:], m.Cr[coff:]
		if grey {
			for x, sx := range xs {
				r, _, _ := ycbcrToRGB(m.Y[yoff+sx], cb[cx[x]], cr[cx[x]])
				row[x] = float32(r)
			}
			continue
		}
		for x, sx := range xs {
			ci := cx[x]
			r, g, b := ycbcrToRGB(m.Y[yoff+sx], cb[ci], cr[ci])
			row[x] = luma(r, g, b)
		}
	}
}

// ycbcrAllGrey reports whether every pixel of m converts to R = G = B. With
// Cb = Cr = 128 that always holds; other pixels are converted and checked.
func ycbcrAllGrey(m *image.YCbCr, hs, vs uint) bool {
	w := m.Rect.Dx()
	for sy := m.Rect.Min.Y; sy < m.Rect.Max.Y; sy++ {
		yrow := m.Y[(sy-m.Rect.Min.Y)*m.YStride:][:w]
		coff := chromaRow(m, sy, vs)
		for i, y := range yrow {
			ci := coff + chromaCol(m, m.Rect.Min.X+i, hs)
			cb, cr := m.Cb[ci], m.Cr[ci]
			if cb == 128 && cr == 128 {
				continue
			}
			if r, g, b := ycbcrToRGB(y, cb, cr); r != g || g != b {
				return false
			}
		}
	}
	return true
}
