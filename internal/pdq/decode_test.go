package pdq

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
)

var update = flag.Bool("update", false, "rewrite the generated files in testdata/fuzz-seeds")

const seedDir = "testdata/fuzz-seeds"

// testPattern is the synthetic picture of the seed files: a colour gradient
// with a diagonal band.
func testPattern(w, h int) *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := color.NRGBA{uint8(x * 255 / max(w-1, 1)), uint8(y * 255 / max(h-1, 1)), 128, 255}
			if (x+y)%7 < 2 {
				c.B = 255
			}
			m.SetNRGBA(x, y, c)
		}
	}
	return m
}

// seedEncoders make the Go-encodable seed files. The WebP and progressive
// JPEG seeds were made from gradient.png with the Debian tools, see
// testdata/fuzz-seeds/README.md.
var seedEncoders = map[string]func(io.Writer, image.Image) error{
	"gradient.png": png.Encode,
	"gradient.gif": func(w io.Writer, m image.Image) error { return gif.Encode(w, m, nil) },
	"gradient.jpg": func(w io.Writer, m image.Image) error { return jpeg.Encode(w, m, &jpeg.Options{Quality: 80}) },
	"gradient.bmp": bmp.Encode,
	"gradient.tiff": func(w io.Writer, m image.Image) error {
		return tiff.Encode(w, m, &tiff.Options{Compression: tiff.Deflate})
	},
	"grey.png": func(w io.Writer, m image.Image) error {
		g := image.NewGray(m.Bounds())
		for i := range g.Pix {
			g.Pix[i] = uint8(i * 5)
		}
		return png.Encode(w, g)
	},
}

// TestSeedFiles checks (or with -update, writes) the generated seed files
// and decodes every file of the seed folder.
func TestSeedFiles(t *testing.T) {
	src := testPattern(16, 12)
	for name, enc := range seedEncoders {
		var b bytes.Buffer
		if err := enc(&b, src); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(seedDir, name)
		if *update {
			if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	want := map[string]string{
		"gradient.png": "png", "grey.png": "png", "gradient.gif": "gif", "gradient.jpg": "jpeg",
		"gradient-progressive.jpg": "jpeg", "gradient.bmp": "bmp", "gradient.tiff": "tiff",
		"gradient-lossy.webp": "webp", "gradient-lossless.webp": "webp",
	}
	for name, format := range want {
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(seedDir, name))
			if err != nil {
				t.Fatal(err)
			}
			img, f, err := Decode(bytes.NewReader(b), DecodeOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if f != format || img.Bounds() != image.Rect(0, 0, 16, 12) {
				t.Errorf("got %s %v, want %s 16×12", f, img.Bounds(), format)
			}
			if _, q, err := HashReader(bytes.NewReader(b), Options{}); err != nil || q < 0 || q > 100 {
				t.Errorf("HashReader: quality %d, %v", q, err)
			}
		})
	}
}

// pngHeader returns the start of a PNG declaring w×h pixels, with a valid
// IHDR and no pixel data.
func pngHeader(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 2 // 8-bit RGB
	chunk := append([]byte("IHDR"), ihdr...)
	binary.Write(&b, binary.BigEndian, uint32(13))
	b.Write(chunk)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	return b.Bytes()
}

func TestDecodeLimits(t *testing.T) {
	var small bytes.Buffer
	if err := png.Encode(&small, testPattern(40, 30)); err != nil {
		t.Fatal(err)
	}
	gifZero := []byte("GIF89a\x00\x00\x00\x00\x00\x00\x00;")
	for _, tc := range []struct {
		name string
		data []byte
		opt  DecodeOptions
		want error // nil: decodes
	}{
		{"ok", small.Bytes(), DecodeOptions{}, nil},
		{"pixels over limit", small.Bytes(), DecodeOptions{MaxPixels: 40*30 - 1}, ErrTooLarge},
		{"pixels at limit", small.Bytes(), DecodeOptions{MaxPixels: 40 * 30}, nil},
		{"bytes over limit", small.Bytes(), DecodeOptions{MaxBytes: int64(small.Len()) - 1}, ErrTooLarge},
		{"bytes at limit", small.Bytes(), DecodeOptions{MaxBytes: int64(small.Len())}, nil},
		// A header declaring 4 gigapixels is refused before any decoding.
		{"huge header", pngHeader(65536, 65536), DecodeOptions{}, ErrTooLarge},
		{"wide header", pngHeader(1<<30, 1), DecodeOptions{}, ErrTooLarge},
		{"empty gif", gifZero, DecodeOptions{}, ErrUndecodable},
		{"zero width png", pngHeader(0, 10), DecodeOptions{}, ErrUndecodable},
		{"truncated png", small.Bytes()[:small.Len()/2], DecodeOptions{}, ErrUndecodable},
		{"truncated jpeg", []byte("\xff\xd8\xff\xdb\x00"), DecodeOptions{}, ErrUndecodable},
		{"text", []byte("hello, world"), DecodeOptions{}, ErrUnsupportedFormat},
		{"empty", nil, DecodeOptions{}, ErrUnsupportedFormat},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Decode(bytes.NewReader(tc.data), tc.opt)
			if tc.want == nil && err != nil {
				t.Fatalf("got %v, want success", err)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

// TestDecodeRefusesBeforeDecoding checks that a refused header costs almost
// nothing: no pixel buffer is allocated.
func TestDecodeRefusesBeforeDecoding(t *testing.T) {
	data := pngHeader(30000, 30000) // 900 megapixels, 2.7 GB as RGB
	var stats = testing.Benchmark(func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := Decode(bytes.NewReader(data), DecodeOptions{}); !errors.Is(err, ErrTooLarge) {
				b.Fatal(err)
			}
		}
	})
	if per := stats.AllocedBytesPerOp(); per > 64<<10 {
		t.Errorf("refusing a huge header allocated %d bytes per call", per)
	}
}

func TestDecodePanicRecovered(t *testing.T) {
	f := &format{name: "boom", decode: func([]byte) (image.Image, error) { panic("index out of range") }}
	_, err := decodeWith(f.name, f.decode, []byte("x"))
	if !errors.Is(err, ErrUndecodable) || !strings.Contains(err.Error(), "panicked") {
		t.Fatalf("got %v, want a recovered ErrUndecodable", err)
	}
	f.config = func([]byte) (image.Config, error) { panic("header") }
	if err := checkConfig(f, []byte("x"), DecodeOptions{}); !errors.Is(err, ErrUndecodable) {
		t.Fatalf("config: got %v, want a recovered ErrUndecodable", err)
	}
}

// TestShrinkNone hashes at full resolution, as the reference did before its
// pre-shrink. The PNGs decode to the reference's bytes, so their hashes must
// equal the values the reference published then (pdq/sql/README.md --int64
// listing, which the shared README reproduced without pre-shrink).
func TestShrinkNone(t *testing.T) {
	data := refData(t)
	for _, tc := range []struct {
		file string
		want [4]int64
	}{
		{"misc-images/c.png", [4]int64{-1851883412434831230, -517366565115992180, -6982379065928243982, -5196839458248216476}},
		{"reg-test-input/pen-and-coaster.png", [4]int64{2270126048941161574, -7800014707879567459, -820918045774901498, 9209293970506318329}},
	} {
		f, err := os.Open(filepath.Join(data, "images", tc.file))
		if err != nil {
			t.Fatal(err)
		}
		h, q, err := HashReader(f, Options{Shrink: ShrinkNone})
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if want := FromInt64s(tc.want); h != want || q != 100 {
			t.Errorf("%s: got %v q=%d, want %v q=100 (distance %d)", tc.file, h, q, want, Distance(h, want))
		}
	}
}

func TestOptionsVersion(t *testing.T) {
	if got := (Options{}).Version(); got != "pdq-1/ref512nn-1" {
		t.Errorf("default version %q", got)
	}
	if got := (Options{Shrink: ShrinkNone}).Version(); got != "pdq-1/none-1" {
		t.Errorf("ShrinkNone version %q", got)
	}
	if _, _, err := (Options{Shrink: 7}).HashImage(testPattern(8, 8)); !errors.Is(err, ErrInvalidImage) {
		t.Errorf("invalid shrink: %v", err)
	}
	if _, _, err := HashImage(nil); !errors.Is(err, ErrInvalidImage) {
		t.Errorf("nil image: %v", err)
	}
}
