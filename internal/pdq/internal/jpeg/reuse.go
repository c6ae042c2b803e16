package jpeg

import "image"

// NOTE (fork): this file is not in the standard library. It lets a Decoder
// keep its large buffers (pixels, progressive coefficients) from one file
// to the next. Reused buffers are cleared, so the output is the same as
// with fresh ones.

// A Decoder decodes JPEG files like Decode, reusing its buffers from one
// call to the next. The image returned by Decode shares those buffers: it
// is valid only until the next call. A Decoder is not safe for concurrent
// use.
type Decoder struct {
	d      decoder
	pix    []byte
	coeffs [maxComponents][]block
}

// Decode decodes a JPEG file held in memory, as the package function
// Decode does.
func (dec *Decoder) Decode(data []byte) (image.Image, error) {
	dec.d = decoder{reuse: dec}
	img, err := dec.d.decode(data, false)
	dec.d.data = nil
	return img, err
}

// BufferBytes returns the size of the buffers the Decoder holds.
func (dec *Decoder) BufferBytes() int {
	n := cap(dec.pix)
	for _, c := range dec.coeffs {
		n += cap(c) * blockSize * 4
	}
	return n
}

// pixels returns a zeroed byte slice of length n.
func (d *decoder) pixels(n int) []byte {
	r := d.reuse
	if r == nil {
		return make([]byte, n)
	}
	if cap(r.pix) < n {
		r.pix = make([]byte, n)
	} else {
		clear(r.pix[:n])
	}
	return r.pix[:n:n]
}

// coefficients returns a zeroed slice of n blocks for component i.
func (d *decoder) coefficients(i, n int) []block {
	r := d.reuse
	if r == nil {
		return make([]block, n)
	}
	if cap(r.coeffs[i]) < n {
		r.coeffs[i] = make([]block, n)
	} else {
		clear(r.coeffs[i][:n])
	}
	return r.coeffs[i][:n:n]
}

// newYCbCr is image.NewYCbCr with the pixel buffer from d.pixels.
func (d *decoder) newYCbCr(r image.Rectangle, ratio image.YCbCrSubsampleRatio) *image.YCbCr {
	if d.reuse == nil {
		return image.NewYCbCr(r, ratio)
	}
	w, h, cw, ch := yCbCrSize(r, ratio)
	b := d.pixels(w*h + 2*cw*ch)
	i0 := w*h + 0*cw*ch
	i1 := w*h + 1*cw*ch
	i2 := w*h + 2*cw*ch
	return &image.YCbCr{
		Y:              b[:i0:i0],
		Cb:             b[i0:i1:i1],
		Cr:             b[i1:i2:i2],
		SubsampleRatio: ratio,
		YStride:        w,
		CStride:        cw,
		Rect:           r,
	}
}

// yCbCrSize is the image package's helper of the same name.
func yCbCrSize(r image.Rectangle, subsampleRatio image.YCbCrSubsampleRatio) (w, h, cw, ch int) {
	w, h = r.Dx(), r.Dy()
	switch subsampleRatio {
	case image.YCbCrSubsampleRatio422:
		cw = (r.Max.X+1)/2 - r.Min.X/2
		ch = h
	case image.YCbCrSubsampleRatio420:
		cw = (r.Max.X+1)/2 - r.Min.X/2
		ch = (r.Max.Y+1)/2 - r.Min.Y/2
	case image.YCbCrSubsampleRatio440:
		cw = w
		ch = (r.Max.Y+1)/2 - r.Min.Y/2
	case image.YCbCrSubsampleRatio411:
		cw = (r.Max.X+3)/4 - r.Min.X/4
		ch = h
	case image.YCbCrSubsampleRatio410:
		cw = (r.Max.X+3)/4 - r.Min.X/4
		ch = (r.Max.Y+1)/2 - r.Min.Y/2
	default:
		// Default to 4:4:4 subsampling.
		cw = w
		ch = h
	}
	return
}
