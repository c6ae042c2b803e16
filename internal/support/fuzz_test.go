package support

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/haven-hotline/haven/internal/store"
)

// FuzzDecodeHSDS feeds the HSDS import arbitrary documents: it must never
// panic, and a document it accepts whose providers pass the service's
// checks must survive export and import unchanged.
func FuzzDecodeHSDS(f *testing.F) {
	ex, err := os.ReadFile(filepath.Join("testdata", "hsds-3", "examples", "service_full.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(`{"services": [` + string(ex) + `]}`))
	p := &store.Provider{ID: "0191e0a0-0000-7000-8000-000000000001", OrganizationID: "0191e0a0-0000-7000-8000-000000000002",
		Name: "Example service", Clinician: "Example Clinician", LicenceType: "LPC", LicenceVerifiedOn: time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC),
		Languages: []string{"en"}, Modes: []string{ModeTelehealth}, FeeTerms: []string{FeeProBono}, Areas: []string{"TX"}, Capacity: 2,
		Status: ProviderActive, Organization: store.ProviderOrg{ID: "0191e0a0-0000-7000-8000-000000000002", Name: "Example Org"},
		Locations: []store.ProviderLocation{{ID: "0191e0a0-0000-7000-8000-000000000003", Name: "Office", City: "Austin"}}}
	var buf bytes.Buffer
	if err := EncodeHSDS(&buf, []*store.Provider{p}, time.Time{}); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte(`{"services": [{"id": "x"}]}`))
	f.Add([]byte(`[]`))
	lim := Limits{MaxBytes: 1 << 20, MaxServices: 100}
	f.Fuzz(func(t *testing.T, data []byte) {
		ps, err := DecodeHSDS(bytes.NewReader(data), lim)
		if err != nil {
			return
		}
		var ok []*store.Provider
		for _, p := range ps {
			if cleanProvider(p) == nil {
				ok = append(ok, p)
			}
		}
		if len(ok) == 0 {
			return
		}
		var out bytes.Buffer
		if err := EncodeHSDS(&out, ok, time.Time{}); err != nil {
			t.Fatal(err)
		}
		back, err := DecodeHSDS(&out, Limits{MaxBytes: 64 << 20, MaxServices: 1000})
		if err != nil {
			t.Fatalf("re-import of an export failed: %v\n%s", err, out.Bytes())
		}
		for _, p := range back {
			if err := cleanProvider(p); err != nil {
				t.Fatalf("a re-imported provider fails the checks: %v", err)
			}
		}
		if d := cmp.Diff(ok, back); d != "" {
			t.Fatalf("export then import changed the providers (-first +second):\n%s", d)
		}
	})
}
