package pdq

import (
	"bytes"
	"image"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// Acceptance benchmarks (issue 4), to be run on one core:
//
//	go test -run '^$' -bench . -cpu 1 -count 5 ./internal/pdq/
//
// The C++ reference measured on the same kind of machine: 12.0 ms per
// reference JPEG with decoding, 3.4–3.9 ms for the hashing step alone.

// referenceJPEGs returns the 22 JPEG files of the reference data, in memory.
func referenceJPEGs(b *testing.B) (names []string, files [][]byte) {
	data := refData(b)
	paths, err := filepath.Glob(filepath.Join(data, "images", "*", "*.jpg"))
	if err != nil {
		b.Fatal(err)
	}
	sort.Strings(paths)
	for _, p := range paths {
		f, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		names = append(names, filepath.Base(p))
		files = append(files, f)
	}
	if len(files) != 22 {
		b.Fatalf("found %d reference JPEGs, want 22", len(files))
	}
	return names, files
}

// BenchmarkHashReferenceJPEGs is PDQ hashing of the reference JPEGs from the
// file bytes, decoding included. One op is one image; the op cycles through
// all 22, so ns/op is the mean per image.
func BenchmarkHashReferenceJPEGs(b *testing.B) {
	_, files := referenceJPEGs(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, _, err := HashReader(bytes.NewReader(files[i%len(files)]), Options{}); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkHashStep is the hashing step alone (luma, blur, decimation, DCT,
// bits) on an already decoded image.
func BenchmarkHashStep(b *testing.B) {
	data := refData(b)
	jpegImg := decodeFile(b, filepath.Join(data, "images", "bridge-mods", "aaa-orig.jpg"))
	rgbImg := decodePNG(b, filepath.Join(data, "exact", "aaa-orig.png"))
	for _, bc := range []struct {
		name     string
		img      image.Image
		dihedral bool
	}{
		// The reference's measured step: 512×512 RGB bytes to hash.
		{"rgb512", rgbImg, false},
		// A decoded 1600×1004 JPEG: pre-shrink sampling, YCbCr to RGB and
		// luma included.
		{"ycbcr1600x1004", jpegImg, false},
		{"ycbcr1600x1004-dihedral", jpegImg, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var err error
				if bc.dihedral {
					_, _, err = HashImageDihedral(bc.img)
				} else {
					_, _, err = HashImage(bc.img)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func decodeFile(tb testing.TB, path string) image.Image {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	img, _, err := Decode(f, DecodeOptions{})
	if err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	return img
}
