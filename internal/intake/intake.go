// Package intake receives reports: it opens them, streams their files into
// the evidence vault, records file metadata, finishes, retracts and expires
// them, and hands every finished report to triage through a job. The ESP
// XML API, the JSON API, the public form and phone intake all go through
// it, so a report is the same thing whatever its source.
package intake

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/audit"
	"github.com/haven-hotline/haven/internal/custody"
	"github.com/haven-hotline/haven/internal/jobs"
	"github.com/haven-hotline/haven/internal/secret"
	"github.com/haven-hotline/haven/internal/store"
)

// Errors with a meaning of their own in the ESP API (codes 5001, 5002,
// 5101, 5102). Callers compare with errors.Is.
var (
	ErrReportNotFound = &haven.Error{Kind: haven.KindNotFound, Message: "Report does not exist"}
	ErrFileNotFound   = &haven.Error{Kind: haven.KindNotFound, Message: "File does not exist"}
	ErrRetracted      = &haven.Error{Kind: haven.KindConflict, Message: "Report already retracted"}
	ErrFinished       = &haven.Error{Kind: haven.KindConflict, Message: "Report already finished"}
)

// Lifecycle limits of the ESP API: an unfinished report lapses 24 hours
// after it was opened or 1 hour after its last change, whichever is later.
const (
	OpenFor      = 24 * time.Hour
	IdleFor      = time.Hour
	MaxFollowups = 20
)

// Service is the intake service.
type Service struct {
	store   *store.Store
	audit   *audit.Log
	custody *custody.Service
	jobs    jobs.Enqueuer
	secrets *secret.Set
	clock   haven.Clock
	log     *slog.Logger
	files   FileProcessor
	triage  Triager
}

// Triager evaluates a report's priority and queues it (internal/triage).
type Triager interface {
	Triage(ctx context.Context, reportID int64, why string) error
}

// SetTriager plugs the priority engine into the pipeline: the triage job
// calls it for every finished report and again when facts change.
func (s *Service) SetTriager(t Triager) { s.triage = t }

// FileProcessor is the step of the intake pipeline that hashes and
// matches each stored file (internal/hashmatch).
type FileProcessor interface {
	// ProcessReportFile hashes and matches a file and reports whether it
	// matched (triage then evaluates the report again).
	ProcessReportFile(ctx context.Context, f *haven.ReportFile) (matched bool, err error)
}

// SetFileProcessor plugs the file step into the pipeline.
func (s *Service) SetFileProcessor(p FileProcessor) { s.files = p }

// New returns the service.
func New(s *store.Store, a *audit.Log, c *custody.Service, j jobs.Enqueuer, sec *secret.Set, clock haven.Clock, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{store: s, audit: a, custody: c, jobs: j, secrets: sec, clock: clock, log: log}
}

// Expiry is when an open report lapses: 24 hours after it was opened or 1
// hour after its last change, whichever is later.
func Expiry(opened, modified time.Time) time.Time {
	a, b := opened.Add(OpenFor), modified.Add(IdleFor)
	if a.After(b) {
		return a
	}
	return b
}

func reportRef(id int64) string { return strconv.FormatInt(id, 10) }

// Validate checks what every report needs whatever its source.
func Validate(r *haven.Report) error {
	if !r.Incident.Type.Valid() {
		return haven.Invalidf("incidentType", "choose what happened")
	}
	if r.Incident.DateTime.IsZero() {
		return haven.Invalidf("incidentDateTime", "say when it happened")
	}
	return nil
}

// Submitted is the outcome of a submission.
type Submitted struct {
	Report *haven.Report
	// Replayed is true when an earlier submission with the same
	// idempotency key was returned instead of a new report.
	Replayed bool
}

// Submit opens a report from an API client (source esp or api). The
// report stays open for files until Finish.
func (s *Service) Submit(ctx context.Context, a haven.Actor, source haven.ReportSource, r *haven.Report) (*Submitted, error) {
	if !a.Can(haven.PermReportSubmit) {
		return nil, haven.ErrForbidden
	}
	if source != haven.SourceESP && source != haven.SourceAPI {
		return nil, fmt.Errorf("submit: source %q is not an API source", source)
	}
	if err := Validate(r); err != nil {
		return nil, err
	}
	now := s.clock.Now()
	r.Source, r.Status, r.SubmitterID = source, haven.ReportOpen, a.UserID
	r.OpenedAt, r.ModifiedAt, r.Files = now, now, nil
	var replayed bool
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		if r.IdempotencyKey != "" {
			id, err := tx.ReportByIdempotencyKey(ctx, a.UserID, r.IdempotencyKey)
			if err == nil {
				replayed = true
				prev, err := tx.Report(ctx, id, false)
				if err != nil {
					return err
				}
				*r = *prev
				return nil
			}
			if !haven.IsKind(err, haven.KindNotFound) {
				return err
			}
		}
		id, err := tx.NextReportNumber(ctx)
		if err != nil {
			return err
		}
		r.ID = id
		if err := tx.CreateReport(ctx, r, nil, Expiry(now, now)); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "report.submit", ObjectType: "report", ObjectID: reportRef(id),
			Details: map[string]string{"source": string(source), "incident_type": string(r.Incident.Type)}})
	})
	if err != nil {
		if haven.IsKind(err, haven.KindConflict) && r.IdempotencyKey != "" {
			// Two requests with one key raced: the other one won.
			return s.Submit(ctx, a, source, r)
		}
		return nil, err
	}
	return &Submitted{Report: r, Replayed: replayed}, nil
}

// ownOpen loads a report for a change by its submitter, checking state;
// lock takes the row lock that a state change needs.
func (s *Service) ownOpen(ctx context.Context, tx *store.Tx, a haven.Actor, id int64) (*haven.Report, error) {
	return s.ownReport(ctx, tx, a, id, true)
}

// checkOpen checks, without locking, that a report is open and the
// actor's, before a long upload starts.
func (s *Service) checkOpen(ctx context.Context, a haven.Actor, id int64) error {
	return s.store.View(ctx, func(tx *store.Tx) error {
		_, err := s.ownReport(ctx, tx, a, id, false)
		return err
	})
}

func (s *Service) ownReport(ctx context.Context, tx *store.Tx, a haven.Actor, id int64, lock bool) (*haven.Report, error) {
	r, err := tx.Report(ctx, id, lock)
	if haven.IsKind(err, haven.KindNotFound) {
		return nil, ErrReportNotFound
	}
	if err != nil {
		return nil, err
	}
	if r.SubmitterID == "" || r.SubmitterID != a.UserID {
		return nil, ErrReportNotFound
	}
	switch r.Status {
	case haven.ReportOpen:
		return r, nil
	case haven.ReportFinished:
		return r, ErrFinished
	case haven.ReportRetracted:
		return r, ErrRetracted
	default: // expired: deleted as far as the ESP is concerned
		return nil, ErrReportNotFound
	}
}

func newFileID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b[:])
}

// AddFile streams a file into the vault and attaches it to an open report
// of the actor's. The report is checked before a byte is read, and again
// when the file is attached.
func (s *Service) AddFile(ctx context.Context, a haven.Actor, reportID int64, body io.Reader, filename, contentType string) (*haven.ReportFile, error) {
	if !a.Can(haven.PermReportSubmit) {
		return nil, haven.ErrForbidden
	}
	if err := s.checkOpen(ctx, a, reportID); err != nil {
		return nil, err
	}
	var f *haven.ReportFile
	_, err := s.custody.AcquireThen(ctx, a, body, custody.Source{Kind: "report-upload", Filename: filename,
		ContentType: contentType, ContextType: "report", ContextID: reportRef(reportID)},
		func(tx *store.Tx, acq *haven.Acquisition) error {
			// Attached in the acquisition's own transaction: a report that
			// was finished or retracted while the bytes streamed refuses
			// the file, and nothing of it is kept.
			r, err := s.ownOpen(ctx, tx, a, reportID)
			if err != nil {
				return err
			}
			now := s.clock.Now()
			f = &haven.ReportFile{ID: newFileID(), ReportID: reportID, AcquisitionID: acq.ID, ItemID: acq.ItemID,
				Filename: acq.Filename, ContentType: acq.ContentType, Size: acq.Size, MD5: acq.MD5, SHA1: acq.SHA1,
				SHA256: acq.SHA256, UploadedAt: now}
			if err := tx.AddReportFile(ctx, f); err != nil {
				return err
			}
			if err := tx.SetReportState(ctx, reportID, haven.ReportOpen, now, time.Time{}, time.Time{}, Expiry(r.OpenedAt, now)); err != nil {
				return err
			}
			if err := s.jobs.EnqueueTx(ctx, tx, FileArgs{ReportID: reportID, FileID: f.ID}, nil); err != nil {
				return err
			}
			return s.audit.Record(ctx, tx, a, audit.Entry{Type: "report.file_add", ObjectType: "report", ObjectID: reportRef(reportID),
				Details: map[string]string{"file": f.ID, "item": f.ItemID, "size": strconv.FormatInt(f.Size, 10)}})
		})
	if err != nil {
		return nil, err
	}
	return f, nil
}

// SetFileDetails records the metadata an ESP sends for one of its files.
func (s *Service) SetFileDetails(ctx context.Context, a haven.Actor, reportID int64, fileID string, d *haven.FileDetails) error {
	if !a.Can(haven.PermReportSubmit) {
		return haven.ErrForbidden
	}
	now := s.clock.Now()
	return s.store.InTx(ctx, func(tx *store.Tx) error {
		r, err := s.ownOpen(ctx, tx, a, reportID)
		if err != nil {
			return err
		}
		found := false
		for _, f := range r.Files {
			found = found || f.ID == fileID
		}
		if !found {
			return ErrFileNotFound
		}
		if err := tx.SetReportFileDetails(ctx, reportID, fileID, d, now); err != nil {
			return err
		}
		if err := tx.SetReportState(ctx, reportID, haven.ReportOpen, now, time.Time{}, time.Time{}, Expiry(r.OpenedAt, now)); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "report.file_details", ObjectType: "report", ObjectID: reportRef(reportID),
			Details: map[string]string{"file": fileID}})
	})
}

// Finish files an open report: it can no longer change, and it goes to
// triage.
func (s *Service) Finish(ctx context.Context, a haven.Actor, reportID int64) (*haven.Report, error) {
	if !a.Can(haven.PermReportSubmit) {
		return nil, haven.ErrForbidden
	}
	now := s.clock.Now()
	var out *haven.Report
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		r, err := s.ownOpen(ctx, tx, a, reportID)
		if err != nil {
			return err
		}
		if err := tx.SetReportState(ctx, reportID, haven.ReportFinished, now, now, time.Time{}, time.Time{}); err != nil {
			return err
		}
		r.Status, r.FinishedAt, r.ModifiedAt = haven.ReportFinished, now, now
		out = r
		return s.finished(ctx, tx, a, r)
	})
	return out, err
}

// finished enqueues triage and audits a report that has just been filed.
func (s *Service) finished(ctx context.Context, tx *store.Tx, a haven.Actor, r *haven.Report) error {
	if err := s.jobs.EnqueueTx(ctx, tx, TriageArgs{ReportID: r.ID}, nil); err != nil {
		return err
	}
	return s.audit.Record(ctx, tx, a, audit.Entry{Type: "report.finish", ObjectType: "report", ObjectID: reportRef(r.ID),
		Details: map[string]string{"source": string(r.Source), "files": strconv.Itoa(len(r.Files))}})
}

// Retract cancels an open report and destroys its uploads (unless the same
// bytes belong to another report too).
func (s *Service) Retract(ctx context.Context, a haven.Actor, reportID int64) error {
	if !a.Can(haven.PermReportSubmit) {
		return haven.ErrForbidden
	}
	return s.close(ctx, a, reportID, haven.ReportRetracted)
}

func (s *Service) close(ctx context.Context, a haven.Actor, reportID int64, status haven.ReportStatus) error {
	now := s.clock.Now()
	var files []*haven.ReportFile
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if status == haven.ReportRetracted {
			if _, err = s.ownOpen(ctx, tx, a, reportID); err != nil {
				return err
			}
		} else {
			r, err := tx.Report(ctx, reportID, true)
			if err != nil {
				return err
			}
			if r.Status != haven.ReportOpen {
				return nil
			}
		}
		if err := tx.SetReportState(ctx, reportID, status, now, time.Time{}, now, time.Time{}); err != nil {
			return err
		}
		if files, err = tx.DeleteReportFiles(ctx, reportID); err != nil {
			return err
		}
		typ := "report.retract"
		if status == haven.ReportExpired {
			typ = "report.expire"
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: typ, ObjectType: "report", ObjectID: reportRef(reportID),
			Details: map[string]string{"files_removed": strconv.Itoa(len(files))}})
	})
	if err != nil {
		return err
	}
	sys := haven.SystemActor("intake")
	for _, f := range files {
		var inUse bool
		err := s.store.View(ctx, func(tx *store.Tx) (err error) {
			inUse, err = tx.ItemInUse(ctx, f.ItemID)
			return err
		})
		if err != nil {
			return err
		}
		if inUse {
			continue
		}
		reason := fmt.Sprintf("report %d %s before it was finished", reportID, status)
		if err := s.custody.Shred(ctx, sys, f.ItemID, reason); err != nil && !haven.IsKind(err, haven.KindNotFound) {
			s.log.Error("could not destroy the upload of a closed report", "report", reportID, "item", f.ItemID, "err", err)
		}
	}
	return nil
}

// ExpireDue closes every open report whose time has run out and returns
// how many.
func (s *Service) ExpireDue(ctx context.Context) (int, error) {
	var ids []int64
	err := s.store.View(ctx, func(tx *store.Tx) (err error) {
		ids, err = tx.ExpiredReports(ctx, s.clock.Now(), 500)
		return err
	})
	if err != nil {
		return 0, err
	}
	for _, id := range ids {
		if err := s.close(ctx, haven.SystemActor("expiry"), id, haven.ReportExpired); err != nil {
			return 0, fmt.Errorf("expire report %d: %w", id, err)
		}
	}
	return len(ids), nil
}

// Get returns a report to its submitting account (any state but expired)
// or to staff who may read reports. The read is audited. Anyone else gets
// ErrReportNotFound.
func (s *Service) Get(ctx context.Context, a haven.Actor, reportID int64) (*haven.Report, error) {
	var r *haven.Report
	err := s.store.InTx(ctx, func(tx *store.Tx) (err error) {
		r, err = tx.Report(ctx, reportID, false)
		if haven.IsKind(err, haven.KindNotFound) {
			return ErrReportNotFound
		}
		if err != nil {
			return err
		}
		own := r.SubmitterID != "" && r.SubmitterID == a.UserID && r.Status != haven.ReportExpired
		if !own && !a.Can(haven.PermReportRead) {
			return ErrReportNotFound
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "report.read", ObjectType: "report", ObjectID: reportRef(reportID)})
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// Export returns a whole report for export (a sensitive action: it needs a
// recent sign-in) and audits it.
func (s *Service) Export(ctx context.Context, a haven.Actor, reportID int64) (*haven.Report, error) {
	if err := a.Require(haven.PermReportExport, s.clock.Now(), haven.ReauthWindow); err != nil {
		return nil, err
	}
	var r *haven.Report
	err := s.store.InTx(ctx, func(tx *store.Tx) (err error) {
		if r, err = tx.Report(ctx, reportID, false); err != nil {
			if haven.IsKind(err, haven.KindNotFound) {
				return ErrReportNotFound
			}
			return err
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "report.export", ObjectType: "report", ObjectID: reportRef(reportID),
			Details: map[string]string{"format": "cybertip-xml"}})
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// List lists reports for staff.
func (s *Service) List(ctx context.Context, a haven.Actor, f store.ReportFilter) ([]*store.ReportSummary, error) {
	if !a.Can(haven.PermReportRead) {
		return nil, haven.ErrForbidden
	}
	var out []*store.ReportSummary
	err := s.store.View(ctx, func(tx *store.Tx) (err error) {
		out, err = tx.Reports(ctx, f)
		return err
	})
	return out, err
}

// Callback returns a phone report's callback details to intake roles; the
// read is audited.
func (s *Service) Callback(ctx context.Context, a haven.Actor, reportID int64) (*haven.Callback, error) {
	if !a.Can(haven.PermCallbackRead) {
		return nil, nil
	}
	var sealed []byte
	err := s.store.InTx(ctx, func(tx *store.Tx) (err error) {
		if sealed, err = tx.ReportCallback(ctx, reportID); err != nil || sealed == nil {
			return err
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "report.callback_read", ObjectType: "report", ObjectID: reportRef(reportID)})
	})
	if err != nil || sealed == nil {
		return nil, err
	}
	plain, err := s.secrets.Open(sealed, "callback:"+reportRef(reportID))
	if err != nil {
		return nil, err
	}
	var cb haven.Callback
	if err := json.Unmarshal(plain, &cb); err != nil {
		return nil, fmt.Errorf("decode callback: %w", err)
	}
	return &cb, nil
}

// Followups lists what a public reporter added later.
func (s *Service) Followups(ctx context.Context, a haven.Actor, reportID int64) ([]*store.ReportFollowup, error) {
	if !a.Can(haven.PermReportRead) {
		return nil, haven.ErrForbidden
	}
	var out []*store.ReportFollowup
	err := s.store.View(ctx, func(tx *store.Tx) (err error) {
		out, err = tx.Followups(ctx, reportID)
		return err
	})
	return out, err
}

// SubmitPhone files a report taken by phone: finished at once, with the
// caller's callback details sealed apart from the report.
func (s *Service) SubmitPhone(ctx context.Context, a haven.Actor, r *haven.Report, cb *haven.Callback) (*haven.Report, error) {
	if err := a.Require(haven.PermPhoneIntake, s.clock.Now(), haven.ReauthWindow); err != nil {
		return nil, err
	}
	if err := Validate(r); err != nil {
		return nil, err
	}
	return s.fileDirect(ctx, a, haven.SourcePhone, r, cb, nil)
}

// SubmitPublic files a report from the public form: finished at once. It
// returns the report and the one-time secret with which the reporter may
// add information later; only the secret's hash is kept.
func (s *Service) SubmitPublic(ctx context.Context, a haven.Actor, r *haven.Report) (*haven.Report, string, error) {
	if err := Validate(r); err != nil {
		return nil, "", err
	}
	var raw [20]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return nil, "", err
	}
	secretText := formatSecret(raw[:])
	sum := sha256.Sum256([]byte(normalizeSecret(secretText)))
	out, err := s.fileDirect(ctx, a, haven.SourcePublic, r, nil, sum[:])
	if err != nil {
		return nil, "", err
	}
	return out, secretText, nil
}

func (s *Service) fileDirect(ctx context.Context, a haven.Actor, source haven.ReportSource, r *haven.Report, cb *haven.Callback, secretHash []byte) (*haven.Report, error) {
	now := s.clock.Now()
	r.Source, r.Status, r.SubmitterID = source, haven.ReportFinished, a.UserID
	r.OpenedAt, r.ModifiedAt, r.FinishedAt, r.FollowupSecret = now, now, now, secretHash
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		id, err := tx.NextReportNumber(ctx)
		if err != nil {
			return err
		}
		r.ID = id
		var sealed []byte
		if cb != nil {
			plain, err := json.Marshal(cb)
			if err != nil {
				return err
			}
			if sealed, err = s.secrets.Seal(plain, "callback:"+reportRef(id)); err != nil {
				return err
			}
		}
		if err := tx.CreateReport(ctx, r, sealed, time.Time{}); err != nil {
			return err
		}
		if err := s.audit.Record(ctx, tx, a, audit.Entry{Type: "report.submit", ObjectType: "report", ObjectID: reportRef(id),
			Details: map[string]string{"source": string(source), "incident_type": string(r.Incident.Type)}}); err != nil {
			return err
		}
		return s.finished(ctx, tx, a, r)
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// secretAlphabet avoids letters that read alike (0/O, 1/I/L).
const secretAlphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"

// formatSecret writes random bytes as groups of letters and digits easy
// to copy by hand: XXXX-XXXX-XXXX-XXXX-XXXX.
func formatSecret(b []byte) string {
	var sb strings.Builder
	for i := range 20 {
		if i > 0 && i%4 == 0 {
			sb.WriteByte('-')
		}
		sb.WriteByte(secretAlphabet[int(b[i])%len(secretAlphabet)])
	}
	return sb.String()
}

func normalizeSecret(s string) string {
	s = strings.ToUpper(strings.TrimSpace(s))
	return strings.Map(func(r rune) rune {
		if r == '-' || r == ' ' {
			return -1
		}
		return r
	}, s)
}

// ErrFollowupDenied is the one answer to a wrong report number or secret.
var ErrFollowupDenied = &haven.Error{Kind: haven.KindNotFound,
	Message: "The report number and secret do not match. Check both and try again."}

// AddFollowup lets a public reporter add information to their report with
// the one-time secret they were given.
func (s *Service) AddFollowup(ctx context.Context, a haven.Actor, reportID int64, secretText, text, lang string) error {
	text = strings.TrimSpace(text)
	if text == "" {
		return haven.Invalidf("text", "write what you want to add")
	}
	if len(text) > 10000 {
		return haven.Invalidf("text", "the text is longer than 10,000 characters")
	}
	sum := sha256.Sum256([]byte(normalizeSecret(secretText)))
	denied := false
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		r, err := tx.Report(ctx, reportID, true)
		if err != nil || r.Source != haven.SourcePublic || len(r.FollowupSecret) != sha256.Size ||
			subtle.ConstantTimeCompare(r.FollowupSecret, sum[:]) != 1 {
			if err != nil && !haven.IsKind(err, haven.KindNotFound) {
				return err
			}
			denied = true
			return ErrFollowupDenied
		}
		existing, err := tx.Followups(ctx, reportID)
		if err != nil {
			return err
		}
		if len(existing) >= MaxFollowups {
			return haven.Errorf(haven.KindConflict, "This report already has %d additions. Please make a new report.", MaxFollowups)
		}
		if err := tx.AddFollowup(ctx, &store.ReportFollowup{ID: haven.NewID(), ReportID: reportID, At: s.clock.Now(), Text: text, Language: lang}); err != nil {
			return err
		}
		if err := s.jobs.EnqueueTx(ctx, tx, TriageArgs{ReportID: reportID, Reason: "followup"}, nil); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "report.followup", ObjectType: "report", ObjectID: reportRef(reportID)})
	})
	if denied {
		// The refusal is recorded in a transaction of its own: the one
		// above rolled back.
		if aerr := s.store.InTx(ctx, func(tx *store.Tx) error {
			return s.audit.Record(ctx, tx, a, audit.Entry{Type: "report.followup", ObjectType: "report",
				ObjectID: reportRef(reportID), Outcome: haven.OutcomeDenied})
		}); aerr != nil {
			return aerr
		}
	}
	return err
}

// TriageArgs is the job that hands a report to triage. Issue 5 gives it
// its real work; until then the worker records that the report awaits
// an analyst.
type TriageArgs struct {
	ReportID int64  `json:"report_id"`
	Reason   string `json:"reason,omitempty"`
}

// Kind names the job.
func (TriageArgs) Kind() string { return "report_triage" }

// FileArgs is the job that processes an uploaded file after it is stored:
// today a re-verification of its stored bytes; perceptual hashing (PDQ)
// and hash-bank matching plug in here.
type FileArgs struct {
	ReportID int64  `json:"report_id"`
	FileID   string `json:"file_id"`
}

// Kind names the job.
func (FileArgs) Kind() string { return "report_file" }

// ExpiryArgs is the periodic job that expires unfinished reports.
type ExpiryArgs struct{}

// Kind names the job.
func (ExpiryArgs) Kind() string { return "report_expiry" }

var _ river.JobArgs = TriageArgs{}
