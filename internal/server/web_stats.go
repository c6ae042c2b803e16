package server

import (
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/stats"
)

// Statistics and transparency (issue 9, items 1, 2 and 5): the internal
// dashboards (charts drawn on the server as SVG, each with its data table
// and a CSV of exactly that table), the public data releases (drafts for
// staff, published versions for everyone at /statistics) and researchers'
// aggregate exports.

// statsRoutes lists the routes of statistics and transparency (issue 9):
// the internal dashboards, the public data releases and research exports.
func (s *Server) statsRoutes() []Route {
	const (
		get  = http.MethodGet
		post = http.MethodPost
	)
	public := func(path string, h func(http.ResponseWriter, *request) error) Route {
		return Route{Method: get, Path: path, Surface: SurfacePublic, Public: true, Handler: h}
	}
	return []Route{
		staffRoute(get, "/app/dashboards", haven.PermDashboards, s.dashboardsPage),
		staffRoute(get, "/app/dashboards/{file}", haven.PermDashboards, s.dashboardCSV),
		staffRoute(post, "/app/dashboards/rebuild", haven.PermDashboards, s.dashboardsRebuild),
		staffRoute(get, "/app/releases", haven.PermDashboards, s.releasesPage),
		staffRoute(post, "/app/releases", haven.PermReleases, s.releaseCreate),
		staffRoute(get, "/app/releases/{id}", haven.PermDashboards, s.releasePage),
		staffRoute(post, "/app/releases/{id}/publish", haven.PermReleases, s.releasePublish),
		staffRoute(get, "/app/research", haven.PermResearch, s.researchPage),
		staffRoute(post, "/app/research", haven.PermResearch, s.researchRequest),
		staffRoute(get, "/app/research/{id}/download", haven.PermResearch, s.researchDownload),
		public("/statistics", s.publicStatistics),
		public("/statistics/{id}", s.publicRelease),
		public("/statistics/{id}/csv", s.publicReleaseCSV),
		public("/statistics/{id}/json", s.publicReleaseJSON),
	}
}

// dashChart is a chart with its picture for the template.
type dashChart struct {
	*stats.Chart
	SVG template.HTML
}

type dashboardData struct {
	Range   stats.Range
	From    string
	To      string
	Query   string // from=…&to=…&by=… for the CSV links
	Charts  []dashChart
	BuiltAt string
}

func (s *Server) dashRange(r *request) (stats.Range, error) {
	q := r.URL.Query()
	return stats.ParseRange(q.Get("from"), q.Get("to"), q.Get("by"), s.app.Clock.Now())
}

func (s *Server) dashboardsPage(w http.ResponseWriter, r *request) error {
	rng, err := s.dashRange(r)
	if err != nil {
		return err
	}
	charts, err := s.app.Stats.Dashboard(r.Context(), r.actor, rng)
	if err != nil {
		return err
	}
	d := &dashboardData{Range: rng, From: rng.From.Format("2006-01-02"), To: rng.To.Format("2006-01-02")}
	d.Query = url.Values{"from": {d.From}, "to": {d.To}, "by": {rng.By}}.Encode()
	for _, c := range charts {
		// The chart package escapes every label it draws.
		d.Charts = append(d.Charts, dashChart{Chart: c, SVG: template.HTML(c.SVG())}) //nolint:gosec // escaped SVG
	}
	if at, err := s.app.Stats.BuiltAt(r.Context()); err == nil && !at.IsZero() {
		d.BuiltAt = at.UTC().Format("2006-01-02 15:04 UTC")
	}
	p := s.newPage(r, "Dashboards", d)
	if r.URL.Query().Get("done") == "rebuild" {
		p.Notice = "The figures are being rebuilt; reload the page in a minute."
	}
	return s.render(w, http.StatusOK, "stats_dashboards", p)
}

// dashboardCSV serves /app/dashboards/{chart}.csv: exactly the chart's
// data table over the same range.
func (s *Server) dashboardCSV(w http.ResponseWriter, r *request) error {
	id, ok := strings.CutSuffix(r.PathValue("file"), ".csv")
	if !ok {
		return haven.ErrNotFound
	}
	rng, err := s.dashRange(r)
	if err != nil {
		return err
	}
	c, err := s.app.Stats.Chart(r.Context(), r.actor, id, rng)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+id+"_"+rng.From.Format("20060102")+"-"+rng.To.Format("20060102")+`.csv"`)
	return c.WriteCSV(w)
}

func (s *Server) dashboardsRebuild(w http.ResponseWriter, r *request) error {
	if err := s.app.Stats.RequestRebuild(r.Context(), r.actor); err != nil {
		return err
	}
	http.Redirect(w, r.Request, "/app/dashboards?done=rebuild", http.StatusSeeOther)
	return nil
}

type releasesData struct {
	Releases   []*stats.Release
	CanPrepare bool
	Threshold  int
	Defaults   string
}

func (s *Server) releasesData(r *request) (*releasesData, error) {
	list, err := s.app.Stats.Releases(r.Context(), r.actor)
	if err != nil {
		return nil, err
	}
	d := &releasesData{CanPrepare: r.actor.Can(haven.PermReleases), Threshold: s.app.Stats.Threshold(), Defaults: stats.DefaultDefinitions}
	for _, x := range list {
		d.Releases = append(d.Releases, &stats.Release{StatRelease: x})
	}
	return d, nil
}

func (s *Server) releasesPage(w http.ResponseWriter, r *request) error {
	d, err := s.releasesData(r)
	if err != nil {
		return err
	}
	return s.render(w, http.StatusOK, "stats_releases", s.newPage(r, "Public releases", d))
}

func (s *Server) releaseCreate(w http.ResponseWriter, r *request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	threshold := 0
	if v := strings.TrimSpace(r.PostFormValue("threshold")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			n = -1
		}
		threshold = n
	}
	rel, err := s.app.Stats.CreateDraft(r.Context(), r.actor, r.PostFormValue("period"), threshold, r.PostFormValue("definitions"))
	if err != nil {
		if !haven.IsKind(err, haven.KindInvalid) {
			return err
		}
		d, derr := s.releasesData(r)
		if derr != nil {
			return derr
		}
		return s.formError(w, r, "stats_releases", s.newPage(r, "Public releases", d), err)
	}
	http.Redirect(w, r.Request, "/app/releases/"+url.PathEscape(rel.ID), http.StatusSeeOther)
	return nil
}

type releaseData struct {
	Release    *stats.Release
	View       *stats.PublicView
	CanPublish bool
}

func (s *Server) releasePage(w http.ResponseWriter, r *request) error {
	rel, err := s.app.Stats.Draft(r.Context(), r.actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	d := &releaseData{Release: rel, View: rel.Public(), CanPublish: r.actor.Can(haven.PermReleases) && rel.Status == stats.ReleaseDraft}
	p := s.newPage(r, "Release "+rel.Period, d)
	if r.URL.Query().Get("done") == "published" {
		p.Notice = "The release is published at /statistics/" + rel.ID + "."
	}
	return s.render(w, http.StatusOK, "stats_release", p)
}

func (s *Server) releasePublish(w http.ResponseWriter, r *request) error {
	rel, err := s.app.Stats.Publish(r.Context(), r.actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	http.Redirect(w, r.Request, "/app/releases/"+url.PathEscape(rel.ID)+"?done=published", http.StatusSeeOther)
	return nil
}

type researchData struct {
	Tables  []stats.ResearchTable
	Exports []*researchExport
	Month   string
}

type researchExport struct {
	ID, Table, From, To, Status string
	Rows                        int
	Expires                     string
	Expired                     bool
}

func (s *Server) researchData(r *request) (*researchData, error) {
	list, err := s.app.Stats.Exports(r.Context(), r.actor)
	if err != nil {
		return nil, err
	}
	now := s.app.Clock.Now()
	d := &researchData{Tables: stats.ResearchTables, Month: now.UTC().Format("2006-01")}
	for _, e := range list {
		x := &researchExport{ID: e.ID, Table: e.Table, From: e.FromDay[:7], To: e.ToDay[:7], Status: e.Status, Rows: e.Rows}
		if !e.ExpiresAt.IsZero() {
			x.Expires = e.ExpiresAt.UTC().Format("2006-01-02 15:04 UTC")
			x.Expired = !now.Before(e.ExpiresAt)
		}
		d.Exports = append(d.Exports, x)
	}
	return d, nil
}

func (s *Server) researchPage(w http.ResponseWriter, r *request) error {
	d, err := s.researchData(r)
	if err != nil {
		return err
	}
	p := s.newPage(r, "Research exports", d)
	if r.URL.Query().Get("done") == "requested" {
		p.Notice = "The export is being produced; it appears below when ready."
	}
	return s.render(w, http.StatusOK, "stats_research", p)
}

func (s *Server) researchRequest(w http.ResponseWriter, r *request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	_, err := s.app.Stats.RequestExport(r.Context(), r.actor, r.PostFormValue("table"), r.PostFormValue("from"), r.PostFormValue("to"))
	if err != nil {
		if !haven.IsKind(err, haven.KindInvalid) {
			return err
		}
		d, derr := s.researchData(r)
		if derr != nil {
			return derr
		}
		return s.formError(w, r, "stats_research", s.newPage(r, "Research exports", d), err)
	}
	http.Redirect(w, r.Request, "/app/research?done=requested", http.StatusSeeOther)
	return nil
}

func (s *Server) researchDownload(w http.ResponseWriter, r *request) error {
	body, e, err := s.app.Stats.Download(r.Context(), r.actor, r.PathValue("id"))
	if errors.Is(err, stats.ErrExpired) {
		s.renderError(w, r, http.StatusGone, haven.ErrorMessage(err))
		return nil
	}
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+e.Table+"_"+e.FromDay[:7]+"_"+e.ToDay[:7]+`.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	_, err = w.Write(body)
	return err
}

// Public releases.

func (s *Server) publicStatistics(w http.ResponseWriter, r *request) error {
	list, err := s.app.Stats.Published(r.Context())
	if err != nil {
		return err
	}
	return s.render(w, http.StatusOK, "public_statistics", s.newPage(r, "Statistics", list))
}

// publicView returns a published release, answering 404 itself.
func (s *Server) publicView(w http.ResponseWriter, r *request) (*stats.PublicView, bool, error) {
	rel, err := s.app.Stats.PublicRelease(r.Context(), r.PathValue("id"))
	if haven.IsKind(err, haven.KindNotFound) {
		s.renderError(w, r, http.StatusNotFound, "There is no published release with this number.")
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return rel.Public(), true, nil
}

func (s *Server) publicRelease(w http.ResponseWriter, r *request) error {
	v, ok, err := s.publicView(w, r)
	if !ok {
		return err
	}
	return s.render(w, http.StatusOK, "public_statistics_release", s.newPage(r, "Statistics "+v.Period, v))
}

func (s *Server) publicReleaseCSV(w http.ResponseWriter, r *request) error {
	v, ok, err := s.publicView(w, r)
	if !ok {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="haven-statistics-`+v.Period+"-v"+strconv.Itoa(v.Version)+`.csv"`)
	return v.WriteCSV(w)
}

func (s *Server) publicReleaseJSON(w http.ResponseWriter, r *request) error {
	v, ok, err := s.publicView(w, r)
	if !ok {
		return err
	}
	w.Header().Set("Content-Disposition", `attachment; filename="haven-statistics-`+v.Period+"-v"+strconv.Itoa(v.Version)+`.json"`)
	writeJSON(w, http.StatusOK, v)
	return nil
}
