package jpeg

import (
	"bytes"
	stdjpeg "image/jpeg"
	"os"
	"path/filepath"
	"testing"
)

func loadRef(b *testing.B) [][]byte {
	m, _ := filepath.Glob("../../../../../shared/testdata/pdq/images/*/*.jpg")
	if len(m) == 0 {
		b.Skip("no reference JPEGs")
	}
	var out [][]byte
	for _, f := range m {
		d, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, d)
	}
	return out
}

func BenchmarkDecode(b *testing.B) {
	files := loadRef(b)
	b.Run("fork", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := Decode(files[i%len(files)]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("stdlib", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := stdjpeg.Decode(bytes.NewReader(files[i%len(files)])); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}
