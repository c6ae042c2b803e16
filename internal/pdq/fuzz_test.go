package pdq

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fuzzLimits keep each fuzz input cheap: a megapixel, a megabyte.
var fuzzLimits = DecodeOptions{MaxPixels: 1 << 20, MaxBytes: 1 << 20}

// FuzzDecode feeds arbitrary bytes to Decode as an image file: it must never
// panic, must fail only with one of the package's errors, must hold decoded
// images to the pixel limit, and must refuse by the header when the limit
// is lowered under the image's size. Decoded images are hashed too.
func FuzzDecode(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join(seedDir, "*"))
	// The small reference photos, when the shared data is beside the repo.
	for _, name := range []string{"misc-images/wee.jpg", "misc-images/small.jpg", "bridge-mods/shrink-a-lot.jpg", "bridge-mods/square-128x128.jpg"} {
		seeds = append(seeds, filepath.Join("..", "..", "..", "shared", "testdata", "pdq", "images", name))
	}
	for _, p := range seeds {
		if strings.HasSuffix(p, ".md") {
			continue
		}
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add(pngHeader(1<<16, 1<<16))
	f.Add([]byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"))
	f.Fuzz(func(t *testing.T, data []byte) {
		img, format, err := Decode(bytes.NewReader(data), fuzzLimits)
		if err != nil {
			if !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrUndecodable) && !errors.Is(err, ErrUnsupportedFormat) {
				t.Fatalf("error of no known kind: %v", err)
			}
			if n := len(err.Error()); n > 1000 {
				t.Fatalf("error message of %d bytes", n)
			}
			return
		}
		b := img.Bounds()
		px := int64(b.Dx()) * int64(b.Dy())
		if b.Empty() || px > fuzzLimits.MaxPixels {
			t.Fatalf("%s decoded to %v, outside the limits", format, b)
		}
		if px > 1 {
			lower := fuzzLimits
			lower.MaxPixels = px - 1
			if _, _, err := Decode(bytes.NewReader(data), lower); !errors.Is(err, ErrTooLarge) {
				t.Fatalf("%s %v with MaxPixels %d: got %v, want ErrTooLarge", format, b, lower.MaxPixels, err)
			}
		}
		hs, q, err := HashImageDihedral(img)
		if err != nil || q < 0 || q > 100 {
			t.Fatalf("hash: quality %d, %v", q, err)
		}
		if h, q2, _ := HashImage(img); q2 != q || (h != hs[Original] && !(b.Dx() == 64 && b.Dy() == 64)) {
			t.Fatalf("HashImage %v q=%d disagrees with HashImageDihedral %v q=%d", h, q2, hs[Original], q)
		}
	})
}

// FuzzParseHash: ParseHash accepts exactly 64 hex digits, and what it
// accepts prints back as the lower-case input.
func FuzzParseHash(f *testing.F) {
	for _, s := range []string{
		"d8f8f0cee0f4a84f0637022a078f67f0b36e2ed596621e1d33e6339c4e9c9b22",
		"D8F8F0CEE0F4A84F0637022A078F67F0B36E2ED596621E1D33E6339C4E9C9B22",
		strings.Repeat("0", 64), strings.Repeat("f", 63), strings.Repeat("g", 64), "", "0x12",
		" d8f8f0cee0f4a84f0637022a078f67f0b36e2ed596621e1d33e6339c4e9c9b2",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := ParseHash(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidHash) {
				t.Fatalf("error of no known kind: %v", err)
			}
			return
		}
		if len(s) != 64 {
			t.Fatalf("accepted %d characters", len(s))
		}
		if got := h.String(); got != strings.ToLower(s) {
			t.Fatalf("String() = %q, want %q", got, strings.ToLower(s))
		}
		if back, err := ParseHash(h.String()); err != nil || back != h {
			t.Fatalf("round trip: %v, %v", back, err)
		}
		if FromInt64s(h.Int64s()) != h {
			t.Fatalf("int64 round trip")
		}
	})
}
