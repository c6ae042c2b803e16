package identifiers_test

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/identifiers"
)

var (
	tCapture = time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	tUpload  = time.Date(2026, 5, 2, 8, 30, 0, 0, time.UTC)
)

// espReport is a synthetic report from an ESP with one identifier of
// every kind, some repeated and some that must be refused.
func espReport() *haven.Report {
	yes := true
	return &haven.Report{
		Source: haven.SourceESP, Status: haven.ReportFinished, SubmitterID: "ESP-Account-1",
		OpenedAt: time.Date(2026, 5, 3, 9, 0, 0, 0, time.UTC), ModifiedAt: time.Date(2026, 5, 3, 9, 0, 0, 0, time.UTC),
		Incident: haven.IncidentSummary{Type: haven.IncidentEnticement, Platform: "Example Chat"},
		Internet: []haven.InternetDetail{{Kind: haven.InternetWebPage, URLs: []string{"HTTPS://Example.org:443/page/", "not a url"}}},
		Reporter: haven.Reporter{ReportingPerson: haven.Person{FirstName: "Trust", Emails: []haven.Email{{Value: "abuse@example.com"}}}},
		Reported: []haven.Involved{{
			Role:          haven.RoleReported,
			Person:        &haven.Person{Emails: []haven.Email{{Value: " Suspect.One@Example.org ", Verified: &yes}}, Phones: []haven.Phone{{Value: "(202) 555-0143", CountryCallingCode: "+1"}}},
			ScreenName:    "@Suspect_One",
			ESPIdentifier: "u-1001",
			ESPService:    "Example Chat",
			ProfileURLs:   []string{"https://example.org/u/suspect_one"},
			IPCaptures: []haven.IPCapture{
				{IPAddress: "192.0.2.7", EventName: "Upload", DateTime: tCapture.Add(2 * time.Hour)},
				{IPAddress: "::ffff:192.0.2.7", EventName: "Login", DateTime: tCapture},
				{IPAddress: "10.0.0.1", EventName: "Login", DateTime: tCapture},
			},
			DeviceIDs: []haven.DeviceID{{IDType: "IDFA", IDValue: "6D92078A-8246-4BA4-AE5B-76104861E7DC", EventName: "Login", DateTime: tCapture}},
			AssociatedAccounts: []haven.AssociatedAccount{{Type: "Linked", Platform: "Example Photos", ScreenName: "suspect.photos",
				Emails: []haven.Email{{Value: "suspect.one+photos@gmail.com"}}}},
		}},
		Victims: []haven.Involved{{Role: haven.RoleVictim, Person: &haven.Person{FirstName: "Child", Emails: []haven.Email{{Value: "child.one@example.org"}},
			Phones: []haven.Phone{{Value: "555-0199"}}}}},
		Files: []*haven.ReportFile{{ID: "0123456789abcdef0123456789abcdef", MD5: bytes.Repeat([]byte{0x11}, 16), SHA1: bytes.Repeat([]byte{0x22}, 20),
			SHA256: bytes.Repeat([]byte{0x33}, 32), Details: &haven.FileDetails{UploadedToESP: tUpload,
				OriginalHashes: []haven.OriginalHash{{Type: "MD5", Value: strings.Repeat("AB", 16)}, {Type: "PhotoDNA", Value: "not linked"}},
				Details:        []haven.DetailSet{{Type: "HASH", Pairs: []haven.NameValue{{Name: "SHA-1", Value: strings.Repeat("cd", 20)}}}},
				IPCapture:      &haven.IPCapture{IPAddress: "2001:DB8::20", EventName: "Upload", DateTime: tUpload}}}},
	}
}

// publicReport is a synthetic public report sharing the reported user's
// e-mail address and screen name with espReport.
func publicReport() *haven.Report {
	return &haven.Report{
		Source: haven.SourcePublic, Status: haven.ReportFinished,
		OpenedAt: time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC), ModifiedAt: time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC),
		Incident: haven.IncidentSummary{Type: haven.IncidentEnticement, Platform: "example  chat"},
		Reporter: haven.Reporter{ReportingPerson: haven.Person{Emails: []haven.Email{{Value: "reporter@example.org"}}, Phones: []haven.Phone{{Value: "+44 20 7946 0018"}}}},
		Reported: []haven.Involved{{Role: haven.RoleReported, ScreenName: "suspect_one",
			Person: &haven.Person{Emails: []haven.Email{{Value: "SUSPECT.ONE@example.org"}}}}},
	}
}

func row(id identifiers.Identifier) string {
	s := fmt.Sprintf("%s %s %s", id.Role, id.Kind, id.Value)
	if id.Sightings > 1 {
		s += fmt.Sprintf(" ×%d", id.Sightings)
	}
	return s
}

func TestExtract(t *testing.T) {
	ex := identifiers.Extract(espReport(), "1")
	var got []string
	for _, id := range ex.Identifiers {
		got = append(got, row(id))
	}
	slices.Sort(got)
	want := []string{
		"file ip 2001:db8::20",
		"file md5 abababababababababababababababab",
		"file md5 11111111111111111111111111111111",
		"file sha1 2222222222222222222222222222222222222222",
		"file sha1 cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd",
		"file sha256 3333333333333333333333333333333333333333333333333333333333333333",
		"incident url https://example.org/page",
		"reported device idfa:6d92078a-8246-4ba4-ae5b-76104861e7dc",
		"reported email suspect.one@example.org",
		"reported email suspectone@gmail.com",
		"reported esp_user esp:esp-account-1:u-1001",
		"reported ip 192.0.2.7 ×2",
		"reported phone +12025550143",
		"reported screen_name example chat:suspect_one",
		"reported screen_name example photos:suspect.photos",
		"reported url https://example.org/u/suspect_one",
		"victim email child.one@example.org",
	}
	slices.Sort(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("identifiers (-want +got):\n%s", diff)
	}
	for _, id := range ex.Identifiers {
		switch {
		case id.Kind == identifiers.KindIP && id.Role == identifiers.RoleReported:
			if !id.SeenFirst.Equal(tCapture) || !id.SeenLast.Equal(tCapture.Add(2*time.Hour)) || id.Event != "Login" {
				t.Errorf("the IP address's sightings: %+v", id)
			}
		case id.Kind == identifiers.KindSHA256:
			if !id.SeenFirst.Equal(tUpload) {
				t.Errorf("the file hash's time: %+v", id)
			}
		case id.Kind == identifiers.KindPhone:
			if id.CallingCode != "1" {
				t.Errorf("the phone's calling code: %+v", id)
			}
		}
	}
	// Refused: the URL that is not one, the private address, the victim's
	// phone number too short to be one. The ESP's own contact is left
	// out, not refused.
	var refused []string
	for _, r := range ex.Refused {
		refused = append(refused, string(r.Role)+" "+string(r.Kind))
		for _, secret := range []string{"10.0.0.1", "not a url", "555-0199"} {
			if strings.Contains(r.Reason, secret) {
				t.Errorf("refusal reason %q repeats the value", r.Reason)
			}
		}
	}
	slices.Sort(refused)
	if diff := cmp.Diff([]string{"incident url", "reported ip", "victim phone"}, refused); diff != "" {
		t.Errorf("refused (-want +got):\n%s", diff)
	}
}

func TestExtractReporterOfPublicReports(t *testing.T) {
	ex := identifiers.Extract(publicReport(), "1")
	var got []string
	for _, id := range ex.Identifiers {
		got = append(got, row(id))
	}
	slices.Sort(got)
	want := []string{
		"reported email suspect.one@example.org",
		"reported screen_name example chat:suspect_one",
		"reporter email reporter@example.org",
		"reporter phone +442079460018",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("identifiers (-want +got):\n%s", diff)
	}
}

func TestExtractDefaultCallingCode(t *testing.T) {
	r := &haven.Report{Source: haven.SourcePhone, Reported: []haven.Involved{{Person: &haven.Person{Phones: []haven.Phone{{Value: "020 7946 0018"}}}}}}
	ex := identifiers.Extract(r, "44")
	if len(ex.Identifiers) != 1 || ex.Identifiers[0].Value != "+442079460018" || ex.Identifiers[0].CallingCode != "44" {
		t.Errorf("got %+v", ex)
	}
}
