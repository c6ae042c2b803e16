package jpeg

import (
	"bytes"
	"errors"
	stdjpeg "image/jpeg"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// These tests hold the fork to its one promise: for any input, the same
// outcome (an error or not) and the same image as the standard library's
// image/jpeg.

// shared is a Decoder reused across test inputs, so that stale buffers
// would show.
var shared Decoder

func sameAsStdlib(t testing.TB, name string, data []byte) {
	t.Helper()
	want, wantErr := stdjpeg.Decode(bytes.NewReader(data))
	got, gotErr := Decode(data)
	if errors.Is(gotErr, ErrTooManyScans) {
		return // the one deliberate difference
	}
	if (wantErr == nil) != (gotErr == nil) {
		t.Fatalf("%s: error %v, image/jpeg: %v", name, gotErr, wantErr)
	}
	if wantErr == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("%s: decoded image differs from image/jpeg's (%T %v, want %T %v)", name, got, got.Bounds(), want, want.Bounds())
	}
	reused, reusedErr := shared.Decode(data)
	if (wantErr == nil) != (reusedErr == nil) {
		t.Fatalf("%s: reused Decoder: error %v, image/jpeg: %v", name, reusedErr, wantErr)
	}
	if wantErr == nil && !reflect.DeepEqual(reused, want) {
		t.Fatalf("%s: reused Decoder: image differs from image/jpeg's", name)
	}
	wc, wantErr := stdjpeg.DecodeConfig(bytes.NewReader(data))
	gc, gotErr := DecodeConfig(data)
	if (wantErr == nil) != (gotErr == nil) || gc != wc {
		t.Fatalf("%s: config %v %v, image/jpeg %v %v", name, gc, gotErr, wc, wantErr)
	}
}

func testFiles(t testing.TB) map[string][]byte {
	files := map[string][]byte{}
	for _, g := range []string{"../../../../../shared/testdata/pdq/images/*/*.jpg", "../../testdata/fuzz-seeds/*.jpg"} {
		m, _ := filepath.Glob(g)
		for _, f := range m {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			files[f] = data
		}
	}
	return files
}

func TestSameAsStdlibOnFiles(t *testing.T) {
	files := testFiles(t)
	if len(files) == 0 {
		t.Fatal("no JPEG files found")
	}
	for name, data := range files {
		sameAsStdlib(t, name, data)
	}
}

// TestSameAsStdlibTruncated cuts every file short at many points, and
// damages bytes, to exercise the end-of-data and marker paths.
func TestSameAsStdlibTruncated(t *testing.T) {
	for name, data := range testFiles(t) {
		// Small files at many points, the large photos at a few.
		points := 200
		if len(data) > 32<<10 {
			points = 4
		}
		if testing.Short() {
			points = min(points, 10)
		}
		step := max(1, len(data)/points)
		for n := 0; n < len(data); n += step {
			sameAsStdlib(t, name+" truncated", data[:n])
		}
		for i := 2; i < len(data); i += step {
			b := bytes.Clone(data)
			b[i] ^= 0x5a
			sameAsStdlib(t, name+" damaged", b)
			b[i] = 0xff
			sameAsStdlib(t, name+" marker", b)
		}
	}
}

// TestScanLimit builds a progressive file whose last scan is repeated past
// the limit.
func TestScanLimit(t *testing.T) {
	data, err := os.ReadFile("../../testdata/fuzz-seeds/gradient-progressive.jpg")
	if err != nil {
		t.Fatal(err)
	}
	// The first scan (DC, first pass) runs from the first SOS marker to the
	// second; it can be repeated without error.
	sos := bytes.Index(data, []byte{0xff, 0xda})
	next := sos + 2 + bytes.Index(data[sos+2:], []byte{0xff, 0xda})
	if sos < 0 || next < sos+2 {
		t.Fatal("no scan found")
	}
	for _, n := range []int{MaxScans / 2, MaxScans * 2} {
		b := bytes.Clone(data[:next])
		for range n {
			b = append(b, data[sos:next]...)
		}
		b = append(b, data[next:]...)
		_, err := Decode(b)
		if n < MaxScans && err != nil || n > MaxScans && !errors.Is(err, ErrTooManyScans) {
			t.Errorf("%d extra scans: %v", n, err)
		}
	}
}

func FuzzSameAsStdlib(f *testing.F) {
	m, _ := filepath.Glob("../../testdata/fuzz-seeds/*.jpg")
	for _, p := range m {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	for _, p := range []string{"misc-images/wee.jpg", "bridge-mods/square-128x128.jpg"} {
		if b, err := os.ReadFile("../../../../../shared/testdata/pdq/images/" + p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// Keep the fuzzer's inputs small in pixels.
		if c, err := stdjpeg.DecodeConfig(bytes.NewReader(data)); err == nil && c.Width*c.Height > 1<<20 {
			return
		}
		sameAsStdlib(t, "input", data)
	})
}
