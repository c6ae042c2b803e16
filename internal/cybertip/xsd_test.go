package cybertip

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestXSDAgreesWithValidator runs libxml2's validator with the served
// schema over the samples: every valid sample and golden document must
// validate, every invalid sample that breaks the schema must not, and the
// samples that break only a business rule must validate. Together with
// TestValidSamples and TestInvalidSamples this shows that the XSD and the
// Go validator agree.
func TestXSDAgreesWithValidator(t *testing.T) {
	t.Parallel()
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("xmllint is required in CI: install Debian's libxml2-utils")
		}
		t.Skip("xmllint is not installed (Debian package libxml2-utils): the served XSD is not checked against the validator")
	}
	xsd := filepath.Join(t.TempDir(), "cybertipline.xsd")
	if err := os.WriteFile(xsd, XSD(), 0o644); err != nil {
		t.Fatal(err)
	}
	validate := func(path string) (bool, string) {
		out, err := exec.Command(xmllint, "--noout", "--nonet", "--schema", xsd, path).CombinedOutput()
		return err == nil, string(out)
	}

	goldens, _ := filepath.Glob("testdata/golden/*.xml")
	for _, g := range goldens {
		if ok, out := validate(g); !ok {
			t.Errorf("%s: got invalid, want valid:\n%s", g, out)
		}
	}
	for _, s := range loadSamples(t, "valid") {
		if ok, out := validate(s.path); !ok {
			t.Errorf("%s: got invalid, want valid:\n%s", s.path, out)
		}
	}
	checked := 0
	for _, s := range loadSamples(t, "invalid") {
		switch s.xmllint {
		case "skip":
			continue
		case "valid", "invalid":
		default:
			t.Errorf("%s: xmllint: %q, want valid, invalid or skip", s.name, s.xmllint)
			continue
		}
		checked++
		ok, out := validate(s.path)
		if want := s.xmllint == "valid"; ok != want {
			t.Errorf("%s: xmllint says valid=%v, want %v (the XSD and the validator disagree):\n%s", s.path, ok, want, out)
		}
	}
	if checked < 25 {
		t.Errorf("got %d invalid samples checked with xmllint, want at least 25", checked)
	}
}

// TestXSDGolden keeps the served schema under review: any change to the
// table shows as a diff of testdata/golden/cybertipline.xsd.
func TestXSDGolden(t *testing.T) {
	t.Parallel()
	golden(t, "testdata/golden/cybertipline.xsd", XSD())
	if a, b := XSD(), XSD(); &a[0] != &b[0] {
		t.Error("XSD() generated the schema twice, want it cached")
	}
	if !bytes.Contains(XSD(), []byte(`<xs:element name="viral" type="xs:boolean" fixed="true" minOccurs="0"/>`)) {
		t.Error("the schema does not declare presence flags as xs:boolean fixed=\"true\"")
	}
}
