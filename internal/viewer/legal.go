package viewer

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/audit"
	"github.com/haven-hotline/haven/internal/store"
)

// AuthorityKinds lists the kinds of legal authority, in display order.
var AuthorityKinds = []string{"warrant", "court order", "subpoena", "consent", "other"}

// AuthorityInput is a legal authority as a supervisor records it.
type AuthorityInput struct {
	Kind      string
	Reference string // the document's number or reference
	Issuer    string // the court or authority that issued it
	IssuedOn  string // YYYY-MM-DD
	Notes     string
}

// validate checks the input against now and returns the record to store.
func (in AuthorityInput) validate(now time.Time) (*store.LegalAuthority, error) {
	la := &store.LegalAuthority{Kind: strings.TrimSpace(in.Kind), Reference: strings.TrimSpace(in.Reference),
		Issuer: strings.TrimSpace(in.Issuer), Notes: strings.TrimSpace(in.Notes)}
	known := false
	for _, k := range AuthorityKinds {
		known = known || k == la.Kind
	}
	if !known {
		return nil, haven.Invalidf("kind", "Choose the kind of authority: %s.", strings.Join(AuthorityKinds, ", "))
	}
	bounded := func(field, label, v string, max int) error {
		if v == "" || utf8.RuneCountInString(v) > max || strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 }) {
			return haven.Invalidf(field, "Give the %s, on one line of up to %d characters.", label, max)
		}
		return nil
	}
	if err := bounded("reference", "document's reference", la.Reference, 200); err != nil {
		return nil, err
	}
	if err := bounded("issuer", "issuing court or authority", la.Issuer, 200); err != nil {
		return nil, err
	}
	if utf8.RuneCountInString(la.Notes) > 2000 {
		return nil, haven.Invalidf("notes", "Keep the notes under 2,000 characters.")
	}
	d, err := time.ParseInLocation("2006-01-02", strings.TrimSpace(in.IssuedOn), time.UTC)
	if err != nil {
		return nil, haven.Invalidf("issued_on", "Give the date of issue as YYYY-MM-DD.")
	}
	if d.After(now) {
		return nil, haven.Invalidf("issued_on", "The date of issue is in the future.")
	}
	la.IssuedOn = d
	return la, nil
}

// RecordAuthority records the legal authority that opens a file behind
// the legal gate: for supervisors, audited. Recording one for a file the
// gate does not hold is allowed (it changes nothing).
func (s *Service) RecordAuthority(ctx context.Context, a haven.Actor, reportID int64, fileID string, in AuthorityInput) (*store.LegalAuthority, error) {
	if !a.Can(haven.PermLegalAuthority) {
		return nil, haven.ErrForbidden
	}
	now := s.clock.Now()
	la, err := in.validate(now)
	if err != nil {
		return nil, err
	}
	la.ID, la.ReportID, la.FileID, la.RecordedBy, la.RecordedAt = haven.NewID(), reportID, fileID, a.UserID, now
	if a.System {
		la.RecordedBy = "system"
	}
	err = s.store.InTx(ctx, func(tx *store.Tx) error {
		f, err := tx.FileOfReport(ctx, reportID, fileID)
		if err != nil {
			return err
		}
		if err := tx.AddLegalAuthority(ctx, la); err != nil {
			return err
		}
		gated := "false"
		if s.Gated(f) {
			gated = "true"
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "media.legal_authority", ObjectType: "report_file", ObjectID: fileID,
			Details: map[string]string{"report": ref(reportID), "authority": la.ID, "kind": la.Kind, "reference": la.Reference,
				"issuer": la.Issuer, "issued_on": la.IssuedOn.Format("2006-01-02"), "gated": gated}})
	})
	if err != nil {
		return nil, err
	}
	return la, nil
}

// Link is what the report page shows for one file: the way to its viewer
// page and the state it will find there.
type Link struct {
	Href  string
	State State
	// Known is the first match that classified the file, when it is known
	// material.
	Known *Classification
	// Pending counts perceptual matches awaiting confirmation.
	Pending int
	// GateOpen is set when a legal authority opened a gated file.
	GateOpen bool
}

// Links returns the viewer link of each of a report's files, by file ID,
// for the report page (which audits the read of the report itself).
// Actors who may not reach the report's files get an empty map.
func (s *Service) Links(ctx context.Context, a haven.Actor, reportID int64) (map[string]*Link, error) {
	out := map[string]*Link{}
	if !a.Can(haven.PermViewRendition) {
		return out, nil
	}
	if a.Role == haven.RoleLE && !a.System {
		s.mu.Lock()
		canSee := s.canSee
		s.mu.Unlock()
		if canSee == nil || a.AgencyID == "" {
			return out, nil
		}
		ok, err := canSee(ctx, a.AgencyID, reportID)
		if err != nil || !ok {
			return out, err
		}
	}
	err := s.store.View(ctx, func(tx *store.Tx) error {
		files, err := tx.ReportFiles(ctx, reportID)
		if err != nil {
			return err
		}
		for _, f := range files {
			fc, err := s.load(ctx, tx, reportID, f.ID, nil)
			if err != nil {
				return err
			}
			l := &Link{Href: base(a, reportID, f.ID) + "/view", State: fc.state(), Pending: len(fc.pending),
				GateOpen: fc.gated && len(fc.authorities) > 0}
			if len(fc.known) > 0 {
				l.Known = &fc.known[0]
			}
			out[f.ID] = l
		}
		return nil
	})
	return out, err
}
