package cybertip

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/text/language"

	"github.com/haven-hotline/haven"
)

// testNow is the server time of the tests: after every date in testdata.
var testNow = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func testOptions() Options { return Options{Now: testNow} }

// sample is a file of testdata/valid or testdata/invalid.
type sample struct {
	name string
	path string
	data []byte
	// fileDetails: the document goes to DecodeFileDetails (file names
	// starting with "filedetails-"), else to DecodeReport.
	fileDetails bool
	// From the .want file of an invalid sample:
	code     int
	contains string
	xmllint  string // valid, invalid or skip: what xmllint must say
}

func loadSamples(t testing.TB, dir string) []sample {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", dir, "*.xml"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no samples in testdata/%s: %v", dir, err)
	}
	var out []sample
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimSuffix(filepath.Base(p), ".xml")
		s := sample{name: name, path: p, data: data, fileDetails: strings.HasPrefix(name, "filedetails-"), xmllint: "valid"}
		if want, err := os.ReadFile(strings.TrimSuffix(p, ".xml") + ".want"); err == nil {
			for _, line := range strings.Split(string(want), "\n") {
				k, v, _ := strings.Cut(line, ": ")
				switch k {
				case "code":
					s.code, _ = strconv.Atoi(v)
				case "contains":
					s.contains = v
				case "xmllint":
					s.xmllint = v
				}
			}
		} else if dir == "invalid" {
			t.Fatalf("%s has no .want file", p)
		}
		out = append(out, s)
	}
	return out
}

func (s sample) decode(opt Options) error {
	if s.fileDetails {
		_, _, _, err := DecodeFileDetails(bytes.NewReader(s.data), opt)
		return err
	}
	_, err := DecodeReport(bytes.NewReader(s.data), opt)
	return err
}

func TestValidSamples(t *testing.T) {
	t.Parallel()
	for _, s := range loadSamples(t, "valid") {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			if err := s.decode(testOptions()); err != nil {
				t.Fatalf("got %v, want no error", err)
			}
		})
	}
}

func TestInvalidSamples(t *testing.T) {
	t.Parallel()
	samples := loadSamples(t, "invalid")
	if len(samples) < 25 {
		t.Errorf("got %d invalid samples, want at least 25", len(samples))
	}
	for _, s := range samples {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			err := s.decode(testOptions())
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("got %v, want *Error", err)
			}
			if ce.Code != s.code {
				t.Errorf("got code %d, want %d (%s)", ce.Code, s.code, ce.Description)
			}
			if !strings.Contains(ce.Description, s.contains) {
				t.Errorf("got description\n\t%s\nwant it to contain\n\t%s", ce.Description, s.contains)
			}
		})
	}
}

// TestDecodeMinimal checks the decoded values of the minimal report of the
// protocol notes.
func TestDecodeMinimal(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("testdata/valid/report-minimal.xml")
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeReport(bytes.NewReader(data), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	want := &haven.Report{
		Incident: haven.IncidentSummary{Type: haven.IncidentCSAM, DateTime: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)},
		Reporter: haven.Reporter{ReportingPerson: haven.Person{FirstName: "A", LastName: "B",
			Emails: []haven.Email{{Value: "abuse@example.org"}}}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("DecodeReport (-want +got):\n%s", diff)
	}
}

func TestDecodeValues(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("testdata/valid/report-flags-both-spellings.xml")
	if err != nil {
		t.Fatal(err)
	}
	r, err := DecodeReport(bytes.NewReader(data), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	if r.Incident.Type != haven.IncidentSexTrafficking {
		t.Errorf("got type %q, want whitespace collapsed to %q", r.Incident.Type, haven.IncidentSexTrafficking)
	}
	if r.Incident.Escalate == nil || *r.Incident.Escalate != "" {
		t.Errorf("got Escalate %v, want a pointer to an empty reason", r.Incident.Escalate)
	}
	if a := r.Incident.Annotations; a == nil || !a.Sextortion || !a.CSAMSolicitation || a.Spam {
		t.Errorf("got annotations %+v, want sextortion and csamSolicitation", a)
	}
	want := time.Date(2025, 2, 2, 14, 5, 6, 123456789, time.UTC)
	if !r.Incident.DateTime.Equal(want) || r.Incident.DateTime.Location() != time.UTC {
		t.Errorf("got %v, want %v", r.Incident.DateTime, want)
	}
	if len(r.Victims) != 1 || r.Victims[0].Person == nil || r.Victims[0].Role != haven.RoleVictim {
		t.Errorf("got victims %+v, want one with an empty person", r.Victims)
	}

	latin, err := os.ReadFile("testdata/valid/report-latin1.xml")
	if err != nil {
		t.Fatal(err)
	}
	r, err = DecodeReport(bytes.NewReader(latin), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	if r.Incident.Platform != "Café Example" || r.Reporter.ReportingPerson.FirstName != "Renée" {
		t.Errorf("got %q, %q, want ISO-8859-1 decoded", r.Incident.Platform, r.Reporter.ReportingPerson.FirstName)
	}
}

func TestDecodeFileDetailsValues(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("testdata/valid/filedetails-supplemental.xml")
	if err != nil {
		t.Fatal(err)
	}
	id, fileID, d, err := DecodeFileDetails(bytes.NewReader(data), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	if id != 7855763 || fileID != "e3897339e3897339e3897339e389776c" {
		t.Errorf("got %d, %q, want 7855763 and the trimmed file ID", id, fileID)
	}
	want := &haven.FileDetails{Relevance: "Supplemental Reported", Annotations: &haven.FileAnnotations{Viral: true}}
	if diff := cmp.Diff(want, d); diff != "" {
		t.Errorf("DecodeFileDetails (-want +got):\n%s", diff)
	}
}

// wrap puts body (children of <report>) between the minimal summary and
// reporter.
func wrap(summaryExtra, after string) string {
	return `<report><incidentSummary><incidentType>Child Sex Tourism</incidentType>` + summaryExtra +
		`<incidentDateTime>2025-01-02T03:04:05Z</incidentDateTime></incidentSummary>` +
		`<reporter><reportingPerson/></reporter>` + after + `</report>`
}

func TestDecodeCases(t *testing.T) {
	t.Parallel()
	flags := func(s string) string { return wrap(`<reportAnnotations>`+s+`</reportAnnotations>`, "") }
	tests := []struct {
		name     string
		doc      string
		opt      Options
		code     int // 0: valid
		contains string
	}{
		{name: "flag one", doc: flags(`<spam>1</spam>`)},
		{name: "flag spaced true", doc: flags(`<spam> true </spam>`)},
		{name: "flag zero", doc: flags(`<spam>0</spam>`), code: 4100, contains: `value "0" is not allowed`},
		{name: "flag blank", doc: flags(`<spam> </spam>`), code: 4100, contains: `is not allowed: a presence flag`},
		{name: "flag word", doc: flags(`<spam>yes</spam>`), code: 4100, contains: `value "yes" is not allowed`},
		{name: "bom", doc: "\uFEFF" + wrap("", "")},
		{name: "utf-16 bom", doc: "\xFF\xFE<", code: 4110, contains: "UTF-16"},
		{name: "us-ascii", doc: `<?xml version="1.0" encoding="US-ASCII"?>` + wrap("", "")},
		{name: "us-ascii with latin byte", doc: `<?xml version="1.0" encoding="us-ascii"?>` + wrap("<platform>Caf\xe9</platform>", ""), code: 4110, contains: "declares US-ASCII"},
		{name: "invalid utf-8", doc: wrap("<platform>Caf\xe9</platform>", ""), code: 4110, contains: "invalid UTF-8"},
		{name: "control character", doc: wrap("<platform>a&#1;b</platform>", ""), code: 4110, contains: "illegal character code U+0001"},
		{name: "xml declaration late", doc: `<report><?xml version="1.0"?></report>`, code: 4110, contains: "must be at the very start"},
		{name: "empty default namespace", doc: strings.Replace(wrap("", ""), "<report>", `<report xmlns="">`, 1)},
		{name: "schemaLocation", doc: strings.Replace(wrap("", ""), "<report>", `<report xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="x y">`, 1)},
		{name: "xsi on child", doc: wrap("", `<victim xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="x"><victimPerson/></victim>`), code: 4100, contains: "unknown attribute xsi:noNamespaceSchemaLocation"},
		{name: "xml:lang", doc: strings.Replace(wrap("", ""), "<report>", `<report xml:lang="en">`, 1), code: 4100, contains: "unknown attribute"},
		{name: "duplicate attribute", doc: wrap("", `<victim><victimPerson><email type="Home" type="Work">a@example.org</email></victimPerson></victim>`), code: 4110, contains: "has attribute type twice"},
		{name: "many attributes", doc: `<report` + strings.Repeat(` a="1"`, 40) + `/>`, code: 4110, contains: "more than 32 attributes"},
		{name: "long element name", doc: wrap("", "<"+strings.Repeat("n", 500)+"/>"), code: 4100, contains: "unknown element <" + strings.Repeat("n", 60) + "…> in <report>"},
		{name: "text after root", doc: wrap("", "") + "junk", code: 4110, contains: "text outside the root element"},
		{name: "url C1 control", doc: strings.Replace(wrap("", ""), "<reporter>", "<internetDetails><webPageIncident><url>https://example.org/\u0085x</url></webPageIncident></internetDetails><reporter>", 1), code: 4100, contains: "contains whitespace or control characters"},
		{name: "url tab inside", doc: strings.Replace(wrap("", ""), "<reporter>", "<internetDetails><webPageIncident><url>https://example.org/&#9;x</url></webPageIncident></internetDetails><reporter>", 1), code: 4100, contains: "contains whitespace or control characters"},
		{name: "url trimmed", doc: strings.Replace(wrap("", ""), "<reporter>", "<internetDetails><webPageIncident><url>\n  https://example.org/x\n</url></webPageIncident></internetDetails><reporter>", 1)},
		{name: "future within skew", doc: strings.Replace(wrap("", ""), "2025-01-02T03:04:05Z", "2025-06-01T12:04:59Z", 1)},
		{name: "future beyond skew", doc: strings.Replace(wrap("", ""), "2025-01-02T03:04:05Z", "2025-06-01T12:05:01Z", 1), code: 4100, contains: "is in the future (server time 2025-06-01T12:00:00Z)"},
		{name: "offset into future", doc: strings.Replace(wrap("", ""), "2025-01-02T03:04:05Z", "2025-06-01T08:00:00-05:00", 1), code: 4100, contains: "2025-06-01T13:00:00Z is in the future"},
		{name: "year zero after offset", doc: strings.Replace(wrap("", ""), "2025-01-02T03:04:05Z", "0001-01-01T00:00:00+01:00", 1), code: 4100, contains: "is not a valid date and time"},
		{name: "hour 24", doc: strings.Replace(wrap("", ""), "2025-01-02T03:04:05Z", "2025-01-02T24:00:00Z", 1), code: 4100, contains: "is not a valid date and time"},
		{name: "offset too large", doc: strings.Replace(wrap("", ""), "2025-01-02T03:04:05Z", "2025-01-02T03:04:05+15:00", 1), code: 4100, contains: "is not a valid date and time"},
		{name: "no zone is UTC", doc: strings.Replace(wrap("", ""), "2025-01-02T03:04:05Z", "2025-06-01T12:04:00", 1)},
		{name: "long snippet", doc: wrap("", `<victim><victimPerson/><compromisedAccount>`+strings.Repeat("x", 500)+`</compromisedAccount></victim>`), code: 4100, contains: `value "` + strings.Repeat("x", 80) + `…" is not a boolean`},
		{name: "personal value not quoted", doc: wrap("", `<victim><victimPerson><age>secret-age</age></victimPerson></victim>`), code: 4100, contains: "<age> the value is not an integer"},
		{name: "max depth option", doc: wrap("", ""), opt: Options{Now: testNow, MaxDepth: 2}, code: 4110, contains: "nested more than 2 deep"},
		{name: "max elements option", doc: wrap("", ""), opt: Options{Now: testNow, MaxElements: 5}, code: 4110, contains: "more than 5 elements"},
		{name: "max bytes option", doc: wrap("", ""), opt: Options{Now: testNow, MaxBytes: 100}, code: 4110, contains: "larger than 100 bytes"},
		{name: "max bytes exact", doc: wrap("", ""), opt: Options{Now: testNow, MaxBytes: int64(len(wrap("", "")))}},
		{name: "nan latitude", doc: strings.Replace(wrap("", ""), "<reporter>", "<internetDetails><cellPhoneIncident><latitude>NaN</latitude></cellPhoneIncident></internetDetails><reporter>", 1), code: 4100, contains: "out of range"},
		{name: "huge exponent", doc: strings.Replace(wrap("", ""), "<reporter>", "<internetDetails><cellPhoneIncident><longitude>1e400</longitude></cellPhoneIncident></internetDetails><reporter>", 1), code: 4100, contains: "out of range"},
		{name: "int32 overflow", doc: wrap("", `<victim><victimPerson><age>99999999999</age></victimPerson></victim>`), code: 4100, contains: "out of range for xs:int"},
		{name: "recipient additionalInfo twice", doc: wrap("", `<intendedRecipient><additionalInfo>a</additionalInfo><additionalInfo>b</additionalInfo></intendedRecipient>`)},
		{name: "victim additionalInfo twice", doc: wrap("", `<victim><victimPerson/><additionalInfo>a</additionalInfo><additionalInfo>b</additionalInfo></victim>`), code: 4100, contains: "element <additionalInfo> appears more than once"},
		{name: "comment and cdata", doc: strings.Replace(wrap("", ""), "<reporter>", "<!-- note --><internetDetails><chatImIncident><content><![CDATA[a <b> c]]></content></chatImIncident></internetDetails><reporter>", 1)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			opt := tc.opt
			if opt.Now.IsZero() {
				opt.Now = testNow
			}
			_, err := DecodeReport(strings.NewReader(tc.doc), opt)
			if tc.code == 0 {
				if err != nil {
					t.Fatalf("got %v, want no error", err)
				}
				return
			}
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("got %v, want *Error %d", err, tc.code)
			}
			if ce.Code != tc.code || !strings.Contains(ce.Description, tc.contains) {
				t.Errorf("got %d %q, want %d containing %q", ce.Code, ce.Description, tc.code, tc.contains)
			}
		})
	}
}

// TestReadErrorPassesThrough checks that a failure of the body reader
// (such as http.MaxBytesReader's) is not disguised as a malformed document.
func TestReadErrorPassesThrough(t *testing.T) {
	t.Parallel()
	boom := errors.New("connection reset")
	_, err := DecodeReport(io.MultiReader(strings.NewReader("<report>"), iotest.ErrReader(boom)), testOptions())
	var ce *Error
	if !errors.Is(err, boom) || errors.As(err, &ce) {
		t.Errorf("got %v, want the read error wrapped", err)
	}
}

// TestErrorsDoNotLeakPersonalData puts a canary into personal fields made
// invalid and checks that no description quotes it.
func TestErrorsDoNotLeakPersonalData(t *testing.T) {
	t.Parallel()
	const canary = "CANARY-0001"
	docs := []string{
		wrap("", `<victim><victimPerson><firstName>`+canary+strings.Repeat("x", 100)+`</firstName></victimPerson></victim>`),
		wrap("", `<victim><victimPerson><age>`+canary+`</age></victimPerson></victim>`),
		wrap("", `<victim><victimPerson><dateOfBirth>`+canary+`</dateOfBirth></victimPerson></victim>`),
		wrap("", `<victim><victimPerson><email>`+canary+strings.Repeat("x", 300)+`</email></victimPerson></victim>`),
		wrap("", `<victim><victimPerson><phone extension="`+canary+`">555-0100</phone></victimPerson></victim>`),
		wrap("", `<personOrUserReported><screenName>`+canary+strings.Repeat("x", 300)+`</screenName></personOrUserReported>`),
		wrap("", `<personOrUserReported><associatedAccount type="Other"><approximateAge>`+canary+`</approximateAge></associatedAccount></personOrUserReported>`),
	}
	for i, doc := range docs {
		_, err := DecodeReport(strings.NewReader(doc), testOptions())
		if err == nil {
			t.Errorf("doc %d: got no error", i)
			continue
		}
		if strings.Contains(err.Error(), canary) {
			t.Errorf("doc %d: description quotes a personal value: %v", i, err)
		}
	}
}

func TestCountryCodes(t *testing.T) {
	t.Parallel()
	if got := len(countryCodes); got != 258 {
		t.Errorf("got %d country codes, want 258", got)
	}
	if got := len(stateCodes); got != 55 {
		t.Errorf("got %d state codes, want 55", got)
	}
	seen := map[string]bool{}
	pseudo := map[string]bool{"": true, "A1": true, "A2": true, "O1": true, "AP": true, "EU": true}
	for _, c := range countryCodes {
		if seen[c] {
			t.Errorf("country %q listed twice", c)
		}
		seen[c] = true
		if pseudo[c] {
			continue
		}
		r, err := language.ParseRegion(c)
		if err != nil || r.String() != c || !r.IsCountry() {
			t.Errorf("country %q is not a country code for golang.org/x/text", c)
		}
	}
	for p := range pseudo {
		if !seen[p] {
			t.Errorf("country list lacks %q", p)
		}
	}
}
