package hashlist

import (
	"bytes"
	"io"
	"iter"
	"os"
	"reflect"
	"testing"
)

// fuzzRoundTrip reads data, then writes every accepted record back in the
// same format and checks the re-read records are equal.
func fuzzRoundTrip(t *testing.T, data []byte,
	read func(io.Reader, Options) iter.Seq2[Record, error],
	write func(io.Writer, iter.Seq[Record]) error) {
	opt := Options{MaxRecords: 1000, MaxElementBytes: 16 << 10}
	var recs []Record
	for rec, err := range read(bytes.NewReader(data), opt) {
		if err == nil {
			if verr := rec.Validate(); verr != nil {
				t.Fatalf("accepted an invalid record: %v", verr)
			}
			recs = append(recs, rec)
		}
	}
	var buf bytes.Buffer
	if err := write(&buf, func(yield func(Record) bool) {
		for _, r := range recs {
			if !yield(r) {
				return
			}
		}
	}); err != nil {
		t.Fatalf("cannot re-encode an accepted record: %v", err)
	}
	var again []Record
	for rec, err := range read(&buf, Options{}) {
		if err != nil {
			t.Fatalf("re-read: %v\n%s", err, buf.Bytes())
		}
		again = append(again, rec)
	}
	if len(recs) == 0 && len(again) == 0 {
		return
	}
	if !reflect.DeepEqual(recs, again) {
		t.Fatalf("round trip differs:\n%+v\n%+v", recs, again)
	}
}

func addSeed(f *testing.F, name string) {
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
}

func FuzzReadCSV(f *testing.F) {
	addSeed(f, "sample.csv")
	f.Add([]byte("md5,deleted\n" + md5a + ",true\n\"x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzRoundTrip(t, data, ReadCSV, WriteCSV)
	})
}

func FuzzReadNCMEC(f *testing.F) {
	addSeed(f, "sample_ncmec.xml")
	f.Add([]byte("<queryResult><videos><video><member id=\"1\"/><id>2</id><fingerprints><pdq>" + pdqa + "</pdq></fingerprints></video></videos></queryResult>"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzRoundTrip(t, data, ReadNCMEC, WriteNCMEC)
	})
}

func FuzzReadVICS(f *testing.F) {
	addSeed(f, "sample_vics.json")
	f.Add([]byte(`{"value":[{"MediaID":-0,"MD5":"` + md5a + `","Category":3}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzRoundTrip(t, data, ReadVICS, func(w io.Writer, s iter.Seq[Record]) error {
			return WriteVICS(w, s, Options{})
		})
	})
}
