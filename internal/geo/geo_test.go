package geo_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/audit"
	"github.com/haven-hotline/haven/internal/geo"
	"github.com/haven-hotline/haven/internal/geo/geotest"
	"github.com/haven-hotline/haven/internal/identifiers"
	"github.com/haven-hotline/haven/internal/store"
	"github.com/haven-hotline/haven/internal/store/storetest"
)

// testDB writes the documentation-network test database.
func testDB(t testing.TB) string { return geotest.WriteDB(t) }

var tLogin = time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)

func newService(t testing.TB, s *store.Store, dbPath string) *geo.Service {
	t.Helper()
	l := audit.New([]byte("chain-key-for-tests-0123456789ab"), []byte("pseudonym-key-for-tests-01234567"), haven.SystemClock{}, 1)
	if s != nil {
		l = audit.New([]byte("chain-key-for-tests-0123456789ab"), []byte("pseudonym-key-for-tests-01234567"), haven.SystemClock{}, s.Dialect().AuditChains())
	}
	svc, err := geo.New(s, l, haven.SystemClock{}, nil, geo.Options{DatabasePath: dbPath, DefaultCallingCode: "1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close() })
	return svc
}

// reportWith builds a synthetic report from its parts.
func reportWith(reported ...haven.Involved) *haven.Report {
	return &haven.Report{Source: haven.SourceESP, Status: haven.ReportFinished, SubmitterID: "esp-1", OpenedAt: tLogin, ModifiedAt: tLogin,
		Incident: haven.IncidentSummary{Type: haven.IncidentEnticement}, Reported: reported}
}

func ips(addrs ...string) []haven.IPCapture {
	var out []haven.IPCapture
	for _, a := range addrs {
		out = append(out, haven.IPCapture{IPAddress: a, EventName: "Login", DateTime: tLogin})
	}
	return out
}

func TestCompute(t *testing.T) {
	svc := newService(t, nil, testDB(t))
	yes := true
	cases := []struct {
		name       string
		r          *haven.Report
		country    string
		region     string
		confidence geo.Confidence
		evidence   []string // each must appear in some line
	}{
		{"nothing", reportWith(), "", "", geo.Low, []string{"No address"}},
		{"one IPv4 address", reportWith(haven.Involved{IPCaptures: ips("192.0.2.7")}), "US", "US-CA", geo.Medium,
			[]string{"IP address of the reported user (Login, 2026-05-01 10:00 UTC) in GeoLite2-City: US-CA", "One kind of source (IP address)"}},
		{"IPv4-mapped IPv6 address", reportWith(haven.Involved{IPCaptures: ips("::ffff:198.51.100.9")}), "GB", "GB-ENG", geo.Medium, nil},
		{"IPv6 address", reportWith(haven.Involved{IPCaptures: ips("2001:db8::42")}), "DE", "DE-BY", geo.Medium, []string{"DE-BY"}},
		{"IP address without region", reportWith(haven.Involved{IPCaptures: ips("203.0.113.9")}), "US", "", geo.Medium, nil},
		{"IP and address agree", reportWith(haven.Involved{IPCaptures: ips("192.0.2.7"),
			Person: &haven.Person{Addresses: []haven.Address{{Type: "Home", State: "CA", Country: "United States"}}}}), "US", "US-CA", geo.High,
			[]string{"Home address of the reported user: US-CA", "2 kinds of source (IP address, address) agree on US; none points elsewhere"}},
		{"address more specific than IP", reportWith(haven.Involved{IPCaptures: ips("203.0.113.9"),
			Person: &haven.Person{Addresses: []haven.Address{{State: "TX"}}}}), "US", "US-TX", geo.High, nil},
		{"regions differ", reportWith(haven.Involved{IPCaptures: ips("192.0.2.7"),
			Person: &haven.Person{Addresses: []haven.Address{{State: "NV", Country: "US"}}}}), "US", "US-NV", geo.Medium,
			[]string{"different regions"}},
		{"phone code alone", reportWith(haven.Involved{Person: &haven.Person{Phones: []haven.Phone{{Value: "+44 20 7946 0018"}}}}), "GB", "", geo.Low,
			[]string{"Country calling code +44 of a phone number of the reported user: GB", "Calling codes alone"}},
		{"NANP code is weak", reportWith(haven.Involved{Person: &haven.Person{Phones: []haven.Phone{{Value: "(202) 555-0143"}}}}), "US", "", geo.Low,
			[]string{"shared with CA"}},
		{"phone and IP agree", reportWith(haven.Involved{IPCaptures: ips("198.51.100.9"), Person: &haven.Person{Phones: []haven.Phone{{Value: "+44 20 7946 0018"}}}}),
			"GB", "GB-ENG", geo.High, nil},
		{"ESP estimate, verified", reportWith(haven.Involved{EstimatedLocation: &haven.EstimatedLocation{CountryCode: "CA", Region: "Ontario", Verified: &yes}}),
			"CA", "CA-ON", geo.Medium, []string{"ESP's estimated location of the reported user (verified by the ESP): CA-ON"}},
		{"disagreement, clear winner", reportWith(haven.Involved{IPCaptures: ips("2001:db8::1"),
			Person:            &haven.Person{Addresses: []haven.Address{{Country: "USA", State: "WA"}}},
			EstimatedLocation: &haven.EstimatedLocation{CountryCode: "US", Region: "WA"}}), "US", "US-WA", geo.Medium,
			[]string{"other evidence points to DE (score 2 against 5)"}},
		{"disagreement, no clear winner", reportWith(haven.Involved{IPCaptures: ips("2001:db8::1"),
			Person: &haven.Person{Addresses: []haven.Address{{Country: "Canada", NonUSAState: "QC"}}}}), "CA", "CA-QC", geo.Low, nil},
		{"the reported user before the victim on a tie", &haven.Report{Source: haven.SourceESP,
			Victims:  []haven.Involved{{IPCaptures: ips("198.51.100.9")}},
			Reported: []haven.Involved{{IPCaptures: ips("2001:db8::1")}}}, "DE", "DE-BY", geo.Low, nil},
		{"the reporter is not used", &haven.Report{Source: haven.SourcePublic,
			Reporter: haven.Reporter{ReportingPerson: haven.Person{Phones: []haven.Phone{{Value: "+44 20 7946 0018"}}, Addresses: []haven.Address{{Country: "GB"}}}}},
			"", "", geo.Low, nil},
		{"many IP addresses are one kind of source", reportWith(haven.Involved{IPCaptures: ips("192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4",
			"192.0.2.5", "192.0.2.6", "192.0.2.7", "192.0.2.8", "192.0.2.9", "192.0.2.10", "192.0.2.11", "192.0.2.12")},
			haven.Involved{Person: &haven.Person{Addresses: []haven.Address{{Country: "DE"}}}}), "DE", "", geo.Low,
			[]string{"2 more IP addresses in GeoLite2-City: US-CA"}},
		{"incident address", &haven.Report{Internet: []haven.InternetDetail{{Kind: haven.InternetNonInternet,
			Addresses: []haven.Address{{City: "Springfield", Country: "US", State: "il"}}}}}, "US", "US-IL", geo.Medium,
			[]string{"Address of the incident: US-IL"}},
		{"IP address not in the database", reportWith(haven.Involved{IPCaptures: ips("2001:db9::1")}), "", "", geo.Low,
			[]string{"1 IP addresses not found in GeoLite2-City"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			loc := svc.Compute(c.r)
			if loc.Country != c.country || loc.Region != c.region || loc.Confidence != c.confidence {
				t.Errorf("got %s %q %s, want %s %q %s\n%s", loc.Country, loc.Region, loc.Confidence, c.country, c.region, c.confidence,
					strings.Join(loc.Evidence, "\n"))
			}
			text := strings.Join(loc.Evidence, "\n")
			for _, want := range c.evidence {
				if !strings.Contains(text, want) {
					t.Errorf("the evidence does not say %q:\n%s", want, text)
				}
			}
			// No raw identifying value in the evidence.
			for _, secret := range []string{"192.0.2.", "198.51.100.", "2001:db8", "7946", "555"} {
				if strings.Contains(text, secret) {
					t.Errorf("the evidence holds %q:\n%s", secret, text)
				}
			}
		})
	}
}

func TestComputeWithoutDatabase(t *testing.T) {
	svc := newService(t, nil, "")
	if svc.IPLookup() {
		t.Fatal("IP lookup is on without a database")
	}
	loc := svc.Compute(reportWith(haven.Involved{IPCaptures: ips("192.0.2.7", "2001:db8::1")}))
	if loc.Country != "" || !strings.Contains(strings.Join(loc.Evidence, "\n"), "IP geolocation is off") ||
		!strings.Contains(strings.Join(loc.Evidence, "\n"), "2 IP addresses not located") {
		t.Errorf("got %+v", loc)
	}
}

func TestOpenBadDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "broken.mmdb")
	if err := os.WriteFile(path, []byte("not a database"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := geo.New(nil, nil, haven.SystemClock{}, nil, geo.Options{DatabasePath: path}); err == nil {
		t.Error("a broken database was accepted")
	}
	if _, err := geo.New(nil, nil, haven.SystemClock{}, nil, geo.Options{DatabasePath: path + ".missing"}); err == nil {
		t.Error("a missing database was accepted")
	}
}

func TestPlaces(t *testing.T) {
	for in, want := range map[string]string{"US": "US", "us": "US", "U.S.A.": "US", "United States": "US", "usa": "US", "gbr": "GB",
		"United Kingdom": "GB", " germany ": "DE", "XX": "", "Atlantis": "", "": ""} {
		if got := geo.CountryCode(in); got != want {
			t.Errorf("CountryCode(%q): got %q, want %q", in, got, want)
		}
	}
	for _, c := range []struct{ country, in, want string }{
		{"US", "CA", "US-CA"}, {"US", "us-ca", "US-CA"}, {"US", "california", "US-CA"}, {"US", "Gotham", "Gotham"},
		{"CA", "on", "CA-ON"}, {"CA", "Quebec", "CA-QC"}, {"GB", "GB-ENG", "GB-ENG"}, {"DE", "Bavaria", "Bavaria"}, {"US", " ", ""},
	} {
		if got := geo.RegionCode(c.country, c.in); got != c.want {
			t.Errorf("RegionCode(%s, %q): got %q, want %q", c.country, c.in, got, c.want)
		}
	}
	if got := geo.CallingCodeCountries("1"); len(got) < 2 || got[0] != "US" || got[1] != "CA" {
		t.Errorf("+1: %v", got)
	}
	if got := geo.CallingCodeCountries("353"); len(got) != 1 || got[0] != "IE" {
		t.Errorf("+353: %v", got)
	}
	if geo.CallingCodeCountries("999") != nil {
		t.Error("+999 has countries")
	}
	// The calling code table and the phone normaliser agree on where
	// codes end.
	for _, n := range []string{"+12025550143", "+442079460018", "+35315550100", "+8613912345678", "+97150123456"} {
		p, err := identifiers.NormalisePhone(n, "", "1")
		if err != nil || geo.CallingCodeCountries(p.CallingCode) == nil {
			t.Errorf("%s: code %q has no countries (%v)", n, p.CallingCode, err)
		}
	}
	n := 0
	for a := 'A'; a <= 'Z'; a++ {
		for b := 'A'; b <= 'Z'; b++ {
			if geo.ValidCountry(string([]rune{a, b})) {
				n++
			}
		}
	}
	if n != 249 {
		t.Errorf("got %d ISO 3166-1 codes, want 249", n)
	}
}

// put stores a synthetic report.
func put(t testing.TB, s *store.Store, r *haven.Report) int64 {
	t.Helper()
	ctx := context.Background()
	err := s.InTx(ctx, func(tx *store.Tx) (err error) {
		if r.ID, err = tx.NextReportNumber(ctx); err != nil {
			return err
		}
		return tx.CreateReport(ctx, r, nil, time.Time{})
	})
	if err != nil {
		t.Fatal(err)
	}
	return r.ID
}

func TestLocateAndCorrect(t *testing.T) {
	db := testDB(t)
	for _, engine := range storetest.Engines() {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s := storetest.Open(t, engine)
			svc := newService(t, s, db)
			id := put(t, s, reportWith(haven.Involved{IPCaptures: ips("192.0.2.7"), Person: &haven.Person{Addresses: []haven.Address{{State: "CA"}}}}))
			analyst := haven.Actor{UserID: "analyst-1", Role: haven.RoleIntake}
			if _, err := svc.Location(ctx, analyst, id); !haven.IsKind(err, haven.KindNotFound) {
				t.Errorf("before Locate: got %v, want not found", err)
			}
			loc, err := svc.Locate(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if loc.Computed.Country != "US" || loc.Computed.Region != "US-CA" || loc.Computed.Confidence != geo.High || loc.Corrected != nil || loc.ComputedAt.IsZero() {
				t.Fatalf("located: %+v", loc)
			}
			again, err := svc.Locate(ctx, id)
			if err != nil || again.Computed.Country != "US" || strings.Join(again.Computed.Evidence, "|") != strings.Join(loc.Computed.Evidence, "|") {
				t.Errorf("locating again: %+v %v", again, err)
			}
			if _, err := svc.Locate(ctx, 1<<40); !haven.IsKind(err, haven.KindNotFound) {
				t.Errorf("locating an unknown report: %v", err)
			}

			// Refusals.
			for _, c := range []struct {
				actor                   haven.Actor
				country, region, reason string
				kind                    haven.Kind
				field                   string
			}{
				{analyst, "US", "NV", "", haven.KindInvalid, "reason"},
				{analyst, "US", "NV", "   ", haven.KindInvalid, "reason"},
				{analyst, "Narnia", "", "a reason", haven.KindInvalid, "country"},
				{analyst, "US", "GB-ENG", "a reason", haven.KindInvalid, "region"},
				{analyst, "US", "Gotham", "a reason", haven.KindInvalid, "region"},
				{haven.Actor{UserID: "vid-1", Role: haven.RoleVictimID}, "US", "NV", "a reason", haven.KindForbidden, ""},
				{haven.Actor{UserID: "le-1", Role: haven.RoleLE, AgencyID: "a1"}, "US", "NV", "a reason", haven.KindForbidden, ""},
			} {
				err := svc.Correct(ctx, c.actor, id, c.country, c.region, c.reason)
				var he *haven.Error
				if !haven.IsKind(err, c.kind) {
					t.Errorf("correct %s %s %q as %s: got %v, want %v", c.country, c.region, c.reason, c.actor.Role, err, c.kind)
				} else if c.field != "" && (!asError(err, &he) || he.Field != c.field) {
					t.Errorf("correct %s %s %q: got field %v, want %s", c.country, c.region, c.reason, err, c.field)
				}
			}
			if err := svc.Correct(ctx, analyst, 1<<40, "US", "NV", "a reason"); !haven.IsKind(err, haven.KindNotFound) {
				t.Errorf("correcting an unknown report: %v", err)
			}

			// A correction is kept, audited, and survives a new Locate.
			if err := svc.Correct(ctx, analyst, id, "us", "nevada", "The caller said the family lives in Nevada."); err != nil {
				t.Fatal(err)
			}
			if _, err := svc.Locate(ctx, id); err != nil {
				t.Fatal(err)
			}
			got, err := svc.Location(ctx, analyst, id)
			if err != nil {
				t.Fatal(err)
			}
			if got.Corrected == nil || got.Corrected.Country != "US" || got.Corrected.Region != "US-NV" || got.Corrected.By != "analyst-1" ||
				got.Corrected.Reason != "The caller said the family lives in Nevada." || got.Computed.Region != "US-CA" {
				t.Errorf("after correction: %+v %+v", got, got.Corrected)
			}
			if c, r := got.Effective(); c != "US" || r != "US-NV" {
				t.Errorf("effective: %s %s", c, r)
			}
			if _, err := svc.Location(ctx, haven.Actor{Role: haven.RoleLE}, id); !haven.IsKind(err, haven.KindForbidden) {
				t.Errorf("LE reads the location: %v", err)
			}
			var evs []*haven.AuditEvent
			err = s.View(ctx, func(tx *store.Tx) (err error) {
				evs, err = tx.RecentAuditEvents(ctx, store.AuditFilter{Type: "geo.correct"})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) != 1 || evs[0].ActorID != "analyst-1" || evs[0].Details["region"] != "US-NV" || evs[0].Details["previous_region"] != "US-CA" ||
				strings.Contains(strings.ToLower(fmt.Sprint(evs[0].Details)), "family") {
				t.Errorf("audit events: %+v", evs)
			}
		})
	}
}

func asError(err error, target **haven.Error) bool {
	e, ok := err.(*haven.Error)
	if ok {
		*target = e
	}
	return ok
}
