package viewer

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
)

// Rendition geometry. A rendition is reduced so that its longer side is
// at most MaxSide pixels, turned to greyscale, then blurred by a box blur
// of radius side/BlurDivisor applied BlurPasses times (three box passes
// are close to a Gaussian of standard deviation about 0.8 × radius): at
// 320 pixels that is a radius of 16, so faces, text and bodies are not
// recognisable, while the layout of the picture (a screenshot, a
// photograph, a dark or light scene) still shows.
const (
	MaxSide     = 320
	BlurDivisor = 20
	BlurPasses  = 3
	// TileSide bounds each frame of a video strip.
	TileSide = 160
	// StripFrames is the most frames a video strip shows.
	StripFrames = 8
	// stripColumns is how many frames a row of the strip holds.
	stripColumns = 4
	// stripGap is the space between frames, in pixels.
	stripGap = 4
	// minRadius keeps small pictures blurred too.
	minRadius = 2
)

// ReduceGray returns img in greyscale, reduced by area averaging so that
// its longer side is at most maxSide pixels (it is never enlarged). The
// luma is the standard library's (ITU-R BT.601); JPEG images, the common
// case, are read straight from their Y plane.
func ReduceGray(img image.Image, maxSide int) *image.Gray {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	dw, dh := w, h
	if longer := max(w, h); longer > maxSide {
		dw = max(1, (w*maxSide+longer/2)/longer)
		dh = max(1, (h*maxSide+longer/2)/longer)
	}
	sum := make([]uint32, dw*dh)
	cnt := make([]uint32, dw*dh)
	// Which destination column and row each source column and row falls in.
	colOf := make([]int, w)
	for x := range w {
		colOf[x] = x * dw / w
	}
	add := func(y int, luma func(x int) uint8) {
		row := (y * dh / h) * dw
		for x := range w {
			i := row + colOf[x]
			sum[i] += uint32(luma(x))
			cnt[i]++
		}
	}
	switch src := img.(type) {
	case *image.YCbCr:
		for y := range h {
			off := (y+b.Min.Y-src.Rect.Min.Y)*src.YStride + (b.Min.X - src.Rect.Min.X)
			line := src.Y[off : off+w]
			add(y, func(x int) uint8 { return line[x] })
		}
	case *image.Gray:
		for y := range h {
			off := src.PixOffset(b.Min.X, b.Min.Y+y)
			line := src.Pix[off : off+w]
			add(y, func(x int) uint8 { return line[x] })
		}
	case *image.NRGBA:
		for y := range h {
			off := src.PixOffset(b.Min.X, b.Min.Y+y)
			line := src.Pix[off : off+4*w]
			add(y, func(x int) uint8 { return lumaOf(line[4*x], line[4*x+1], line[4*x+2]) })
		}
	case *image.RGBA:
		for y := range h {
			off := src.PixOffset(b.Min.X, b.Min.Y+y)
			line := src.Pix[off : off+4*w]
			add(y, func(x int) uint8 { return lumaOf(line[4*x], line[4*x+1], line[4*x+2]) })
		}
	default:
		for y := range h {
			add(y, func(x int) uint8 { return color.GrayModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.Gray).Y })
		}
	}
	out := image.NewGray(image.Rect(0, 0, dw, dh))
	for i := range out.Pix {
		if cnt[i] > 0 {
			out.Pix[i] = uint8((sum[i] + cnt[i]/2) / cnt[i])
		}
	}
	return out
}

// lumaOf is color.GrayModel's formula on 8-bit components.
func lumaOf(r, g, b uint8) uint8 {
	return uint8((19595*uint32(r)*0x101 + 38470*uint32(g)*0x101 + 7471*uint32(b)*0x101 + 1<<15) >> 24)
}

// BlurRadius is the blur radius for a picture whose longer side is side.
func BlurRadius(side int) int { return max(minRadius, side/BlurDivisor) }

// Blur blurs g in place with BlurPasses box blurs of radius r, each
// separable (rows, then columns), with the edges extended.
func Blur(g *image.Gray, r int) {
	w, h := g.Rect.Dx(), g.Rect.Dy()
	if w == 0 || h == 0 || r <= 0 {
		return
	}
	buf := make([]float32, w*h)
	for y := range h {
		for x := range w {
			buf[y*w+x] = float32(g.Pix[y*g.Stride+x])
		}
	}
	line := make([]float32, max(w, h))
	for range BlurPasses {
		for y := range h {
			boxLine(buf[y*w:(y+1)*w], 1, w, r, line)
		}
		for x := range w {
			boxLine(buf[x:], w, h, r, line)
		}
	}
	for y := range h {
		for x := range w {
			v := buf[y*w+x] + 0.5
			g.Pix[y*g.Stride+x] = uint8(min(max(v, 0), 255))
		}
	}
}

// boxLine replaces the n values of p at stride step by the mean of the
// 2r+1 values around each (edges extended), using tmp as scratch.
func boxLine(p []float32, step, n, r int, tmp []float32) {
	at := func(i int) float32 { return p[min(max(i, 0), n-1)*step] }
	var acc float32
	for i := -r; i <= r; i++ {
		acc += at(i)
	}
	k := float32(2*r + 1)
	for i := range n {
		tmp[i] = acc / k
		acc += at(i+r+1) - at(i-r)
	}
	for i := range n {
		p[i*step] = tmp[i]
	}
}

// SafeImage makes the rendition of a decoded picture: reduced to MaxSide,
// greyscale, blurred.
func SafeImage(img image.Image) *image.Gray {
	g := ReduceGray(img, MaxSide)
	Blur(g, BlurRadius(max(g.Rect.Dx(), g.Rect.Dy())))
	return g
}

// Strip composes frames (each already reduced to at most TileSide and
// blurred) into one picture, stripColumns to a row, on a mid-grey ground.
func Strip(frames []*image.Gray) *image.Gray {
	if len(frames) == 0 {
		return image.NewGray(image.Rect(0, 0, 1, 1))
	}
	cellW, cellH := 0, 0
	for _, f := range frames {
		cellW, cellH = max(cellW, f.Rect.Dx()), max(cellH, f.Rect.Dy())
	}
	cols := min(stripColumns, len(frames))
	rows := (len(frames) + cols - 1) / cols
	out := image.NewGray(image.Rect(0, 0, cols*cellW+(cols+1)*stripGap, rows*cellH+(rows+1)*stripGap))
	for i := range out.Pix {
		out.Pix[i] = 0x80
	}
	for i, f := range frames {
		x0 := stripGap + (i%cols)*(cellW+stripGap) + (cellW-f.Rect.Dx())/2
		y0 := stripGap + (i/cols)*(cellH+stripGap) + (cellH-f.Rect.Dy())/2
		for y := range f.Rect.Dy() {
			copy(out.Pix[(y0+y)*out.Stride+x0:], f.Pix[y*f.Stride:y*f.Stride+f.Rect.Dx()])
		}
	}
	return out
}

// encodePNG encodes a rendition.
func encodePNG(g *image.Gray) ([]byte, error) {
	var b bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&b, g); err != nil {
		return nil, fmt.Errorf("encode rendition: %w", err)
	}
	return b.Bytes(), nil
}
