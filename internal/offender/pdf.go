package offender

import (
	"fmt"
	"io"
	"strings"

	"github.com/haven-hotline/haven/internal/pdfdoc"
)

// WriteLocatePDF writes a locate request's analytical report as an A4
// PDF: the request, the outcome and summary, the subject's record, a
// drawn timeline of residences, employment, travel and findings, the
// place list with coordinates, and the queries made.
//
// NOTE: like the referral package, the core fonts cover Windows-1252
// only; the page carries the exact text.
func WriteLocatePDF(w io.Writer, r *LocateReport) error {
	req := r.Request
	pdf, clean := pdfdoc.New("Locate request report "+req.CaseNumber, r.Generated,
		"RESTRICTED: law-enforcement sensitive, for the requesting agency's case only")
	pdf.AddPage()
	line := func(style string, size float64, text string) {
		pdf.SetFont("Helvetica", style, size)
		pdf.MultiCell(0, size*0.5, clean(text), "", "L", false)
	}
	line("B", 16, "Locate request: analytical report")
	line("", 10, fmt.Sprintf("Case number: %s   Agency: %s   Requested: %s", req.CaseNumber, r.AgencyName, req.CreatedAt.Format("2006-01-02")))
	line("", 10, fmt.Sprintf("Subject: %s   Status: %s   Outcome: %s   Delivered: %s", req.Subject, req.Status,
		strings.ReplaceAll(req.Outcome, "_", " "), day(req.DeliveredAt)))
	pdf.Ln(2)
	line("B", 12, "Summary")
	line("", 10, req.Summary)
	if o := r.Offender; o != nil {
		pdf.Ln(2)
		line("B", 12, "Registry record")
		line("", 10, fmt.Sprintf("%s - tier %s - %s - registered in %s", o.Name, tierName(o.Tier), o.Status, o.Jurisdiction))
		line("", 10, fmt.Sprintf("Description: %s, %d cm, %d kg, eyes %s, hair %s; %s", o.Sex, o.HeightCM, o.WeightKG, o.Eyes, o.Hair, o.Marks))
		line("", 10, "Compliance: "+r.Compliance.Reason)
	}
	if tl := r.Timeline; tl != nil && len(tl.Lanes) > 0 {
		pdf.Ln(3)
		line("B", 12, fmt.Sprintf("Timeline %s to %s", tl.Start.Format("2006-01-02"), tl.End.Format("2006-01-02")))
		left, width := 52.0, 122.0
		scale := width / tl.Width
		y := pdf.GetY() + 2
		pdf.SetFont("Helvetica", "", 7)
		for _, t := range tl.Ticks {
			pdf.SetDrawColor(200, 200, 200)
			pdf.Line(left+t.X*scale, y, left+t.X*scale, y+float64(len(tl.Lanes))*8+2)
			pdf.Text(left+t.X*scale+0.5, y+2, t.Label)
		}
		y += 4
		for _, l := range tl.Lanes {
			pdf.SetFont("Helvetica", "B", 8)
			pdf.Text(18, y+4, clean(l.Name))
			for _, e := range l.Entries {
				var rr, g, b int
				_, _ = fmt.Sscanf(e.Colour, "#%02x%02x%02x", &rr, &g, &b)
				pdf.SetFillColor(rr, g, b)
				pdf.Rect(left+e.X*scale, y+1, max(e.W*scale, 0.8), 4, "F")
			}
			y += 8
		}
		pdf.SetY(y + 2)
		pdf.SetFont("Helvetica", "", 9)
		for _, l := range tl.Lanes {
			for _, e := range l.Entries {
				to := dayOrNow(e.To)
				if e.Event {
					to = ""
				}
				text := fmt.Sprintf("%s: %s %s", l.Name, day(e.From), to)
				line("", 9, strings.TrimSpace(text)+" - "+e.Label+detail(e.Detail))
			}
		}
	}
	if len(r.Places) > 0 {
		pdf.Ln(2)
		line("B", 12, "Places")
		for _, p := range r.Places {
			coords := "no coordinates"
			if p.HasGeo {
				coords = p.Coordinates()
			}
			line("", 9, fmt.Sprintf("%s: %s (%s to %s) - %s%s", p.Kind, p.Label, day(p.From), dayOrNow(p.To), coords, detail(p.Detail)))
		}
	}
	if len(r.Candidates) > 0 {
		pdf.Ln(2)
		line("B", 12, "Candidate findings")
		for _, c := range r.Candidates {
			line("", 9, fmt.Sprintf("%s: %s - confidence %s%s", c.Kind, c.Value, c.Confidence, detail(c.Note)))
		}
	}
	if len(r.Queries) > 0 {
		pdf.Ln(2)
		line("B", 12, "Sources queried")
		for _, q := range r.Queries {
			line("", 9, fmt.Sprintf("%s, %s - asked: %s - found: %s", q.QueriedOn.Format("2006-01-02"), q.Source, q.Asked, q.Found))
		}
	}
	return pdf.Output(w)
}

func detail(s string) string {
	if s == "" {
		return ""
	}
	return " (" + s + ")"
}
