package lab

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"

	"golang.org/x/image/draw"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/store"
)

// MaskColour fills the masked rectangles of a sanitised rendition.
var MaskColour = color.RGBA{A: 0xff}

// MaxMasks bounds the rectangles of one sanitised rendition.
const MaxMasks = 64

// Reduce returns img in colour, scaled so that its longer side is at most
// maxSide pixels (never enlarged), without blur.
func Reduce(img image.Image, maxSide int) *image.RGBA {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	dw, dh := w, h
	if longer := max(w, h); longer > maxSide {
		dw = max(1, (w*maxSide+longer/2)/longer)
		dh = max(1, (h*maxSide+longer/2)/longer)
	}
	out := image.NewRGBA(image.Rect(0, 0, dw, dh))
	draw.ApproxBiLinear.Scale(out, out.Rect, img, b, draw.Src, nil)
	return out
}

// CleanMasks checks rectangles against a picture of w × h pixels: at
// least one, at most MaxMasks, each of positive size, clipped to the
// picture (a rectangle wholly outside it is refused).
func CleanMasks(masks []store.Mask, w, h int) ([]store.Mask, error) {
	if len(masks) == 0 {
		return nil, haven.Invalidf("masks", "Draw at least one rectangle over the child before saving.")
	}
	if len(masks) > MaxMasks {
		return nil, haven.Invalidf("masks", "Use at most %d rectangles.", MaxMasks)
	}
	bounds := image.Rect(0, 0, w, h)
	out := make([]store.Mask, 0, len(masks))
	for _, m := range masks {
		if m.W <= 0 || m.H <= 0 {
			return nil, haven.Invalidf("masks", "Every rectangle needs a width and a height.")
		}
		r := image.Rect(m.X, m.Y, m.X+m.W, m.Y+m.H).Intersect(bounds)
		if r.Empty() {
			return nil, haven.Invalidf("masks", "A rectangle lies outside the picture.")
		}
		out = append(out, store.Mask{X: r.Min.X, Y: r.Min.Y, W: r.Dx(), H: r.Dy()})
	}
	return out, nil
}

// ApplyMasks fills each rectangle of img with MaskColour.
func ApplyMasks(img *image.RGBA, masks []store.Mask) {
	fill := image.NewUniform(MaskColour)
	for _, m := range masks {
		r := image.Rect(m.X, m.Y, m.X+m.W, m.Y+m.H).Intersect(img.Rect)
		draw.Draw(img, r, fill, image.Point{}, draw.Src)
	}
}

func encodePNG(img image.Image) ([]byte, error) {
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return nil, fmt.Errorf("encode lab image: %w", err)
	}
	return b.Bytes(), nil
}
