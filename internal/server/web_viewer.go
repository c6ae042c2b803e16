package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/viewer"
)

// The safe viewer (SECURITY.md 31–33): a file's page with its blurred
// rendition, the audited reveal of its original, the exposure heartbeats
// of the page's script, supervisors' exposure figures and the legal
// authority that opens a gated file. Staff reach it under /app and agency
// users under /le, through the same handlers; the viewer service decides
// what each may see.
//
// The report page shows a link to each file's viewer with
// {{template "file_view_link" index .Data.ViewerLinks .ID}}, where
// ViewerLinks is the map that Viewer.Links returns.

// viewerRoutes lists the routes of this part of issue 5.
func (s *Server) viewerRoutes() []Route {
	const (
		get  = http.MethodGet
		post = http.MethodPost
	)
	const file = "/reports/{id}/files/{fileId}/"
	var rs []Route
	for _, sf := range []struct {
		prefix string
		route  func(method, path string, perm haven.Permission, h func(http.ResponseWriter, *request) error) Route
	}{{"/app", staffRoute}, {"/le", leRoute}} {
		rs = append(rs,
			sf.route(get, sf.prefix+file+"view", haven.PermViewRendition, s.viewerPage),
			sf.route(get, sf.prefix+file+"rendition", haven.PermViewRendition, s.viewerRendition),
			sf.route(post, sf.prefix+file+"reveal", haven.PermReveal, s.viewerReveal),
			sf.route(get, sf.prefix+file+"original", haven.PermReveal, s.viewerOriginal),
			sf.route(post, sf.prefix+file+"heartbeat", haven.PermReveal, s.viewerHeartbeat),
		)
	}
	return append(rs,
		staffRoute(post, "/app"+file+"legal-authority", haven.PermLegalAuthority, s.viewerAuthority),
		staffRoute(get, "/app/exposure", haven.PermExposureReport, s.exposurePage),
	)
}

// viewerCSP is the page policy of the viewer: the site's, with media
// (the revealed video) allowed from Haven itself.
const viewerCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'; " +
	"font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// viewerIDs reads the report number and file ID of a viewer route.
func viewerIDs(r *request) (int64, string, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	fileID := r.PathValue("fileId")
	if err != nil || id <= 0 || fileID == "" || len(fileID) > 64 {
		return 0, "", haven.ErrNotFound
	}
	return id, fileID, nil
}

type viewerData struct {
	View    *viewer.FileView
	Refusal *viewer.Refusal
	// ReportHref leads back to the report.
	ReportHref   string
	CanReveal    bool
	CanAuthority bool
	Kinds        []string
	// GrantSeconds is how long the live grant still lasts, for the
	// page's script (which must not trust the browser's clock).
	GrantSeconds int
	Today        string
}

// viewerPageData loads a file's view for the page.
func (s *Server) viewerPageData(r *request, id int64, fileID string) (*viewerData, error) {
	v, err := s.app.Viewer.File(r.Context(), r.actor, id, fileID)
	if err != nil {
		return nil, err
	}
	d := &viewerData{View: v, ReportHref: fmt.Sprintf("/app/reports/%d", id), CanReveal: r.actor.Can(haven.PermReveal),
		CanAuthority: r.actor.Can(haven.PermLegalAuthority), Kinds: viewer.AuthorityKinds,
		Today: s.app.Clock.Now().Format("2006-01-02")}
	if r.actor.Role == haven.RoleLE {
		d.ReportHref = "/le"
	}
	if v.Grant != nil {
		d.GrantSeconds = max(0, int(v.Grant.ExpiresAt.Sub(s.app.Clock.Now())/time.Second))
	}
	return d, nil
}

func (s *Server) renderViewer(w http.ResponseWriter, r *request, status int, p *page) error {
	w.Header().Set("Content-Security-Policy", viewerCSP)
	return s.render(w, status, "viewer", p)
}

func (s *Server) viewerPage(w http.ResponseWriter, r *request) error {
	id, fileID, err := viewerIDs(r)
	if err != nil {
		return err
	}
	d, err := s.viewerPageData(r, id, fileID)
	if err != nil {
		return err
	}
	p := s.newPage(r, "File "+fileID, d)
	switch {
	case r.URL.Query().Get("authority") == "1":
		p.Notice = "The legal authority was recorded."
	case r.URL.Query().Get("revealed") == "1" && d.View.Grant != nil:
		p.Notice = "The original is available for a few minutes. It stays blurred until you choose to show it."
	}
	return s.renderViewer(w, r, http.StatusOK, p)
}

// mediaHeaders sets the headers of rendition and original responses: a
// fixed name (never the client's), never rendered as a page, never
// cached, sandboxed.
func mediaHeaders(w http.ResponseWriter, contentType, name string) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Header().Set("Content-Security-Policy", "sandbox; default-src 'none'")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
}

func (s *Server) viewerRendition(w http.ResponseWriter, r *request) error {
	id, fileID, err := viewerIDs(r)
	if err != nil {
		return err
	}
	rc, rend, err := s.app.Viewer.Rendition(r.Context(), r.actor, id, fileID)
	if err != nil {
		return err
	}
	defer rc.Close()
	mediaHeaders(w, rend.ContentType, "rendition.png")
	// Read it whole first: a failed integrity check must give an error
	// page, not half a picture (renditions are small).
	b, err := io.ReadAll(io.LimitReader(rc, 16<<20))
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// maxRangeable is the largest original video held in memory to answer
// the range requests a video element makes.
const maxRangeable = 256 << 20

func (s *Server) viewerOriginal(w http.ResponseWriter, r *request) error {
	id, fileID, err := viewerIDs(r)
	if err != nil {
		return err
	}
	o, err := s.app.Viewer.Original(r.Context(), r.actor, id, fileID)
	if err != nil {
		return err
	}
	defer o.Close()
	mediaHeaders(w, o.ContentType, "original")
	if strings.HasPrefix(o.ContentType, "video/") && o.Size <= maxRangeable {
		b, err := io.ReadAll(io.LimitReader(o, maxRangeable+1))
		if err != nil {
			return err
		}
		http.ServeContent(w, r.Request, "", time.Time{}, bytes.NewReader(b))
		return nil
	}
	if o.Size > 0 {
		w.Header().Set("Content-Length", strconv.FormatInt(o.Size, 10))
	}
	if _, err := io.Copy(w, o); err != nil {
		// Headers are gone: the client sees a cut response. Log it.
		s.log.Error("original not fully sent", "request_id", r.id, "err", err)
	}
	return nil
}

func (s *Server) viewerReveal(w http.ResponseWriter, r *request) error {
	id, fileID, err := viewerIDs(r)
	if err != nil {
		return err
	}
	if err := parseForm(r); err != nil {
		return err
	}
	view := fmt.Sprintf("%s/reports/%d/files/%s/view", surfacePrefix(r), id, fileID)
	_, err = s.app.Viewer.Reveal(r.Context(), r.actor, id, fileID, r.PostFormValue("reason"))
	if err == nil {
		http.Redirect(w, r.Request, view+"?revealed=1#original", http.StatusSeeOther)
		return nil
	}
	var refusal *viewer.Refusal
	switch {
	case haven.IsKind(err, haven.KindReauth):
		http.Redirect(w, r.Request, "/app/reauth?next="+url.QueryEscape(view), http.StatusSeeOther)
		return nil
	case errors.As(err, &refusal):
		d, derr := s.viewerPageData(r, id, fileID)
		if derr != nil {
			return derr
		}
		d.Refusal = refusal
		return s.renderViewer(w, r, http.StatusConflict, s.newPage(r, "File "+fileID, d))
	case haven.IsKind(err, haven.KindInvalid):
		return s.viewerFormError(w, r, id, fileID, err)
	}
	return err
}

// viewerFormError shows the viewer page again with the form's problem.
func (s *Server) viewerFormError(w http.ResponseWriter, r *request, id int64, fileID string, err error) error {
	d, derr := s.viewerPageData(r, id, fileID)
	if derr != nil {
		return derr
	}
	p := s.newPage(r, "File "+fileID, d)
	var he *haven.Error
	if asHaven(err, &he) && he.Field != "" {
		p.Fields[he.Field] = he.Message
	}
	p.Error = safeMessage(err)
	p.Form = r.PostForm
	return s.renderViewer(w, r, statusOf(err), p)
}

// surfacePrefix is /le for the agency portal's routes and /app otherwise.
func surfacePrefix(r *request) string {
	if r.route.Surface == SurfaceLE {
		return "/le"
	}
	return "/app"
}

func (s *Server) viewerHeartbeat(w http.ResponseWriter, r *request) error {
	id, fileID, err := viewerIDs(r)
	if err != nil {
		return err
	}
	if err := parseForm(r); err != nil {
		return err
	}
	m, err := s.app.Viewer.Heartbeat(r.Context(), r.actor, id, fileID, r.PostFormValue("grant"), r.PostFormValue("state"))
	if errors.Is(err, viewer.ErrGrantExpired) {
		writeJSON(w, http.StatusConflict, map[string]any{"expired": true})
		return nil
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"expired": false, "today": m.TodayText(), "left": m.LeftText()})
	return nil
}

func (s *Server) viewerAuthority(w http.ResponseWriter, r *request) error {
	id, fileID, err := viewerIDs(r)
	if err != nil {
		return err
	}
	if err := parseForm(r); err != nil {
		return err
	}
	in := viewer.AuthorityInput{Kind: r.PostFormValue("kind"), Reference: r.PostFormValue("reference"),
		Issuer: r.PostFormValue("issuer"), IssuedOn: r.PostFormValue("issued_on"), Notes: r.PostFormValue("notes")}
	if _, err := s.app.Viewer.RecordAuthority(r.Context(), r.actor, id, fileID, in); err != nil {
		if haven.IsKind(err, haven.KindInvalid) {
			return s.viewerFormError(w, r, id, fileID, err)
		}
		return err
	}
	http.Redirect(w, r.Request, fmt.Sprintf("/app/reports/%d/files/%s/view?authority=1", id, fileID), http.StatusSeeOther)
	return nil
}

type exposureData struct {
	Days    int
	Rows    []*viewer.ExposureDay
	Options viewer.Options
	Budget  string
	Break   string
}

func (s *Server) exposurePage(w http.ResponseWriter, r *request) error {
	days := 14
	if n, err := strconv.Atoi(r.URL.Query().Get("days")); err == nil && n > 0 {
		days = min(n, viewer.MaxReportDays)
	}
	rows, err := s.app.Viewer.ExposureReport(r.Context(), r.actor, days)
	if err != nil {
		return err
	}
	opt := s.app.Viewer.Options()
	d := &exposureData{Days: days, Rows: rows, Options: opt, Budget: viewer.HumanDuration(opt.DailyBudget),
		Break: fmt.Sprintf("a break of %s after %s", viewer.HumanDuration(opt.BreakLength), viewer.HumanDuration(opt.BreakAfter))}
	return s.render(w, http.StatusOK, "exposure", s.newPage(r, "Exposure", d))
}
