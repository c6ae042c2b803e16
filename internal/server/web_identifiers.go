package server

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/geo"
	"github.com/haven-hotline/haven/internal/identifiers"
)

// Staff pages of identifiers and geolocation (issue 5): search by
// identifier, an entity's timeline across reports, and the report page's
// identifiers and location panels with the location correction form.

// identifierRoutes lists the routes of this part of issue 5.
func (s *Server) identifierRoutes() []Route {
	return []Route{
		staffRoute(http.MethodGet, "/app/identifiers", haven.PermIdentifiers, s.identifiersPage),
		staffRoute(http.MethodGet, "/app/entities/{id}", haven.PermIdentifiers, s.entityPage),
		staffRoute(http.MethodPost, "/app/reports/{id}/location", haven.PermGeoCorrect, s.locationCorrect),
	}
}

type identifiersData struct {
	Query  string
	Kind   identifiers.Kind
	Kinds  []identifiers.Kind
	Result *identifiers.SearchResult
}

// identifiersPage searches by identifier. The query travels in the URL,
// as on the hash search page; it is never logged, and the audit event
// holds a keyed pseudonym of it.
func (s *Server) identifiersPage(w http.ResponseWriter, r *request) error {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	kind := identifiers.Kind(r.URL.Query().Get("kind"))
	d := &identifiersData{Query: q, Kind: kind, Kinds: identifiers.Kinds}
	p := s.newPage(r, "Search by identifier", d)
	if q != "" {
		res, err := s.app.Identifiers.Search(r.Context(), r.actor, kind, q)
		if err != nil {
			var he *haven.Error
			if haven.IsKind(err, haven.KindInvalid) && asHaven(err, &he) {
				p.Error = safeMessage(err)
				p.Fields[he.Field] = he.Message
				return s.render(w, http.StatusBadRequest, "identifiers", p)
			}
			return err
		}
		d.Result = res
	}
	return s.render(w, http.StatusOK, "identifiers", p)
}

// entityPage shows an entity and its reports, newest first, a page at a
// time.
func (s *Server) entityPage(w http.ResponseWriter, r *request) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return haven.ErrNotFound
	}
	var after *identifiers.Cursor
	if a := r.URL.Query().Get("after"); a != "" {
		if after, err = identifiers.ParseCursor(a); err != nil {
			return err
		}
	}
	v, err := s.app.Identifiers.Entity(r.Context(), r.actor, id, after)
	if err != nil {
		return err
	}
	// The title names the kind only: the value stays out of window
	// titles and the browser's history list.
	return s.render(w, http.StatusOK, "entity", s.newPage(r, fmt.Sprintf("%s %d", v.Entity.Kind.Label(), v.Entity.ID), v))
}

// identifiersPanelData is what the identifiers_panel template shows.
type identifiersPanelData struct {
	ReportID int64
	Related  *identifiers.Related
}

// identifiersPanel returns the data of the report page's identifiers
// panel ("identifiers_panel" in _identifiers.html): the report's
// identifiers and the reports related to it. It returns nil, and no
// error, to an actor who may not see identifiers: the page leaves the
// panel out. The read is audited.
func (s *Server) identifiersPanel(r *request, reportID int64) (any, error) {
	if !r.actor.Can(haven.PermIdentifiers) {
		return nil, nil
	}
	rel, err := s.app.Identifiers.Related(r.Context(), r.actor, reportID)
	if err != nil {
		return nil, err
	}
	return &identifiersPanelData{ReportID: reportID, Related: rel}, nil
}

// locationPanelData is what the location_panel template shows.
type locationPanelData struct {
	ReportID int64
	// Location is nil until the report is located or corrected.
	Location *geo.ReportLocation
	// Country and Region are the location acted on: the correction, if
	// any, else the computed one.
	Country, Region string
	CanCorrect      bool
	CSRF            string
	IPLookup        bool
	// Notice and Error report the last correction (after its redirect);
	// ErrorField names the form field at fault.
	Notice, Error, ErrorField string
}

// locationErrors are the messages shown after a refused correction, by
// field. They are fixed texts: nothing typed is echoed from the URL.
var locationErrors = map[string]string{
	"country": "The location was not corrected: give the country as its two-letter ISO code, such as US or GB.",
	"region":  "The location was not corrected: give a region of that country as its ISO code (such as US-CA) or its name.",
	"reason":  "The location was not corrected: say why, in the reason field.",
}

// locationPanel returns the data of the report page's location panel
// ("location_panel" in _location.html), with the correction form for
// those who may correct. It returns nil, and no error, to an actor who may
// not read reports.
func (s *Server) locationPanel(r *request, reportID int64) (any, error) {
	if !r.actor.Can(haven.PermReportRead) {
		return nil, nil
	}
	d := &locationPanelData{ReportID: reportID, CanCorrect: r.actor.Can(haven.PermGeoCorrect), IPLookup: s.app.Geo.IPLookup()}
	if r.principal != nil {
		d.CSRF = r.principal.Session.CSRFToken
	}
	loc, err := s.app.Geo.Location(r.Context(), r.actor, reportID)
	switch {
	case err == nil:
		d.Location = loc
		d.Country, d.Region = loc.Effective()
	case !haven.IsKind(err, haven.KindNotFound):
		return nil, err
	}
	q := r.URL.Query()
	if q.Get("location") == "corrected" {
		d.Notice = "The location was corrected. The correction and its reason are kept with the report and recorded in the audit log."
	}
	if f := q.Get("location_error"); locationErrors[f] != "" {
		d.Error, d.ErrorField = locationErrors[f], f
	}
	return d, nil
}

// locationCorrect records an analyst's correction of a report's location
// and returns to the report page, where the location panel says how it
// went.
func (s *Server) locationCorrect(w http.ResponseWriter, r *request) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return haven.ErrNotFound
	}
	if err := parseForm(r); err != nil {
		return err
	}
	err = s.app.Geo.Correct(r.Context(), r.actor, id, r.PostFormValue("country"), r.PostFormValue("region"), r.PostFormValue("reason"))
	var he *haven.Error
	if haven.IsKind(err, haven.KindInvalid) && asHaven(err, &he) && locationErrors[he.Field] != "" {
		http.Redirect(w, r.Request, fmt.Sprintf("/app/reports/%d?location_error=%s#location", id, he.Field), http.StatusSeeOther)
		return nil
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r.Request, fmt.Sprintf("/app/reports/%d?location=corrected#location", id), http.StatusSeeOther)
	return nil
}
