package offender

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/audit"
	"github.com/haven-hotline/haven/internal/store"
)

// IncidentInput is an attempted abduction or a missing-child incident as
// an analyst records it.
type IncidentInput struct {
	Kind         string
	OccurredAt   time.Time
	Place        string
	Lat, Lon     string
	Jurisdiction string
	Person       string // description of the person
	Vehicle      string // description of the vehicle
	Outcome      string
	// Identifiers are "kind:value" lines: phone:…, email:…, internet:…,
	// vehicle:<plate>.
	Identifiers string
}

// RecordIncident records an incident for linkage.
func (s *Service) RecordIncident(ctx context.Context, a haven.Actor, in IncidentInput) (*store.Incident, error) {
	if err := s.require(a, haven.PermIncidents); err != nil {
		return nil, err
	}
	if !slices.Contains(IncidentKinds, in.Kind) {
		return nil, haven.Invalidf("kind", "choose attempted abduction or missing child")
	}
	if in.OccurredAt.IsZero() {
		return nil, haven.Invalidf("occurred_at", "give the date of the incident")
	}
	if in.OccurredAt.After(s.clock.Now().Add(24 * time.Hour)) {
		return nil, haven.Invalidf("occurred_at", "the date is in the future")
	}
	rec := &store.Incident{ID: haven.NewID(), Kind: in.Kind, OccurredAt: in.OccurredAt.UTC(), CreatedBy: a.UserID, CreatedAt: s.clock.Now()}
	var err error
	for _, f := range []struct {
		name string
		src  string
		dst  *string
		max  int
	}{{"place", in.Place, &rec.Place, 300}, {"jurisdiction", in.Jurisdiction, &rec.Jurisdiction, 20},
		{"person", in.Person, &rec.Person, 2000}, {"vehicle", in.Vehicle, &rec.Vehicle, 500}, {"outcome", in.Outcome, &rec.Outcome, 1000}} {
		if *f.dst, err = haven.CleanText(f.name, f.src, f.max, false); err != nil {
			return nil, err
		}
	}
	if rec.HasGeo, rec.Lat, rec.Lon, err = parseLatLon(in.Lat, in.Lon); err != nil {
		return nil, err
	}
	var ids []string
	for _, line := range strings.Split(in.Identifiers, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		kind, value, ok := strings.Cut(line, ":")
		kind = strings.ToLower(strings.TrimSpace(kind))
		if !ok || identifierScore[kind] == 0 {
			return nil, haven.Invalidf("identifiers", "write each identifier as phone:…, email:…, internet:service:name or vehicle:plate")
		}
		n, err := normalise(kind, value, s.defaultCode)
		if err != nil || n == "" {
			return nil, haven.Invalidf("identifiers", "a %s cannot be read", identifierLabel[kind])
		}
		if len(ids) >= 50 {
			return nil, haven.Invalidf("identifiers", "give at most 50 identifiers")
		}
		ids = append(ids, kind+":"+n)
	}
	rec.Identifiers = strings.Join(ids, "\n")
	err = s.store.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.CreateIncident(ctx, rec); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "offender.incident_create", ObjectType: "incident", ObjectID: rec.ID,
			Details: map[string]string{"kind": rec.Kind}})
	})
	if err != nil {
		return nil, err
	}
	return rec, nil
}

// Incidents lists the incidents, newest first.
func (s *Service) Incidents(ctx context.Context, a haven.Actor) ([]*store.Incident, error) {
	if !a.Can(haven.PermIncidents) && !a.Can(haven.PermOffenderRead) {
		return nil, s.deny(ctx, a, "offender.incident_list", "incident", "", haven.ErrForbidden)
	}
	var out []*store.Incident
	err := s.store.InTx(ctx, func(tx *store.Tx) (err error) {
		if out, err = tx.Incidents(ctx, 500); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "offender.incident_list", ObjectType: "incident"})
	})
	return out, err
}

// IncidentView is an incident with its links to offenders.
type IncidentView struct {
	*store.Incident
	Label string
	Links []*LinkView // confirmed links, and candidates for analysts who may decide them
}

// Incident returns an incident with its confirmed links (and candidate
// links for offender analysts); the read is audited.
func (s *Service) Incident(ctx context.Context, a haven.Actor, id string) (*IncidentView, error) {
	if !a.Can(haven.PermIncidents) && !a.Can(haven.PermOffenderRead) {
		return nil, s.deny(ctx, a, "offender.incident_read", "incident", id, haven.ErrForbidden)
	}
	var out *IncidentView
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		in, err := tx.Incident(ctx, id)
		if err != nil {
			return err
		}
		out = &IncidentView{Incident: in, Label: incidentLabel(in.Kind)}
		if a.Can(haven.PermOffenderRead) {
			ls, err := tx.LinksOfTarget(ctx, "incident", id)
			if err != nil {
				return err
			}
			for _, l := range ls {
				if l.Status == LinkDismissed {
					continue
				}
				v, err := s.view(ctx, tx, l)
				if err != nil {
					return err
				}
				out.Links = append(out.Links, v)
			}
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "offender.incident_read", ObjectType: "incident", ObjectID: id})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// IncidentLabel is the display name of an incident kind.
func IncidentLabel(kind string) string { return incidentLabel(kind) }
