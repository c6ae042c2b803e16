package hashmatch_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"slices"
	"strconv"
	"testing"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/hashlist"
	"github.com/haven-hotline/haven/internal/hashmatch"
	"github.com/haven-hotline/haven/internal/store/storetest"
)

// TestExportFormats: a bank holding MD5, SHA-1, SHA-256 and PDQ entries
// with industry and VICS classifications is exported in each format; the
// reader of the same format reads back exactly the entries the format can
// carry, and the rest are counted as skipped.
func TestExportFormats(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t, "sqlite")
	svc := newService(s)
	if err := svc.Load(ctx); err != nil {
		t.Fatal(err)
	}
	bank, err := svc.CreateBank(ctx, sys, haven.HashBank{Name: "Export me", Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	m := md5.Sum([]byte("one"))
	s1 := sha1.Sum([]byte("two"))
	s2 := sha256.Sum256([]byte("three"))
	p := bytes.Repeat([]byte{0xa5}, 32)
	m2 := md5.Sum([]byte("four"))
	industry := haven.Classification{Scheme: "industry", Code: "A1"}
	vics := haven.Classification{Scheme: "vics", Code: "2"}
	entries := []haven.HashEntry{
		{Algo: haven.AlgoMD5, Value: m[:], Classification: industry, ExternalID: "esp-1:77"},
		{Algo: haven.AlgoSHA1, Value: s1[:], Classification: vics},
		{Algo: haven.AlgoSHA256, Value: s2[:], Classification: vics, ExternalID: "9001"},
		{Algo: haven.AlgoPDQ, Value: p, Classification: industry},
		{Algo: haven.AlgoMD5, Value: m2[:], Classification: vics},
	}
	var ids []int64
	for _, e := range entries {
		e.BankID = bank.ID
		got, err := svc.AddEntry(ctx, sys, e)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, got.ID)
	}
	// A removed entry is never exported.
	gone := md5.Sum([]byte("gone"))
	g, err := svc.AddEntry(ctx, sys, haven.HashEntry{BankID: bank.ID, Algo: haven.AlgoMD5, Value: gone[:]})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.RemoveEntry(ctx, sys, g.ID); err != nil {
		t.Fatal(err)
	}
	readers := map[string]func(r *bytes.Reader) []hashlist.Record{}
	for _, f := range []struct {
		name string
		read func(*bytes.Reader, hashlist.Options) func(func(hashlist.Record, error) bool)
	}{
		{"csv", func(r *bytes.Reader, o hashlist.Options) func(func(hashlist.Record, error) bool) {
			return hashlist.ReadCSV(r, o)
		}},
		{"ncmec-xml", func(r *bytes.Reader, o hashlist.Options) func(func(hashlist.Record, error) bool) {
			return hashlist.ReadNCMEC(r, o)
		}},
		{"vics-json", func(r *bytes.Reader, o hashlist.Options) func(func(hashlist.Record, error) bool) {
			return hashlist.ReadVICS(r, o)
		}},
	} {
		readers[f.name] = func(r *bytes.Reader) []hashlist.Record {
			var out []hashlist.Record
			for rec, err := range f.read(r, hashlist.Options{}) {
				if err != nil {
					t.Fatalf("%s: reading the export back: %v", f.name, err)
				}
				out = append(out, rec)
			}
			return out
		}
	}
	for _, tc := range []struct {
		format  string
		want    []int // indexes into entries
		extIDs  []string
		skipped int64
	}{
		// CSV carries everything as it is.
		{"csv", []int{0, 1, 2, 3, 4}, []string{"esp-1:77", "", "9001", "", ""}, 0},
		// NCMEC: MD5, SHA-1 and PDQ with industry classifications; the VICS
		// ones have no place, nor has SHA-256.
		{"ncmec-xml", []int{0, 3}, []string{"esp-1:77", "haven:" + itoa(ids[3])}, 3},
		// VICS: entries with a VICS category (and no PDQ).
		{"vics-json", []int{1, 2, 4}, []string{itoa(ids[1]), "9001", itoa(ids[4])}, 2},
	} {
		var buf bytes.Buffer
		st, err := svc.Export(ctx, sys, bank.ID, tc.format, &buf)
		if err != nil {
			t.Fatalf("%s: %v", tc.format, err)
		}
		if st.Written != int64(len(tc.want)) || st.Skipped != tc.skipped {
			t.Errorf("%s: wrote %d, skipped %d; want %d, %d", tc.format, st.Written, st.Skipped, len(tc.want), tc.skipped)
		}
		got := readers[tc.format](bytes.NewReader(buf.Bytes()))
		if len(got) != len(tc.want) {
			t.Fatalf("%s: read back %d records, want %d:\n%s", tc.format, len(got), len(tc.want), buf.String())
		}
		for i, k := range tc.want {
			e := entries[k]
			r := got[i]
			if len(r.Hashes) != 1 || r.Hashes[0].Algo != e.Algo || !bytes.Equal(r.Hashes[0].Value, e.Value) {
				t.Errorf("%s record %d: hashes %+v, want %s %x", tc.format, i, r.Hashes, e.Algo, e.Value)
			}
			if r.Classification != e.Classification {
				t.Errorf("%s record %d: classification %+v, want %+v", tc.format, i, r.Classification, e.Classification)
			}
			if r.ExternalID != tc.extIDs[i] {
				t.Errorf("%s record %d: external id %q, want %q", tc.format, i, r.ExternalID, tc.extIDs[i])
			}
		}
	}
	if _, err := svc.Export(ctx, sys, bank.ID, "pdf", &bytes.Buffer{}); !haven.IsKind(err, haven.KindInvalid) {
		t.Errorf("an unknown format: %v", err)
	}
	var buf bytes.Buffer
	if _, err := svc.Export(ctx, haven.Actor{UserID: "x", Role: haven.RoleIntake}, bank.ID, "csv", &buf); err == nil || buf.Len() != 0 {
		t.Errorf("an intake analyst exported a bank: %v, %d bytes", err, buf.Len())
	}
	if !slices.Equal(hashlistFormats(), []string{"csv", "ncmec-xml", "vics-json"}) {
		t.Errorf("formats: %v", hashlistFormats())
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func hashlistFormats() []string { return hashmatch.ExportFormats() }
