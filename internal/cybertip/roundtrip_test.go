package cybertip

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/haven-hotline/haven"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/golden")

// canonNode is an element reduced to what the schema gives meaning to, for
// comparing two documents: values normalised by their type (whitespace,
// number and time spellings, flags <x/> and <x>true</x>), empty optional
// simple elements and attributes dropped, xs:all children in schema order.
type canonNode struct {
	Name     string
	Attrs    []string
	Text     string
	Children []*canonNode
}

func canonicalDoc(t *testing.T, data []byte, root *particle) *canonNode {
	t.Helper()
	n, err := readTree(bytes.NewReader(data), Options{MaxDepth: 64, MaxElements: 1 << 20, MaxBytes: 1 << 30})
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return canonicalComplex(t, n, root.complex)
}

func canonicalComplex(t *testing.T, n *node, ct *complexType) *canonNode {
	c := &canonNode{Name: n.name}
	for _, a := range n.attrs {
		if a.space != "" {
			continue // xsi:noNamespaceSchemaLocation and the like
		}
		decl := ct.attrs[ct.attrIndex(a.name)]
		if v := canonicalValue(t, decl.typ, a.value); v != "" || decl.required {
			c.Attrs = append(c.Attrs, a.name+"="+v)
		}
	}
	slices.Sort(c.Attrs)
	if ct.text != nil {
		c.Text = canonicalValue(t, ct.text, n.text)
		return c
	}
	for _, child := range n.children {
		ref, ok := ct.lookup(child)
		if !ok {
			t.Fatalf("unknown element <%s> in <%s>", child.name, n.name)
		}
		if p := ref.p; p.simple != nil {
			v := canonicalValue(t, p.simple, child.text)
			if v == "" && p.min == 0 && p.simple.base != kindFlag && p.max == 1 {
				continue // an empty optional element is as good as none
			}
			c.Children = append(c.Children, &canonNode{Name: child.name, Text: v})
			continue
		}
		c.Children = append(c.Children, canonicalComplex(t, child, ref.p.complex))
	}
	if ct.model == modelAll {
		slices.SortFunc(c.Children, func(a, b *canonNode) int {
			return ct.children[a.Name].item - ct.children[b.Name].item
		})
	}
	return c
}

func canonicalValue(t *testing.T, st *simpleType, raw string) string {
	s := collapse(raw)
	switch st.base {
	case kindString:
		return strings.TrimSpace(raw)
	case kindInt, kindLong:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatalf("integer %q: %v", s, err)
		}
		return strconv.FormatInt(n, 10)
	case kindDouble:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatalf("double %q: %v", s, err)
		}
		return strconv.FormatFloat(f, 'g', -1, 64)
	case kindBool:
		return strconv.FormatBool(s == "true" || s == "1")
	case kindFlag:
		return "true"
	case kindDateTime:
		tm, ok := parseDateTime(s)
		if !ok {
			t.Fatalf("dateTime %q", s)
		}
		return formatDateTime(tm)
	}
	return s
}

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRoundTripReports decodes every valid report, encodes it and decodes
// the result: the two values must be equal and the two documents
// equivalent.
func TestRoundTripReports(t *testing.T) {
	t.Parallel()
	for _, s := range loadSamples(t, "valid") {
		if s.fileDetails {
			continue
		}
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			first, err := DecodeReport(bytes.NewReader(s.data), testOptions())
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if err := EncodeReport(&out, first); err != nil {
				t.Fatal(err)
			}
			second, err := DecodeReport(bytes.NewReader(out.Bytes()), testOptions())
			if err != nil {
				t.Fatalf("decode exported XML: %v\n%s", err, out.Bytes())
			}
			if diff := cmp.Diff(first, second); diff != "" {
				t.Errorf("report changed by a round trip (-first +second):\n%s", diff)
			}
			if diff := cmp.Diff(canonicalDoc(t, s.data, tables.report), canonicalDoc(t, out.Bytes(), tables.report)); diff != "" {
				t.Errorf("exported XML differs from the input (-input +exported):\n%s", diff)
			}
			if !bytes.HasPrefix(out.Bytes(), []byte(`<?xml version="1.0" encoding="UTF-8"?>`+"\n<report>\n")) {
				t.Errorf("got a document starting %q, want an XML declaration and <report> without namespace", out.Bytes()[:60])
			}
		})
	}
}

func TestRoundTripFileDetails(t *testing.T) {
	t.Parallel()
	for _, s := range loadSamples(t, "valid") {
		if !s.fileDetails {
			continue
		}
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			id, fileID, first, err := DecodeFileDetails(bytes.NewReader(s.data), testOptions())
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if err := EncodeFileDetails(&out, id, fileID, first); err != nil {
				t.Fatal(err)
			}
			id2, fileID2, second, err := DecodeFileDetails(bytes.NewReader(out.Bytes()), testOptions())
			if err != nil {
				t.Fatalf("decode exported XML: %v\n%s", err, out.Bytes())
			}
			if id2 != id || fileID2 != fileID {
				t.Errorf("got %d %q, want %d %q", id2, fileID2, id, fileID)
			}
			if diff := cmp.Diff(first, second); diff != "" {
				t.Errorf("details changed by a round trip (-first +second):\n%s", diff)
			}
			if diff := cmp.Diff(canonicalDoc(t, s.data, tables.fileDetails), canonicalDoc(t, out.Bytes(), tables.fileDetails)); diff != "" {
				t.Errorf("exported XML differs from the input (-input +exported):\n%s", diff)
			}
		})
	}
}

// TestCanonicalComparisonDetects makes sure the comparison is not
// vacuous: a changed value, a dropped element and a reordering show.
func TestCanonicalComparisonDetects(t *testing.T) {
	t.Parallel()
	base := readFile(t, "testdata/valid/report-maximal.xml")
	want := canonicalDoc(t, base, tables.report)
	for _, edit := range [][2]string{
		{"<port>443</port>", "<port>444</port>"},
		{"<profileBio>Profile bio text.</profileBio>", ""},
		{`fleaCountry="GB"`, `fleaCountry="FR"`},
		{"<displayName>Synthetic User</displayName>\n    <displayName>S. User</displayName>", "<displayName>S. User</displayName>\n    <displayName>Synthetic User</displayName>"},
		{"<spam/>", ""},
	} {
		changed := bytes.Replace(base, []byte(edit[0]), []byte(edit[1]), 1)
		if bytes.Equal(changed, base) {
			t.Fatalf("edit %q does not apply", edit[0])
		}
		if cmp.Equal(want, canonicalDoc(t, changed, tables.report)) {
			t.Errorf("edit %q not detected", edit[0])
		}
	}
}

// TestSamplesCoverSchema proves the maximal samples use every element and
// attribute of the schema at least once.
func TestSamplesCoverSchema(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		root  *particle
		files []string
	}{
		{tables.report, []string{"report-maximal.xml"}},
		{tables.fileDetails, []string{"filedetails-maximal.xml", "filedetails-legacy-meme.xml"}},
	} {
		declared := map[string]bool{}
		declaredPaths(c.root.complex, declared, map[string]bool{})
		used := map[string]bool{}
		for _, f := range c.files {
			n, err := readTree(bytes.NewReader(readFile(t, filepath.Join("testdata/valid", f))), Options{MaxDepth: 64, MaxElements: 1 << 20, MaxBytes: 1 << 30})
			if err != nil {
				t.Fatal(err)
			}
			usedPaths(n, c.root.complex, used)
		}
		for p := range declared {
			if !used[p] {
				t.Errorf("%v: no sample uses %s", c.files, p)
			}
		}
	}
}

func declaredPaths(ct *complexType, out, seen map[string]bool) {
	if seen[ct.name] {
		return
	}
	seen[ct.name] = true
	for _, a := range ct.attrs {
		out[ct.name+"/@"+a.name] = true
	}
	for name, ref := range ct.children {
		out[ct.name+"/"+name] = true
		if ref.p.complex != nil {
			declaredPaths(ref.p.complex, out, seen)
		}
	}
}

func usedPaths(n *node, ct *complexType, out map[string]bool) {
	for _, a := range n.attrs {
		if a.space == "" {
			out[ct.name+"/@"+a.name] = true
		}
	}
	for _, c := range n.children {
		out[ct.name+"/"+c.name] = true
		if ref := ct.children[c.name]; ref.p != nil && ref.p.complex != nil {
			usedPaths(c, ref.p.complex, out)
		}
	}
}

// TestEncodeBuiltReport encodes a report built in Go, as Haven's own
// channels create them, and checks the golden document.
func TestEncodeBuiltReport(t *testing.T) {
	t.Parallel()
	yes, age, lat := true, 14, 51.5
	r := &haven.Report{
		ID: 99, Source: haven.SourcePublic, Status: haven.ReportOpen, // not part of the document
		Incident: haven.IncidentSummary{
			Type:        haven.IncidentEnticement,
			Annotations: &haven.ReportAnnotations{Sextortion: true},
			DateTime:    time.Date(2025, 1, 2, 3, 4, 5, 500_000_000, time.FixedZone("", 3600)),
		},
		Internet: []haven.InternetDetail{
			{Kind: haven.InternetWebPage, URLs: []string{"https://www.example.org/a?b=c&d=e"}, ThirdPartyHosted: &yes},
			{Kind: haven.InternetCellPhone, Phone: &haven.Phone{Value: "555-0100", CountryCallingCode: "+44"}, Latitude: &lat},
		},
		LawEnforcement: &haven.LawEnforcement{AgencyName: "Example Police", FLEACountry: "GB", ServedLegalProcessInternational: &yes},
		Reporter:       haven.Reporter{ReportingPerson: haven.Person{FirstName: "Rita", Emails: []haven.Email{{Value: "rita@example.org", Type: "Work"}}}},
		Victims:        []haven.Involved{{Role: haven.RoleVictim, Person: &haven.Person{Age: &age}, AdditionalInfo: []string{"Line one\nline two <&>"}}},
		Recipients:     []haven.Involved{{Role: haven.RoleRecipient}},
		AdditionalInfo: "Entered by hotline staff.\r\nSecond line.",
	}
	var out bytes.Buffer
	if err := EncodeReport(&out, r); err != nil {
		t.Fatal(err)
	}
	golden(t, "testdata/golden/report-built.xml", out.Bytes())
	back, err := DecodeReport(bytes.NewReader(out.Bytes()), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	if back.AdditionalInfo != r.AdditionalInfo || back.Victims[0].AdditionalInfo[0] != r.Victims[0].AdditionalInfo[0] {
		t.Errorf("got %q, %q: text changed", back.AdditionalInfo, back.Victims[0].AdditionalInfo)
	}
	if !back.Incident.DateTime.Equal(r.Incident.DateTime) {
		t.Errorf("got %v, want %v", back.Incident.DateTime, r.Incident.DateTime)
	}
}

func TestEncodeRejectsInvalid(t *testing.T) {
	t.Parallel()
	valid := func() *haven.Report {
		return &haven.Report{Incident: haven.IncidentSummary{Type: haven.IncidentSexTourism, DateTime: testNow}}
	}
	tests := []struct {
		name     string
		edit     func(r *haven.Report)
		contains string
	}{
		{"no incident type", func(r *haven.Report) { r.Incident.Type = "" }, `<incidentType> value "" is not one of the 8 incident types`},
		{"unknown internet kind", func(r *haven.Report) { r.Internet = []haven.InternetDetail{{Kind: "telegram"}} }, "<internetDetails> is empty"},
		{"long name", func(r *haven.Report) { r.Reporter.ReportingPerson.FirstName = strings.Repeat("n", 101) }, "at most 100 are allowed"},
		{"bad country", func(r *haven.Report) {
			r.Reporter.ReportingPerson.Addresses = []haven.Address{{Country: "XX"}}
		}, "is not one of the country codes"},
		{"control character", func(r *haven.Report) { r.AdditionalInfo = "a\x00b" }, "contains a character that XML does not allow (U+0000)"},
		{"associated account without type", func(r *haven.Report) {
			r.Victims = []haven.Involved{{AssociatedAccounts: []haven.AssociatedAccount{{Platform: "Example"}}}}
		}, `attribute type value "" is not one of`},
		{"flea country without flag", func(r *haven.Report) {
			r.LawEnforcement = &haven.LawEnforcement{AgencyName: "Example Police", FLEACountry: "GB"}
		}, `<servedLegalProcessInternational> value "" is not a boolean`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := valid()
			tc.edit(r)
			var out bytes.Buffer
			err := EncodeReport(&out, r)
			if err == nil || !strings.Contains(err.Error(), tc.contains) {
				t.Errorf("got %v, want an error containing %q", err, tc.contains)
			}
			if out.Len() != 0 {
				t.Errorf("got %d bytes written, want none", out.Len())
			}
		})
	}
	if err := EncodeReport(&bytes.Buffer{}, valid()); err != nil {
		t.Errorf("got %v for a valid report", err)
	}
}

// golden compares got with the file, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(name)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s (-want +got):\n%s", name, diff)
	}
}

// edgeReports are documents whose values stress the encoder's escaping
// and number and time spellings; the fuzzers start from them too.
var edgeReports = []string{
	wrap("", "<additionalInfo>a&#xD;b]]&gt;c&#x9;d\n e  </additionalInfo>"),
	wrap("<platform>  spaced  </platform><escalateToHighPriority></escalateToHighPriority>", ""),
	wrap("", `<personOrUserReported><associatedAccount type=" Other "><platform thirdPartyUser="0"></platform><approximateAge>+007</approximateAge><priorCTReport>-0</priorCTReport></associatedAccount></personOrUserReported>`),
	strings.Replace(wrap("", ""), "2025-01-02T03:04:05Z", "2025-01-02T03:04:05.12345678919-00:30", 1),
	strings.Replace(wrap("", ""), "2025-01-02T03:04:05Z", "0001-01-01T00:00:00Z", 1),
	wrap("", `<victim><victimPerson><email verificationDate="0001-01-01T00:00:00Z" verified="1">a@example.org</email></victimPerson><accountPermanentlyDisabled userNotified="0">0</accountPermanentlyDisabled></victim>`),
	strings.Replace(wrap("", ""), "<reporter>", `<internetDetails><cellPhoneIncident><latitude>-0</latitude><longitude>1e-320</longitude></cellPhoneIncident></internetDetails><internetDetails><webPageIncident/></internetDetails><lawEnforcement><agencyName/><servedLegalProcessInternational fleaCountry="">false</servedLegalProcessInternational></lawEnforcement><reporter>`, 1),
	wrap("", `<intendedRecipient><displayName/><displayName></displayName><additionalInfo/></intendedRecipient>`),
}

var edgeFileDetails = []string{
	"<fileDetails><reportId>-0</reportId><fileId/><originalFileHash hashType=\"a&#xA;b&#x9;c\">x&#xD;</originalFileHash><details><nameValuePair><name/><value/></nameValuePair></details></fileDetails>",
	"<fileDetails><reportId>+9223372036854775807</reportId><fileId> a \t b </fileId><potentialMeme>0</potentialMeme><additionalInfo/><additionalInfo/></fileDetails>",
}

func TestRoundTripEdgeCases(t *testing.T) {
	t.Parallel()
	for i, doc := range edgeReports {
		first, err := DecodeReport(strings.NewReader(doc), testOptions())
		if err != nil {
			t.Fatalf("report %d: %v", i, err)
		}
		var out bytes.Buffer
		if err := EncodeReport(&out, first); err != nil {
			t.Fatalf("report %d: %v", i, err)
		}
		second, err := DecodeReport(bytes.NewReader(out.Bytes()), testOptions())
		if err != nil {
			t.Fatalf("report %d: %v\n%s", i, err, out.Bytes())
		}
		if diff := cmp.Diff(first, second); diff != "" {
			t.Errorf("report %d changed (-first +second):\n%s", i, diff)
		}
	}
	for i, doc := range edgeFileDetails {
		id, fileID, first, err := DecodeFileDetails(strings.NewReader(doc), testOptions())
		if err != nil {
			t.Fatalf("details %d: %v", i, err)
		}
		var out bytes.Buffer
		if err := EncodeFileDetails(&out, id, fileID, first); err != nil {
			t.Fatalf("details %d: %v", i, err)
		}
		id2, fileID2, second, err := DecodeFileDetails(bytes.NewReader(out.Bytes()), testOptions())
		if err != nil {
			t.Fatalf("details %d: %v\n%s", i, err, out.Bytes())
		}
		if diff := cmp.Diff(first, second); diff != "" || id != id2 || fileID != fileID2 {
			t.Errorf("details %d changed (-first +second):\n%s", i, diff)
		}
	}
}
