package cybertip

import (
	"bytes"
	"io"
	"testing"
)

func BenchmarkDecodeReport(b *testing.B) {
	data := readFile(b, "testdata/valid/report-maximal.xml")
	opt := Options{Now: testNow}
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := DecodeReport(bytes.NewReader(data), opt); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeReport(b *testing.B) {
	r, err := DecodeReport(bytes.NewReader(readFile(b, "testdata/valid/report-maximal.xml")), Options{Now: testNow})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := EncodeReport(io.Discard, r); err != nil {
			b.Fatal(err)
		}
	}
}
