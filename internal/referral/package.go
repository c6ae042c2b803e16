package referral

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/audit"
	"github.com/haven-hotline/haven/internal/cybertip"
	"github.com/haven-hotline/haven/internal/facts"
	"github.com/haven-hotline/haven/internal/store"
)

// Package formats.
const (
	FormatPage = "page" // the summary page, read in the browser
	FormatPDF  = "pdf"
	FormatJSON = "json"
)

// Fact is one labelled value of the summary.
type Fact = facts.Fact

// Section is a titled group of facts.
type Section struct {
	Title string
	Rows  []Fact
}

// Package is a referral package: the report as the recipient may see it,
// summarised in sections, with its files (by ID and hashes), what the
// public reporter added later, the referral or referrals, and the
// preservation deadline. The summary page, the PDF and the JSON are all
// made from it.
type Package struct {
	GeneratedAt time.Time
	// Report is the report as shown: for an agency, without the contact
	// details of a public or phone reporter (ReporterWithheld), which the
	// hotline keeps; never with a phone caller's callback details.
	Report           *haven.Report
	ReporterWithheld bool
	Sections         []Section
	Followups        []*store.ReportFollowup
	Preservation     Preservation
	// Agency is the recipient of an agency's package; nil for staff.
	Agency *haven.Agency
	// Referral is the agency's own referral (agency packages).
	Referral *ReferralView
	// Referrals are the report's live referrals (staff packages).
	Referrals []*ReferralView
	Names     map[string]string
}

// Urgent returns why the reporter asked for urgent handling ("yes" when
// they gave no reason), or "" when they did not.
func (p *Package) Urgent() string {
	e := p.Report.Incident.Escalate
	switch {
	case e == nil:
		return ""
	case strings.TrimSpace(*e) == "":
		return "yes"
	}
	return *e
}

// ForAgency reports whether the package is an agency's.
func (p *Package) ForAgency() bool { return p.Agency != nil }

// Package returns the referral package of a report, for the format given
// (FormatPage, FormatPDF or FormatJSON); the read is audited.
//
// A law-enforcement user gets it only while their agency holds a live
// referral of the report; otherwise ErrNotFound, exactly as for a report
// that does not exist, and the refusal is audited. Staff need PermRefer
// for the downloads and PermReportRead for the page.
func (s *Service) Package(ctx context.Context, a haven.Actor, reportID int64, format string) (*Package, error) {
	switch format {
	case FormatPage, FormatPDF, FormatJSON:
	default:
		return nil, haven.ErrNotFound
	}
	if a.Role == haven.RoleLE && !a.System {
		return s.agencyPackage(ctx, a, reportID, format)
	}
	perm := haven.PermReportRead
	if format != FormatPage {
		perm = haven.PermRefer
	}
	if err := s.require(a, perm); err != nil {
		return nil, s.deny(ctx, a, "referral.package", reportID, err)
	}
	p := &Package{GeneratedAt: s.clock.Now()}
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		rep, err := tx.Report(ctx, reportID, false)
		if err != nil {
			return err
		}
		all, err := reportReferrals(ctx, tx, reportID)
		if err != nil {
			return err
		}
		for _, v := range all {
			if v.Live() {
				p.Referrals = append(p.Referrals, v)
			}
		}
		if p.Names, err = names(ctx, tx, "", authors(p.Referrals...)...); err != nil {
			return err
		}
		if err := s.fill(ctx, tx, p, rep, false); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "referral.package", ObjectType: "report", ObjectID: reportRef(reportID),
			Details: map[string]string{"format": format}})
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

func (s *Service) agencyPackage(ctx context.Context, a haven.Actor, reportID int64, format string) (*Package, error) {
	typ := "referral.read"
	if format != FormatPage {
		typ = "referral.download"
	}
	p := &Package{GeneratedAt: s.clock.Now()}
	err := s.agencyTx(ctx, a, typ, reportID, func(tx *store.Tx, r *store.Referral) error {
		rep, err := tx.Report(ctx, reportID, false)
		if err != nil {
			return err
		}
		if p.Referral, err = view(ctx, tx, r); err != nil {
			return err
		}
		p.Agency = p.Referral.Agency
		if p.Names, err = names(ctx, tx, a.AgencyID, authors(p.Referral)...); err != nil {
			return err
		}
		if err := s.fill(ctx, tx, p, rep, true); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: typ, ObjectType: "report", ObjectID: reportRef(reportID),
			Details: map[string]string{"format": format, "referral": r.ID}})
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// fill sets the report, sections, follow-ups and preservation of p.
func (s *Service) fill(ctx context.Context, tx *store.Tx, p *Package, rep *haven.Report, forAgency bool) error {
	shown := *rep
	shown.Callback, shown.FollowupSecret, shown.IdempotencyKey = nil, nil, ""
	if forAgency {
		shown.SubmitterID = ""
		if rep.Source == haven.SourcePublic || rep.Source == haven.SourcePhone {
			shown.Reporter, p.ReporterWithheld = haven.Reporter{}, true
		}
	}
	p.Report = &shown
	p.Sections = sections(&shown, p.ReporterWithheld)
	p.Preservation = PreservationOf(rep.Source, rep.OpenedAt, s.clock.Now())
	var err error
	p.Followups, err = tx.Followups(ctx, rep.ID)
	return err
}

// sections lists every non-empty element of the report, grouped as the
// staff report page groups them.
func sections(r *haven.Report, reporterWithheld bool) []Section {
	var out []Section
	add := func(title string, v any) {
		rows := facts.Of(v)
		kept := rows[:0]
		for _, row := range rows {
			if row.Label != "Role" {
				kept = append(kept, row)
			}
		}
		if len(kept) > 0 {
			out = append(out, Section{Title: title, Rows: kept})
		}
	}
	add("Incident", r.Incident)
	for i, in := range r.Internet {
		add(fmt.Sprintf("Internet details %d (%s)", i+1, in.Kind), in)
	}
	if r.LawEnforcement != nil {
		add("Law enforcement already involved", r.LawEnforcement)
	}
	if reporterWithheld {
		out = append(out, Section{Title: "Reporter", Rows: []Fact{{Label: "Contact details",
			Value: "Held by the hotline. Ask the hotline through this referral if you need to reach the reporter."}}})
	} else {
		add("Reporter", r.Reporter)
	}
	for i, p := range r.Reported {
		add(fmt.Sprintf("Person or user reported %d", i+1), p)
	}
	for i, p := range r.Recipients {
		add(fmt.Sprintf("Intended recipient %d", i+1), p)
	}
	for i, p := range r.Victims {
		add(fmt.Sprintf("Child victim %d", i+1), p)
	}
	if r.AdditionalInfo != "" {
		out = append(out, Section{Title: "Additional information", Rows: []Fact{{Label: "Text", Value: r.AdditionalInfo}}})
	}
	return out
}

// The JSON form of a package.

// PackageFormat names the JSON document's format and version.
const PackageFormat = "haven-referral-package/1"

type jsonPackage struct {
	Format       string            `json:"format"`
	GeneratedAt  time.Time         `json:"generatedAt"`
	Report       jsonReport        `json:"report"`
	Preservation *jsonPreservation `json:"preservation,omitempty"`
	Referrals    []jsonReferral    `json:"referrals"`
}

type jsonReport struct {
	ID         int64      `json:"id"`
	Source     string     `json:"source"`
	Status     string     `json:"status"`
	ReceivedAt time.Time  `json:"receivedAt"`
	FiledAt    *time.Time `json:"filedAt,omitempty"`
	// Document is the report in the JSON form of the CyberTipline report
	// schema (the JSON API's Report), or in Haven's storage form when
	// DocumentFormat says so.
	Document         json.RawMessage `json:"document"`
	DocumentFormat   string          `json:"documentFormat"`
	ReporterWithheld bool            `json:"reporterWithheld,omitempty"`
	Files            []jsonFile      `json:"files"`
	Followups        []jsonFollowup  `json:"followups,omitempty"`
}

type jsonFile struct {
	ID          string          `json:"fileId"`
	Filename    string          `json:"filename,omitempty"`
	ContentType string          `json:"contentType,omitempty"`
	Size        int64           `json:"size"`
	MD5         string          `json:"md5"`
	SHA1        string          `json:"sha1"`
	SHA256      string          `json:"sha256"`
	UploadedAt  time.Time       `json:"uploadedAt"`
	Details     json.RawMessage `json:"fileDetails,omitempty"`
}

type jsonFollowup struct {
	At   time.Time `json:"at"`
	Text string    `json:"text"`
}

type jsonPreservation struct {
	Deadline time.Time `json:"deadline"`
	DaysLeft int       `json:"daysLeft"`
	Overdue  bool      `json:"overdue"`
}

type jsonReferral struct {
	Agency         jsonAgency `json:"agency"`
	ReferredAt     time.Time  `json:"referredAt"`
	Note           string     `json:"note,omitempty"`
	AcknowledgedAt *time.Time `json:"acknowledgedAt,omitempty"`
	Outcome        string     `json:"outcome,omitempty"`
}

type jsonAgency struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Kind string `json:"kind"`
}

// storedDocument is the report's document in Haven's storage form, for a
// report the CyberTipline form cannot express.
type storedDocument struct {
	BatchedReason  string                 `json:"batchedReason,omitempty"`
	Incident       haven.IncidentSummary  `json:"incident"`
	Internet       []haven.InternetDetail `json:"internet,omitempty"`
	LawEnforcement *haven.LawEnforcement  `json:"lawEnforcement,omitempty"`
	Reporter       *haven.Reporter        `json:"reporter,omitempty"`
	Reported       []haven.Involved       `json:"reported,omitempty"`
	Recipients     []haven.Involved       `json:"recipients,omitempty"`
	Victims        []haven.Involved       `json:"victims,omitempty"`
	AdditionalInfo string                 `json:"additionalInfo,omitempty"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func referralJSON(v *ReferralView) jsonReferral {
	out := jsonReferral{Agency: jsonAgency{ID: v.Agency.ID, Name: v.Agency.Name, Kind: string(v.Agency.Kind)},
		ReferredAt: v.ReferredAt, Note: v.Note, AcknowledgedAt: timePtr(v.AcknowledgedAt)}
	if o := v.Outcome(); o != nil {
		out.Outcome = o.Code
	}
	return out
}

// WriteJSON writes the package as a JSON document (format PackageFormat):
// the report's document in the JSON form of the CyberTipline schema, its
// files with hashes and metadata, and the referral facts.
func WriteJSON(w io.Writer, p *Package) error {
	r := p.Report
	doc := jsonPackage{Format: PackageFormat, GeneratedAt: p.GeneratedAt, Referrals: []jsonReferral{},
		Report: jsonReport{ID: r.ID, Source: string(r.Source), Status: string(r.Status), ReceivedAt: r.OpenedAt,
			FiledAt: timePtr(r.FinishedAt), ReporterWithheld: p.ReporterWithheld, Files: []jsonFile{}}}
	if p.Preservation.Applies {
		doc.Preservation = &jsonPreservation{Deadline: p.Preservation.Deadline, DaysLeft: p.Preservation.DaysLeft, Overdue: p.Preservation.Overdue}
	}
	if p.Referral != nil {
		doc.Referrals = append(doc.Referrals, referralJSON(p.Referral))
	}
	for _, v := range p.Referrals {
		doc.Referrals = append(doc.Referrals, referralJSON(v))
	}
	var buf bytes.Buffer
	if err := cybertip.EncodeReportJSON(&buf, r); err == nil {
		doc.Report.Document, doc.Report.DocumentFormat = json.RawMessage(bytes.TrimSpace(buf.Bytes())), "cybertip-json"
	} else {
		// NOTE: a report from the public form or phone intake may lack what
		// the CyberTipline schema requires; its content then goes out in
		// Haven's own storage form rather than not at all.
		sd := storedDocument{BatchedReason: r.BatchedReason, Incident: r.Incident, Internet: r.Internet,
			LawEnforcement: r.LawEnforcement, Reported: r.Reported, Recipients: r.Recipients, Victims: r.Victims,
			AdditionalInfo: r.AdditionalInfo}
		if !p.ReporterWithheld {
			sd.Reporter = &r.Reporter
		}
		b, err := json.Marshal(sd)
		if err != nil {
			return fmt.Errorf("encode package: %w", err)
		}
		doc.Report.Document, doc.Report.DocumentFormat = b, "haven"
	}
	for _, f := range r.Files {
		jf := jsonFile{ID: f.ID, Filename: f.Filename, ContentType: f.ContentType, Size: f.Size, MD5: hex.EncodeToString(f.MD5),
			SHA1: hex.EncodeToString(f.SHA1), SHA256: hex.EncodeToString(f.SHA256), UploadedAt: f.UploadedAt}
		if f.Details != nil {
			buf.Reset()
			if err := cybertip.EncodeFileDetailsJSON(&buf, f.Details); err == nil {
				jf.Details = json.RawMessage(bytes.TrimSpace(buf.Bytes()))
			}
		}
		doc.Report.Files = append(doc.Report.Files, jf)
	}
	for _, f := range p.Followups {
		doc.Report.Followups = append(doc.Report.Followups, jsonFollowup{At: f.At, Text: f.Text})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("encode package: %w", err)
	}
	return nil
}
