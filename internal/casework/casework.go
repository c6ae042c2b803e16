package casework

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/audit"
	"github.com/haven-hotline/haven/internal/custody"
	"github.com/haven-hotline/haven/internal/store"
)

// ProviderDirectory names the providers of the provider network that
// recovery plans refer children and families to. ProviderName returns
// haven.ErrNotFound for an unknown ID.
type ProviderDirectory interface {
	ProviderName(ctx context.Context, id string) (string, error)
}

// Service is the casework service.
type Service struct {
	store     *store.Store
	audit     *audit.Log
	custody   *custody.Service
	clock     haven.Clock
	log       *slog.Logger
	providers ProviderDirectory
}

// New returns the service.
func New(s *store.Store, l *audit.Log, c *custody.Service, clock haven.Clock, logger *slog.Logger) *Service {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Service{store: s, audit: l, custody: c, clock: clock, log: logger}
}

// SetProviders sets the provider directory that referred services are
// checked against. Without one, a referral names its provider in free
// text.
func (s *Service) SetProviders(d ProviderDirectory) { s.providers = d }

// ListLimit caps the lists of cases and requests.
const ListLimit = 500

func (s *Service) require(a haven.Actor, p haven.Permission) error {
	return a.Require(p, s.clock.Now(), haven.ReauthWindow)
}

// deny audits a refused read in its own transaction and returns err.
func (s *Service) deny(ctx context.Context, a haven.Actor, typ, objType, objID string, err error) error {
	return s.audit.Denied(ctx, s.store, a, typ, objType, objID, err)
}

// NewCase is what opening a case takes.
type NewCase struct {
	Type             string
	Title            string
	ChildPseudonym   string
	ChildAge         int // -1 when unknown
	ChildDescription string
	// ReportID, when not 0, is the CyberTipline report the case is
	// opened from.
	ReportID int64
}

// OpenCase opens a case, optionally from a report.
func (s *Service) OpenCase(ctx context.Context, a haven.Actor, in NewCase) (*store.Case, error) {
	if err := s.require(a, haven.PermCaseManage); err != nil {
		return nil, err
	}
	if !valid(CaseTypes, in.Type) {
		return nil, haven.Invalidf("type", "choose the case type")
	}
	var err error
	if in.Title, err = haven.CleanText("title", in.Title, 200, true); err != nil {
		return nil, err
	}
	if in.ChildPseudonym, err = haven.CleanText("child_pseudonym", in.ChildPseudonym, 100, true); err != nil {
		return nil, err
	}
	if in.ChildDescription, err = haven.CleanText("child_description", in.ChildDescription, 4000, false); err != nil {
		return nil, err
	}
	if in.ChildAge < -1 || in.ChildAge > 20 {
		return nil, haven.Invalidf("child_age", "give the child's age in years (0 to 20) or leave it empty")
	}
	now := s.clock.Now()
	c := &store.Case{ID: haven.NewID(), Type: in.Type, Status: StatusOpen, Title: in.Title, ChildPseudonym: in.ChildPseudonym,
		ChildAge: in.ChildAge, ChildDescription: in.ChildDescription, OpenedBy: a.UserID, OpenedAt: now, UpdatedAt: now}
	err = s.store.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.CreateCase(ctx, c); err != nil {
			return err
		}
		if err := tx.AddCaseStatus(ctx, &store.CaseStatusChange{ID: haven.NewID(), CaseID: c.ID, Status: StatusOpen,
			Note: "case opened", ActorID: a.UserID, At: now}); err != nil {
			return err
		}
		details := map[string]string{"type": c.Type}
		if in.ReportID != 0 {
			if err := s.linkReport(ctx, tx, a, c.ID, in.ReportID, now); err != nil {
				return err
			}
			details["report"] = fmt.Sprint(in.ReportID)
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "case.open", ObjectType: "case", ObjectID: c.ID, Details: details})
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

func (s *Service) linkReport(ctx context.Context, tx *store.Tx, a haven.Actor, caseID string, reportID int64, now time.Time) error {
	if _, err := tx.Report(ctx, reportID, false); err != nil {
		if haven.IsKind(err, haven.KindNotFound) {
			return haven.Invalidf("report", "no report has the number %d", reportID)
		}
		return err
	}
	err := tx.AddCaseReport(ctx, &store.CaseReport{CaseID: caseID, ReportID: reportID, ActorID: a.UserID, At: now})
	if haven.IsKind(err, haven.KindConflict) {
		return haven.Invalidf("report", "the report is already linked to this case")
	}
	return err
}

// change runs fn on an existing case in a transaction with its audit
// event and marks the case updated.
func (s *Service) change(ctx context.Context, a haven.Actor, caseID, typ string, details map[string]string,
	fn func(tx *store.Tx, c *store.Case, now time.Time) error) error {
	if err := s.require(a, haven.PermCaseManage); err != nil {
		return err
	}
	now := s.clock.Now()
	return s.store.InTx(ctx, func(tx *store.Tx) error {
		c, err := tx.Case(ctx, caseID)
		if err != nil {
			return err
		}
		if err := fn(tx, c, now); err != nil {
			return err
		}
		if err := tx.TouchCase(ctx, caseID, now); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: typ, ObjectType: "case", ObjectID: caseID, Details: details})
	})
}

// SetStatus changes a case's status, with a note kept in its history.
func (s *Service) SetStatus(ctx context.Context, a haven.Actor, caseID, status, note string) error {
	if !valid(Statuses, status) {
		return haven.Invalidf("status", "choose a status")
	}
	note, err := haven.CleanText("note", note, 2000, false)
	if err != nil {
		return err
	}
	return s.change(ctx, a, caseID, "case.status", map[string]string{"status": status}, func(tx *store.Tx, c *store.Case, now time.Time) error {
		if c.Status == status {
			return haven.Invalidf("status", "the case already has this status")
		}
		c.Status, c.UpdatedAt = status, now
		if err := tx.UpdateCase(ctx, c); err != nil {
			return err
		}
		return tx.AddCaseStatus(ctx, &store.CaseStatusChange{ID: haven.NewID(), CaseID: caseID, Status: status, Note: note,
			ActorID: a.UserID, At: now})
	})
}

// UpdateChild changes the child's pseudonymous record: pseudonym, age and
// description.
func (s *Service) UpdateChild(ctx context.Context, a haven.Actor, caseID, pseudonym string, age int, description string) error {
	var err error
	if pseudonym, err = haven.CleanText("child_pseudonym", pseudonym, 100, true); err != nil {
		return err
	}
	if description, err = haven.CleanText("child_description", description, 4000, false); err != nil {
		return err
	}
	if age < -1 || age > 20 {
		return haven.Invalidf("child_age", "give the child's age in years (0 to 20) or leave it empty")
	}
	return s.change(ctx, a, caseID, "case.child.update", nil, func(tx *store.Tx, c *store.Case, now time.Time) error {
		c.ChildPseudonym, c.ChildAge, c.ChildDescription, c.UpdatedAt = pseudonym, age, description, now
		return tx.UpdateCase(ctx, c)
	})
}

// AddPerson records a person involved in a case with their role.
func (s *Service) AddPerson(ctx context.Context, a haven.Actor, caseID, name, role, contact string) error {
	var err error
	if name, err = haven.CleanText("person_name", name, 200, true); err != nil {
		return err
	}
	if role, err = haven.CleanText("person_role", role, 100, true); err != nil {
		return err
	}
	if contact, err = haven.CleanText("person_contact", contact, 300, false); err != nil {
		return err
	}
	return s.change(ctx, a, caseID, "case.person.add", map[string]string{"role": role}, func(tx *store.Tx, _ *store.Case, now time.Time) error {
		return tx.AddCasePerson(ctx, &store.CasePerson{ID: haven.NewID(), CaseID: caseID, Name: name, Role: role, Contact: contact,
			ActorID: a.UserID, At: now})
	})
}

// PutAgency adds an agency to a case, or changes its role and whether the
// case is shared with it (its law-enforcement users may then read it).
func (s *Service) PutAgency(ctx context.Context, a haven.Actor, caseID, agencyID, role string, shared bool) error {
	role, err := haven.CleanText("agency_role", role, 100, false)
	if err != nil {
		return err
	}
	return s.change(ctx, a, caseID, "case.agency.put", map[string]string{"agency": agencyID, "shared": fmt.Sprint(shared)},
		func(tx *store.Tx, _ *store.Case, now time.Time) error {
			if _, err := tx.Agency(ctx, agencyID); err != nil {
				if haven.IsKind(err, haven.KindNotFound) {
					return haven.Invalidf("agency", "choose an agency")
				}
				return err
			}
			return tx.PutCaseAgency(ctx, &store.CaseAgency{CaseID: caseID, AgencyID: agencyID, Role: role, Shared: shared,
				ActorID: a.UserID, At: now})
		})
}

// LinkReport links a CyberTipline report to a case.
func (s *Service) LinkReport(ctx context.Context, a haven.Actor, caseID string, reportID int64) error {
	if reportID <= 0 {
		return haven.Invalidf("report", "give the report number")
	}
	return s.change(ctx, a, caseID, "case.report.link", map[string]string{"report": fmt.Sprint(reportID)},
		func(tx *store.Tx, _ *store.Case, now time.Time) error {
			return s.linkReport(ctx, tx, a, caseID, reportID, now)
		})
}

// LinkOffender links an offender record, by its reference, to a case.
//
// NOTE: the offender records are written in parallel (issue 7); until they
// can be looked up here the reference is checked for shape only.
func (s *Service) LinkOffender(ctx context.Context, a haven.Actor, caseID, offenderID, note string) error {
	var err error
	if offenderID, err = haven.CleanText("offender", offenderID, 100, true); err != nil {
		return err
	}
	if strings.ContainsFunc(offenderID, func(r rune) bool { return r <= ' ' }) {
		return haven.Invalidf("offender", "an offender reference has no spaces")
	}
	if note, err = haven.CleanText("offender_note", note, 1000, false); err != nil {
		return err
	}
	return s.change(ctx, a, caseID, "case.offender.link", map[string]string{"offender": offenderID},
		func(tx *store.Tx, _ *store.Case, now time.Time) error {
			err := tx.AddCaseOffender(ctx, &store.CaseOffender{CaseID: caseID, OffenderID: offenderID, Note: note, ActorID: a.UserID, At: now})
			if haven.IsKind(err, haven.KindConflict) {
				return haven.Invalidf("offender", "the offender is already linked to this case")
			}
			return err
		})
}

// AddTask adds a task with its owner and optional due date.
func (s *Service) AddTask(ctx context.Context, a haven.Actor, caseID, title, owner string, due time.Time) error {
	var err error
	if title, err = haven.CleanText("task_title", title, 300, true); err != nil {
		return err
	}
	if owner, err = haven.CleanText("task_owner", owner, 200, true); err != nil {
		return err
	}
	return s.change(ctx, a, caseID, "case.task.add", nil, func(tx *store.Tx, _ *store.Case, now time.Time) error {
		return tx.AddCaseTask(ctx, &store.CaseTask{ID: haven.NewID(), CaseID: caseID, Title: title, Owner: owner, DueOn: due,
			CreatedBy: a.UserID, CreatedAt: now})
	})
}

// CompleteTask marks a task of a case done.
func (s *Service) CompleteTask(ctx context.Context, a haven.Actor, caseID, taskID string) error {
	return s.change(ctx, a, caseID, "case.task.done", map[string]string{"task": taskID}, func(tx *store.Tx, _ *store.Case, now time.Time) error {
		return tx.CompleteCaseTask(ctx, caseID, taskID, a.UserID, now)
	})
}

// AddNote adds a note to a case.
func (s *Service) AddNote(ctx context.Context, a haven.Actor, caseID, body string) error {
	body, err := haven.CleanText("note", body, 10000, true)
	if err != nil {
		return err
	}
	return s.change(ctx, a, caseID, "case.note.add", nil, func(tx *store.Tx, _ *store.Case, now time.Time) error {
		return tx.AddCaseNote(ctx, &store.CaseNote{ID: haven.NewID(), CaseID: caseID, Body: body, ActorID: a.UserID, At: now})
	})
}

// RecordIndicators records indicators of the checklist on a case, each
// with who recorded it and when. Indicators already recorded are left as
// they were; the number newly recorded is returned.
func (s *Service) RecordIndicators(ctx context.Context, a haven.Actor, caseID string, codes []string, note string) (int, error) {
	if len(codes) == 0 {
		return 0, haven.Invalidf("indicators", "tick at least one indicator")
	}
	for _, c := range codes {
		if !valid(Indicators, c) {
			return 0, haven.Invalidf("indicators", "an indicator is not on the list")
		}
	}
	note, err := haven.CleanText("indicator_note", note, 1000, false)
	if err != nil {
		return 0, err
	}
	slices.Sort(codes)
	codes = slices.Compact(codes)
	added := 0
	err = s.change(ctx, a, caseID, "case.indicators.add", map[string]string{"indicators": strings.Join(codes, " ")},
		func(tx *store.Tx, _ *store.Case, now time.Time) error {
			have, err := tx.CaseIndicators(ctx, caseID)
			if err != nil {
				return err
			}
			for _, c := range codes {
				if slices.ContainsFunc(have, func(i *store.CaseIndicator) bool { return i.Code == c }) {
					continue
				}
				if err := tx.AddCaseIndicator(ctx, &store.CaseIndicator{CaseID: caseID, Code: c, Note: note, ActorID: a.UserID, At: now}); err != nil {
					return err
				}
				added++
			}
			return nil
		})
	return added, err
}

// PhotoTypes are the content types a child's photo may have, sniffed from
// its bytes.
var PhotoTypes = []string{"image/jpeg", "image/png", "image/gif", "image/webp"}

// AddPhoto acquires a photo of the child into the evidence vault (hashed
// and encrypted as it streams; nothing is written in clear) and records
// it on the case.
func (s *Service) AddPhoto(ctx context.Context, a haven.Actor, caseID string, r io.Reader, filename, caption string) (*store.CasePhoto, error) {
	if err := s.require(a, haven.PermCaseManage); err != nil {
		return nil, err
	}
	caption, err := haven.CleanText("caption", caption, 300, false)
	if err != nil {
		return nil, err
	}
	if err := s.store.View(ctx, func(tx *store.Tx) error { _, err := tx.Case(ctx, caseID); return err }); err != nil {
		return nil, err
	}
	// Sniff the type from the first bytes, then stream the whole into
	// custody: no byte waits anywhere but in this small buffer.
	head := make([]byte, 512)
	n, err := io.ReadFull(r, head)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return nil, fmt.Errorf("read photo: %w", err)
	}
	head = head[:n]
	ct := http.DetectContentType(head)
	if n == 0 || !slices.Contains(PhotoTypes, ct) {
		return nil, haven.Invalidf("photo", "the photo must be a JPEG, PNG, GIF or WebP image")
	}
	var photo *store.CasePhoto
	_, err = s.custody.AcquireThen(ctx, a, io.MultiReader(strings.NewReader(string(head)), r),
		custody.Source{Kind: "staff-upload", Filename: filename, ContentType: ct, ContextType: "case", ContextID: caseID},
		func(tx *store.Tx, acq *haven.Acquisition) error {
			now := s.clock.Now()
			photo = &store.CasePhoto{ID: haven.NewID(), CaseID: caseID, ItemID: acq.ItemID, AcquisitionID: acq.ID, Caption: caption,
				ContentType: ct, ActorID: a.UserID, At: now}
			if err := tx.AddCasePhoto(ctx, photo); err != nil {
				return err
			}
			if err := tx.TouchCase(ctx, caseID, now); err != nil {
				return err
			}
			return s.audit.Record(ctx, tx, a, audit.Entry{Type: "case.photo.add", ObjectType: "case", ObjectID: caseID,
				Details: map[string]string{"photo": photo.ID, "item": acq.ItemID}})
		})
	if err != nil {
		return nil, err
	}
	return photo, nil
}

// Photo opens a photo of a case's child; custody audits and verifies the
// read. The caller must close the reader.
func (s *Service) Photo(ctx context.Context, a haven.Actor, photoID string) (io.ReadCloser, *store.CasePhoto, error) {
	if err := s.require(a, haven.PermCaseRead); err != nil {
		return nil, nil, s.deny(ctx, a, "case.photo.read", "case_photo", photoID, err)
	}
	var p *store.CasePhoto
	err := s.store.View(ctx, func(tx *store.Tx) (err error) { p, err = tx.CasePhoto(ctx, photoID); return err })
	if err != nil {
		return nil, nil, err
	}
	rc, err := s.custody.Open(ctx, a, p.ItemID, "viewing a photo of the child of case "+p.CaseID)
	if err != nil {
		return nil, nil, err
	}
	return rc, p, nil
}
