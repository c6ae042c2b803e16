package cybertip

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// addSeeds adds every testdata document to the seed corpus.
func addSeeds(f *testing.F) {
	paths, _ := filepath.Glob("testdata/*/*.xml")
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, doc := range append(edgeReports, edgeFileDetails...) {
		f.Add([]byte(doc))
	}
}

// checkError fails unless err is an *Error with one of the two codes of
// the decoders and a bounded description.
func checkError(t *testing.T, err error) {
	t.Helper()
	ce, ok := err.(*Error)
	if !ok {
		t.Fatalf("got %T %v, want *Error", err, err)
	}
	if ce.Code != CodeValidation && ce.Code != CodeMalformed {
		t.Fatalf("got code %d, want 4100 or 4110", ce.Code)
	}
	if len(ce.Description) == 0 || len(ce.Description) > 4096 {
		t.Fatalf("got a description of %d bytes", len(ce.Description))
	}
}

func FuzzDecodeReport(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		opt := Options{Now: testNow}
		first, err := DecodeReport(bytes.NewReader(data), opt)
		if err != nil {
			checkError(t, err)
			return
		}
		var out bytes.Buffer
		if err := EncodeReport(&out, first); err != nil {
			t.Fatalf("accepted report does not encode: %v", err)
		}
		second, err := DecodeReport(bytes.NewReader(out.Bytes()), opt)
		if err != nil {
			t.Fatalf("exported report does not decode: %v\n%s", err, out.Bytes())
		}
		if diff := cmp.Diff(first, second); diff != "" {
			t.Fatalf("round trip changed the report (-first +second):\n%s", diff)
		}
	})
}

func FuzzDecodeFileDetails(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		opt := Options{Now: testNow}
		id, fileID, first, err := DecodeFileDetails(bytes.NewReader(data), opt)
		if err != nil {
			checkError(t, err)
			return
		}
		var out bytes.Buffer
		if err := EncodeFileDetails(&out, id, fileID, first); err != nil {
			t.Fatalf("accepted details do not encode: %v", err)
		}
		id2, fileID2, second, err := DecodeFileDetails(bytes.NewReader(out.Bytes()), opt)
		if err != nil {
			t.Fatalf("exported details do not decode: %v\n%s", err, out.Bytes())
		}
		if id2 != id || fileID2 != fileID {
			t.Fatalf("got %d %q, want %d %q", id2, fileID2, id, fileID)
		}
		if diff := cmp.Diff(first, second); diff != "" {
			t.Fatalf("round trip changed the details (-first +second):\n%s", diff)
		}
	})
}
