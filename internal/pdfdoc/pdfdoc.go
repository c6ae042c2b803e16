// Package pdfdoc starts the PDF documents Haven hands to agencies and
// requesters (referral packages, identification reports, locate reports,
// assistance analyses): A4, Haven's margins and metadata, a restricted-use
// footer with page numbers on every page, and the function that makes a
// text printable in the core fonts.
//
// NOTE: the core Helvetica and Courier fonts cover Windows-1252 only;
// Text translates with fpdf's cp1252 translator and a character outside
// it prints as a dot. The pages and JSON that go with each PDF carry the
// exact text (docs/decisions/0011).
package pdfdoc

import (
	"fmt"
	"strings"
	"time"

	"codeberg.org/go-pdf/fpdf"
)

// New returns an A4 document titled title, dated at, whose every page
// ends with footer and its page number, and text, which turns a string
// into what the core fonts print: tabs become spaces, newlines stay (for
// MultiCell), other control characters become spaces.
func New(title string, at time.Time, footer string) (doc *fpdf.Fpdf, text func(string) string) {
	doc = fpdf.New("P", "mm", "A4", "")
	tr := doc.UnicodeTranslatorFromDescriptor("")
	text = func(s string) string {
		return tr(strings.Map(func(r rune) rune {
			switch {
			case r == '\n':
				return r
			case r < 0x20 || r == 0x7f:
				return ' '
			}
			return r
		}, s))
	}
	doc.SetTitle(title, true)
	doc.SetCreator("Haven", true)
	doc.SetCreationDate(at)
	doc.SetModificationDate(at)
	doc.SetCatalogSort(true)
	doc.SetMargins(18, 18, 18)
	doc.SetAutoPageBreak(true, 18)
	doc.AliasNbPages("{nb}")
	doc.SetFooterFunc(func() {
		doc.SetY(-13)
		doc.SetFont("Helvetica", "", 8)
		doc.SetTextColor(90, 90, 90)
		doc.CellFormat(0, 5, text(fmt.Sprintf("%s - page %d of {nb}", footer, doc.PageNo())), "", 0, "C", false, 0, "")
		doc.SetTextColor(0, 0, 0)
	})
	return doc, text
}
