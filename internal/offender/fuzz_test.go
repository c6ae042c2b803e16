package offender_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/haven-hotline/haven/internal/offender"
)

// FuzzParseExport feeds arbitrary bytes through both sample mappings: the
// parser and the conversion of each row must never panic, and every
// record is either a row or a rejected row.
func FuzzParseExport(f *testing.F) {
	var maps []*offender.Mapping
	for _, name := range []string{"state_a_mapping.json", "state_b_mapping.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		m, err := offender.ParseMapping(b)
		if err != nil {
			f.Fatal(err)
		}
		maps = append(maps, m)
	}
	for _, name := range []string{"state_a.csv", "state_a_v2.csv", "state_b.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("RegID,FullName\n\"unterminated,x\n"))
	f.Add([]byte(`{"export":{"registrants":[1,{"registrantId":7,"person":{"legalName":["a","b"]}}]}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, m := range maps {
			rows, bad, err := offender.ParseExport(m, body)
			if err != nil {
				if rows != nil || bad != nil {
					t.Fatal("an unreadable file returned rows")
				}
				continue
			}
			for _, r := range rows {
				if r.N <= 0 {
					t.Fatalf("row number %d", r.N)
				}
				in, err := offender.Convert(m, r, "1")
				if err == nil && (in.Key == "" || in.Name == "") {
					t.Fatal("a converted record without key or name")
				}
			}
		}
	})
}
