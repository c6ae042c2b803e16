package server

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/lab"
	"github.com/haven-hotline/haven/internal/store"
	"github.com/haven-hotline/haven/internal/viewer"
)

// The unidentified-series workboard and the redacted lab (issue 6, items
// 4 and 5): the list of series by recency of their newest sighting, a
// series' sightings with their clues, findings and leads; the masking
// page where an analyst draws rectangles over the child on a reduced
// picture (static/lab.js), the sanitised rendition's check-and-publish
// page, and the agency users' lab of published sanitised renditions.

// labRoutes lists the routes of the workboard and the lab.
func (s *Server) labRoutes() []Route {
	const (
		get  = http.MethodGet
		post = http.MethodPost
	)
	const file = "/app/workboard/{code}/reports/{id}/files/{fileId}/"
	return []Route{
		staffRoute(get, "/app/workboard", haven.PermSeriesRead, s.workboardPage),
		staffRoute(get, "/app/workboard/{code}", haven.PermSeriesRead, s.workboardSeriesPage),
		staffRoute(post, "/app/workboard/{code}/findings", haven.PermSeriesManage, s.workboardFinding),
		staffRoute(post, "/app/workboard/{code}/leads", haven.PermSeriesManage, s.workboardLead),
		staffRoute(post, "/app/workboard/{code}/promote", haven.PermSeriesManage, s.workboardPromote),
		staffRoute(get, file+"mask", haven.PermLabSanitise, s.labMaskPage),
		staffRoute(get, file+"work", haven.PermLabSanitise, s.labWorkImage),
		staffRoute(post, file+"mask", haven.PermLabSanitise, s.labSanitise),
		staffRoute(get, "/app/lab/{lid}", haven.PermLabSanitise, s.labDraftPage),
		staffRoute(get, "/app/lab/{lid}/image", haven.PermLabSanitise, s.labImage),
		staffRoute(post, "/app/lab/{lid}/publish", haven.PermLabSanitise, s.labPublish),
		leRoute(get, "/le/lab", haven.PermLabView, s.leLabPage),
		leRoute(get, "/le/lab/{lid}/image", haven.PermLabView, s.labImage),
	}
}

// labCSP is the policy of the masking page: the site's, with the working
// image drawn on a canvas.
const labCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
	"font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

func (s *Server) workboardPage(w http.ResponseWriter, r *request) error {
	list, err := s.app.Lab.Workboard(r.Context(), r.actor)
	if err != nil {
		return err
	}
	return s.render(w, http.StatusOK, "workboard", s.newPage(r, "Unidentified series", map[string]any{"Series": list}))
}

type workboardData struct {
	View      *lab.SeriesView
	CanManage bool
	CanLab    bool
	// CanPromote shows the form that records the child as identified;
	// Agencies are its choice of identifying agency.
	CanPromote bool
	Agencies   []*haven.Agency
	// Escaped is the series code for paths.
	Escaped string
}

func (s *Server) workboardSeriesData(r *request) (*workboardData, error) {
	v, err := s.app.Lab.Series(r.Context(), r.actor, r.PathValue("code"))
	if err != nil {
		return nil, err
	}
	d := &workboardData{View: v, CanManage: r.actor.Can(haven.PermSeriesManage), CanLab: r.actor.Can(haven.PermLabSanitise),
		CanPromote: r.actor.Can(haven.PermSeriesManage) && r.actor.Can(haven.PermVictimRead), Escaped: url.PathEscape(v.Code)}
	if d.CanPromote {
		if d.Agencies, err = s.app.Accounts.Agencies(r.Context(), r.actor); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// workboardPromote records the series' child as identified with the
// identifying agency's details (victimid.Service.Promote); the series
// leaves the workboard once all its victims are identified.
func (s *Server) workboardPromote(w http.ResponseWriter, r *request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	v := store.Victim{ID: r.PostFormValue("victim"), AgencyID: r.PostFormValue("agency"), OfficerName: r.PostFormValue("officer_name"),
		OfficerEmail: r.PostFormValue("officer_email"), OfficerPhone: r.PostFormValue("officer_phone")}
	if d := strings.TrimSpace(r.PostFormValue("identified_on")); d != "" {
		t, err := time.Parse("2006-01-02", d)
		if err != nil {
			return s.workboardFormError(w, r, haven.Invalidf("identified_on", "give the date as YYYY-MM-DD"))
		}
		v.IdentifiedOn = t
	}
	code := r.PathValue("code")
	if _, err := s.app.VictimID.Promote(r.Context(), r.actor, code, v); err != nil {
		return s.workboardFormError(w, r, err)
	}
	http.Redirect(w, r.Request, "/app/victims/series/"+url.PathEscape(code)+"?done=promoted", http.StatusSeeOther)
	return nil
}

func (s *Server) workboardSeriesPage(w http.ResponseWriter, r *request) error {
	d, err := s.workboardSeriesData(r)
	if err != nil {
		return err
	}
	p := s.newPage(r, "Series "+d.View.Code, d)
	switch r.URL.Query().Get("done") {
	case "finding":
		p.Notice = "The finding was added."
	case "lead":
		p.Notice = "The lead was marked."
	}
	return s.render(w, http.StatusOK, "workboard_series", p)
}

// workboardFormError shows the series page again with the form's problem.
func (s *Server) workboardFormError(w http.ResponseWriter, r *request, err error) error {
	if !haven.IsKind(err, haven.KindInvalid) {
		return err
	}
	d, derr := s.workboardSeriesData(r)
	if derr != nil {
		return derr
	}
	return s.formError(w, r, "workboard_series", s.newPage(r, "Series "+d.View.Code, d), err)
}

func (s *Server) workboardFinding(w http.ResponseWriter, r *request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	f, err := s.app.Lab.AddFinding(r.Context(), r.actor, r.PathValue("code"), r.PostFormValue("body"))
	if err != nil {
		return s.workboardFormError(w, r, err)
	}
	http.Redirect(w, r.Request, "/app/workboard/"+url.PathEscape(f.SeriesCode)+"?done=finding#findings", http.StatusSeeOther)
	return nil
}

func (s *Server) workboardLead(w http.ResponseWriter, r *request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	reportID, err := strconv.ParseInt(r.PostFormValue("report"), 10, 64)
	if err != nil || reportID <= 0 {
		return haven.ErrNotFound
	}
	l, err := s.app.Lab.MarkLead(r.Context(), r.actor, r.PathValue("code"), reportID, r.PostFormValue("file"),
		r.PostFormValue("clue"), r.PostFormValue("note"))
	if err != nil {
		return s.workboardFormError(w, r, err)
	}
	http.Redirect(w, r.Request, "/app/workboard/"+url.PathEscape(l.SeriesCode)+"?done=lead", http.StatusSeeOther)
	return nil
}

// labFileIDs reads the series code, report number and file ID of a
// masking route.
func labFileIDs(r *request) (string, int64, string, error) {
	id, fileID, err := viewerIDs(r)
	if err != nil {
		return "", 0, "", err
	}
	code, err := lab.CleanCode(r.PathValue("code"))
	return code, id, fileID, err
}

type labMaskData struct {
	Code     string
	ReportID int64
	FileID   string
	// Base is the path of the file's masking routes.
	Base string
	// Meter is the analyst's exposure: the working picture is unblurred
	// and counts as a minute of it.
	Meter *viewer.Meter
	// Refusal, when set, is why the picture is not shown now.
	Refusal string
}

// labMaskFor is the masking page's data: the file, the analyst's exposure
// meter, and why the working picture is refused when it is.
func (s *Server) labMaskFor(r *request, code string, id int64, fileID string) (*labMaskData, error) {
	d := &labMaskData{Code: code, ReportID: id, FileID: fileID,
		Base: fmt.Sprintf("/app/workboard/%s/reports/%d/files/%s/", url.PathEscape(code), id, fileID)}
	var err error
	if d.Meter, err = s.app.Viewer.Meter(r.Context(), r.actor); err != nil {
		return nil, err
	}
	switch {
	case d.Meter.Left <= 0:
		d.Refusal = (&viewer.Refusal{Why: "budget"}).Message()
	case !d.Meter.BreakUntil.IsZero():
		d.Refusal = (&viewer.Refusal{Why: "break"}).Message()
	}
	return d, nil
}

func (s *Server) labMaskPage(w http.ResponseWriter, r *request) error {
	code, id, fileID, err := labFileIDs(r)
	if err != nil {
		return err
	}
	if err := s.app.Lab.Fresh(r.actor); err != nil {
		return err // a sign-in first, then back here
	}
	d, err := s.labMaskFor(r, code, id, fileID)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Security-Policy", labCSP)
	return s.render(w, http.StatusOK, "lab_mask", s.newPage(r, "Mask a picture of series "+code, d))
}

func (s *Server) labWorkImage(w http.ResponseWriter, r *request) error {
	code, id, fileID, err := labFileIDs(r)
	if err != nil {
		return err
	}
	b, err := s.app.Lab.WorkImage(r.Context(), r.actor, code, id, fileID)
	if err != nil {
		return err
	}
	mediaHeaders(w, "image/png", "work.png")
	_, err = w.Write(b)
	return err
}

func (s *Server) labSanitise(w http.ResponseWriter, r *request) error {
	code, id, fileID, err := labFileIDs(r)
	if err != nil {
		return err
	}
	if err := parseForm(r); err != nil {
		return err
	}
	var lr *store.LabRendition
	masks, err := lab.ParseMasks(r.PostFormValue("masks"))
	if err == nil {
		lr, err = s.app.Lab.Sanitise(r.Context(), r.actor, code, id, fileID, masks)
	}
	if err != nil {
		if !haven.IsKind(err, haven.KindInvalid) {
			return err
		}
		d, derr := s.labMaskFor(r, code, id, fileID)
		if derr != nil {
			return derr
		}
		w.Header().Set("Content-Security-Policy", labCSP)
		return s.formError(w, r, "lab_mask", s.newPage(r, "Mask a picture of series "+code, d), err)
	}
	http.Redirect(w, r.Request, "/app/lab/"+lr.ID, http.StatusSeeOther)
	return nil
}

func (s *Server) labDraftPage(w http.ResponseWriter, r *request) error {
	lr, err := s.app.Lab.Draft(r.Context(), r.actor, r.PathValue("lid"))
	if err != nil {
		return err
	}
	p := s.newPage(r, "Sanitised rendition", map[string]any{"R": lr, "Escaped": url.PathEscape(lr.SeriesCode)})
	if r.URL.Query().Get("published") == "1" {
		p.Notice = "The sanitised rendition is published to the lab."
	}
	return s.render(w, http.StatusOK, "lab_draft", p)
}

func (s *Server) labImage(w http.ResponseWriter, r *request) error {
	b, lr, err := s.app.Lab.Image(r.Context(), r.actor, r.PathValue("lid"))
	if err != nil {
		return err
	}
	mediaHeaders(w, lr.ContentType, "sanitised.png")
	_, err = w.Write(b)
	return err
}

func (s *Server) labPublish(w http.ResponseWriter, r *request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	id := r.PathValue("lid")
	if r.PostFormValue("confirm") != "yes" {
		lr, err := s.app.Lab.Draft(r.Context(), r.actor, id)
		if err != nil {
			return err
		}
		p := s.newPage(r, "Sanitised rendition", map[string]any{"R": lr, "Escaped": url.PathEscape(lr.SeriesCode)})
		return s.formError(w, r, "lab_draft", p, haven.Invalidf("confirm", "Confirm that no part of the child is visible before publishing."))
	}
	if err := s.app.Lab.Publish(r.Context(), r.actor, id); err != nil {
		return err
	}
	http.Redirect(w, r.Request, "/app/lab/"+url.PathEscape(id)+"?published=1", http.StatusSeeOther)
	return nil
}

func (s *Server) leLabPage(w http.ResponseWriter, r *request) error {
	items, err := s.app.Lab.Published(r.Context(), r.actor)
	if err != nil {
		return err
	}
	return s.render(w, http.StatusOK, "lab_le", s.newPage(r, "Redacted lab", map[string]any{"Items": items}))
}
