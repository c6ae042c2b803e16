package pdq

import (
	"fmt"
	"image"
	"image/color"
	"image/color/palette"
	"image/draw"
	"testing"
)

// opaqueImage hides an image's concrete type, forcing the generic path of
// fillLuma (At and color conversion).
type opaqueImage struct{ image.Image }

// toYCbCr converts m to an *image.YCbCr with the given subsampling, taking
// each chroma sample from the top-left pixel it covers.
func toYCbCr(m image.Image, r image.YCbCrSubsampleRatio) *image.YCbCr {
	b := m.Bounds()
	y := image.NewYCbCr(b, r)
	for py := b.Min.Y; py < b.Max.Y; py++ {
		for px := b.Min.X; px < b.Max.X; px++ {
			cr, cg, cb, _ := m.At(px, py).RGBA()
			yy, u, v := color.RGBToYCbCr(uint8(cr>>8), uint8(cg>>8), uint8(cb>>8))
			y.Y[y.YOffset(px, py)] = yy
			ci := y.COffset(px, py)
			y.Cb[ci], y.Cr[ci] = u, v
		}
	}
	return y
}

// colourVariants returns the same picture in many colour models.
func colourVariants(w, h int) map[string]image.Image {
	src := testPattern(w, h)
	// Some translucent and transparent pixels.
	for i := 3; i < len(src.Pix); i += 4 * 7 {
		src.Pix[i] = uint8(i * 13)
	}
	b := src.Bounds()
	out := map[string]image.Image{"nrgba": src}
	rgba := image.NewRGBA(b)
	draw.Draw(rgba, b, src, b.Min, draw.Src)
	out["rgba"] = rgba
	for _, r := range []image.YCbCrSubsampleRatio{image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio422,
		image.YCbCrSubsampleRatio420, image.YCbCrSubsampleRatio440, image.YCbCrSubsampleRatio411, image.YCbCrSubsampleRatio410} {
		out["ycbcr"+r.String()] = toYCbCr(src, r)
	}
	nycc := &image.NYCbCrA{YCbCr: *toYCbCr(src, image.YCbCrSubsampleRatio420), A: make([]byte, w*h), AStride: w}
	out["nycbcra"] = nycc
	gray := image.NewGray(b)
	draw.Draw(gray, b, src, b.Min, draw.Src)
	out["gray"] = gray
	gray16 := image.NewGray16(b)
	draw.Draw(gray16, b, src, b.Min, draw.Src)
	out["gray16"] = gray16
	pal := image.NewPaletted(b, palette.WebSafe)
	draw.Draw(pal, b, src, b.Min, draw.Src)
	out["paletted"] = pal
	for name, m := range map[string]draw.Image{"rgba64": image.NewRGBA64(b), "nrgba64": image.NewNRGBA64(b), "cmyk": image.NewCMYK(b)} {
		draw.Draw(m, b, src, b.Min, draw.Src)
		out[name] = m
	}
	return out
}

// TestFastPathsMatchGeneric checks every specialised conversion against the
// generic one, on whole images and on sub-images with odd offsets, with and
// without the pre-shrink.
func TestFastPathsMatchGeneric(t *testing.T) {
	for _, size := range [][2]int{{40, 30}, {700, 530}} {
		for name, img := range colourVariants(size[0], size[1]) {
			for _, sub := range []bool{false, true} {
				m := img
				if sub {
					m = img.(interface {
						SubImage(image.Rectangle) image.Image
					}).SubImage(image.Rect(3, 5, size[0], size[1]))
				}
				t.Run(fmt.Sprintf("%dx%d/%s/sub=%v", size[0], size[1], name, sub), func(t *testing.T) {
					got, want := lumaOf(m), lumaOf(opaqueImage{m})
					for i := range want {
						if got[i] != want[i] {
							t.Fatalf("luma[%d] = %v, generic path %v", i, got[i], want[i])
						}
					}
					h1, q1, _ := HashImage(m)
					h2, q2, _ := HashImage(opaqueImage{m})
					if h1 != h2 || q1 != q2 {
						t.Errorf("hash %v q=%d, generic %v q=%d", h1, q1, h2, q2)
					}
				})
			}
		}
	}
}

// lumaOf runs the pre-shrink sampling and luma conversion of HashImage.
func lumaOf(img image.Image) []float32 {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	cols, rows := w, h
	if w > shrinkDim || h > shrinkDim {
		cols, rows = shrinkDim, shrinkDim
	}
	s := new(scratch)
	s.grow(rows, cols)
	for x := range s.xs {
		s.xs[x] = b.Min.X + x*w/cols
	}
	for y := range s.ys {
		s.ys[y] = b.Min.Y + y*h/rows
	}
	s.fillLuma(img)
	return append([]float32(nil), s.buf1...)
}

// A grey level whose RGB luma is not the level itself in float32.
func unequalGrey(t *testing.T) uint8 {
	for v := 0; v < 256; v++ {
		if luma(uint8(v), uint8(v), uint8(v)) != float32(v) {
			return uint8(v)
		}
	}
	t.Fatal("no grey level differs")
	return 0
}

// TestGreyRule: an image whose pixels all have R = G = B takes the
// greyscale path, as the reference's does after ImageMagick writes it as a
// PGM; a single colour pixel anywhere, sampled or not, switches the whole
// image to the RGB path.
func TestGreyRule(t *testing.T) {
	v := unequalGrey(t)
	const n = 600
	grey := image.NewNRGBA(image.Rect(0, 0, n, n))
	for i := range grey.Pix {
		grey.Pix[i] = v
		if i%4 == 3 {
			grey.Pix[i] = 255
		}
	}
	if l := lumaOf(grey); l[0] != float32(v) {
		t.Errorf("all-grey NRGBA: luma %v, want the grey level %v", l[0], v)
	}
	// (599, 599) is not among the pixels the pre-shrink keeps (at most 598).
	grey.SetNRGBA(n-1, n-1, color.NRGBA{v, v, v + 1, 255})
	if l := lumaOf(grey); l[0] != luma(v, v, v) {
		t.Errorf("one colour pixel: luma %v, want the RGB luma %v", l[0], luma(v, v, v))
	}
	// The same through YCbCr: Cb = Cr = 128 everywhere is grey.
	ycc := image.NewYCbCr(image.Rect(0, 0, 64, 64), image.YCbCrSubsampleRatio420)
	for i := range ycc.Y {
		ycc.Y[i] = v
	}
	for i := range ycc.Cb {
		ycc.Cb[i], ycc.Cr[i] = 128, 128
	}
	if l := lumaOf(ycc); l[0] != float32(v) {
		t.Errorf("grey YCbCr: luma %v, want %v", l[0], v)
	}
	ycc.Cr[len(ycc.Cr)-1] = 140
	if l := lumaOf(ycc); l[0] != luma(v, v, v) {
		t.Errorf("YCbCr with one colour sample: luma %v, want %v", l[0], luma(v, v, v))
	}
}

// TestAlphaIgnored: the reference never sees alpha; straight colour values
// are hashed as they are, even under full transparency.
func TestAlphaIgnored(t *testing.T) {
	a := testPattern(100, 80)
	b := image.NewNRGBA(a.Bounds())
	copy(b.Pix, a.Pix)
	for i := 3; i < len(b.Pix); i += 4 {
		b.Pix[i] = uint8(i) // arbitrary alpha, including 0
	}
	ha, qa, _ := HashImage(a)
	hb, qb, _ := HashImage(b)
	if ha != hb || qa != qb {
		t.Errorf("alpha changed the hash: %v q=%d vs %v q=%d", ha, qa, hb, qb)
	}
}

// TestTinyImages: under 5 pixels on a side the hash is zero with quality 0.
func TestTinyImages(t *testing.T) {
	for _, r := range []image.Rectangle{image.Rect(0, 0, 4, 100), image.Rect(0, 0, 100, 4), image.Rect(0, 0, 0, 0), image.Rect(10, 10, 14, 14)} {
		hs, q, err := HashImageDihedral(image.NewGray(r))
		if err != nil || q != 0 || hs != [8]Hash{} {
			t.Errorf("%v: got %v q=%d %v, want zero hashes", r, hs[0], q, err)
		}
	}
	if _, q, err := HashImage(testPattern(5, 5)); err != nil || q < 0 {
		t.Errorf("5×5: q=%d %v", q, err)
	}
}
