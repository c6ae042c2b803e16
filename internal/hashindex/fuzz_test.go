package hashindex

import (
	"strings"
	"testing"
)

func FuzzParsePDQ(f *testing.F) {
	f.Add("f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22")
	f.Add("F8F8F0CEE0F4A84F06370A22038F63F0B36E2ED596621E1D33E6B39C4E9C9B22")
	f.Add("")
	f.Add("0x")
	f.Add(strings.Repeat("z", 64))
	f.Fuzz(func(t *testing.T, s string) {
		h, err := ParsePDQ(s)
		if err != nil {
			return
		}
		if got := h.String(); got != toLower(s) {
			t.Errorf("ParsePDQ(%q).String() = %q", s, got)
		}
		if again, err := ParsePDQ(h.String()); err != nil || again != h {
			t.Errorf("round trip of %q: %v, %v", s, again, err)
		}
	})
}

func FuzzParseDigest(f *testing.F) {
	f.Add(uint8(AlgoMD5), "d41d8cd98f00b204e9800998ecf8427e")
	f.Add(uint8(AlgoSHA1), "da39a3ee5e6b4b0d3255bfef95601890afd80709")
	f.Add(uint8(AlgoSHA256), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
	f.Add(uint8(AlgoPDQ), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
	f.Add(uint8(0), "")
	f.Fuzz(func(t *testing.T, a uint8, s string) {
		algo := Algo(a)
		d, err := ParseDigest(algo, s)
		if err != nil {
			return
		}
		if len(d) != algo.Size() {
			t.Fatalf("ParseDigest(%v, %q): %d bytes, want %d", algo, s, len(d), algo.Size())
		}
		if got := encodeHex(d); got != toLower(s) {
			t.Errorf("ParseDigest(%v, %q) = %s", algo, s, got)
		}
		// What parses is accepted by the index and found again.
		ix := New(Options{DeltaSize: 4})
		if err := ix.AddExact(1, 2, algo, d); err != nil {
			t.Fatal(err)
		}
		if got := ix.LookupExact(algo, d); len(got) != 1 || got[0].EntryID != 1 {
			t.Errorf("lookup: got %v", got)
		}
	})
}
