package server

import (
	"bytes"
	"crypto/subtle"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/store"
	"github.com/haven-hotline/haven/internal/support"
	"github.com/haven-hotline/haven/internal/upload"
)

// Family support and the provider network (issue 8, items 5 and 6): the
// coordinators' pages of family support requests (with the matching
// proposals and their reasons, approval, introductions and follow-ups,
// a family asking for a different volunteer), the volunteer roster with
// wellbeing pauses, and the provider directory with its HSDS 3 import
// and export and the referrals of families with their closed loop.
// Volunteers are not users: coordinators act for them.

// supportRoutes lists the routes of family support: volunteers, matching and the provider network (issue 8).
func (s *Server) supportRoutes() []Route {
	const (
		get  = http.MethodGet
		post = http.MethodPost
	)
	return []Route{
		staffRoute(get, "/app/support", haven.PermSupport, s.supportPage),
		staffRoute(post, "/app/support/requests", haven.PermSupport, s.supportCreateRequest),
		staffRoute(get, "/app/support/requests/{id}", haven.PermSupport, s.supportRequestPage),
		staffRoute(post, "/app/support/requests/{id}/approve", haven.PermSupport, s.supportApprove),
		staffRoute(post, "/app/support/requests/{id}/replace", haven.PermSupport, s.supportReplace),
		staffRoute(post, "/app/support/requests/{id}/close", haven.PermSupport, s.supportClose),
		staffRoute(post, "/app/support/requests/{id}/contacts", haven.PermSupport, s.supportSchedule),
		staffRoute(post, "/app/support/requests/{id}/referrals", haven.PermProviders, s.supportRefer),
		staffRoute(post, "/app/support/contacts/{id}/record", haven.PermSupport, s.supportRecordContact),
		staffRoute(get, "/app/support/volunteers", haven.PermSupport, s.volunteersPage),
		staffRoute(post, "/app/support/volunteers", haven.PermSupport, s.volunteerSave),
		staffRoute(get, "/app/support/volunteers/{id}", haven.PermSupport, s.volunteerPage),
		staffRoute(post, "/app/support/volunteers/{id}", haven.PermSupport, s.volunteerSave),
		staffRoute(post, "/app/support/volunteers/{id}/pauses", haven.PermSupport, s.volunteerPause),
		staffRoute(get, "/app/providers", haven.PermProvidersRead, s.providersPage),
		staffRoute(get, "/app/providers/new", haven.PermProviders, s.providerEditPage),
		staffRoute(post, "/app/providers", haven.PermProviders, s.providerSave),
		staffRoute(get, "/app/providers/hsds.json", haven.PermProviders, s.providersExport),
		{Method: post, Path: "/app/providers/hsds", Surface: SurfaceStaff, Perm: haven.PermProviders, FormCSRF: true,
			MaxBody: support.DefaultLimits().MaxBytes + 1<<20, Handler: s.providersImport},
		staffRoute(get, "/app/providers/{id}", haven.PermProvidersRead, s.providerPage),
		staffRoute(get, "/app/providers/{id}/edit", haven.PermProviders, s.providerEditPage),
		staffRoute(post, "/app/providers/{id}", haven.PermProviders, s.providerSave),
		staffRoute(post, "/app/providers/{id}/referrals", haven.PermProviders, s.providerRefer),
		staffRoute(post, "/app/providers/referrals/{id}/status", haven.PermProviders, s.referralStatus),
	}
}

// supportView is embedded in the pages' data: its methods give the
// templates the words for stored keys.
type supportView struct{}

// Label returns the words for a key (case type, relation, mode…).
func (supportView) Label(key string) string { return support.Label(key) }

// Labels returns the words for a list of keys, joined.
func (supportView) Labels(keys []string) string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = support.Label(k)
	}
	return strings.Join(out, ", ")
}

// Langs returns the names of language codes, joined.
func (supportView) Langs(codes []string) string {
	out := make([]string, len(codes))
	for i, c := range codes {
		out[i] = support.LanguageName(c)
	}
	return strings.Join(out, ", ")
}

// Date formats a date, or "—".
func (supportView) Date(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.Format(time.DateOnly)
}

// Join joins a list with commas.
func (supportView) Join(l []string) string { return strings.Join(l, ", ") }

// Has reports whether l holds v (to check boxes).
func (supportView) Has(l []string, v string) bool { return slices.Contains(l, v) }

// Provider names a provider.
func (supportView) Provider(p *store.Provider) string { return support.DisplayName(p) }

// Vocabulary lists for the forms.
func (supportView) CaseTypes() []string    { return support.CaseTypes }
func (supportView) Relations() []string    { return support.Relations }
func (supportView) Availability() []string { return support.Availability }
func (supportView) Needs() []string        { return support.Needs }
func (supportView) Modes() []string        { return support.Modes }
func (supportView) FeeTerms() []string     { return support.FeeTerms }

// Next lists the statuses a referral may move to.
func (supportView) Next(status string) []string { return support.NextStatuses(status) }

// LanguageOptions lists the offered languages by name.
func (supportView) LanguageOptions() [][2]string {
	var out [][2]string
	for c, n := range support.Languages {
		out = append(out, [2]string{c, n})
	}
	slices.SortFunc(out, func(a, b [2]string) int { return strings.Compare(a[1], b[1]) })
	return out
}

// supportFormList reads a multi-valued field (checkboxes) or a comma-separated
// text field.
func supportFormList(r *request, name string) []string {
	var out []string
	for _, v := range r.PostForm[name] {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// supportFormDate reads a yyyy-mm-dd field ("" is the zero time).
func supportFormDate(r *request, name string) (time.Time, error) {
	v := strings.TrimSpace(r.PostFormValue(name))
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return time.Time{}, haven.Invalidf(name, "give a date as yyyy-mm-dd")
	}
	return t, nil
}

func supportFormInt(r *request, name string) (int, error) {
	v := strings.TrimSpace(r.PostFormValue(name))
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, haven.Invalidf(name, "give a whole number")
	}
	return n, nil
}

// Family support requests.

type supportListData struct {
	supportView
	Requests []*store.SupportRequest
	Status   string
	Due      []*store.DueContact
	Now      time.Time
}

// Overdue reports whether a contact is past its time.
func (d *supportListData) Overdue(c *store.DueContact) bool { return c.DueAt.Before(d.Now) }

func (s *Server) supportListData(r *request) (*supportListData, error) {
	st := r.URL.Query().Get("status")
	if st != "" && st != support.StatusOpen && st != support.StatusMatched && st != support.StatusClosed {
		st = ""
	}
	list, err := s.app.Support.Requests(r.Context(), r.actor, st)
	if err != nil {
		return nil, err
	}
	due, err := s.app.Support.DueContacts(r.Context(), r.actor, 7*24*time.Hour)
	if err != nil {
		return nil, err
	}
	return &supportListData{Requests: list, Status: st, Due: due, Now: s.app.Clock.Now()}, nil
}

func (s *Server) supportPage(w http.ResponseWriter, r *request) error {
	d, err := s.supportListData(r)
	if err != nil {
		return err
	}
	return s.render(w, http.StatusOK, "support", s.newPage(r, "Family support", d))
}

func (s *Server) supportCreateRequest(w http.ResponseWriter, r *request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	in := store.SupportRequest{Family: r.PostFormValue("family"), CaseType: r.PostFormValue("case_type"), Needs: supportFormList(r, "needs"),
		Language: r.PostFormValue("language"), Region: r.PostFormValue("region"), TimeZone: r.PostFormValue("time_zone"),
		PreferRelation: r.PostFormValue("prefer_relation"), PreferAvailability: supportFormList(r, "prefer_availability"),
		Notes: r.PostFormValue("notes"), CaseRef: r.PostFormValue("case_ref")}
	req, err := s.app.Support.CreateRequest(r.Context(), r.actor, in)
	if err != nil {
		if !haven.IsKind(err, haven.KindInvalid) {
			return err
		}
		d, derr := s.supportListData(r)
		if derr != nil {
			return derr
		}
		return s.formError(w, r, "support", s.newPage(r, "Family support", d), err)
	}
	http.Redirect(w, r.Request, "/app/support/requests/"+req.ID, http.StatusSeeOther)
	return nil
}

type supportRequestData struct {
	supportView
	View       *support.RequestView
	Providers  []*store.Provider
	CanRefer   bool
	Volunteers map[string]string // volunteer names by match ID, for the contacts
}

func (s *Server) supportRequestData(r *request) (*supportRequestData, error) {
	v, err := s.app.Support.Request(r.Context(), r.actor, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	d := &supportRequestData{View: v, CanRefer: r.actor.Can(haven.PermProviders), Volunteers: map[string]string{}}
	for _, m := range v.Matches {
		d.Volunteers[m.ID] = m.Volunteer.Name
	}
	if d.CanRefer {
		if d.Providers, err = s.app.Support.Providers(r.Context(), r.actor); err != nil {
			return nil, err
		}
	}
	return d, nil
}

func (s *Server) supportRequestPage(w http.ResponseWriter, r *request) error {
	d, err := s.supportRequestData(r)
	if err != nil {
		return err
	}
	p := s.newPage(r, "Family support request", d)
	switch r.URL.Query().Get("done") {
	case "approved":
		p.Notice = "The volunteer was matched; the introduction is scheduled."
	case "replaced":
		p.Notice = "The family's volunteer was released; new proposals leave them out."
	case "scheduled":
		p.Notice = "The contact was scheduled."
	case "recorded":
		p.Notice = "The contact was recorded."
	case "referred":
		p.Notice = "The family was referred."
	case "closed":
		p.Notice = "The request was closed."
	case "status":
		p.Notice = "The referral was updated."
	}
	return s.render(w, http.StatusOK, "support_request", p)
}

// supportFormError shows the request page again with the form's problem.
func (s *Server) supportFormError(w http.ResponseWriter, r *request, err error) error {
	if !haven.IsKind(err, haven.KindInvalid) && !haven.IsKind(err, haven.KindConflict) {
		return err
	}
	d, derr := s.supportRequestData(r)
	if derr != nil {
		return derr
	}
	return s.formError(w, r, "support_request", s.newPage(r, "Family support request", d), err)
}

func (s *Server) supportDone(w http.ResponseWriter, r *request, id, done string) error {
	http.Redirect(w, r.Request, "/app/support/requests/"+url.PathEscape(id)+"?done="+done, http.StatusSeeOther)
	return nil
}

func (s *Server) supportApprove(w http.ResponseWriter, r *request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	id := r.PathValue("id")
	if _, err := s.app.Support.Approve(r.Context(), r.actor, id, r.PostFormValue("volunteer")); err != nil {
		return s.supportFormError(w, r, err)
	}
	return s.supportDone(w, r, id, "approved")
}

func (s *Server) supportReplace(w http.ResponseWriter, r *request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	id := r.PathValue("id")
	if err := s.app.Support.AskDifferent(r.Context(), r.actor, id, r.PostFormValue("reason")); err != nil {
		return s.supportFormError(w, r, err)
	}
	return s.supportDone(w, r, id, "replaced")
}

func (s *Server) supportClose(w http.ResponseWriter, r *request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	id := r.PathValue("id")
	if err := s.app.Support.CloseRequest(r.Context(), r.actor, id, r.PostFormValue("reason")); err != nil {
		return s.supportFormError(w, r, err)
	}
	return s.supportDone(w, r, id, "closed")
}

func (s *Server) supportSchedule(w http.ResponseWriter, r *request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	id := r.PathValue("id")
	var due time.Time
	if v := strings.TrimSpace(r.PostFormValue("due")); v != "" {
		t, err := time.Parse("2006-01-02T15:04", v)
		if err != nil {
			return s.supportFormError(w, r, haven.Invalidf("due", "give the date and time"))
		}
		due = t
	}
	if _, err := s.app.Support.ScheduleContact(r.Context(), r.actor, id, r.PostFormValue("kind"), due); err != nil {
		return s.supportFormError(w, r, err)
	}
	return s.supportDone(w, r, id, "scheduled")
}

func (s *Server) supportRecordContact(w http.ResponseWriter, r *request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	reqID, err := s.app.Support.RecordContact(r.Context(), r.actor, r.PathValue("id"), r.PostFormValue("note"))
	if err != nil {
		return err
	}
	return s.supportDone(w, r, reqID, "recorded")
}

func (s *Server) supportRefer(w http.ResponseWriter, r *request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	id := r.PathValue("id")
	_, err := s.app.Support.Refer(r.Context(), r.actor, r.PostFormValue("provider"), support.ReferralInput{RequestID: id,
		Consent: r.PostFormValue("consent") == "yes", ConsentBy: r.PostFormValue("consent_by"), ConsentNote: r.PostFormValue("consent_note")})
	if haven.IsKind(err, haven.KindNotFound) {
		err = haven.Invalidf("provider", "choose a provider")
	}
	if err != nil {
		if !r.actor.Can(haven.PermSupport) {
			return err
		}
		return s.supportFormError(w, r, err)
	}
	return s.supportDone(w, r, id, "referred")
}

// Volunteers.

type volunteersData struct {
	supportView
	Volunteers []*store.Volunteer
	Now        time.Time
	Volunteer  *store.Volunteer // always nil: the form adds a new one
}

// Paused reports whether a volunteer is paused now.
func (d *volunteersData) Paused(v *store.Volunteer) bool { return support.PausedAt(v, d.Now) }

func (s *Server) volunteersData(r *request) (*volunteersData, error) {
	list, err := s.app.Support.Volunteers(r.Context(), r.actor)
	if err != nil {
		return nil, err
	}
	return &volunteersData{Volunteers: list, Now: s.app.Clock.Now()}, nil
}

func (s *Server) volunteersPage(w http.ResponseWriter, r *request) error {
	d, err := s.volunteersData(r)
	if err != nil {
		return err
	}
	return s.render(w, http.StatusOK, "support_volunteers", s.newPage(r, "Volunteers", d))
}

type volunteerData struct {
	supportView
	Volunteer *store.Volunteer
	Paused    bool
	Families  []*store.VolunteerFamily
}

func (s *Server) volunteerPage(w http.ResponseWriter, r *request) error {
	v, err := s.app.Support.Volunteer(r.Context(), r.actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	fams, err := s.app.Support.VolunteerFamilies(r.Context(), r.actor, v.ID)
	if err != nil {
		return err
	}
	p := s.newPage(r, v.Name, &volunteerData{Volunteer: v, Paused: support.PausedAt(v, s.app.Clock.Now()), Families: fams})
	switch r.URL.Query().Get("done") {
	case "saved":
		p.Notice = "The profile was saved."
	case "paused":
		p.Notice = "The pause was recorded."
	}
	return s.render(w, http.StatusOK, "support_volunteer", p)
}

func (s *Server) volunteerFromForm(r *request) (store.Volunteer, error) {
	v := store.Volunteer{ID: r.PathValue("id"), Name: r.PostFormValue("name"), Relation: r.PostFormValue("relation"),
		Experiences: supportFormList(r, "experiences"), Languages: supportFormList(r, "languages"), Region: r.PostFormValue("region"),
		TimeZone: r.PostFormValue("time_zone"), Availability: supportFormList(r, "availability"), Notes: r.PostFormValue("notes"),
		Active: r.PostFormValue("active") == "yes"}
	var err error
	if v.ExperienceSince, err = supportFormDate(r, "experience_since"); err != nil {
		return v, err
	}
	if v.TrainedOn, err = supportFormDate(r, "trained_on"); err != nil {
		return v, err
	}
	v.Capacity, err = supportFormInt(r, "capacity")
	return v, err
}

func (s *Server) volunteerSave(w http.ResponseWriter, r *request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	in, err := s.volunteerFromForm(r)
	var v *store.Volunteer
	if err == nil {
		v, err = s.app.Support.SaveVolunteer(r.Context(), r.actor, in)
	}
	if err != nil {
		if !haven.IsKind(err, haven.KindInvalid) {
			return err
		}
		if in.ID == "" {
			d, derr := s.volunteersData(r)
			if derr != nil {
				return derr
			}
			return s.formError(w, r, "support_volunteers", s.newPage(r, "Volunteers", d), err)
		}
		cur, derr := s.app.Support.Volunteer(r.Context(), r.actor, in.ID)
		if derr != nil {
			return derr
		}
		return s.formError(w, r, "support_volunteer", s.newPage(r, cur.Name, &volunteerData{Volunteer: cur}), err)
	}
	http.Redirect(w, r.Request, "/app/support/volunteers/"+v.ID+"?done=saved", http.StatusSeeOther)
	return nil
}

func (s *Server) volunteerPause(w http.ResponseWriter, r *request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	id := r.PathValue("id")
	from, err := supportFormDate(r, "from")
	var to time.Time
	if err == nil {
		to, err = supportFormDate(r, "to")
	}
	if err == nil {
		err = s.app.Support.AddPause(r.Context(), r.actor, id, from, to, r.PostFormValue("reason"))
	}
	if err != nil {
		if !haven.IsKind(err, haven.KindInvalid) {
			return err
		}
		cur, derr := s.app.Support.Volunteer(r.Context(), r.actor, id)
		if derr != nil {
			return derr
		}
		return s.formError(w, r, "support_volunteer", s.newPage(r, cur.Name, &volunteerData{Volunteer: cur}), err)
	}
	http.Redirect(w, r.Request, "/app/support/volunteers/"+url.PathEscape(id)+"?done=paused", http.StatusSeeOther)
	return nil
}

// Providers.

type providersData struct {
	supportView
	Providers []*store.Provider
	Total     int
	Filter    support.ProviderFilter
	CanManage bool
}

func (s *Server) providersData(r *request) (*providersData, error) {
	list, err := s.app.Support.Providers(r.Context(), r.actor)
	if err != nil {
		return nil, err
	}
	q := r.URL.Query()
	f := support.ProviderFilter{Language: q.Get("language"), Mode: q.Get("mode"), Fee: q.Get("fee"),
		Speciality: strings.TrimSpace(q.Get("speciality")), Area: strings.TrimSpace(q.Get("area")), Available: q.Get("available") == "yes"}
	return &providersData{Providers: f.Filter(list), Total: len(list), Filter: f, CanManage: r.actor.Can(haven.PermProviders)}, nil
}

func (s *Server) providersPage(w http.ResponseWriter, r *request) error {
	d, err := s.providersData(r)
	if err != nil {
		return err
	}
	p := s.newPage(r, "Provider network", d)
	if q := r.URL.Query(); q.Get("done") == "imported" {
		p.Notice = "The HSDS file was imported: " + strconv.Itoa(supportAtoi(q.Get("created"))) + " providers created, " +
			strconv.Itoa(supportAtoi(q.Get("updated"))) + " updated."
	}
	return s.render(w, http.StatusOK, "providers", p)
}

func supportAtoi(v string) int {
	n, _ := strconv.Atoi(v)
	return n
}

func (s *Server) providersExport(w http.ResponseWriter, r *request) error {
	var buf bytes.Buffer
	if err := s.app.Support.ExportHSDS(r.Context(), r.actor, &buf); err != nil {
		return err
	}
	download(w, "providers-hsds3.json", "application/json")
	_, err := w.Write(buf.Bytes())
	return err
}

// providersImport receives an HSDS file as a multipart form (the csrf
// field before the file).
func (s *Server) providersImport(w http.ResponseWriter, r *request) error {
	var res *support.ImportResult
	_, err := upload.Read(r.Header.Get("Content-Type"), r.Body, upload.Limits{MaxParts: 4, MaxFieldBytes: 1 << 10},
		func(fields map[string][]string, f *upload.File) error {
			got := ""
			if v := fields[csrfField]; len(v) > 0 {
				got = v[0]
			}
			if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(r.principal.Session.CSRFToken)) != 1 {
				return errCSRF
			}
			var err error
			res, err = s.app.Support.ImportHSDS(r.Context(), r.actor, f)
			return err
		})
	if err == nil && res == nil {
		err = haven.Invalidf("file", "choose an HSDS JSON file to import")
	}
	if err != nil {
		if !haven.IsKind(err, haven.KindInvalid) && !haven.IsKind(err, haven.KindTooLarge) {
			return err
		}
		d, derr := s.providersData(r)
		if derr != nil {
			return derr
		}
		return s.formError(w, r, "providers", s.newPage(r, "Provider network", d), err)
	}
	http.Redirect(w, r.Request, "/app/providers?done=imported&created="+strconv.Itoa(res.Created)+"&updated="+strconv.Itoa(res.Updated),
		http.StatusSeeOther)
	return nil
}

type providerData struct {
	supportView
	View      *support.ProviderView
	CanManage bool
}

func (s *Server) providerData(r *request, id string) (*providerData, error) {
	v, err := s.app.Support.Provider(r.Context(), r.actor, id)
	if err != nil {
		return nil, err
	}
	return &providerData{View: v, CanManage: r.actor.Can(haven.PermProviders)}, nil
}

func (s *Server) providerPage(w http.ResponseWriter, r *request) error {
	d, err := s.providerData(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	p := s.newPage(r, support.DisplayName(d.View.Provider), d)
	switch r.URL.Query().Get("done") {
	case "saved":
		p.Notice = "The provider was saved."
	case "referred":
		p.Notice = "The family was referred."
	case "status":
		p.Notice = "The referral was updated."
	}
	return s.render(w, http.StatusOK, "provider", p)
}

type providerEditData struct {
	supportView
	Provider *store.Provider // nil for a new one
}

func (s *Server) providerEditPage(w http.ResponseWriter, r *request) error {
	d := &providerEditData{}
	title := "New provider"
	if id := r.PathValue("id"); id != "" {
		v, err := s.app.Support.Provider(r.Context(), r.actor, id)
		if err != nil {
			return err
		}
		d.Provider, title = v.Provider, "Edit "+support.DisplayName(v.Provider)
	}
	return s.render(w, http.StatusOK, "provider_edit", s.newPage(r, title, d))
}

func (s *Server) providerSave(w http.ResponseWriter, r *request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	in := support.ProviderInput{OrganizationName: r.PostFormValue("organization"), Provider: store.Provider{ID: r.PathValue("id"),
		Name: r.PostFormValue("name"), Clinician: r.PostFormValue("clinician"), Description: r.PostFormValue("description"),
		LicenceType: r.PostFormValue("licence_type"), LicenceNumber: r.PostFormValue("licence_number"),
		LicenceState: r.PostFormValue("licence_state"), Specialities: supportFormList(r, "specialities"), Languages: supportFormList(r, "languages"),
		Modes: supportFormList(r, "modes"), FeeTerms: supportFormList(r, "fee_terms"), Areas: supportFormList(r, "areas"), Email: r.PostFormValue("email"),
		Phone: r.PostFormValue("phone"), Status: r.PostFormValue("status")}}
	var err error
	if in.LicenceVerifiedOn, err = supportFormDate(r, "licence_verified_on"); err == nil {
		in.Capacity, err = supportFormInt(r, "capacity")
	}
	// Each location is one line: name; address; city; state; postal code; country.
	for _, line := range strings.Split(r.PostFormValue("locations"), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		f := strings.Split(line, ";")
		for len(f) < 6 {
			f = append(f, "")
		}
		in.Locations = append(in.Locations, store.ProviderLocation{Name: strings.TrimSpace(f[0]), Address1: strings.TrimSpace(f[1]),
			City: strings.TrimSpace(f[2]), State: strings.TrimSpace(f[3]), PostalCode: strings.TrimSpace(f[4]), Country: strings.TrimSpace(f[5])})
	}
	var p *store.Provider
	if err == nil {
		p, err = s.app.Support.SaveProvider(r.Context(), r.actor, in)
	}
	if err != nil {
		if !haven.IsKind(err, haven.KindInvalid) {
			return err
		}
		d := &providerEditData{}
		if in.ID != "" {
			v, derr := s.app.Support.Provider(r.Context(), r.actor, in.ID)
			if derr != nil {
				return derr
			}
			d.Provider = v.Provider
		}
		return s.formError(w, r, "provider_edit", s.newPage(r, "Edit provider", d), err)
	}
	http.Redirect(w, r.Request, "/app/providers/"+p.ID+"?done=saved", http.StatusSeeOther)
	return nil
}

func (s *Server) providerRefer(w http.ResponseWriter, r *request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	id := r.PathValue("id")
	_, err := s.app.Support.Refer(r.Context(), r.actor, id, support.ReferralInput{RequestID: r.PostFormValue("request"),
		CaseRef: r.PostFormValue("case_ref"), Consent: r.PostFormValue("consent") == "yes", ConsentBy: r.PostFormValue("consent_by"),
		ConsentNote: r.PostFormValue("consent_note")})
	if err != nil {
		if !haven.IsKind(err, haven.KindInvalid) && !haven.IsKind(err, haven.KindConflict) {
			return err
		}
		d, derr := s.providerData(r, id)
		if derr != nil {
			return derr
		}
		return s.formError(w, r, "provider", s.newPage(r, support.DisplayName(d.View.Provider), d), err)
	}
	http.Redirect(w, r.Request, "/app/providers/"+url.PathEscape(id)+"?done=referred#referrals", http.StatusSeeOther)
	return nil
}

func (s *Server) referralStatus(w http.ResponseWriter, r *request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	ref, err := s.app.Support.UpdateReferral(r.Context(), r.actor, r.PathValue("id"), r.PostFormValue("status"), r.PostFormValue("note"))
	if err != nil {
		return err
	}
	if r.PostFormValue("from") == "request" && ref.RequestID != "" && r.actor.Can(haven.PermSupport) {
		return s.supportDone(w, r, ref.RequestID, "status")
	}
	http.Redirect(w, r.Request, "/app/providers/"+url.PathEscape(ref.ProviderID)+"?done=status#referrals", http.StatusSeeOther)
	return nil
}
