package cybertip

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// addJSONSeeds adds the JSON samples of testdata/json, the JSON form of
// every valid XML sample and of the edge documents, and a few documents
// built here.
func addJSONSeeds(f *testing.F) {
	paths, _ := filepath.Glob("testdata/json/*.json")
	more, _ := filepath.Glob("testdata/json/invalid/*.json")
	for _, p := range append(paths, more...) {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	valid, _ := filepath.Glob("testdata/valid/*.xml")
	docs := append(append([]string(nil), edgeReports...), edgeFileDetails...)
	for _, p := range valid {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		docs = append(docs, string(data))
	}
	for _, doc := range docs {
		var out bytes.Buffer
		if r, err := DecodeReport(strings.NewReader(doc), testOptions()); err == nil {
			if err := EncodeReportJSON(&out, r); err != nil {
				f.Fatal(err)
			}
		} else if _, _, d, err := DecodeFileDetails(strings.NewReader(doc), testOptions()); err == nil {
			if err := EncodeFileDetailsJSON(&out, d); err != nil {
				f.Fatal(err)
			}
		} else {
			f.Fatalf("seed does not decode: %v", err)
		}
		f.Add(out.Bytes())
	}
	for _, doc := range []string{
		jsonWrap(`, "reportAnnotations": {"spam": "1", "sextortion": true}`, `, "victim": [{"victimPerson": {"age": "+007", "email": [{"#text": " a ", "@verified": "0"}]}, "priorCTReports": [1e3, -0]}]`),
		jsonWrap("", `, "internetDetails": [{"cellPhoneIncident": {"latitude": -0.0, "longitude": 1e-320}}, {"webPageIncident": {}}]`),
		jsonWrap("", `, "additionalInfo": "a\r\nb\u2028\ud800"`),
		`{"fileRelevance": "Supplemental Reported", "potentialMeme": "0", "details": [{"nameValuePair": [{"name": "", "value": ""}]}]}`,
		`[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]`,
	} {
		f.Add([]byte(doc))
	}
}

// FuzzDecodeReportJSON checks that no input panics, every refusal is an
// *Error, and any accepted report survives a JSON round trip and an XML
// one unchanged.
func FuzzDecodeReportJSON(f *testing.F) {
	addJSONSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		opt := Options{Now: testNow}
		first, err := DecodeReportJSON(bytes.NewReader(data), opt)
		if err != nil {
			checkError(t, err) // an *Error, 4100 or 4110: the input is in memory, so no reader error
			return
		}
		var out bytes.Buffer
		if err := EncodeReportJSON(&out, first); err != nil {
			t.Fatalf("accepted report does not encode: %v", err)
		}
		second, err := DecodeReportJSON(bytes.NewReader(out.Bytes()), opt)
		if err != nil {
			t.Fatalf("exported JSON does not decode: %v\n%s", err, out.Bytes())
		}
		if diff := cmp.Diff(first, second); diff != "" {
			t.Fatalf("JSON round trip changed the report (-first +second):\n%s", diff)
		}
		out.Reset()
		if err := EncodeReport(&out, first); err != nil {
			t.Fatalf("accepted report does not encode as XML: %v", err)
		}
		third, err := DecodeReport(bytes.NewReader(out.Bytes()), opt)
		if err != nil {
			t.Fatalf("exported XML does not decode: %v\n%s", err, out.Bytes())
		}
		if diff := cmp.Diff(first, third); diff != "" {
			t.Fatalf("XML round trip changed the report (-json +xml):\n%s", diff)
		}
	})
}

// FuzzDecodeFileDetailsJSON is FuzzDecodeReportJSON for file details.
func FuzzDecodeFileDetailsJSON(f *testing.F) {
	addJSONSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		opt := Options{Now: testNow}
		first, err := DecodeFileDetailsJSON(bytes.NewReader(data), opt)
		if err != nil {
			checkError(t, err) // an *Error, 4100 or 4110: the input is in memory, so no reader error
			return
		}
		var out bytes.Buffer
		if err := EncodeFileDetailsJSON(&out, first); err != nil {
			t.Fatalf("accepted details do not encode: %v", err)
		}
		second, err := DecodeFileDetailsJSON(bytes.NewReader(out.Bytes()), opt)
		if err != nil {
			t.Fatalf("exported JSON does not decode: %v\n%s", err, out.Bytes())
		}
		if diff := cmp.Diff(first, second); diff != "" {
			t.Fatalf("JSON round trip changed the details (-first +second):\n%s", diff)
		}
		out.Reset()
		if err := EncodeFileDetails(&out, 1, "0123456789abcdef0123456789abcdef", first); err != nil {
			t.Fatalf("accepted details do not encode as XML: %v", err)
		}
		_, _, third, err := DecodeFileDetails(bytes.NewReader(out.Bytes()), opt)
		if err != nil {
			t.Fatalf("exported XML does not decode: %v\n%s", err, out.Bytes())
		}
		if diff := cmp.Diff(first, third); diff != "" {
			t.Fatalf("XML round trip changed the details (-json +xml):\n%s", diff)
		}
	})
}
