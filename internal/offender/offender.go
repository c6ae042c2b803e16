package offender

import (
	"context"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/audit"
	"github.com/haven-hotline/haven/internal/jobs"
	"github.com/haven-hotline/haven/internal/store"
)

// Registry statuses. Compliant, noncompliant and absconded are assessed;
// the others take an offender out of the verification schedule.
const (
	StatusCompliant    = "compliant"
	StatusNoncompliant = "noncompliant"
	StatusAbsconded    = "absconded"
	StatusIncarcerated = "incarcerated"
	StatusDeceased     = "deceased"
	StatusMovedOut     = "moved_out" // moved out of the jurisdiction
)

// Statuses lists the registry statuses in display order.
var Statuses = []string{StatusCompliant, StatusNoncompliant, StatusAbsconded, StatusIncarcerated, StatusDeceased, StatusMovedOut}

func validStatus(s string) bool { return slices.Contains(Statuses, s) }

// Fact kinds: what a record's dated rows hold.
const (
	FactName         = "name" // Detail "alias" for an alias
	FactDOB          = "dob"
	FactResidence    = "residence" // Detail: permanent, temporary, homeless
	FactEmployment   = "employment"
	FactSchool       = "school"
	FactVehicle      = "vehicle"
	FactPhone        = "phone"
	FactEmail        = "email"
	FactInternet     = "internet" // an internet identifier, service:name
	FactOffence      = "offence"  // Detail: the jurisdiction of conviction
	FactPhoto        = "photo"    // Value: an evidence item ID
	FactTravel       = "travel"
	FactStatus       = "status"       // a compliance event: the status set
	FactVerification = "verification" // a compliance event: a verification
)

// FactKinds lists the kinds in display order.
var FactKinds = []string{FactName, FactDOB, FactResidence, FactEmployment, FactSchool, FactVehicle, FactPhone, FactEmail,
	FactInternet, FactOffence, FactPhoto, FactTravel, FactStatus, FactVerification}

// Residence types.
const (
	ResidencePermanent = "permanent"
	ResidenceTemporary = "temporary" // temporary lodging
	ResidenceHomeless  = "homeless"  // homeless, an area rather than an address
)

// Service is the offender-tracking service.
type Service struct {
	store *store.Store
	audit *audit.Log
	clock haven.Clock
	log   *slog.Logger
	jobs  jobs.Enqueuer
	// defaultCode is the calling code of national phone numbers.
	defaultCode string
	// reports scans CyberTipline reports for linkage; nil: none.
	reports ReportSource
}

// Options adjust the service.
type Options struct {
	// DefaultCallingCode is the calling code of national phone numbers in
	// registry exports ("1" when empty).
	DefaultCallingCode string
}

// New returns the service. j may be nil: imports then run within the
// call that applies them.
func New(s *store.Store, log *audit.Log, clock haven.Clock, logger *slog.Logger, j jobs.Enqueuer, opts Options) *Service {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if opts.DefaultCallingCode == "" {
		opts.DefaultCallingCode = "1"
	}
	return &Service{store: s, audit: log, clock: clock, log: logger, jobs: j, defaultCode: opts.DefaultCallingCode,
		reports: storeReports{s}}
}

func (s *Service) require(a haven.Actor, p haven.Permission) error {
	return a.Require(p, s.clock.Now(), haven.ReauthWindow)
}

// deny audits a refusal in its own transaction and returns err.
func (s *Service) deny(ctx context.Context, a haven.Actor, typ, objType, objID string, err error) error {
	return s.audit.Denied(ctx, s.store, a, typ, objType, objID, err)
}

// Record is a registry record with its history and links, as analysts
// see it.
type Record struct {
	*store.Offender
	Facts      []*store.OffenderFact
	Links      []*LinkView
	Compliance Compliance
	Timeline   *Timeline
	Places     []Place
}

// Current returns the facts of a kind that still hold.
func (r *Record) Current(kind string) []*store.OffenderFact {
	var out []*store.OffenderFact
	for _, f := range r.Facts {
		if f.Kind == kind && f.ValidTo.IsZero() {
			out = append(out, f)
		}
	}
	return out
}

// History returns every fact of a kind, oldest first.
func (r *Record) History(kind string) []*store.OffenderFact {
	var out []*store.OffenderFact
	for _, f := range r.Facts {
		if f.Kind == kind {
			out = append(out, f)
		}
	}
	return out
}

// Offenders lists records matching f; the list is audited (without the
// query text, which may be a name).
func (s *Service) Offenders(ctx context.Context, a haven.Actor, f store.OffenderFilter) ([]*store.Offender, error) {
	if err := s.require(a, haven.PermOffenderRead); err != nil {
		return nil, s.deny(ctx, a, "offender.list", "offender", "", err)
	}
	var out []*store.Offender
	err := s.store.InTx(ctx, func(tx *store.Tx) (err error) {
		if out, err = tx.Offenders(ctx, f); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "offender.list", ObjectType: "offender",
			Details: map[string]string{"results": strconv.Itoa(len(out)), "searched": strconv.FormatBool(f.Query != ""),
				"jurisdiction": f.Jurisdiction, "status": f.Status}})
	})
	return out, err
}

// Offender returns a record with its history, compliance, links and
// timeline; the read is audited.
func (s *Service) Offender(ctx context.Context, a haven.Actor, id string) (*Record, error) {
	if err := s.require(a, haven.PermOffenderRead); err != nil {
		return nil, s.deny(ctx, a, "offender.read", "offender", id, err)
	}
	var rec *Record
	err := s.store.InTx(ctx, func(tx *store.Tx) (err error) {
		if rec, err = s.loadRecord(ctx, tx, id); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "offender.read", ObjectType: "offender", ObjectID: id})
	})
	if err != nil {
		return nil, err
	}
	return rec, nil
}

func (s *Service) loadRecord(ctx context.Context, tx *store.Tx, id string) (*Record, error) {
	o, err := tx.Offender(ctx, id)
	if err != nil {
		return nil, err
	}
	rec := &Record{Offender: o}
	if rec.Facts, err = tx.OffenderFacts(ctx, id); err != nil {
		return nil, err
	}
	links, err := tx.LinksOfOffender(ctx, id)
	if err != nil {
		return nil, err
	}
	var events []Event
	for _, l := range links {
		v, err := s.view(ctx, tx, l)
		if err != nil {
			return nil, err
		}
		rec.Links = append(rec.Links, v)
		if l.Status != LinkConfirmed {
			continue
		}
		switch l.TargetType {
		case "incident":
			if in, err := tx.Incident(ctx, l.TargetID); err == nil {
				events = append(events, Event{At: in.OccurredAt, Label: v.TargetLabel})
			}
		case "report":
			if n, err := strconv.ParseInt(l.TargetID, 10, 64); err == nil {
				if rep, err := tx.Report(ctx, n, false); err == nil {
					events = append(events, Event{At: rep.OpenedAt, Label: v.TargetLabel})
				}
			}
		}
	}
	now := s.clock.Now()
	rec.Compliance = Assess(o, now)
	rec.Timeline = BuildTimeline(rec.Facts, events, nil, now)
	rec.Places = PlacesOf(rec.Facts, nil)
	return rec, nil
}

// FactInput is a fact an analyst adds to a record by hand.
type FactInput struct {
	Kind, Value, Detail string
	Lat, Lon            string // decimal degrees, both or neither
	ValidFrom, ValidTo  time.Time
}

// AddFact adds a dated fact to a record (an alias, a residence, a photo's
// evidence item…). Identifiers are normalised for linkage.
func (s *Service) AddFact(ctx context.Context, a haven.Actor, offenderID string, in FactInput) (*store.OffenderFact, error) {
	if err := s.require(a, haven.PermOffenderManage); err != nil {
		return nil, err
	}
	if !slices.Contains(FactKinds, in.Kind) || in.Kind == FactStatus || in.Kind == FactVerification {
		return nil, haven.Invalidf("kind", "choose a kind of fact from the list")
	}
	var err error
	if in.Value, err = haven.CleanText("value", in.Value, 500, true); err != nil {
		return nil, err
	}
	if in.Detail, err = haven.CleanText("detail", in.Detail, 200, false); err != nil {
		return nil, err
	}
	if !in.ValidTo.IsZero() && in.ValidTo.Before(in.ValidFrom) {
		return nil, haven.Invalidf("valid_to", "the end date is before the start date")
	}
	f := &store.OffenderFact{ID: haven.NewID(), OffenderID: offenderID, Kind: in.Kind, Value: in.Value, Detail: in.Detail,
		ValidFrom: in.ValidFrom, ValidTo: in.ValidTo, Source: "manual", RecordedAt: s.clock.Now()}
	if f.HasGeo, f.Lat, f.Lon, err = parseLatLon(in.Lat, in.Lon); err != nil {
		return nil, err
	}
	if f.Norm, err = normalise(in.Kind, in.Value, s.defaultCode); err != nil {
		return nil, haven.Invalidf("value", "%s", haven.ErrorMessage(err))
	}
	err = s.store.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Offender(ctx, offenderID); err != nil {
			return err
		}
		if err := tx.AddOffenderFact(ctx, f); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "offender.fact_add", ObjectType: "offender", ObjectID: offenderID,
			Details: map[string]string{"kind": f.Kind, "fact": f.ID}})
	})
	if err != nil {
		return nil, err
	}
	return f, nil
}

// parseLatLon reads an optional coordinate pair.
func parseLatLon(lat, lon string) (bool, float64, float64, error) {
	lat, lon = strings.TrimSpace(lat), strings.TrimSpace(lon)
	if lat == "" && lon == "" {
		return false, 0, 0, nil
	}
	la, err1 := strconv.ParseFloat(lat, 64)
	lo, err2 := strconv.ParseFloat(lon, 64)
	if err1 != nil || err2 != nil || la < -90 || la > 90 || lo < -180 || lo > 180 || la != la || lo != lo {
		return false, 0, 0, haven.Invalidf("lat", "give both coordinates in decimal degrees (latitude -90 to 90, longitude -180 to 180)")
	}
	return true, la, lo, nil
}
