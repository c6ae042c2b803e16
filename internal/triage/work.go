package triage

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/audit"
	"github.com/haven-hotline/haven/internal/store"
)

// Item is a report's triage as the pages show it.
type Item struct {
	*store.Work
	Reasons  []Reason
	Notes    []*store.Note
	History  []*store.StatusChange
	SLALeft  time.Duration // time left to review; negative when overdue
	HasSLA   bool
	Reviewed bool
}

// Overdue reports whether the review deadline has passed unreviewed.
func (it *Item) Overdue() bool { return it.HasSLA && !it.Reviewed && it.SLALeft < 0 }

func (s *Service) item(w *store.Work) *Item {
	it := &Item{Work: w, Reviewed: !w.FirstReviewedAt.IsZero(), HasSLA: !w.SLADueAt.IsZero()}
	_ = json.Unmarshal([]byte(w.Reasons), &it.Reasons)
	if it.HasSLA {
		it.SLALeft = w.SLADueAt.Sub(s.clock.Now())
	}
	return it
}

// Work returns a report's triage with its notes and status history; nil
// (and no error) when the report has not been triaged yet.
func (s *Service) Work(ctx context.Context, a haven.Actor, reportID int64) (*Item, error) {
	if !a.Can(haven.PermReportRead) {
		return nil, haven.ErrNotFound
	}
	var it *Item
	err := s.store.View(ctx, func(tx *store.Tx) error {
		w, err := tx.Work(ctx, reportID, false)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		it = s.item(w)
		if it.Notes, err = tx.Notes(ctx, reportID); err != nil {
			return err
		}
		it.History, err = tx.StatusHistory(ctx, reportID)
		return err
	})
	return it, err
}

// QueueFilter is what a queue page asks for.
type QueueFilter = store.QueueFilter

// Queue lists a page of a queue: P1 first, then oldest.
func (s *Service) Queue(ctx context.Context, a haven.Actor, f QueueFilter) ([]*Item, []*store.QueueRow, error) {
	if !a.Can(haven.PermReportRead) {
		return nil, nil, haven.ErrForbidden
	}
	var rows []*store.QueueRow
	err := s.store.View(ctx, func(tx *store.Tx) (err error) {
		rows, err = tx.Queue(ctx, f)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	items := make([]*Item, len(rows))
	for i, r := range rows {
		items[i] = s.item(&r.Work)
	}
	return items, rows, nil
}

// Counts returns the open reports per priority.
func (s *Service) Counts(ctx context.Context, a haven.Actor) (map[string]int, error) {
	if !a.Can(haven.PermReportRead) {
		return nil, haven.ErrForbidden
	}
	var out map[string]int
	err := s.store.View(ctx, func(tx *store.Tx) (err error) {
		out, err = tx.QueueCounts(ctx)
		return err
	})
	return out, err
}

// change loads a report's work record for update, applies fn and writes
// it back with an audit event.
func (s *Service) change(ctx context.Context, a haven.Actor, reportID int64, event string, details map[string]string,
	fn func(tx *store.Tx, w *store.Work) error) error {
	return s.store.InTx(ctx, func(tx *store.Tx) error {
		return s.changeTx(ctx, tx, a, reportID, event, details, fn)
	})
}

func (s *Service) changeTx(ctx context.Context, tx *store.Tx, a haven.Actor, reportID int64, event string, details map[string]string,
	fn func(tx *store.Tx, w *store.Work) error) error {
	w, err := tx.Work(ctx, reportID, true)
	if errors.Is(err, store.ErrNotFound) {
		return &haven.Error{Kind: haven.KindConflict, Message: "this report has not been triaged yet: wait a few seconds and reload"}
	}
	if err != nil {
		return err
	}
	if err := fn(tx, w); err != nil {
		return err
	}
	w.UpdatedAt = s.clock.Now()
	if err := tx.PutWork(ctx, w); err != nil {
		return err
	}
	return s.audit.Record(ctx, tx, a, audit.Entry{Type: event, ObjectType: "report", ObjectID: strconv.FormatInt(reportID, 10), Details: details})
}

// reviewed marks the first human review, which stops the SLA clock.
func (s *Service) reviewed(w *store.Work) {
	if w.FirstReviewedAt.IsZero() {
		w.FirstReviewedAt = s.clock.Now()
	}
}

// Claim takes a report to work on; a report claimed by someone else
// cannot be claimed (a supervisor assigns instead).
func (s *Service) Claim(ctx context.Context, a haven.Actor, reportID int64) error {
	if !a.Can(haven.PermTriage) {
		return haven.ErrForbidden
	}
	return s.change(ctx, a, reportID, "triage.claimed", nil, func(_ *store.Tx, w *store.Work) error {
		if !w.Open {
			return &haven.Error{Kind: haven.KindConflict, Message: "this report is no longer in a queue"}
		}
		if w.ClaimedBy != "" && w.ClaimedBy != a.UserID {
			return &haven.Error{Kind: haven.KindConflict, Message: "another analyst is working on this report; a supervisor can reassign it"}
		}
		w.ClaimedBy, w.ClaimedAt, w.AssignedBy = a.UserID, s.clock.Now(), ""
		if Status(w.Status) == StatusNew {
			w.Status = string(StatusInReview)
		}
		s.reviewed(w)
		return nil
	})
}

// Release gives a claimed report back to the queue.
func (s *Service) Release(ctx context.Context, a haven.Actor, reportID int64) error {
	if !a.Can(haven.PermTriage) && !a.Can(haven.PermAssign) {
		return haven.ErrForbidden
	}
	return s.change(ctx, a, reportID, "triage.released", nil, func(_ *store.Tx, w *store.Work) error {
		if w.ClaimedBy == "" {
			return nil
		}
		if w.ClaimedBy != a.UserID && !a.Can(haven.PermAssign) {
			return &haven.Error{Kind: haven.KindForbidden, Message: "only the analyst working on it or a supervisor can release this report"}
		}
		w.ClaimedBy, w.ClaimedAt, w.AssignedBy = "", time.Time{}, ""
		return nil
	})
}

// Assign gives a report to an analyst (supervisors). The assignee must be
// an active account that may work the queues.
func (s *Service) Assign(ctx context.Context, a haven.Actor, reportID int64, userID string) error {
	if !a.Can(haven.PermAssign) {
		return haven.ErrForbidden
	}
	return s.change(ctx, a, reportID, "triage.assigned", map[string]string{"to": userID}, func(tx *store.Tx, w *store.Work) error {
		u, err := tx.User(ctx, userID)
		if err != nil || u.Disabled || !u.Role.Can(haven.PermTriage) {
			return haven.Invalidf("assignee", "choose an active analyst who works the queues")
		}
		if !w.Open {
			return &haven.Error{Kind: haven.KindConflict, Message: "this report is no longer in a queue"}
		}
		w.ClaimedBy, w.ClaimedAt, w.AssignedBy = userID, s.clock.Now(), a.UserID
		if Status(w.Status) == StatusNew {
			w.Status = string(StatusInReview)
		}
		return nil
	})
}

// AddNote adds an analyst's note (audited without its text).
func (s *Service) AddNote(ctx context.Context, a haven.Actor, reportID int64, body string) error {
	if !a.Can(haven.PermTriage) {
		return haven.ErrForbidden
	}
	body = strings.TrimSpace(body)
	if body == "" || utf8.RuneCountInString(body) > 10000 {
		return haven.Invalidf("note", "write a note of at most 10,000 characters")
	}
	n := &store.Note{ID: haven.NewID(), ReportID: reportID, Author: a.UserID, WrittenAt: s.clock.Now(), Body: body}
	return s.change(ctx, a, reportID, "triage.note_added", map[string]string{"note": n.ID}, func(tx *store.Tx, w *store.Work) error {
		s.reviewed(w)
		return tx.AddNote(ctx, n)
	})
}

// SetStatus moves a report along new → in review → referred |
// informational | closed. Leaving the queue needs a reason: nothing leaves
// without a recorded outcome.
func (s *Service) SetStatus(ctx context.Context, a haven.Actor, reportID int64, st Status, reason string) error {
	if !a.Can(haven.PermTriage) {
		return haven.ErrForbidden
	}
	return s.store.InTx(ctx, func(tx *store.Tx) error { return s.SetStatusTx(ctx, tx, a, reportID, st, reason) })
}

// SetStatusTx is SetStatus inside the caller's transaction (the referral
// service marks a report referred in the same transaction as the
// referral).
func (s *Service) SetStatusTx(ctx context.Context, tx *store.Tx, a haven.Actor, reportID int64, st Status, reason string) error {
	if !st.Valid() {
		return haven.Invalidf("status", "unknown status %q", st)
	}
	reason = strings.TrimSpace(reason)
	if !st.Open() && reason == "" {
		return haven.Invalidf("reason", "give the reason: a report leaves the queue only with a recorded outcome")
	}
	if utf8.RuneCountInString(reason) > 2000 {
		return haven.Invalidf("reason", "at most 2,000 characters")
	}
	return s.changeTx(ctx, tx, a, reportID, "triage.status", map[string]string{"status": string(st)}, func(tx *store.Tx, w *store.Work) error {
		w.Status, w.StatusReason, w.Open = string(st), reason, st.Open()
		if !w.Open {
			w.ClaimedBy, w.ClaimedAt, w.AssignedBy = "", time.Time{}, ""
		}
		if st != StatusNew {
			s.reviewed(w)
		}
		return tx.AddStatusChange(ctx, &store.StatusChange{ID: haven.NewID(), ReportID: reportID, Status: string(st), Reason: reason,
			ChangedBy: a.UserID, ChangedAt: s.clock.Now()})
	})
}

// Override sets the priority by hand, with a reason; an empty level
// returns to the computed one.
func (s *Service) Override(ctx context.Context, a haven.Actor, reportID int64, level Level, reason string) error {
	if !a.Can(haven.PermOverride) {
		return haven.ErrForbidden
	}
	reason = strings.TrimSpace(reason)
	if level != "" && !level.Valid() {
		return haven.Invalidf("priority", "choose P1, P2, P3 or INFO")
	}
	if reason == "" || utf8.RuneCountInString(reason) > 2000 {
		return haven.Invalidf("reason", "say why (at most 2,000 characters)")
	}
	return s.change(ctx, a, reportID, "triage.override", map[string]string{"priority": string(level), "reason": reason},
		func(_ *store.Tx, w *store.Work) error {
			w.OverridePriority, w.OverrideReason, w.OverrideBy, w.OverrideAt = string(level), reason, a.UserID, s.clock.Now()
			if level == "" {
				w.OverrideReason, w.OverrideBy, w.OverrideAt = "", "", time.Time{}
				w.Priority = w.ComputedPriority
			} else {
				w.Priority = string(level)
			}
			s.reviewed(w)
			s.setSLA(w)
			return nil
		})
}

// CheckSLA records an alert for every report whose review deadline passed
// unreviewed since the last check, and returns how many. Supervisors see
// them on the queue page (Overdue).
func (s *Service) CheckSLA(ctx context.Context) (int, error) {
	n := 0
	sys := haven.SystemActor("triage")
	for {
		var batch []*store.Work
		err := s.store.View(ctx, func(tx *store.Tx) (err error) {
			batch, err = tx.SLABreaches(ctx, s.clock.Now(), 200)
			return err
		})
		if err != nil || len(batch) == 0 {
			return n, err
		}
		for _, b := range batch {
			err := s.change(ctx, sys, b.ReportID, "triage.sla_breached", map[string]string{"priority": b.Priority,
				"due": b.SLADueAt.UTC().Format(time.RFC3339)}, func(_ *store.Tx, w *store.Work) error {
				w.SLAAlertedAt = s.clock.Now()
				return nil
			})
			if err != nil {
				return n, err
			}
			n++
			s.log.Warn("SLA breached: report not reviewed in time", "report", b.ReportID, "priority", b.Priority)
		}
	}
}

// Overdue lists the open reports past their review deadline, most overdue
// first, for supervisors.
func (s *Service) Overdue(ctx context.Context, a haven.Actor) ([]*Item, error) {
	if !a.Can(haven.PermAssign) {
		return nil, nil
	}
	var ws []*store.Work
	err := s.store.View(ctx, func(tx *store.Tx) (err error) {
		ws, err = tx.OverdueWork(ctx, s.clock.Now(), 50)
		return err
	})
	out := make([]*Item, len(ws))
	for i, w := range ws {
		out[i] = s.item(w)
	}
	return out, err
}

// Incidents counts the reports in the queues' records and the incidents
// they hold (viral duplicates once, a batched report once per file).
func (s *Service) Incidents(ctx context.Context, a haven.Actor) (reports, incidents int, err error) {
	if !a.Can(haven.PermReportRead) {
		return 0, 0, haven.ErrForbidden
	}
	err = s.store.View(ctx, func(tx *store.Tx) (err error) {
		reports, incidents, err = tx.CountReportsAndIncidents(ctx)
		return err
	})
	return
}

// MarkReferredTx records, inside the referral's transaction, that a report
// was referred: it leaves the queue with that outcome. A report not
// triaged yet (referred within seconds of arriving) gets no work record
// here; its triage later finds it referred through the referral itself.
func (s *Service) MarkReferredTx(ctx context.Context, tx *store.Tx, a haven.Actor, reportID int64) error {
	w, err := tx.Work(ctx, reportID, false)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if Status(w.Status) == StatusReferred {
		return nil // a later referral to another agency: still referred
	}
	return s.SetStatusTx(ctx, tx, a, reportID, StatusReferred, "referred to an agency")
}
