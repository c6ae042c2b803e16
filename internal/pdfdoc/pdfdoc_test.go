package pdfdoc

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestNew(t *testing.T) {
	doc, text := New("Test document", time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC), "RESTRICTED: test")
	if got := text("a\tb\x01c\nd"); got != "a b c\nd" {
		t.Errorf("text = %q", got)
	}
	doc.AddPage()
	doc.SetFont("Helvetica", "", 10)
	doc.MultiCell(0, 5, text("Synthetic café line\nsecond line"), "", "L", false)
	var b bytes.Buffer
	if err := doc.Output(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(b.String(), "%PDF-") || doc.PageCount() != 1 {
		t.Errorf("not a one-page PDF (%d pages)", doc.PageCount())
	}
}
