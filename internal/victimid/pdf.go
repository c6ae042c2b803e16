package victimid

import (
	"fmt"
	"io"

	"github.com/haven-hotline/haven/internal/pdfdoc"
)

// WritePDF writes a report as an A4 PDF.
//
// NOTE: like the referral package, the core fonts cover Windows-1252
// only; the JSON and the page carry the exact text.
func WritePDF(w io.Writer, r *Report) error {
	pdf, clean := pdfdoc.New("Child identification report "+r.Request.CaseNumber, r.Request.CreatedAt,
		"RESTRICTED: for the requesting agency's case only")
	pdf.AddPage()
	line := func(style string, size float64, text string) {
		pdf.SetFont("Helvetica", style, size)
		pdf.MultiCell(0, size*0.5, clean(text), "", "L", false)
	}
	line("B", 16, "Child identification report")
	line("", 10, fmt.Sprintf("Case number: %s   Purpose: %s   Requested: %s", r.Request.CaseNumber, r.Request.Purpose,
		r.Request.CreatedAt.Format("2006-01-02 15:04 MST")))
	line("", 10, fmt.Sprintf("Submitted files: %d   Matched files: %d   Series found: %d", r.Result.Submitted, r.Result.Matched,
		len(r.Result.Series)))
	pdf.Ln(4)
	for _, s := range r.Result.Series {
		status := "unidentified"
		if s.Identified {
			status = "identified victims"
		}
		line("B", 12, fmt.Sprintf("%s (%s) - %d matched files - %s", s.Code, s.Name, s.Files, status))
		for _, c := range s.Contacts {
			line("", 10, fmt.Sprintf("Victim %s: identified by %s; contact %s, %s, %s", c.VictimID, c.Agency, c.OfficerName,
				c.OfficerEmail, c.OfficerPhone))
		}
		pdf.Ln(2)
	}
	if len(r.Result.Series) == 0 {
		line("", 10, "No submitted hash matched a known series.")
	}
	return pdf.Output(w)
}
