package pdq

import (
	"errors"
	"fmt"
	"image"
)

// Shrink names a pre-shrink strategy: how an image is reduced before the
// hashing core blurs it down to 64×64. The pre-shrink is a known source of
// differences between PDQ implementations, so it is part of a hash's
// provenance (see Version).
type Shrink int

const (
	// ShrinkReference512 is the C++ reference's pre-shrink (pdqio.cpp,
	// DOWNSAMPLE_DIMS): if the width or the height is over 512, the image
	// is resized to exactly 512×512, ignoring the aspect ratio, by nearest
	// neighbour with top-left sampling, dst(x, y) = src(⌊x·W/512⌋,
	// ⌊y·H/512⌋) (CImg's default resize). Smaller images are not resized.
	// It is the zero value, so the default.
	ShrinkReference512 Shrink = iota
	// ShrinkNone hashes the full-resolution image. This is what the
	// reference did before it gained the pre-shrink, and how the older
	// published values (pdq/sql/README.md, pytx get_examples) were made.
	ShrinkNone
)

// Version returns a short, stable identifier of the strategy.
func (s Shrink) Version() string {
	switch s {
	case ShrinkReference512:
		return "ref512nn-1"
	case ShrinkNone:
		return "none-1"
	}
	return fmt.Sprintf("invalid-%d", int(s))
}

func (s Shrink) valid() bool { return s == ShrinkReference512 || s == ShrinkNone }

// Options configure hashing. The zero value is the reference's behaviour.
type Options struct {
	Shrink Shrink        // pre-shrink strategy; default ShrinkReference512
	Decode DecodeOptions // limits for HashReader
}

// coreVersion names the hashing core: bit-exact with the C++ reference
// (facebook/ThreatExchange pdq/cpp) from float32 luma to bits.
const coreVersion = "pdq-1"

// Version identifies how these options turn a decoded image into a hash,
// for the provenance of stored hashes, e.g. "pdq-1/ref512nn-1". It does not
// cover decoding: Go's decoders, like any others, may change pixel values
// between releases.
func (o Options) Version() string {
	return coreVersion + "/" + o.Shrink.Version()
}

// ErrInvalidImage is returned when there is no image to hash (a nil image)
// or the options are not valid.
var ErrInvalidImage = errors.New("pdq: invalid input")

// HashImage returns the PDQ hash and quality (0 to 100) of an already
// decoded image with the default options. See Options.HashImage.
func HashImage(img image.Image) (Hash, int, error) {
	return Options{}.HashImage(img)
}

// HashImageDihedral returns the hashes of the eight dihedral variants of an
// already decoded image with the default options. See
// Options.HashImageDihedral.
func HashImageDihedral(img image.Image) ([8]Hash, int, error) {
	return Options{}.HashImageDihedral(img)
}

// HashImage returns the PDQ hash and quality (0 to 100) of an already
// decoded image, as the reference's pdqHash256FromFile would for the same
// pixels. Hashes of quality below MinQuality should not be matched. Images
// with a side under 5 pixels (after the pre-shrink) hash to the zero Hash
// with quality 0, as in the reference.
//
// Every colour model is read as straight 8-bit RGB with alpha ignored; an
// image whose pixels all have R = G = B takes the reference's greyscale
// path. EXIF orientation is not applied (the reference does not).
func (o Options) HashImage(img image.Image) (Hash, int, error) {
	hs, q, err := o.hash(img, false)
	return hs[Original], q, err
}

// HashImageDihedral returns the hashes of the eight dihedral variants of
// the image (indexed by Original, Rotate90, … FlipMinus1) and its quality,
// computed from one DCT as the reference's pdqDihedralHash256esFromFile
// does. They approximate, but do not equal, the hashes of the rotated and
// flipped pixels.
//
// NOTE: like the reference, this path always blurs, even a 64×64 input that
// HashImage uses as it is, so for 64×64 images the Original hash here can
// differ from HashImage's in a few low-order bits of the DCT.
func (o Options) HashImageDihedral(img image.Image) ([8]Hash, int, error) {
	return o.hash(img, true)
}

func (o Options) hash(img image.Image, dihedral bool) (hs [8]Hash, quality int, err error) {
	if img == nil {
		return hs, 0, fmt.Errorf("%w: nil image", ErrInvalidImage)
	}
	if !o.Shrink.valid() {
		return hs, 0, fmt.Errorf("%w: unknown shrink strategy %d", ErrInvalidImage, int(o.Shrink))
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	cols, rows := w, h
	if o.Shrink == ShrinkReference512 && (w > shrinkDim || h > shrinkDim) {
		cols, rows = shrinkDim, shrinkDim
	}
	if rows < minHashableDim || cols < minHashableDim {
		return hs, 0, nil
	}
	s := getScratch()
	defer putScratch(s)
	s.grow(rows, cols)
	for x := range s.xs {
		s.xs[x] = b.Min.X + x*w/cols
	}
	for y := range s.ys {
		s.ys[y] = b.Min.Y + y*h/rows
	}
	s.fillLuma(img)
	quality = s.dct(rows, cols, !dihedral)
	if dihedral {
		return s.dihedralBits(), quality, nil
	}
	hs[Original] = threshold(&s.b, &s.sel)
	return hs, quality, nil
}

// shrinkDim is the reference's DOWNSAMPLE_DIMS.
const shrinkDim = 512
