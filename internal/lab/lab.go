package lab

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/audit"
	"github.com/haven-hotline/haven/internal/custody"
	"github.com/haven-hotline/haven/internal/pdq"
	"github.com/haven-hotline/haven/internal/store"
)

// Limits of what analysts write.
const (
	MaxFinding = 4000
	MaxNote    = 1000
	MaxCode    = 100
	// DefaultMaxSide is the longer side of working images and sanitised
	// renditions.
	DefaultMaxSide = 640
)

// Options configure the service.
type Options struct {
	// MaxSide bounds the longer side of working images and sanitised
	// renditions (default DefaultMaxSide).
	MaxSide int
	// Decode limits the originals decoded.
	Decode pdq.DecodeOptions
	// LegalGate holds back, as the viewer does, files the ESP did not
	// view (and did not say were public) until a legal authority is
	// recorded for them (see internal/viewer).
	LegalGate bool
}

// Identified returns the codes of the series that have been identified;
// the workboard leaves them out. The victim-identification records
// provide it.
type Identified func(ctx context.Context) (map[string]bool, error)

// Exposure counts one view of an unblurred working picture against the
// analyst's exposure budget, in the caller's transaction, or refuses it
// (the budget is spent or a break is due). The viewer provides it.
type Exposure func(ctx context.Context, tx *store.Tx, a haven.Actor, fileID string) error

// Service is the workboard and the redacted lab.
type Service struct {
	store   *store.Store
	audit   *audit.Log
	custody *custody.Service
	clock   haven.Clock
	log     *slog.Logger
	opt     Options

	mu         sync.Mutex
	identified Identified
	exposure   Exposure
}

// New returns the service.
func New(s *store.Store, l *audit.Log, c *custody.Service, clock haven.Clock, log *slog.Logger, opt Options) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if opt.MaxSide <= 0 {
		opt.MaxSide = DefaultMaxSide
	}
	return &Service{store: s, audit: l, custody: c, clock: clock, log: log, opt: opt}
}

// SetExposure sets how working pictures count against exposure. Until it
// is set, they are not counted; a server always sets it.
func (s *Service) SetExposure(f Exposure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.exposure = f
}

// SetIdentified sets how the workboard learns that a series is
// identified. Until it is set, every series counts as unidentified.
func (s *Service) SetIdentified(f Identified) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.identified = f
}

func ref(id int64) string { return strconv.FormatInt(id, 10) }

// CleanCode checks a series code from a URL.
func CleanCode(code string) (string, error) {
	code = strings.TrimSpace(code)
	if code == "" || len(code) > MaxCode || !utf8.ValidString(code) || strings.ContainsAny(code, "\x00\r\n") {
		return "", haven.ErrNotFound
	}
	return code, nil
}

// cleanText checks an analyst's text: required, at most limit characters,
// no control characters but newlines.
func cleanText(field, text string, limit int) (string, error) {
	text = strings.TrimSpace(strings.ToValidUTF8(text, "\uFFFD"))
	text = strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\n' || r == 0x7f {
			return -1
		}
		return r
	}, text)
	if text == "" {
		return "", haven.Invalidf(field, "Write something first.")
	}
	if utf8.RuneCountInString(text) > limit {
		return "", haven.Invalidf(field, "Keep it under %d characters.", limit)
	}
	return text, nil
}

// Workboard lists the unidentified series seen on report files, the most
// recently sighted first. The read is audited.
func (s *Service) Workboard(ctx context.Context, a haven.Actor) ([]*store.SeriesActivity, error) {
	if !a.Can(haven.PermSeriesRead) {
		return nil, haven.ErrForbidden
	}
	var all []*store.SeriesActivity
	err := s.store.InTx(ctx, func(tx *store.Tx) (err error) {
		if all, err = tx.SeriesActivity(ctx); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "workboard.list", ObjectType: "series"})
	})
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	identified := s.identified
	s.mu.Unlock()
	if identified == nil {
		return all, nil
	}
	done, err := identified(ctx)
	if err != nil {
		return nil, fmt.Errorf("check series status: %w", err)
	}
	out := all[:0]
	for _, sa := range all {
		if !done[sa.Code] {
			out = append(out, sa)
		}
	}
	return out, nil
}

// Clue is one fact about a sighting gathered from its report.
type Clue struct {
	// Key names the clue for leads: "location", "esp", "language",
	// "incident", "received", "identifier:<entity ID>".
	Key   string
	Label string
	Value string
	// Href leads to more (an identifier's page), when the actor may see it.
	Href string
}

// SightingView is a sighting with its clues and the leads marked on it.
type SightingView struct {
	*store.Sighting
	Clues []Clue
	Leads []*store.LabLead
}

// SeriesView is what a series' workboard page shows.
type SeriesView struct {
	Code       string
	Sightings  []*SightingView
	Findings   []*store.LabFinding
	Leads      []*store.LabLead
	Renditions []*store.LabRendition
	// Authors names the people who wrote findings and leads, by user ID.
	Authors map[string]string
}

// Author names a user for the page.
func (v *SeriesView) Author(id string) string {
	if n := v.Authors[id]; n != "" {
		return n
	}
	return "a former user"
}

// Series returns a series' page: sightings newest first with their clues,
// findings, leads and sanitised renditions. A code with no sighting, no
// finding and no lead gives ErrNotFound. The read is audited.
func (s *Service) Series(ctx context.Context, a haven.Actor, code string) (*SeriesView, error) {
	if !a.Can(haven.PermSeriesRead) {
		return nil, haven.ErrForbidden
	}
	code, err := CleanCode(code)
	if err != nil {
		return nil, err
	}
	v := &SeriesView{Code: code, Authors: map[string]string{}}
	err = s.store.InTx(ctx, func(tx *store.Tx) error {
		sights, err := tx.SeriesSightings(ctx, code)
		if err != nil {
			return err
		}
		if v.Findings, err = tx.LabFindings(ctx, code); err != nil {
			return err
		}
		if v.Leads, err = tx.LabLeads(ctx, code); err != nil {
			return err
		}
		if len(sights) == 0 && len(v.Findings) == 0 && len(v.Leads) == 0 {
			return haven.ErrNotFound
		}
		if v.Renditions, err = tx.LabRenditionsOfSeries(ctx, code); err != nil {
			return err
		}
		reports := map[int64][]Clue{}
		for _, sg := range sights {
			clues, ok := reports[sg.ReportID]
			if !ok {
				if clues, err = s.clues(ctx, tx, a, sg.ReportID); err != nil {
					return err
				}
				reports[sg.ReportID] = clues
			}
			sv := &SightingView{Sighting: sg, Clues: clues}
			for _, l := range v.Leads {
				if l.ReportID == sg.ReportID && l.FileID == sg.FileID {
					sv.Leads = append(sv.Leads, l)
				}
			}
			v.Sightings = append(v.Sightings, sv)
		}
		for _, id := range authorIDs(v) {
			u, err := tx.User(ctx, id)
			if err == nil {
				v.Authors[id] = u.DisplayName
			} else if !haven.IsKind(err, haven.KindNotFound) {
				return err
			}
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "workboard.view", ObjectType: "series", ObjectID: code,
			Details: map[string]string{"sightings": strconv.Itoa(len(sights))}})
	})
	if err != nil {
		return nil, err
	}
	return v, nil
}

func authorIDs(v *SeriesView) []string {
	var ids []string
	for _, f := range v.Findings {
		ids = append(ids, f.AuthorID)
	}
	for _, l := range v.Leads {
		ids = append(ids, l.MarkedBy)
	}
	return ids
}

// clues gathers what a report tells about where and when a picture of a
// series surfaced.
func (s *Service) clues(ctx context.Context, tx *store.Tx, a haven.Actor, reportID int64) ([]Clue, error) {
	r, err := tx.Report(ctx, reportID, false)
	if err != nil {
		return nil, err
	}
	var out []Clue
	loc, err := tx.ReportLocation(ctx, reportID)
	switch {
	case err == nil:
		country, region := loc.Country, loc.Region
		if loc.CorrectedCountry != "" {
			country, region = loc.CorrectedCountry, loc.CorrectedRegion
		}
		if country != "" {
			val := country
			if region != "" {
				val += " / " + region
			}
			if loc.CorrectedCountry == "" && loc.Confidence != "" {
				val += " (" + loc.Confidence + " confidence)"
			}
			out = append(out, Clue{Key: "location", Label: "Location", Value: val})
		}
	case !haven.IsKind(err, haven.KindNotFound):
		return nil, err
	}
	if r.Source == haven.SourceESP && r.SubmitterID != "" {
		u, err := tx.User(ctx, r.SubmitterID)
		switch {
		case err == nil:
			out = append(out, Clue{Key: "esp", Label: "ESP", Value: u.DisplayName})
		case !haven.IsKind(err, haven.KindNotFound):
			return nil, err
		}
	}
	if r.Language != "" {
		out = append(out, Clue{Key: "language", Label: "Language", Value: r.Language})
	}
	if !r.Incident.DateTime.IsZero() {
		out = append(out, Clue{Key: "incident", Label: "Incident", Value: r.Incident.DateTime.UTC().Format("2006-01-02 15:04 UTC")})
	}
	out = append(out, Clue{Key: "received", Label: "Received", Value: r.OpenedAt.UTC().Format("2006-01-02 15:04 UTC")})
	links, err := tx.ReportEntities(ctx, reportID)
	if err != nil {
		return nil, err
	}
	seen := map[int64]bool{}
	for _, l := range links {
		if l.Reports < 2 || seen[l.EntityID] {
			continue // only identifiers shared with other reports are clues
		}
		seen[l.EntityID] = true
		c := Clue{Key: "identifier:" + strconv.FormatInt(l.EntityID, 10), Label: "Shared " + l.Kind,
			Value: fmt.Sprintf("in %d reports", l.Reports)}
		// Identifier values are shown only to those who may search them.
		if a.Can(haven.PermIdentifiers) {
			c.Value = l.Value + " — " + c.Value
			c.Href = "/app/entities/" + strconv.FormatInt(l.EntityID, 10)
		}
		out = append(out, c)
	}
	return out, nil
}

// AddFinding records an analyst's finding on a series. It is audited
// (without its text).
func (s *Service) AddFinding(ctx context.Context, a haven.Actor, code, body string) (*store.LabFinding, error) {
	if !a.Can(haven.PermSeriesManage) {
		return nil, haven.ErrForbidden
	}
	code, err := CleanCode(code)
	if err != nil {
		return nil, err
	}
	if body, err = cleanText("body", body, MaxFinding); err != nil {
		return nil, err
	}
	f := &store.LabFinding{ID: haven.NewID(), SeriesCode: code, Body: body, AuthorID: a.UserID, CreatedAt: s.clock.Now()}
	err = s.store.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.AddLabFinding(ctx, f); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "workboard.finding", ObjectType: "series", ObjectID: code,
			Details: map[string]string{"finding": f.ID}})
	})
	if err != nil {
		return nil, err
	}
	return f, nil
}

// MarkLead marks a sighting of a series (clue "") or one of its clues as
// a lead, with a note. The file must be a sighting of the series. It is
// audited (with the clue's key, never its value).
func (s *Service) MarkLead(ctx context.Context, a haven.Actor, code string, reportID int64, fileID, clue, note string) (*store.LabLead, error) {
	if !a.Can(haven.PermSeriesManage) {
		return nil, haven.ErrForbidden
	}
	code, err := CleanCode(code)
	if err != nil {
		return nil, err
	}
	if note, err = cleanText("note", note, MaxNote); err != nil {
		return nil, err
	}
	if len(clue) > 100 || strings.ContainsAny(clue, "\x00\r\n") {
		return nil, haven.Invalidf("clue", "Unknown clue.")
	}
	l := &store.LabLead{ID: haven.NewID(), SeriesCode: code, ReportID: reportID, FileID: fileID, Clue: clue, Note: note,
		MarkedBy: a.UserID, MarkedAt: s.clock.Now()}
	err = s.store.InTx(ctx, func(tx *store.Tx) error {
		ok, err := tx.FileInSeries(ctx, code, reportID, fileID)
		if err != nil {
			return err
		}
		if !ok {
			return haven.ErrNotFound
		}
		if err := tx.AddLabLead(ctx, l); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "workboard.lead", ObjectType: "report_file", ObjectID: fileID,
			Details: map[string]string{"series": code, "report": ref(reportID), "lead": l.ID, "clue": clue}})
	})
	if err != nil {
		return nil, err
	}
	return l, nil
}

// ParseMasks reads rectangles written "x,y,w,h;x,y,w,h" in the pixels
// of the working image.
func ParseMasks(text string) ([]store.Mask, error) {
	var out []store.Mask
	for part := range strings.SplitSeq(strings.TrimSpace(text), ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if len(out) >= MaxMasks {
			return nil, haven.Invalidf("masks", "Use at most %d rectangles.", MaxMasks)
		}
		fs := strings.Split(part, ",")
		if len(fs) != 4 {
			return nil, haven.Invalidf("masks", "The rectangles could not be read.")
		}
		var n [4]int
		for i, f := range fs {
			v, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || v < 0 || v > 1<<16 {
				return nil, haven.Invalidf("masks", "The rectangles could not be read.")
			}
			n[i] = v
		}
		out = append(out, store.Mask{X: n[0], Y: n[1], W: n[2], H: n[3]})
	}
	return out, nil
}

// seriesFile checks that a file is a sighting of a series, and readable:
// its report filed and its original not destroyed.
func (s *Service) seriesFile(ctx context.Context, code string, reportID int64, fileID string) (*haven.ReportFile, error) {
	var f *haven.ReportFile
	err := s.store.View(ctx, func(tx *store.Tx) error {
		ok, err := tx.FileInSeries(ctx, code, reportID, fileID)
		if err != nil {
			return err
		}
		if !ok {
			return haven.ErrNotFound
		}
		if f, err = tx.FileOfReport(ctx, reportID, fileID); err != nil {
			return err
		}
		r, err := tx.Report(ctx, reportID, false)
		if err != nil {
			return err
		}
		if r.Status == haven.ReportOpen {
			return haven.ErrNotFound
		}
		it, err := tx.EvidenceItem(ctx, f.ItemID)
		if err != nil {
			return err
		}
		if it.Shredded() {
			return haven.ErrNotFound
		}
		if s.gated(f) {
			las, err := tx.LegalAuthorities(ctx, reportID, fileID)
			if err != nil {
				return err
			}
			if len(las) == 0 {
				return ErrGated
			}
		}
		return nil
	})
	return f, err
}

// ErrGated is returned for a file held by the legal gate.
var ErrGated = &haven.Error{Kind: haven.KindConflict, Message: "This file is behind the legal gate: it cannot be opened until a legal authority is recorded."}

// gated applies the viewer's legal-gate rule to a file.
func (s *Service) gated(f *haven.ReportFile) bool {
	if !s.opt.LegalGate || f.Details == nil || f.Details.ViewedByESP == nil || *f.Details.ViewedByESP {
		return false
	}
	return f.Details.PubliclyAvailable == nil || !*f.Details.PubliclyAvailable
}

// Fresh returns haven.ErrReauth unless the actor signed in within the
// last five minutes: the working image is the original's content,
// unblurred, so it is as sensitive as a reveal (SECURITY.md 11).
func (s *Service) Fresh(a haven.Actor) error {
	if !a.System && (a.AuthAt.IsZero() || s.clock.Now().Sub(a.AuthAt) > haven.ReauthWindow) {
		return haven.ErrReauth
	}
	return nil
}

// ErrUnreadable is returned for a file the lab cannot decode as an image.
var ErrUnreadable = &haven.Error{Kind: haven.KindConflict, Message: "This file is not an image the lab can read."}

// reduced decodes a file's original (never to a disk) and reduces it.
func (s *Service) reduced(ctx context.Context, a haven.Actor, f *haven.ReportFile, purpose string) (*image.RGBA, error) {
	var rc io.ReadCloser
	var err error
	if a.Can(haven.PermEvidenceRead) {
		rc, err = s.custody.Open(ctx, a, f.ItemID, purpose)
	} else {
		rc, err = s.custody.Open(ctx, haven.SystemActor("lab"), f.ItemID, purpose+" for user "+a.UserID)
	}
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	img, _, err := pdq.Decode(bufio.NewReader(rc), s.opt.Decode)
	if err != nil {
		if errors.Is(err, pdq.ErrTooLarge) || errors.Is(err, pdq.ErrUnsupportedFormat) {
			return nil, ErrUnreadable
		}
		s.log.Warn("lab decode failed", "file", f.ID, "err", err)
		return nil, ErrUnreadable
	}
	return Reduce(img, s.opt.MaxSide), nil
}

// WorkImage returns the working image of a series file for an analyst to
// draw masks on: the original reduced, in colour, unblurred, as PNG. It is
// made in memory and never stored. The view is audited and counts against
// the analyst's exposure budget (see SetExposure), which may refuse it.
func (s *Service) WorkImage(ctx context.Context, a haven.Actor, code string, reportID int64, fileID string) ([]byte, error) {
	if !a.Can(haven.PermLabSanitise) {
		return nil, haven.ErrNotFound
	}
	if err := s.Fresh(a); err != nil {
		return nil, err
	}
	code, err := CleanCode(code)
	if err != nil {
		return nil, err
	}
	f, err := s.seriesFile(ctx, code, reportID, fileID)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	charge := s.exposure
	s.mu.Unlock()
	err = s.store.InTx(ctx, func(tx *store.Tx) error {
		if charge != nil {
			if err := charge(ctx, tx, a, fileID); err != nil {
				return err
			}
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "lab.work_view", ObjectType: "report_file", ObjectID: fileID,
			Purpose: "masking a series picture for the redacted lab", Details: map[string]string{"series": code, "report": ref(reportID)}})
	})
	if err != nil {
		return nil, err
	}
	img, err := s.reduced(ctx, a, f, "reducing a series picture for masking")
	if err != nil {
		return nil, err
	}
	return encodePNG(img)
}

// Sanitise makes a sanitised rendition of a series file: the working
// image made again, masks filled, stored encrypted through custody as an
// unpublished lab rendition. It is audited.
func (s *Service) Sanitise(ctx context.Context, a haven.Actor, code string, reportID int64, fileID string, masks []store.Mask) (*store.LabRendition, error) {
	if !a.Can(haven.PermLabSanitise) {
		return nil, haven.ErrNotFound
	}
	if err := s.Fresh(a); err != nil {
		return nil, err
	}
	code, err := CleanCode(code)
	if err != nil {
		return nil, err
	}
	f, err := s.seriesFile(ctx, code, reportID, fileID)
	if err != nil {
		return nil, err
	}
	img, err := s.reduced(ctx, a, f, "making a sanitised rendition for the redacted lab")
	if err != nil {
		return nil, err
	}
	if masks, err = CleanMasks(masks, img.Rect.Dx(), img.Rect.Dy()); err != nil {
		return nil, err
	}
	ApplyMasks(img, masks)
	out, err := encodePNG(img)
	if err != nil {
		return nil, err
	}
	r := &store.LabRendition{ID: haven.NewID(), SeriesCode: code, ReportID: reportID, FileID: fileID, ContentType: "image/png",
		Width: img.Rect.Dx(), Height: img.Rect.Dy(), MadeBy: a.UserID, MadeAt: s.clock.Now(), Masks: masks}
	_, err = s.custody.AcquireThen(ctx, haven.SystemActor("lab"), bytes.NewReader(out), custody.Source{Kind: "lab-rendition",
		Filename: "sanitised-" + r.ID + ".png", ContentType: r.ContentType, ContextType: "report_file", ContextID: fileID},
		func(tx *store.Tx, acq *haven.Acquisition) error {
			r.ItemID = acq.ItemID
			if err := tx.CreateLabRendition(ctx, r); err != nil {
				return err
			}
			return s.audit.Record(ctx, tx, a, audit.Entry{Type: "lab.sanitise", ObjectType: "lab_rendition", ObjectID: r.ID,
				Details: map[string]string{"series": code, "report": ref(reportID), "file": fileID, "item": acq.ItemID,
					"masks": strconv.Itoa(len(masks))}})
		})
	if err != nil {
		return nil, fmt.Errorf("store sanitised rendition: %w", err)
	}
	return r, nil
}

// Draft returns a sanitised rendition, published or not, to an analyst.
func (s *Service) Draft(ctx context.Context, a haven.Actor, id string) (*store.LabRendition, error) {
	if !a.Can(haven.PermLabSanitise) {
		return nil, haven.ErrNotFound
	}
	var r *store.LabRendition
	err := s.store.View(ctx, func(tx *store.Tx) (err error) {
		r, err = tx.LabRendition(ctx, id)
		return err
	})
	return r, err
}

// Publish lets partners see a sanitised rendition, once the analyst has
// checked it. It is audited.
func (s *Service) Publish(ctx context.Context, a haven.Actor, id string) error {
	if !a.Can(haven.PermLabSanitise) {
		return haven.ErrNotFound
	}
	return s.store.InTx(ctx, func(tx *store.Tx) error {
		r, err := tx.LabRendition(ctx, id)
		if err != nil {
			return err
		}
		if r.Published() {
			return &haven.Error{Kind: haven.KindConflict, Message: "This rendition is already published."}
		}
		if err := tx.PublishLabRendition(ctx, id, a.UserID, s.clock.Now()); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "lab.publish", ObjectType: "lab_rendition", ObjectID: id,
			Details: map[string]string{"series": r.SeriesCode}})
	})
}

// Item is a published sanitised rendition as partners see it: no report,
// file or victim data.
type Item struct {
	ID          string
	SeriesCode  string
	Width       int
	Height      int
	PublishedAt string
}

// Published lists the published sanitised renditions for partners, by
// series code. The read is audited.
func (s *Service) Published(ctx context.Context, a haven.Actor) ([]*Item, error) {
	if !a.Can(haven.PermLabView) {
		return nil, haven.ErrForbidden
	}
	var out []*Item
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		rs, err := tx.PublishedLabRenditions(ctx)
		if err != nil {
			return err
		}
		for _, r := range rs {
			out = append(out, &Item{ID: r.ID, SeriesCode: r.SeriesCode, Width: r.Width, Height: r.Height,
				PublishedAt: r.PublishedAt.UTC().Format("2006-01-02")})
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "lab.browse", ObjectType: "lab_rendition",
			Details: map[string]string{"items": strconv.Itoa(len(out))}})
	})
	return out, err
}

// Image returns the bytes of a sanitised rendition: to analysts
// (haven.PermLabSanitise) whether published or not, to partners
// (haven.PermLabView) only once published. Anything else, published or
// missing, is the same ErrNotFound, and a partner's refusal is audited.
// Each view is audited.
func (s *Service) Image(ctx context.Context, a haven.Actor, id string) ([]byte, *store.LabRendition, error) {
	analyst := a.Can(haven.PermLabSanitise)
	if !analyst && !a.Can(haven.PermLabView) {
		return nil, nil, haven.ErrNotFound
	}
	var r *store.LabRendition
	err := s.store.InTx(ctx, func(tx *store.Tx) (err error) {
		r, err = tx.LabRendition(ctx, id)
		if err == nil && !analyst && !r.Published() {
			err = haven.ErrNotFound
		}
		if err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "lab.view", ObjectType: "lab_rendition", ObjectID: id,
			Details: map[string]string{"series": r.SeriesCode}})
	})
	if haven.IsKind(err, haven.KindNotFound) {
		derr := s.store.InTx(ctx, func(tx *store.Tx) error {
			return s.audit.Record(ctx, tx, a, audit.Entry{Type: "lab.view", ObjectType: "lab_rendition", ObjectID: id,
				Outcome: haven.OutcomeDenied})
		})
		if derr != nil {
			return nil, nil, derr
		}
		return nil, nil, haven.ErrNotFound
	}
	if err != nil {
		return nil, nil, err
	}
	rc, err := s.custody.Open(ctx, haven.SystemActor("lab"), r.ItemID, "showing a sanitised rendition of the redacted lab to user "+a.UserID)
	if err != nil {
		return nil, nil, err
	}
	defer rc.Close()
	// Read it whole: a failed integrity check must give an error, not
	// half a picture.
	b, err := io.ReadAll(io.LimitReader(rc, 32<<20))
	if err != nil {
		return nil, nil, err
	}
	return b, r, nil
}
