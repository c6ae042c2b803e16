package casework

import (
	"fmt"
	"io"

	"github.com/haven-hotline/haven/internal/pdfdoc"
)

// WriteAnalysisPDF writes the analysis delivered for an assistance
// request as an A4 PDF.
//
// NOTE: like the referral and victimid packages, the core fonts cover
// Windows-1252 only; the page carries the exact text.
func WriteAnalysisPDF(w io.Writer, v *AssistanceView) error {
	at := v.DeliveredAt
	if at.IsZero() {
		at = v.UpdatedAt
	}
	pdf, clean := pdfdoc.New("Technical assistance analysis "+v.ID, at, "RESTRICTED: for the requester's case only")
	pdf.AddPage()
	line := func(style string, size float64, text string) {
		pdf.SetFont("Helvetica", style, size)
		pdf.MultiCell(0, size*0.5, clean(text), "", "L", false)
	}
	line("B", 16, "Technical assistance analysis")
	line("", 10, fmt.Sprintf("Request: %s   From: %s   Received: %s", v.ID, v.SourceLabel, v.CreatedAt.Format("2006-01-02 15:04 MST")))
	org := v.RequesterOrg
	if v.AgencyName != "" {
		org = v.AgencyName
	}
	line("", 10, fmt.Sprintf("Requester: %s, %s   Their reference: %s", v.RequesterName, org, v.TheirReference))
	if !v.DeliveredAt.IsZero() {
		line("", 10, "Delivered: "+v.DeliveredAt.Format("2006-01-02 15:04 MST"))
	}
	pdf.Ln(4)
	line("B", 12, "Question")
	line("", 10, v.Question)
	pdf.Ln(3)
	line("B", 12, "Analysis")
	if v.Analysis == "" {
		line("", 10, "The analysis has not been delivered yet.")
	} else {
		line("", 10, v.Analysis)
	}
	return pdf.Output(w)
}
