package support_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/store"
	"github.com/haven-hotline/haven/internal/store/storetest"
	"github.com/haven-hotline/haven/internal/support"
)

// The HSDS 3 schema files are vendored in testdata/hsds-3 (from the
// openreferral/specification repository, CC BY-SA 4.0, see its LICENSE
// and README) and compiled with santhosh-tekuri/jsonschema, formats
// asserted (ids must be UUIDs, emails and URIs well formed).

const schemaBase = "https://haven.invalid/hsds-3/"

func hsdsSchemas(t testing.TB) (org, svc *jsonschema.Schema) {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	files, err := filepath.Glob(filepath.Join("testdata", "hsds-3", "schema", "*.json"))
	if err != nil || len(files) < 10 {
		t.Fatalf("schema files: %v (%d)", err, len(files))
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if err := c.AddResource(schemaBase+filepath.Base(f), doc); err != nil {
			t.Fatal(err)
		}
	}
	if org, err = c.Compile(schemaBase + "organization.json"); err != nil {
		t.Fatal(err)
	}
	if svc, err = c.Compile(schemaBase + "service.json"); err != nil {
		t.Fatal(err)
	}
	return org, svc
}

// validateHSDS validates every organization and service of an exported
// document against the HSDS 3 schemas.
func validateHSDS(t testing.TB, data []byte) {
	t.Helper()
	org, svc := hsdsSchemas(t)
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	doc, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("the export is not a JSON object")
	}
	for _, part := range []struct {
		key    string
		schema *jsonschema.Schema
	}{{"organizations", org}, {"services", svc}} {
		list, _ := doc[part.key].([]any)
		if len(list) == 0 {
			t.Fatalf("the export has no %s", part.key)
		}
		for i, item := range list {
			if err := part.schema.Validate(item); err != nil {
				t.Errorf("%s[%d] does not validate against HSDS 3: %v", part.key, i, err)
			}
		}
	}
}

// directory fills a provider network of three providers in two
// organisations, with every field Haven keeps.
func directory(t *testing.T, e *env) {
	t.Helper()
	ctx := context.Background()
	in := []support.ProviderInput{
		{OrganizationName: "Example Counselling Collective", Provider: store.Provider{Name: "Trauma counselling for families",
			Clinician: "Example Clinician One", Description: "Synthetic provider for tests.", LicenceType: "LPC", LicenceNumber: "0001",
			LicenceState: "TX", LicenceVerifiedOn: time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC),
			Specialities: []string{"trauma", "child sexual abuse"}, Languages: []string{"en", "es"}, Modes: []string{support.ModeInPerson, support.ModeTelehealth},
			FeeTerms: []string{support.FeeProBono}, Areas: []string{"TX", "OK"}, Capacity: 3, Email: "one@example.org", Phone: "555-0101",
			Locations: []store.ProviderLocation{{Name: "Main office", Address1: "1 Example Street", City: "Austin", State: "TX", PostalCode: "78701", Country: "US"}}}},
		{OrganizationName: "Example Counselling Collective", Provider: store.Provider{Name: "Family therapy", Clinician: "Example Clinician Two",
			Specialities: []string{"family therapy"}, Languages: []string{"en"}, Modes: []string{support.ModeTelehealth},
			FeeTerms: []string{support.FeeProBono, support.FeeSlidingScale}, Areas: []string{"US"}, Capacity: 1}},
		{OrganizationName: "Example Clinic Network", Provider: store.Provider{Name: "Adolescent counselling", Languages: []string{"vi", "en"},
			Modes: []string{support.ModeInPerson}, FeeTerms: []string{support.FeeSlidingScale}, Capacity: 0, Status: support.ProviderInactive,
			Locations: []store.ProviderLocation{{Name: "North clinic", City: "Portland", State: "OR", Country: "US"}, {Name: "South clinic"}}}},
	}
	for _, p := range in {
		if _, err := e.svc.SaveProvider(ctx, e.case_, p); err != nil {
			t.Fatal(err)
		}
	}
}

// TestHSDSRoundTrip is the acceptance test: a provider directory
// exported as HSDS JSON validates against the HSDS 3 schemas and,
// imported into a fresh instance, gives the same providers.
func TestHSDSRoundTrip(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(engine, func(t *testing.T) {
			ctx := context.Background()
			a := setup(t, engine)
			directory(t, a)
			var out bytes.Buffer
			if err := a.svc.ExportHSDS(ctx, a.coord, &out); err != nil {
				t.Fatal(err)
			}
			validateHSDS(t, out.Bytes())

			b := setup(t, engine)
			res, err := b.svc.ImportHSDS(ctx, b.coord, bytes.NewReader(out.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			if res.Created != 3 || res.Updated != 0 {
				t.Errorf("import: got %+v, want 3 created", res)
			}
			want, err := a.svc.Providers(ctx, a.coord)
			if err != nil {
				t.Fatal(err)
			}
			got, err := b.svc.Providers(ctx, b.coord)
			if err != nil {
				t.Fatal(err)
			}
			ignore := cmpopts.IgnoreFields(store.Provider{}, "CreatedAt", "UpdatedAt")
			if d := cmp.Diff(want, got, ignore); d != "" {
				t.Errorf("providers after the round trip (-exported +imported):\n%s", d)
			}
			// Importing again updates in place; the export is stable.
			res, err = b.svc.ImportHSDS(ctx, b.coord, bytes.NewReader(out.Bytes()))
			if err != nil || res.Updated != 3 || res.Created != 0 {
				t.Errorf("re-import: got %+v, %v", res, err)
			}
			var again bytes.Buffer
			if err := b.svc.ExportHSDS(ctx, b.coord, &again); err != nil {
				t.Fatal(err)
			}
			strip := func(b []byte) map[string]any {
				var m map[string]any
				if err := json.Unmarshal(b, &m); err != nil {
					t.Fatal(err)
				}
				delete(m, "generated_at")
				for _, s := range m["services"].([]any) {
					delete(s.(map[string]any), "last_modified")
				}
				return m
			}
			if d := cmp.Diff(strip(out.Bytes()), strip(again.Bytes())); d != "" {
				t.Errorf("second export differs (-first +second):\n%s", d)
			}
			// Export and import need PermProviders; supervisors only read.
			if err := a.svc.ExportHSDS(ctx, a.sup, &bytes.Buffer{}); !haven.IsKind(err, haven.KindForbidden) {
				t.Errorf("supervisor export: got %v", err)
			}
			if _, err := a.svc.ImportHSDS(ctx, a.intake, bytes.NewReader(out.Bytes())); !haven.IsKind(err, haven.KindForbidden) {
				t.Errorf("intake import: got %v", err)
			}
			if ps, err := a.svc.Providers(ctx, a.sup); err != nil || len(ps) != 3 {
				t.Errorf("supervisor reads providers: %d, %v", len(ps), err)
			}
		})
	}
}

// TestHSDSImportUpstreamExample imports the upstream HSDS 3 example
// service (another publisher's document, without Haven's extension).
func TestHSDSImportUpstreamExample(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join("testdata", "hsds-3", "examples", "service_full.json"))
	if err != nil {
		t.Fatal(err)
	}
	var example map[string]any
	if err := json.Unmarshal(b, &example); err != nil {
		t.Fatal(err)
	}
	doc, _ := json.Marshal(map[string]any{"services": []any{example}})
	ps, err := support.DecodeHSDS(bytes.NewReader(doc), support.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	org := example["organization"].(map[string]any)
	if len(ps) != 1 || ps[0].ID != example["id"] || ps[0].Name != example["name"] || ps[0].OrganizationID != org["id"] ||
		ps[0].Organization.Name != org["name"] {
		t.Fatalf("got %+v", ps)
	}
	var codes []string
	for _, l := range example["languages"].([]any) {
		codes = append(codes, l.(map[string]any)["code"].(string))
	}
	if !cmp.Equal(ps[0].Languages, codes) {
		t.Errorf("languages %v, want %v", ps[0].Languages, codes)
	}
	if len(ps[0].Locations) == 0 {
		t.Errorf("no locations imported")
	}
}

// TestHSDSDecodeRejects checks the limits and the document errors.
func TestHSDSDecodeRejects(t *testing.T) {
	t.Parallel()
	id := haven.NewID()
	for name, tc := range map[string]struct {
		doc  string
		kind haven.Kind
	}{
		"not json":       {`{"services": [`, haven.KindInvalid},
		"wrong type":     {`{"services": {}}`, haven.KindInvalid},
		"no services":    {`{"services": []}`, haven.KindInvalid},
		"bad id":         {`{"services": [{"id": "1", "name": "x", "status": "active", "organization": {"id": "` + id + `", "name": "o"}}]}`, haven.KindInvalid},
		"no org":         {`{"services": [{"id": "` + id + `", "name": "x", "status": "active"}]}`, haven.KindInvalid},
		"missing org":    {`{"services": [{"id": "` + id + `", "name": "x", "status": "active", "organization_id": "` + haven.NewID() + `"}]}`, haven.KindInvalid},
		"bad status":     {`{"services": [{"id": "` + id + `", "name": "x", "status": "open", "organization": {"id": "` + id + `", "name": "o"}}]}`, haven.KindInvalid},
		"too large":      {`{"services": [` + strings.Repeat(" ", 2000) + `]}`, haven.KindTooLarge},
		"too many":       {`{"services": [{}, {}, {}]}`, haven.KindTooLarge},
		"duplicate ids":  {`{"services": [{"id": "` + id + `", "name": "x", "status": "active", "organization": {"id": "` + id + `", "name": "o"}}, {"id": "` + id + `", "name": "y", "status": "active", "organization": {"id": "` + id + `", "name": "o"}}]}`, haven.KindInvalid},
		"bad licence on": {`{"services": [{"id": "` + id + `", "name": "x", "status": "active", "organization": {"id": "` + id + `", "name": "o"}, "x-haven": {"capacity": 1, "licence": {"verified_on": "yesterday"}}}]}`, haven.KindInvalid},
	} {
		_, err := support.DecodeHSDS(strings.NewReader(tc.doc), support.Limits{MaxBytes: 1000, MaxServices: 2})
		if !haven.IsKind(err, tc.kind) {
			t.Errorf("%s: got %v, want %s", name, err, tc.kind)
		}
	}
}

// TestReferrals checks referrals with consent and their closed loop,
// capacity, and ProviderName for casework.
func TestReferrals(t *testing.T) {
	e := setup(t, "sqlite")
	ctx := context.Background()
	p, err := e.svc.SaveProvider(ctx, e.coord, support.ProviderInput{OrganizationName: "Example Counselling Collective",
		Provider: store.Provider{Name: "Trauma counselling", Clinician: "Example Clinician One", Capacity: 1, FeeTerms: []string{support.FeeProBono}}})
	if err != nil {
		t.Fatal(err)
	}
	if name, err := e.svc.ProviderName(ctx, p.ID); err != nil || name != "Example Clinician One, Trauma counselling, Example Counselling Collective" {
		t.Errorf("ProviderName: %q, %v", name, err)
	}
	if _, err := e.svc.ProviderName(ctx, haven.NewID()); !haven.IsKind(err, haven.KindNotFound) {
		t.Errorf("ProviderName of nobody: %v", err)
	}
	req, err := e.svc.CreateRequest(ctx, e.coord, store.SupportRequest{Family: "Example Family One", CaseType: support.CaseRecovered, Language: "en"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Refer(ctx, e.coord, p.ID, support.ReferralInput{RequestID: req.ID, ConsentBy: "parent"}); !haven.IsKind(err, haven.KindInvalid) {
		t.Errorf("refer without consent: got %v", err)
	}
	r, err := e.svc.Refer(ctx, e.coord, p.ID, support.ReferralInput{RequestID: req.ID, Consent: true, ConsentBy: "parent", ConsentNote: "by phone"})
	if err != nil {
		t.Fatal(err)
	}
	// Capacity 1: a second family waits.
	if _, err := e.svc.Refer(ctx, e.case_, p.ID, support.ReferralInput{CaseRef: "CASE-EXAMPLE-1", Consent: true, ConsentBy: "guardian"}); !support.IsNoCapacity(err) {
		t.Errorf("refer beyond capacity: got %v", err)
	}
	if _, err := e.svc.UpdateReferral(ctx, e.coord, r.ID, support.RefEnded, ""); !haven.IsKind(err, haven.KindConflict) {
		t.Errorf("end care before a session: got %v", err)
	}
	for _, st := range []string{support.RefContacted, support.RefFirstSession, support.RefEnded} {
		if r, err = e.svc.UpdateReferral(ctx, e.coord, r.ID, st, "note "+st); err != nil {
			t.Fatal(err)
		}
	}
	if len(r.Events) != 4 || r.Status != support.RefEnded || r.ConsentBy != "parent" {
		t.Errorf("got referral %+v", r)
	}
	// Care ended: the place is free again.
	if _, err := e.svc.Refer(ctx, e.case_, p.ID, support.ReferralInput{CaseRef: "CASE-EXAMPLE-1", Consent: true, ConsentBy: "guardian"}); err != nil {
		t.Errorf("refer after care ended: %v", err)
	}
	v, err := e.svc.Provider(ctx, e.coord, p.ID)
	if err != nil || len(v.Referrals) != 2 {
		t.Fatalf("provider view: %v, %v", v, err)
	}
	if v, err := e.svc.Provider(ctx, e.sup, p.ID); err != nil || v.Referrals != nil {
		t.Errorf("a supervisor sees the provider but not the families referred: %+v, %v", v, err)
	}
	if _, err := e.svc.Refer(ctx, e.sup, p.ID, support.ReferralInput{CaseRef: "X", Consent: true, ConsentBy: "parent"}); !haven.IsKind(err, haven.KindForbidden) {
		t.Errorf("supervisor refers: got %v", err)
	}
	if n := len(e.events(t, "provider.referrals.read")); n != 1 {
		t.Errorf("got %d audited referral reads, want 1", n)
	}
}

// TestHSDSSchemaCatchesErrors makes sure the schema check is not vacuous:
// a service with a status outside HSDS's list, an id that is not a UUID
// or no name fails it.
func TestHSDSSchemaCatchesErrors(t *testing.T) {
	t.Parallel()
	_, svc := hsdsSchemas(t)
	for name, doc := range map[string]string{
		"status":  `{"id": "` + haven.NewID() + `", "name": "x", "status": "open"}`,
		"id":      `{"id": "not-a-uuid", "name": "x", "status": "active"}`,
		"no name": `{"id": "` + haven.NewID() + `", "status": "active"}`,
		"email":   `{"id": "` + haven.NewID() + `", "name": "x", "status": "active", "email": "not an email"}`,
	} {
		v, err := jsonschema.UnmarshalJSON(strings.NewReader(doc))
		if err != nil {
			t.Fatal(err)
		}
		if svc.Validate(v) == nil {
			t.Errorf("%s: an invalid service validated", name)
		}
	}
	ok, _ := jsonschema.UnmarshalJSON(strings.NewReader(`{"id": "` + haven.NewID() + `", "name": "x", "status": "active"}`))
	if err := svc.Validate(ok); err != nil {
		t.Errorf("a minimal valid service failed: %v", err)
	}
}

// TestProviderFilter checks each criterion of the directory's filter
// against a hand-made list.
func TestProviderFilter(t *testing.T) {
	t.Parallel()
	a := &store.Provider{ID: "a", Languages: []string{"en", "es"}, Modes: []string{"telehealth"}, FeeTerms: []string{"pro_bono"},
		Specialities: []string{"Child sexual abuse"}, Areas: []string{"TX"}, Capacity: 2, Open: 1, Status: "active"}
	b := &store.Provider{ID: "b", Languages: []string{"en"}, Modes: []string{"in_person"}, FeeTerms: []string{"sliding_scale"},
		Specialities: []string{"family therapy"}, Areas: []string{"OK", "TX"}, Capacity: 1, Open: 1, Status: "active"}
	c := &store.Provider{ID: "c", Languages: []string{"es"}, Modes: []string{"telehealth", "in_person"}, FeeTerms: []string{"pro_bono"},
		Capacity: 5, Status: "inactive"}
	all := []*store.Provider{a, b, c}
	for name, tc := range map[string]struct {
		f    support.ProviderFilter
		want []string
	}{
		"none":       {support.ProviderFilter{}, []string{"a", "b", "c"}},
		"language":   {support.ProviderFilter{Language: "es"}, []string{"a", "c"}},
		"mode":       {support.ProviderFilter{Mode: "in_person"}, []string{"b", "c"}},
		"fee":        {support.ProviderFilter{Fee: "sliding_scale"}, []string{"b"}},
		"speciality": {support.ProviderFilter{Speciality: "sexual"}, []string{"a"}},
		"area":       {support.ProviderFilter{Area: "tx"}, []string{"a", "b"}},
		"available":  {support.ProviderFilter{Available: true}, []string{"a"}},
		"combined":   {support.ProviderFilter{Language: "es", Mode: "telehealth", Fee: "pro_bono"}, []string{"a", "c"}},
	} {
		var got []string
		for _, p := range tc.f.Filter(all) {
			got = append(got, p.ID)
		}
		if !cmp.Equal(got, tc.want) {
			t.Errorf("%s: got %v, want %v", name, got, tc.want)
		}
	}
}
