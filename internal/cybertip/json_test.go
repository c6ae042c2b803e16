package cybertip

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/haven-hotline/haven"
)

// decodeXMLSample decodes a valid XML sample into a report or details.
func decodeXMLSample(t testing.TB, s sample) (*haven.Report, *haven.FileDetails) {
	t.Helper()
	if s.fileDetails {
		_, _, d, err := DecodeFileDetails(bytes.NewReader(s.data), testOptions())
		if err != nil {
			t.Fatal(err)
		}
		return nil, d
	}
	r, err := DecodeReport(bytes.NewReader(s.data), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	return r, nil
}

// encodeJSON encodes whichever of r and d is set.
func encodeJSON(t testing.TB, r *haven.Report, d *haven.FileDetails) []byte {
	t.Helper()
	var out bytes.Buffer
	var err error
	if r != nil {
		err = EncodeReportJSON(&out, r)
	} else {
		err = EncodeFileDetailsJSON(&out, d)
	}
	if err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// TestJSONRoundTripValidSamples takes every valid XML sample through
// XML → value → JSON → value: the values must be equal, the JSON
// deterministic and valid against the JSON Schema. The JSON of the
// maximal samples is kept in testdata/json as golden files (-update).
func TestJSONRoundTripValidSamples(t *testing.T) {
	t.Parallel()
	for _, s := range loadSamples(t, "valid") {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			r, d := decodeXMLSample(t, s)
			out := encodeJSON(t, r, d)
			if again := encodeJSON(t, r, d); !bytes.Equal(out, again) {
				t.Errorf("two encodings differ")
			}
			if !json.Valid(out) {
				t.Fatalf("EncodeJSON wrote invalid JSON:\n%s", out)
			}
			if s.fileDetails {
				back, err := DecodeFileDetailsJSON(bytes.NewReader(out), testOptions())
				if err != nil {
					t.Fatalf("decode exported JSON: %v\n%s", err, out)
				}
				if diff := cmp.Diff(d, back); diff != "" {
					t.Errorf("details changed by a JSON round trip (-xml +json):\n%s", diff)
				}
			} else {
				back, err := DecodeReportJSON(bytes.NewReader(out), testOptions())
				if err != nil {
					t.Fatalf("decode exported JSON: %v\n%s", err, out)
				}
				if diff := cmp.Diff(r, back); diff != "" {
					t.Errorf("report changed by a JSON round trip (-xml +json):\n%s", diff)
				}
			}
			if err := jsonSchemaFor(t, s.fileDetails).Validate(unmarshalForSchema(t, out)); err != nil {
				t.Errorf("exported JSON is not valid against the JSON Schema: %v", err)
			}
			if strings.HasSuffix(s.name, "-maximal") {
				golden(t, filepath.Join("testdata/json", s.name+".json"), out)
			}
		})
	}
}

// TestJSONSamples decodes the JSON samples of testdata/json: each must
// give the same value as the XML sample of the same name.
func TestJSONSamples(t *testing.T) {
	t.Parallel()
	paths, _ := filepath.Glob("testdata/json/*.json")
	if len(paths) < 2 {
		t.Fatalf("got %d JSON samples, want the maximal report and file details", len(paths))
	}
	for _, p := range paths {
		name := strings.TrimSuffix(filepath.Base(p), ".json")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			xmlData := readFile(t, filepath.Join("testdata/valid", name+".xml"))
			data := readFile(t, p)
			if strings.HasPrefix(name, "filedetails-") {
				_, _, want, err := DecodeFileDetails(bytes.NewReader(xmlData), testOptions())
				if err != nil {
					t.Fatal(err)
				}
				got, err := DecodeFileDetailsJSON(bytes.NewReader(data), testOptions())
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("(-xml +json):\n%s", diff)
				}
				return
			}
			want, err := DecodeReport(bytes.NewReader(xmlData), testOptions())
			if err != nil {
				t.Fatal(err)
			}
			got, err := DecodeReportJSON(bytes.NewReader(data), testOptions())
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-xml +json):\n%s", diff)
			}
		})
	}
}

// jsonSample is an invalid sample of testdata/json/invalid.
type jsonSample struct {
	name        string
	data        []byte
	fileDetails bool
	code        int
	contains    string
	schema      string // valid, invalid or skip: what the JSON Schema must say
	opt         Options
}

func loadJSONSamples(t testing.TB) []jsonSample {
	t.Helper()
	paths, err := filepath.Glob("testdata/json/invalid/*.json")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no samples in testdata/json/invalid: %v", err)
	}
	var out []jsonSample
	for _, p := range paths {
		name := strings.TrimSuffix(filepath.Base(p), ".json")
		s := jsonSample{name: name, data: readFile(t, p), fileDetails: strings.HasPrefix(name, "filedetails-"), opt: testOptions()}
		want, err := os.ReadFile(strings.TrimSuffix(p, ".json") + ".want")
		if err != nil {
			t.Fatalf("%s has no .want file", p)
		}
		for _, line := range strings.Split(string(want), "\n") {
			k, v, _ := strings.Cut(line, ": ")
			switch k {
			case "code":
				s.code, _ = strconv.Atoi(v)
			case "contains":
				s.contains = v
			case "schema":
				s.schema = v
			case "maxElements":
				s.opt.MaxElements, _ = strconv.Atoi(v)
			case "":
			default:
				t.Fatalf("%s.want: unknown key %q", name, k)
			}
		}
		if s.code == 0 || s.contains == "" || s.schema == "" {
			t.Fatalf("%s.want needs code, contains and schema", name)
		}
		out = append(out, s)
	}
	return out
}

func (s jsonSample) decode() error {
	if s.fileDetails {
		_, err := DecodeFileDetailsJSON(bytes.NewReader(s.data), s.opt)
		return err
	}
	_, err := DecodeReportJSON(bytes.NewReader(s.data), s.opt)
	return err
}

func TestJSONInvalidSamples(t *testing.T) {
	t.Parallel()
	samples := loadJSONSamples(t)
	if len(samples) < 15 {
		t.Errorf("got %d invalid JSON samples, want at least 15", len(samples))
	}
	for _, s := range samples {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			err := s.decode()
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

// TestJSONSchemaAgreesWithDecoder checks the invalid samples against the
// JSON Schema: those breaking what a JSON Schema can express must be
// invalid, those breaking only a business rule or a limit valid.
func TestJSONSchemaAgreesWithDecoder(t *testing.T) {
	t.Parallel()
	for _, s := range loadJSONSamples(t) {
		if s.schema == "skip" {
			continue
		}
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			err := jsonSchemaFor(t, s.fileDetails).Validate(unmarshalForSchema(t, s.data))
			switch s.schema {
			case "valid":
				if err != nil {
					t.Errorf("got %v, want the sample valid against the JSON Schema", err)
				}
			case "invalid":
				if err == nil {
					t.Errorf("got valid, want the sample invalid against the JSON Schema")
				}
			default:
				t.Fatalf("schema: %q", s.schema)
			}
		})
	}
}

// jsonWrap is the minimal report with extra members (JSON text starting
// with a comma) in incidentSummary and in the report.
func jsonWrap(summaryExtra, after string) string {
	return `{"incidentSummary": {"incidentType": "Child Sex Tourism", "incidentDateTime": "2025-01-02T03:04:05Z"` + summaryExtra +
		`}, "reporter": {"reportingPerson": {}}` + after + `}`
}

func TestDecodeReportJSONCases(t *testing.T) {
	t.Parallel()
	flags := func(s string) string { return jsonWrap(`, "reportAnnotations": {`+s+`}`, "") }
	web := func(s string) string { return jsonWrap("", `, "internetDetails": [{"webPageIncident": `+s+`}]`) }
	victim := func(s string) string { return jsonWrap("", `, "victim": [{"victimPerson": `+s+`}]`) }
	tests := []struct {
		name     string
		doc      string
		opt      Options
		code     int // 0: valid
		contains string
		check    func(t *testing.T, r *haven.Report)
	}{
		{name: "minimal", doc: jsonWrap("", ""), check: func(t *testing.T, r *haven.Report) {
			want := &haven.Report{Incident: haven.IncidentSummary{Type: haven.IncidentSexTourism, DateTime: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)}}
			if diff := cmp.Diff(want, r); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		}},
		{name: "member order irrelevant", doc: `{"reporter": {"reportingPerson": {}}, "incidentSummary": {"incidentDateTime": "2025-01-02T03:04:05Z", "incidentType": "Child Sex Tourism"}}`},
		{name: "bom and whitespace", doc: "\uFEFF \n" + jsonWrap("", "") + "\n\t "},
		{name: "flag true", doc: flags(`"spam": true`), check: func(t *testing.T, r *haven.Report) {
			if a := r.Incident.Annotations; a == nil || !a.Spam {
				t.Errorf("got %+v, want spam", a)
			}
		}},
		{name: "flag strings", doc: flags(`"spam": "true", "sextortion": "1", "csamSolicitation": ""`), check: func(t *testing.T, r *haven.Report) {
			if a := r.Incident.Annotations; a == nil || !a.Spam || !a.Sextortion || !a.CSAMSolicitation {
				t.Errorf("got %+v, want three flags", a)
			}
		}},
		{name: "flag false", doc: flags(`"spam": false`), code: 4100, contains: "report/incidentSummary/reportAnnotations/spam: false is not allowed: a presence flag is true"},
		{name: "flag string false", doc: flags(`"spam": "false"`), code: 4100, contains: `value "false" is not allowed`},
		{name: "flag number", doc: flags(`"spam": 1`), code: 4100, contains: "spam: expected true, found a number"},
		{name: "empty annotations", doc: flags(``), check: func(t *testing.T, r *haven.Report) {
			if r.Incident.Annotations == nil {
				t.Errorf("got no annotations, want an empty set as for <reportAnnotations/>")
			}
		}},
		{name: "booleans", doc: web(`{"@thirdPartyHostedContent": "1"}`), check: func(t *testing.T, r *haven.Report) {
			if p := r.Internet[0].ThirdPartyHosted; p == nil || !*p {
				t.Errorf("got %v, want true", p)
			}
		}},
		{name: "boolean false", doc: web(`{"@thirdPartyHostedContent": false}`), check: func(t *testing.T, r *haven.Report) {
			if p := r.Internet[0].ThirdPartyHosted; p == nil || *p {
				t.Errorf("got %v, want false", p)
			}
		}},
		{name: "boolean as number", doc: web(`{"@thirdPartyHostedContent": 1}`), code: 4100, contains: "report/internetDetails[1]/webPageIncident/@thirdPartyHostedContent: expected true or false, found a number"},
		{name: "boolean word", doc: web(`{"@thirdPartyHostedContent": "yes"}`), code: 4100, contains: `attribute thirdPartyHostedContent value "yes" is not a boolean`},
		{name: "numbers", doc: victim(`{"age": 14}`) + "", check: func(t *testing.T, r *haven.Report) {
			if a := r.Victims[0].Person.Age; a == nil || *a != 14 {
				t.Errorf("got %v, want 14", a)
			}
		}},
		{name: "number as string", doc: victim(`{"age": " 14 "}`), check: func(t *testing.T, r *haven.Report) {
			if a := r.Victims[0].Person.Age; a == nil || *a != 14 {
				t.Errorf("got %v, want 14", a)
			}
		}},
		{name: "integral float", doc: victim(`{"age": 14.0}`), check: func(t *testing.T, r *haven.Report) {
			if a := r.Victims[0].Person.Age; a == nil || *a != 14 {
				t.Errorf("got %v, want 14", a)
			}
		}},
		{name: "exponent integer", doc: jsonWrap("", `, "victim": [{"victimPerson": {}, "priorCTReports": [1e3, "-0"]}]`), check: func(t *testing.T, r *haven.Report) {
			if got := r.Victims[0].PriorCTReports; !slices.Equal(got, []int64{1000, 0}) {
				t.Errorf("got %v, want [1000 0]", got)
			}
		}},
		{name: "fraction for integer", doc: victim(`{"age": 14.5}`), code: 4100, contains: "<age> the value is not an integer"},
		{name: "huge integer", doc: victim(`{"age": 1e400}`), code: 4100, contains: "<age> the value is not an integer"},
		{name: "integer out of range", doc: victim(`{"age": 151}`), code: 4100, contains: "<age> the value is out of range"},
		{name: "int32 overflow", doc: victim(`{"age": 99999999999}`), code: 4100, contains: "out of range for xs:int"},
		{name: "long beyond float precision", doc: jsonWrap("", `, "victim": [{"victimPerson": {}, "priorCTReports": [9007199254740993]}]`), check: func(t *testing.T, r *haven.Report) {
			if got := r.Victims[0].PriorCTReports; !slices.Equal(got, []int64{9007199254740993}) {
				t.Errorf("got %v, want the exact integer", got)
			}
		}},
		{name: "doubles", doc: jsonWrap("", `, "internetDetails": [{"cellPhoneIncident": {"latitude": -0.5e1, "longitude": "12.25"}}]`), check: func(t *testing.T, r *haven.Report) {
			d := r.Internet[0]
			if d.Latitude == nil || *d.Latitude != -5 || d.Longitude == nil || *d.Longitude != 12.25 {
				t.Errorf("got %v %v, want -5 and 12.25", d.Latitude, d.Longitude)
			}
		}},
		{name: "double NaN string", doc: jsonWrap("", `, "internetDetails": [{"cellPhoneIncident": {"latitude": "NaN"}}]`), code: 4100, contains: "out of range"},
		{name: "string for string only", doc: victim(`{"firstName": 12}`), code: 4100, contains: "victimPerson/firstName: expected a string, found a number"},
		{name: "number for enum", doc: `{"incidentSummary": {"incidentType": 3, "incidentDateTime": "2025-01-02T03:04:05Z"}, "reporter": {"reportingPerson": {}}}`, code: 4100, contains: "report/incidentSummary/incidentType: expected a string, one of the 8 incident types, found a number"},
		{name: "null", doc: jsonWrap(`, "platform": null`, ""), code: 4100, contains: "report/incidentSummary/platform: null is not allowed: leave the member out"},
		{name: "null for object", doc: jsonWrap("", `, "lawEnforcement": null`), code: 4100, contains: "report/lawEnforcement: expected an object, found null"},
		{name: "text with attributes", doc: victim(`{"email": [{"#text": "a@example.org", "@type": "Work", "@verified": true, "@verificationDate": "2025-01-01T00:00:00+01:00"}]}`), check: func(t *testing.T, r *haven.Report) {
			want := []haven.Email{{Value: "a@example.org", Type: "Work", Verified: ptr(true), VerificationDate: time.Date(2024, 12, 31, 23, 0, 0, 0, time.UTC)}}
			if diff := cmp.Diff(want, r.Victims[0].Person.Emails); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		}},
		{name: "string for text with attributes", doc: victim(`{"email": ["a@example.org"]}`), code: 4100, contains: `victimPerson/email[1]: expected an object with the text in the member "#text" and the attributes in "@type", "@verified", "@verificationDate", found a string`},
		{name: "text missing", doc: victim(`{"email": [{"@type": "Work"}]}`), code: 4100, contains: `email[1]: missing member "#text"`},
		{name: "empty array", doc: victim(`{"email": []}`), check: func(t *testing.T, r *haven.Report) {
			if r.Victims[0].Person.Emails != nil {
				t.Errorf("got %v, want no e-mail", r.Victims[0].Person.Emails)
			}
		}},
		{name: "array for single", doc: jsonWrap(`, "platform": ["a"]`, ""), code: 4100, contains: "report/incidentSummary/platform: expected a string, found an array: <platform> is not repeatable"},
		{name: "object for array", doc: jsonWrap("", `, "victim": {"victimPerson": {}}`), code: 4100, contains: "report/victim: expected an array (<victim> may repeat: send an array, also for a single item), found an object"},
		{name: "array in array", doc: jsonWrap("", `, "victim": [[{"victimPerson": {}}]]`), code: 4100, contains: "report/victim[1]: expected an object, found an array"},
		{name: "choice", doc: web(`{"url": ["https://example.com"], "@thirdPartyHostedContent": true}`), check: func(t *testing.T, r *haven.Report) {
			want := []haven.InternetDetail{{Kind: haven.InternetWebPage, URLs: []string{"https://example.com"}, ThirdPartyHosted: ptr(true)}}
			if diff := cmp.Diff(want, r.Internet); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		}},
		{name: "two choices", doc: jsonWrap("", `, "internetDetails": [{"webPageIncident": {}}, {"chatImIncident": {}, "emailIncident": {}}]`), code: 4100, contains: `report/internetDetails[2]: members "emailIncident" and "chatImIncident" cannot be used together: <internetDetails> has exactly one member`},
		{name: "unknown choice", doc: jsonWrap("", `, "internetDetails": [{"smsIncident": {}}]`), code: 4100, contains: `report/internetDetails[1]: unknown member "smsIncident"; allowed: webPageIncident, emailIncident`},
		{name: "unknown member", doc: jsonWrap(`, "platfrom": "x"`, ""), code: 4100, contains: `report/incidentSummary: unknown member "platfrom"; allowed: incidentType, platform, escalateToHighPriority`},
		{name: "long unknown member", doc: jsonWrap("", `, "`+strings.Repeat("n", 500)+`": 1`), code: 4100, contains: `report: unknown member "` + strings.Repeat("n", 60) + `…"`},
		{name: "wrapper member", doc: `{"report": ` + jsonWrap("", "") + `}`, code: 4100, contains: `report: unknown member "report"`},
		{name: "attribute on plain element", doc: jsonWrap(`, "@id": "1"`, ""), code: 4100, contains: `report/incidentSummary: member "@id" is not allowed: <incidentSummary> has no attributes`},
		{name: "text on element without text", doc: victim(`{"#text": "x"}`), code: 4100, contains: `victimPerson: member "#text" is not allowed: <victimPerson> has no text of its own`},
		{name: "text on element with attributes only", doc: jsonWrap("", `, "batchedReport": {"@reason": "VIRAL_POTENTIAL_MEME", "#text": "x"}`), code: 4100, contains: `report/batchedReport: member "#text" is not allowed: <batchedReport> has attributes but no text; allowed: @reason`},
		{name: "duplicate member", doc: jsonWrap(`, "platform": "a", "platform": "b"`, ""), code: 4100, contains: `report/incidentSummary: member "platform" appears more than once`},
		{name: "duplicate attribute", doc: victim(`{"email": [{"#text": "a", "@type": "Home", "@type": "Work"}]}`), code: 4100, contains: `email[1]: member "@type" appears more than once`},
		{name: "missing required", doc: `{"incidentSummary": {"incidentDateTime": "2025-01-02T03:04:05Z"}, "reporter": {"reportingPerson": {}}}`, code: 4100, contains: `report/incidentSummary: missing required member "incidentType"`},
		{name: "missing required attribute", doc: jsonWrap("", `, "batchedReport": {}`), code: 4100, contains: `report/batchedReport: missing required member "@reason", one of the batched-report reasons (VIRAL_POTENTIAL_MEME)`},
		{name: "root array", doc: `[` + jsonWrap("", "") + `]`, code: 4100, contains: "report: expected a JSON object (the report itself, without a wrapper member), found an array"},
		{name: "root string", doc: `"report"`, code: 4100, contains: "found a string"},
		{name: "control character", doc: jsonWrap("", `, "additionalInfo": "a\u0000b"`), code: 4100, contains: "report/additionalInfo: <additionalInfo> contains a character that XML does not allow (U+0000)"},
		{name: "line breaks kept", doc: jsonWrap("", `, "additionalInfo": "a\r\nb\t "`), check: func(t *testing.T, r *haven.Report) {
			if r.AdditionalInfo != "a\r\nb\t " {
				t.Errorf("got %q", r.AdditionalInfo)
			}
		}},
		{name: "future date", doc: strings.Replace(jsonWrap("", ""), "2025-01-02T03:04:05Z", "2025-06-01T12:05:01Z", 1), code: 4100, contains: "report/incidentSummary/incidentDateTime: <incidentDateTime> 2025-06-01T12:05:01Z is in the future (server time 2025-06-01T12:00:00Z)"},
		{name: "empty", doc: " \n", code: 4110, contains: "the document is empty"},
		{name: "not well-formed", doc: "{\n  \"incidentSummary\": {,}", code: 4110, contains: "line 2, column 23: not well-formed JSON: invalid character ','"},
		{name: "truncated", doc: `{"incidentSummary": {`, code: 4110, contains: "not well-formed JSON: the document ends in the middle of a value"},
		{name: "trailing comma", doc: `{"reporter": {},}`, code: 4110, contains: "not well-formed JSON"},
		{name: "two documents", doc: jsonWrap("", "") + jsonWrap("", ""), code: 4110, contains: "more data after the end of the top-level value"},
		{name: "trailing garbage", doc: jsonWrap("", "") + " x", code: 4110, contains: "more data after the end of the top-level value"},
		{name: "invalid utf-8", doc: jsonWrap(`, "platform": "Caf`+"\xe9"+`"`, ""), code: 4110, contains: "line 1, column 119: invalid UTF-8"},
		{name: "utf-16", doc: "\xFF\xFE{\x00}\x00", code: 4110, contains: "UTF-16"},
		{name: "single quotes", doc: `{'reporter': {}}`, code: 4110, contains: "not well-formed JSON"},
		{name: "max depth option", doc: victim(`{}`), opt: Options{Now: testNow, MaxDepth: 2}, code: 4110, contains: "nested more than 2 deep"},
		{name: "max depth exact", doc: victim(`{"email": [{"#text": "a"}]}`), opt: Options{Now: testNow, MaxDepth: 4}},
		{name: "max depth exceeded", doc: victim(`{"email": [{"#text": "a"}]}`), opt: Options{Now: testNow, MaxDepth: 3}, code: 4110, contains: "nested more than 3 deep"},
		{name: "nested arrays count", doc: `[[[[[1]]]]]`, opt: Options{Now: testNow, MaxDepth: 4}, code: 4110, contains: "nested more than 4 deep"},
		{name: "max elements option", doc: jsonWrap("", ""), opt: Options{Now: testNow, MaxElements: 5}, code: 4110, contains: "more than 5 values"},
		{name: "max elements exact", doc: jsonWrap("", ""), opt: Options{Now: testNow, MaxElements: 6}},
		{name: "max bytes option", doc: jsonWrap("", ""), opt: Options{Now: testNow, MaxBytes: 100}, code: 4110, contains: "larger than 100 bytes"},
		{name: "max bytes exact", doc: jsonWrap("", ""), opt: Options{Now: testNow, MaxBytes: int64(len(jsonWrap("", "")))}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			opt := tc.opt
			if opt.Now.IsZero() {
				opt.Now = testNow
			}
			r, err := DecodeReportJSON(strings.NewReader(tc.doc), opt)
			if tc.code == 0 {
				if err != nil {
					t.Fatalf("got %v, want no error", err)
				}
				if tc.check != nil {
					tc.check(t, r)
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

func ptr[T any](v T) *T { return &v }

func TestDecodeFileDetailsJSONCases(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		doc      string
		code     int
		contains string
		want     *haven.FileDetails
	}{
		{name: "empty", doc: `{}`, want: &haven.FileDetails{}},
		{name: "values", doc: `{"fileName": "a.png", "fileViewedByEsp": true, "fileRelevance": "Reported", "industryClassification": "A1",
			"originalFileHash": [{"#text": "d41d8cd98f00b204e9800998ecf8427e", "@hashType": "MD5"}],
			"ipCaptureEvent": {"ipAddress": "192.0.2.1", "port": 443},
			"details": [{"@type": "EXIF", "nameValuePair": [{"name": "Make", "value": "X"}]}], "additionalInfo": ["one", "two"]}`,
			want: &haven.FileDetails{FileName: "a.png", ViewedByESP: ptr(true), Relevance: "Reported", IndustryClassification: "A1",
				OriginalHashes: []haven.OriginalHash{{Type: "MD5", Value: "d41d8cd98f00b204e9800998ecf8427e"}},
				IPCapture:      &haven.IPCapture{IPAddress: "192.0.2.1", Port: ptr(443)},
				Details:        []haven.DetailSet{{Type: "EXIF", Pairs: []haven.NameValue{{Name: "Make", Value: "X"}}}},
				AdditionalInfo: []string{"one", "two"}}},
		{name: "legacy meme", doc: `{"potentialMeme": false}`, want: &haven.FileDetails{PotentialMeme: ptr(false)}},
		{name: "annotations", doc: `{"fileAnnotations": {"viral": true, "generativeAi": true}}`, want: &haven.FileDetails{Annotations: &haven.FileAnnotations{Viral: true, GenerativeAI: true}}},
		{name: "report id", doc: `{"reportId": 1}`, code: 4100, contains: `fileDetails: member "reportId" is not allowed in the JSON form: the report and the file are named by the URL`},
		{name: "file id", doc: `{"fileId": "0123456789abcdef0123456789abcdef"}`, code: 4100, contains: `fileDetails: member "fileId" is not allowed in the JSON form`},
		{name: "meme and annotations", doc: `{"potentialMeme": true, "fileAnnotations": {}}`, code: 4100, contains: `fileDetails: members "potentialMeme" and "fileAnnotations" cannot be used together: <fileDetails> takes only one of potentialMeme, fileAnnotations`},
		{name: "supplemental classification", doc: `{"fileRelevance": "Supplemental Reported", "industryClassification": "A1"}`, code: 4100, contains: `fileDetails/industryClassification: <industryClassification> is not allowed on a file whose <fileRelevance> is "Supplemental Reported"`},
		{name: "supplemental annotation", doc: `{"fileRelevance": "Supplemental Reported", "fileAnnotations": {"potentialMeme": true}}`, code: 4100, contains: "fileDetails/fileAnnotations/potentialMeme: <potentialMeme> is not allowed"},
		{name: "supplemental without", doc: `{"fileRelevance": "Supplemental Reported", "fileAnnotations": {"viral": true}}`, want: &haven.FileDetails{Relevance: "Supplemental Reported", Annotations: &haven.FileAnnotations{Viral: true}}},
		{name: "additionalInfo single", doc: `{"additionalInfo": "one"}`, code: 4100, contains: "fileDetails/additionalInfo: expected an array"},
		{name: "empty pairs", doc: `{"details": [{"nameValuePair": []}]}`, code: 4100, contains: "fileDetails/details[1]/nameValuePair: expected at least 1 item, found 0"},
		{name: "no pairs", doc: `{"details": [{}]}`, code: 4100, contains: `fileDetails/details[1]: missing required member "nameValuePair"`},
		{name: "hash type", doc: `{"originalFileHash": [{"#text": "x"}]}`, code: 4100, contains: `fileDetails/originalFileHash[1]: missing required member "@hashType"`},
		{name: "root array", doc: `[]`, code: 4100, contains: "fileDetails: expected a JSON object (the fileDetails itself"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d, err := DecodeFileDetailsJSON(strings.NewReader(tc.doc), testOptions())
			if tc.code == 0 {
				if err != nil {
					t.Fatalf("got %v, want no error", err)
				}
				if diff := cmp.Diff(tc.want, d); diff != "" {
					t.Errorf("(-want +got):\n%s", diff)
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

// TestJSONDefaultLimits checks the default depth and value caps on
// documents built here, so that the samples stay small.
func TestJSONDefaultLimits(t *testing.T) {
	t.Parallel()
	deep := jsonWrap("", `, "additionalInfo": `+strings.Repeat("[", 30)+strings.Repeat("]", 30))
	many := jsonWrap("", `, "victim": [{"victimPerson": {}, "priorCTReports": [`+strings.Repeat("1,", DefaultMaxElements)+`1]}]`)
	justEnough := jsonWrap("", `, "victim": [{"victimPerson": {}, "priorCTReports": [`+strings.Repeat("1,", DefaultMaxElements-11)+`1]}]`)
	for _, tc := range []struct {
		name, doc string
		code      int
		contains  string
	}{
		{"deep", deep, 4110, "values are nested more than 24 deep"},
		{"many", many, 4110, "the document has more than 20000 values"},
		{"just enough", justEnough, 0, ""},
	} {
		_, err := DecodeReportJSON(strings.NewReader(tc.doc), testOptions())
		if tc.code == 0 {
			if err != nil {
				t.Errorf("%s: got %v", tc.name, err)
			}
			continue
		}
		var ce *Error
		if !errors.As(err, &ce) || ce.Code != tc.code || !strings.Contains(ce.Description, tc.contains) {
			t.Errorf("%s: got %v, want %d containing %q", tc.name, err, tc.code, tc.contains)
		}
	}
}

// TestJSONReadErrorPassesThrough checks that a failure of the body reader
// is returned wrapped, not as a malformed document.
func TestJSONReadErrorPassesThrough(t *testing.T) {
	t.Parallel()
	boom := errors.New("connection reset")
	var ce *Error
	_, err := DecodeReportJSON(io.MultiReader(strings.NewReader("{"), iotest.ErrReader(boom)), testOptions())
	if !errors.Is(err, boom) || errors.As(err, &ce) {
		t.Errorf("report: got %v, want the read error wrapped", err)
	}
	_, err = DecodeFileDetailsJSON(io.MultiReader(strings.NewReader("{"), iotest.ErrReader(boom)), testOptions())
	if !errors.Is(err, boom) || errors.As(err, &ce) {
		t.Errorf("file details: got %v, want the read error wrapped", err)
	}
	body := http.MaxBytesReader(nil, io.NopCloser(strings.NewReader(jsonWrap("", ""))), 10)
	_, err = DecodeReportJSON(body, testOptions())
	var mbe *http.MaxBytesError
	if !errors.As(err, &mbe) || errors.As(err, &ce) {
		t.Errorf("got %v, want *http.MaxBytesError wrapped", err)
	}
}

// TestJSONErrorsDoNotLeakPersonalData puts a canary into personal fields
// made invalid and checks that no description quotes it.
func TestJSONErrorsDoNotLeakPersonalData(t *testing.T) {
	t.Parallel()
	const canary = "CANARY-0001"
	docs := []string{
		jsonWrap("", `, "victim": [{"victimPerson": {"firstName": "`+canary+strings.Repeat("x", 100)+`"}}]`),
		jsonWrap("", `, "victim": [{"victimPerson": {"age": "`+canary+`"}}]`),
		jsonWrap("", `, "victim": [{"victimPerson": {"dateOfBirth": "`+canary+`"}}]`),
		jsonWrap("", `, "victim": [{"victimPerson": {"email": [{"#text": "`+canary+strings.Repeat("x", 300)+`"}]}}]`),
		jsonWrap("", `, "victim": [{"victimPerson": {"phone": [{"#text": "555", "@extension": "`+canary+`"}]}}]`),
		jsonWrap("", `, "personOrUserReported": [{"screenName": "`+canary+strings.Repeat("x", 300)+`"}]`),
		jsonWrap("", `, "personOrUserReported": [{"screenName": ["`+canary+`"]}]`),
		jsonWrap("", `, "personOrUserReported": [{"screenName": {"`+canary+`": 1}}]`),
	}
	for i, doc := range docs {
		_, err := DecodeReportJSON(strings.NewReader(doc), testOptions())
		if err == nil {
			t.Errorf("doc %d: got no error", i)
			continue
		}
		if strings.Contains(err.Error(), canary) {
			t.Errorf("doc %d: description quotes a personal value: %v", i, err)
		}
	}
}

func TestEncodeJSONRejectsInvalid(t *testing.T) {
	t.Parallel()
	if err := EncodeReportJSON(&bytes.Buffer{}, nil); err == nil {
		t.Error("got no error for a nil report")
	}
	var out bytes.Buffer
	err := EncodeReportJSON(&out, &haven.Report{Incident: haven.IncidentSummary{DateTime: testNow}})
	var ce *Error
	if !errors.As(err, &ce) || !strings.Contains(ce.Description, `<incidentType> value "" is not one of the 8 incident types`) {
		t.Errorf("got %v, want an *Error about the incident type", err)
	}
	err = EncodeFileDetailsJSON(&out, &haven.FileDetails{Relevance: "Sometimes"})
	if !errors.As(err, &ce) || !strings.Contains(ce.Description, "fileRelevance") {
		t.Errorf("got %v, want an *Error about the relevance", err)
	}
	if out.Len() != 0 {
		t.Errorf("got %d bytes written, want none", out.Len())
	}
	out.Reset()
	if err := EncodeFileDetailsJSON(&out, nil); err != nil || out.String() != "{}\n" {
		t.Errorf("got %q, %v, want an empty object", out.String(), err)
	}
}

// TestJSONRoundTripEdgeCases takes the edge documents of the XML tests
// (odd spellings, empty values, extreme numbers and times) through JSON.
func TestJSONRoundTripEdgeCases(t *testing.T) {
	t.Parallel()
	for i, doc := range edgeReports {
		first, err := DecodeReport(strings.NewReader(doc), testOptions())
		if err != nil {
			t.Fatalf("report %d: %v", i, err)
		}
		out := encodeJSON(t, first, nil)
		second, err := DecodeReportJSON(bytes.NewReader(out), testOptions())
		if err != nil {
			t.Fatalf("report %d: %v\n%s", i, err, out)
		}
		if diff := cmp.Diff(first, second); diff != "" {
			t.Errorf("report %d changed (-xml +json):\n%s\n%s", i, diff, out)
		}
	}
	for i, doc := range edgeFileDetails {
		_, _, first, err := DecodeFileDetails(strings.NewReader(doc), testOptions())
		if err != nil {
			t.Fatalf("details %d: %v", i, err)
		}
		out := encodeJSON(t, nil, first)
		second, err := DecodeFileDetailsJSON(bytes.NewReader(out), testOptions())
		if err != nil {
			t.Fatalf("details %d: %v\n%s", i, err, out)
		}
		if diff := cmp.Diff(first, second); diff != "" {
			t.Errorf("details %d changed (-xml +json):\n%s\n%s", i, diff, out)
		}
	}
}

func TestEncodeJSONSpellings(t *testing.T) {
	t.Parallel()
	yes, no, age, lat := true, false, 14, -0.5
	r := &haven.Report{
		Incident: haven.IncidentSummary{Type: haven.IncidentSexTourism, DateTime: time.Date(2025, 1, 2, 3, 4, 5, 0, time.FixedZone("", 3600)),
			Annotations: &haven.ReportAnnotations{Spam: true}},
		Internet: []haven.InternetDetail{{Kind: haven.InternetCellPhone, Latitude: &lat}},
		Reported: []haven.Involved{{Role: haven.RoleReported, CompromisedAccount: &no,
			AssociatedAccounts: []haven.AssociatedAccount{{Type: "Other", ApproximateAge: "+007", PlatformThirdParty: &yes}}}},
		Victims:        []haven.Involved{{Person: &haven.Person{Age: &age}}},
		AdditionalInfo: "quote \" backslash \\ nl \n ctl \x7f <&> \u2028",
	}
	out := string(encodeJSON(t, r, nil))
	for _, want := range []string{
		`"incidentDateTime": "2025-01-02T02:04:05Z"`,
		`"spam": true`,
		`"latitude": -0.5`,
		`"compromisedAccount": false`,
		`"approximateAge": "+007"`,
		`"@thirdPartyUser": true`,
		`"age": 14`,
		`"additionalInfo": "quote \" backslash \\ nl \n ctl ` + "\x7f" + ` <&> \u2028"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %s:\n%s", want, out)
		}
	}
	// Members in schema order, the attributes after the elements.
	if !regexp.MustCompile(`(?s)"associatedAccount": \[\s*\{\s*"platform": \{\s*"#text": "",\s*"@thirdPartyUser": true\s*\},\s*"approximateAge": "\+007",\s*"@type": "Other"\s*\}`).MatchString(out) {
		t.Errorf("unexpected member order:\n%s", out)
	}
}

// ---------------------------------------------------------------------
// The JSON Schema.

// jsonSchemaDoc is an OpenAPI-like document holding every named schema,
// as the server serves them.
func jsonSchemaDoc(t testing.TB) any {
	t.Helper()
	b, err := json.Marshal(map[string]any{"components": map[string]any{"schemas": JSONSchemas()}})
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func jsonSchemaFor(t testing.TB, fileDetails bool) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource("https://haven.invalid/openapi.json", jsonSchemaDoc(t)); err != nil {
		t.Fatal(err)
	}
	name := "Report"
	if fileDetails {
		name = "FileDetails"
	}
	sch, err := c.Compile("https://haven.invalid/openapi.json#/components/schemas/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

func unmarshalForSchema(t testing.TB, data []byte) any {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(bytes.TrimPrefix(data, []byte("\uFEFF"))))
	if err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	return v
}

// TestJSONSchemaMatchesTable walks the JSON Schema with the table: every
// object has exactly the members of its complex type ("#text", the
// elements, "@" + the attributes), the required ones are listed as
// required, repeatable elements are arrays and unknown members are
// refused. Every reference resolves to a named schema.
func TestJSONSchemaMatchesTable(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal(JSONSchemas())
	if err != nil {
		t.Fatal(err)
	}
	var schemas map[string]any
	if err := json.Unmarshal(b, &schemas); err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{"Report": true, "FileDetails": true}
	resolve := func(s map[string]any) map[string]any {
		if r, ok := s["$ref"].(string); ok {
			name, ok := strings.CutPrefix(r, schemaRefPrefix)
			target, found := schemas[name].(map[string]any)
			if !ok || !found {
				t.Fatalf("reference %q does not resolve", r)
			}
			used[name] = true
			return target
		}
		return s
	}
	var walk func(path string, s map[string]any, ct *complexType, omit map[string]bool)
	walk = func(path string, s map[string]any, ct *complexType, omit map[string]bool) {
		s = resolve(s)
		if s["type"] != "object" || s["additionalProperties"] != false {
			t.Errorf("%s: got type %v, additionalProperties %v, want a closed object", path, s["type"], s["additionalProperties"])
		}
		props, _ := s["properties"].(map[string]any)
		var want, wantRequired []string
		if ct.text != nil {
			want = append(want, "#text")
			wantRequired = append(wantRequired, "#text")
		}
		for _, a := range ct.attrs {
			want = append(want, "@"+a.name)
			if a.required {
				wantRequired = append(wantRequired, "@"+a.name)
			}
		}
		for _, name := range ct.allowed {
			if omit[name] {
				continue
			}
			want = append(want, name)
			if p := ct.children[name].p; p.min > 0 && ct.model != modelChoice && ct.items[ct.children[name].item].choice == nil {
				wantRequired = append(wantRequired, name)
			}
		}
		var got, gotRequired []string
		for k := range props {
			got = append(got, k)
		}
		for _, r := range asSlice(s["required"]) {
			gotRequired = append(gotRequired, r.(string))
		}
		slices.Sort(want)
		slices.Sort(got)
		slices.Sort(wantRequired)
		slices.Sort(gotRequired)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: properties (-table +schema):\n%s", path, diff)
		}
		if diff := cmp.Diff(wantRequired, gotRequired); diff != "" {
			t.Errorf("%s: required (-table +schema):\n%s", path, diff)
		}
		if ct.model == modelChoice && (s["minProperties"] != 1.0 || s["maxProperties"] != 1.0) {
			t.Errorf("%s: a choice needs minProperties and maxProperties 1", path)
		}
		for _, name := range ct.allowed {
			if omit[name] {
				continue
			}
			p := ct.children[name].p
			ps, _ := props[name].(map[string]any)
			if ps == nil {
				continue
			}
			if p.max != 1 {
				if ps["type"] != "array" {
					t.Errorf("%s/%s: got %v, want an array", path, name, ps["type"])
					continue
				}
				if p.min > 0 && ps["minItems"] != float64(p.min) {
					t.Errorf("%s/%s: got minItems %v, want %d", path, name, ps["minItems"], p.min)
				}
				ps = ps["items"].(map[string]any)
			} else if ps["type"] == "array" {
				t.Errorf("%s/%s: a single element is an array", path, name)
			}
			if p.complex != nil {
				walk(path+"/"+name, ps, p.complex, nil)
			} else {
				resolve(ps)
			}
		}
		for _, a := range ct.attrs {
			if ps, ok := props["@"+a.name].(map[string]any); ok {
				resolve(ps)
			}
		}
	}
	walk("report", schemas["Report"].(map[string]any), tables.report.complex, nil)
	walk("fileDetails", schemas["FileDetails"].(map[string]any), tables.fileDetails.complex, fromURL)
	for name := range schemas {
		if !used[name] {
			t.Errorf("schema %s is never used", name)
		}
	}
	for _, name := range []string{"CT_Person", "CT_Address", "CT_Email", "CT_Phone", "CT_IpCaptureEvent", "CT_DeviceId", "CT_Country", "CT_DateTimeValue"} {
		if schemas[name] == nil {
			t.Errorf("no shared schema %s", name)
		}
	}
	if got := ReportJSONSchema()["properties"].(map[string]any)["reporter"]; got == nil {
		t.Errorf("ReportJSONSchema has no reporter")
	}
	if got := FileDetailsJSONSchema()["properties"].(map[string]any)["reportId"]; got != nil {
		t.Errorf("FileDetailsJSONSchema has reportId")
	}
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}

// TestJSONSchemaPatterns checks that every pattern of the JSON Schema
// agrees with the validator's on a few probes.
func TestJSONSchemaPatterns(t *testing.T) {
	t.Parallel()
	probes := []string{"", "a", "https://example.org/a?b=c", "https://example.org/a b", "x\u0085y", "x\x7fy", "x\ty",
		"+1", "+1234", "12", "2025-01-02T03:04:05Z", "2025-01-02T03:04:05.5+14:00", "2025-01-02T24:00:00Z", "2025-01-02", "2025-1-2"}
	seen := 0
	for _, st := range allSimpleTypes() {
		if st.pattern == "" {
			continue
		}
		seen++
		re, err := regexp.Compile(jsonPattern(st.pattern))
		if err != nil {
			t.Errorf("%s: %v", st.name, err)
			continue
		}
		for _, p := range probes {
			if re.MatchString(p) != st.re.MatchString(p) {
				t.Errorf("%s: %q: the JSON pattern says %v, the validator %v", st.name, p, re.MatchString(p), st.re.MatchString(p))
			}
		}
	}
	if seen < 4 {
		t.Errorf("checked %d patterns", seen)
	}
	for _, p := range []string{integerPattern, doublePattern} {
		regexp.MustCompile(p)
	}
	for _, s := range []string{"1", "-1.5", ".5", "1e3", "1E+3", "5."} {
		if !regexp.MustCompile(doublePattern).MatchString(s) || !isDouble(s) {
			t.Errorf("%q: the double pattern and isDouble disagree", s)
		}
	}
}

func allSimpleTypes() []*simpleType {
	var out []*simpleType
	seen := map[*simpleType]bool{}
	done := map[*complexType]bool{}
	add := func(st *simpleType) {
		if !seen[st] {
			seen[st] = true
			out = append(out, st)
		}
	}
	var walk func(ct *complexType)
	walk = func(ct *complexType) {
		if done[ct] {
			return
		}
		done[ct] = true
		for _, a := range ct.attrs {
			add(a.typ)
		}
		if ct.text != nil {
			add(ct.text)
		}
		for _, ref := range ct.children {
			if ref.p.simple != nil {
				add(ref.p.simple)
			} else {
				walk(ref.p.complex)
			}
		}
	}
	walk(tables.report.complex)
	walk(tables.fileDetails.complex)
	return out
}

// TestJSONSchemaRanges spot-checks numbers, booleans and flags in the
// schema: what the schema accepts the decoder accepts.
func TestJSONSchemaRanges(t *testing.T) {
	t.Parallel()
	sch := jsonSchemaFor(t, false)
	for _, tc := range []struct {
		doc   string
		valid bool
	}{
		{jsonWrap("", `, "victim": [{"victimPerson": {"age": 150}}]`), true},
		{jsonWrap("", `, "victim": [{"victimPerson": {"age": 151}}]`), false},
		{jsonWrap("", `, "victim": [{"victimPerson": {"age": "14"}}]`), true},
		{jsonWrap("", `, "victim": [{"victimPerson": {"age": "fourteen"}}]`), false},
		{jsonWrap("", `, "victim": [{"victimPerson": {"age": 1.5}}]`), false},
		{jsonWrap("", `, "internetDetails": [{"cellPhoneIncident": {"latitude": -90, "longitude": "180"}}]`), true},
		{jsonWrap("", `, "internetDetails": [{"cellPhoneIncident": {"latitude": 90.5}}]`), false},
		{jsonWrap("", `, "internetDetails": [{"cellPhoneIncident": {"latitude": "NaN"}}]`), false},
		{jsonWrap(`, "reportAnnotations": {"spam": true, "sextortion": "1"}`, ""), true},
		{jsonWrap(`, "reportAnnotations": {"spam": false}`, ""), false},
		{jsonWrap("", `, "lawEnforcement": {"agencyName": "X", "reportedToLe": "0", "servedLegalProcessDomestic": false}`), true},
		{jsonWrap("", `, "lawEnforcement": {"agencyName": "X", "reportedToLe": "no"}`), false},
		{jsonWrap("", `, "internetDetails": [{}]`), false},
		{jsonWrap("", `, "internetDetails": [{"webPageIncident": {}, "chatImIncident": {}}]`), false},
		{jsonWrap("", `, "internetDetails": [{"webPageIncident": {"url": ["https://example.org/a b"]}}]`), false},
		{strings.Replace(jsonWrap("", ""), "2025-01-02T03:04:05Z", "2025-01-02T03:04:05", 1), true},
		{strings.Replace(jsonWrap("", ""), "2025-01-02T03:04:05Z", "2025-01-02", 1), false},
	} {
		err := sch.Validate(unmarshalForSchema(t, []byte(tc.doc)))
		if (err == nil) != tc.valid {
			t.Errorf("%s: schema says %v, want valid=%v", tc.doc, err, tc.valid)
		}
		if tc.valid {
			if _, err := DecodeReportJSON(strings.NewReader(tc.doc), testOptions()); err != nil {
				t.Errorf("%s: valid against the schema, refused by the decoder: %v", tc.doc, err)
			}
		}
	}
	if v := math.MaxInt32; simpleSchema(&simpleType{base: kindInt})["maximum"] != v {
		t.Errorf("xs:int has no int32 maximum")
	}
}
