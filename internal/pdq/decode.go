package pdq

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/gif"
	"image/png"
	"io"
	"sync"

	"github.com/haven-hotline/haven/internal/pdq/internal/jpeg"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
	"golang.org/x/image/webp"
)

// Decoding limits.
const (
	// DefaultMaxPixels is the default limit on width×height: 64 megapixels.
	// Decoding needs up to about 12 bytes per pixel (a progressive 4:4:4
	// JPEG keeps every DCT coefficient), so about 800 MB at the limit.
	DefaultMaxPixels = 64 << 20
	// DefaultMaxBytes is the default limit on the size of an image file.
	DefaultMaxBytes = 256 << 20
)

// DecodeOptions limit what Decode accepts.
type DecodeOptions struct {
	// MaxPixels refuses images whose header declares more than this many
	// pixels (width×height), before any pixel is decoded. 0 means
	// DefaultMaxPixels.
	MaxPixels int64
	// MaxBytes refuses files longer than this. 0 means DefaultMaxBytes.
	MaxBytes int64
}

func (o DecodeOptions) maxPixels() int64 {
	if o.MaxPixels > 0 {
		return o.MaxPixels
	}
	return DefaultMaxPixels
}

func (o DecodeOptions) maxBytes() int64 {
	if o.MaxBytes > 0 {
		return o.MaxBytes
	}
	return DefaultMaxBytes
}

// Errors of Decode and HashReader. Each returned error wraps one of them
// (test with errors.Is) together with the cause.
var (
	// ErrTooLarge: the file, or the pixel count its header declares, is
	// over the limit of DecodeOptions. Nothing was decoded.
	ErrTooLarge = errors.New("pdq: image too large")
	// ErrUnsupportedFormat: the data is not JPEG, PNG, GIF, WebP, BMP or
	// TIFF.
	ErrUnsupportedFormat = errors.New("pdq: unsupported image format")
	// ErrUndecodable: the data claims a supported format but is corrupt,
	// truncated, uses an unsupported feature, declares an empty image, or
	// made the decoder panic.
	ErrUndecodable = errors.New("pdq: undecodable image")
)

// A format is one supported image format.
type format struct {
	name   string
	magic  func([]byte) bool
	config func([]byte) (image.Config, error)
	decode func([]byte) (image.Image, error)
}

// formats are tried in order. The list is fixed here rather than taken from
// image.RegisterFormat, so that a decoder registered elsewhere in the
// program is never handed outside data by this package.
//
// JPEG goes through internal/jpeg, a copy of the standard library's decoder
// (Go 1.26) made faster without changing its output: it returns the same
// pixels as image/jpeg, which is what the conformance data was measured
// with.
var formats = []format{
	{"jpeg", prefix("\xff\xd8"), jpeg.DecodeConfig, jpeg.Decode},
	{"png", prefix("\x89PNG\r\n\x1a\n"), fromReader(png.DecodeConfig), fromReader(png.Decode)},
	{"gif", func(b []byte) bool {
		return bytes.HasPrefix(b, []byte("GIF87a")) || bytes.HasPrefix(b, []byte("GIF89a"))
	},
		fromReader(gif.DecodeConfig), fromReader(gif.Decode)},
	{"webp", func(b []byte) bool {
		return len(b) >= 15 && string(b[:4]) == "RIFF" && string(b[8:15]) == "WEBPVP8"
	}, fromReader(webp.DecodeConfig), fromReader(webp.Decode)},
	{"bmp", prefix("BM"), fromReader(bmp.DecodeConfig), fromReader(bmp.Decode)},
	{"tiff", func(b []byte) bool {
		return bytes.HasPrefix(b, []byte("II*\x00")) || bytes.HasPrefix(b, []byte("MM\x00*"))
	},
		fromReader(tiff.DecodeConfig), fromReader(tiff.Decode)},
}

func prefix(p string) func([]byte) bool {
	return func(b []byte) bool { return bytes.HasPrefix(b, []byte(p)) }
}

// fromReader adapts a decoder of an io.Reader to a byte slice.
func fromReader[T any](f func(io.Reader) (T, error)) func([]byte) (T, error) {
	return func(b []byte) (T, error) { return f(bytes.NewReader(b)) }
}

// Decode reads an image file (JPEG, PNG, GIF, WebP, BMP or TIFF; for GIF
// the first frame) and returns the image and the format's name. It reads
// the header first and refuses, with ErrTooLarge, an image declaring more
// than opt.MaxPixels pixels, before decoding anything. A zero width or
// height, corrupt data and decoder panics give ErrUndecodable. EXIF
// orientation is not applied, as in the PDQ reference.
func Decode(r io.Reader, opt DecodeOptions) (image.Image, string, error) {
	data, err := readAll(r, opt.maxBytes())
	if err != nil {
		return nil, "", err
	}
	return decodeBytes(data, opt, nil)
}

// readAll reads r to the end, refusing more than limit bytes.
func readAll(r io.Reader, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read image: %w", err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%w: file over %d bytes", ErrTooLarge, limit)
	}
	return data, nil
}

func sniff(data []byte) *format {
	for i := range formats {
		if formats[i].magic(data) {
			return &formats[i]
		}
	}
	return nil
}

// checkConfig decodes the header and applies the limits.
func checkConfig(f *format, data []byte, opt DecodeOptions) (err error) {
	defer recoverInto(&err, f.name+" header")
	cfg, err := f.config(data)
	if err != nil {
		return fmt.Errorf("%w: %s header: %w", ErrUndecodable, f.name, err)
	}
	return checkSize(cfg.Width, cfg.Height, opt.maxPixels())
}

func checkSize(w, h int, limit int64) error {
	if w <= 0 || h <= 0 {
		return fmt.Errorf("%w: empty image (%d×%d)", ErrUndecodable, w, h)
	}
	if int64(w) > limit || int64(h) > limit || int64(w)*int64(h) > limit {
		return fmt.Errorf("%w: %d×%d pixels, over the limit of %d", ErrTooLarge, w, h, limit)
	}
	return nil
}

// decodeBytes decodes data. With jd, JPEG files are decoded into jd's
// buffers, so the image must not outlive the next use of jd.
func decodeBytes(data []byte, opt DecodeOptions, jd *jpeg.Decoder) (image.Image, string, error) {
	f := sniff(data)
	if f == nil {
		return nil, "", ErrUnsupportedFormat
	}
	if err := checkConfig(f, data, opt); err != nil {
		return nil, f.name, err
	}
	dec := f.decode
	if jd != nil && f.name == "jpeg" {
		dec = jd.Decode
	}
	img, err := decodeWith(f.name, dec, data)
	if err != nil {
		return nil, f.name, err
	}
	// A decoder may produce a frame other than the one its header
	// describes; hold the result to the same limits.
	b := img.Bounds()
	if err := checkSize(b.Dx(), b.Dy(), opt.maxPixels()); err != nil {
		return nil, f.name, err
	}
	return img, f.name, nil
}

func decodeWith(name string, decode func([]byte) (image.Image, error), data []byte) (img image.Image, err error) {
	defer recoverInto(&err, name)
	img, err = decode(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrUndecodable, name, err)
	}
	if img == nil {
		return nil, fmt.Errorf("%w: %s: no image", ErrUndecodable, name)
	}
	return img, nil
}

// recoverInto turns a decoder panic into ErrUndecodable. Decoders of
// outside data have panicked on crafted input before; one bad file must not
// bring down the process.
func recoverInto(err *error, what string) {
	if p := recover(); p != nil {
		*err = fmt.Errorf("%w: %s decoder panicked: %v", ErrUndecodable, what, p)
	}
}

// HashReader decodes an image file with Decode and hashes it with
// Options.HashImage.
func HashReader(r io.Reader, opt Options) (Hash, int, error) {
	hs, q, err := hashReader(r, opt, false)
	return hs[Original], q, err
}

// HashReaderDihedral decodes an image file with Decode and hashes it with
// Options.HashImageDihedral.
func HashReaderDihedral(r io.Reader, opt Options) ([8]Hash, int, error) {
	return hashReader(r, opt, true)
}

func hashReader(r io.Reader, opt Options, dihedral bool) ([8]Hash, int, error) {
	if !opt.Shrink.valid() {
		return [8]Hash{}, 0, fmt.Errorf("%w: unknown shrink strategy %d", ErrInvalidImage, int(opt.Shrink))
	}
	// Neither the file nor the decoded image leaves this function, so both
	// can live in pooled buffers.
	buf := filePool.Get().(*bytes.Buffer)
	jd := jpegPool.Get().(*jpeg.Decoder)
	defer func() {
		if buf.Cap() <= maxPooledJPEGBytes {
			buf.Reset()
			filePool.Put(buf)
		}
		if jd.BufferBytes() <= maxPooledJPEGBytes {
			jpegPool.Put(jd)
		}
	}()
	limit := opt.Decode.maxBytes()
	if _, err := buf.ReadFrom(io.LimitReader(r, limit+1)); err != nil {
		return [8]Hash{}, 0, fmt.Errorf("read image: %w", err)
	}
	if int64(buf.Len()) > limit {
		return [8]Hash{}, 0, fmt.Errorf("%w: file over %d bytes", ErrTooLarge, limit)
	}
	img, _, err := decodeBytes(buf.Bytes(), opt.Decode, jd)
	if err != nil {
		return [8]Hash{}, 0, err
	}
	return opt.hash(img, dihedral)
}

// jpegPool holds JPEG decoders with their buffers. Buffers over
// maxPooledJPEGBytes (a 16-megapixel progressive JPEG needs about 200 MB)
// are left to the garbage collector rather than kept.
var (
	jpegPool = sync.Pool{New: func() any { return new(jpeg.Decoder) }}
	filePool = sync.Pool{New: func() any { return new(bytes.Buffer) }}
)

const maxPooledJPEGBytes = 64 << 20
