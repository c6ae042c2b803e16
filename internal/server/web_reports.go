package server

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/cybertip"
	"github.com/haven-hotline/haven/internal/facts"
	"github.com/haven-hotline/haven/internal/hashmatch"
	"github.com/haven-hotline/haven/internal/store"
	"github.com/haven-hotline/haven/internal/viewer"
)

// Staff pages of intake: the report list, a report's detail and phone
// intake.

var incidentLabels = map[haven.IncidentType]string{
	haven.IncidentCSAM:               "Child sexual abuse material",
	haven.IncidentSexTrafficking:     "Child sex trafficking",
	haven.IncidentSexTourism:         "Child sex tourism",
	haven.IncidentMolestation:        "Child sexual molestation",
	haven.IncidentMisleadingDomain:   "Misleading domain name",
	haven.IncidentMisleadingWords:    "Misleading words or images",
	haven.IncidentEnticement:         "Online enticement",
	haven.IncidentUnsolicitedObscene: "Obscene material sent to a child",
}

type reportsData struct {
	Reports []*store.ReportSummary
	Filter  store.ReportFilter
	Next    int64
	Labels  map[haven.IncidentType]string
	Phone   bool
}

func (s *Server) reportsPage(w http.ResponseWriter, r *request) error {
	q := r.URL.Query()
	f := store.ReportFilter{Status: haven.ReportStatus(q.Get("status")), Source: haven.ReportSource(q.Get("source")), Limit: 100}
	if b, err := strconv.ParseInt(q.Get("before"), 10, 64); err == nil && b > 0 {
		f.BeforeID = b
	}
	list, err := s.app.Intake.List(r.Context(), r.actor, f)
	if err != nil {
		return err
	}
	d := &reportsData{Reports: list, Filter: f, Labels: incidentLabels, Phone: r.actor.Can(haven.PermPhoneIntake)}
	if len(list) == f.Limit {
		d.Next = list[len(list)-1].ID
	}
	return s.render(w, http.StatusOK, "reports", s.newPage(r, "Reports", d))
}

// factSection is a titled list of label/value rows for the detail page.
type factSection struct {
	Title string
	Rows  []fact
}

type fact = facts.Fact

func section(title string, v any) factSection {
	return factSection{Title: title, Rows: facts.Of(v)}
}

type reportData struct {
	Report    *haven.Report
	Label     string
	Sections  []factSection
	Followups []*store.ReportFollowup
	Callback  *haven.Callback
	CanExport bool
	// Matches are the hash-bank matches of each file, by file ID.
	Matches map[string][]hashmatch.FileMatchView
	// Triage is the priority, queue state and work of the report.
	Triage *triagePanel
	// The panels of the other parts of triage and referral (nil: hidden).
	Identifiers, Location, Referral any
	// ViewerLinks leads to each file's safe viewer, by file ID.
	ViewerLinks map[string]*viewer.Link
	// Cases are the casework cases opened from the report (shown to
	// those who may read cases); CanOpenCase offers to open one.
	Cases       []*store.Case
	CanCases    bool
	CanOpenCase bool
	// CanOffenderLinks leads to the offender links of the report.
	CanOffenderLinks bool
}

// reportNotices are the confirmations an action on the report page
// redirects with (?done=…): fixed texts, never taken from the URL.
var reportNotices = map[string]string{
	"claim":    "You are working on this report.",
	"release":  "The report is back in the queue.",
	"assign":   "The report was assigned.",
	"note":     "Your note was added.",
	"status":   "The status was changed.",
	"override": "The priority was changed.",
}

func (s *Server) reportPage(w http.ResponseWriter, r *request) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return haven.ErrNotFound
	}
	return s.showReport(w, r, id, reportNotices[r.URL.Query().Get("done")], nil)
}

// showReport renders the report page with a confirmation, or with the
// problem of a failed action (and its status code).
func (s *Server) showReport(w http.ResponseWriter, r *request, id int64, notice string, problem error) error {
	rep, err := s.app.Intake.Get(r.Context(), r.actor, id)
	if err != nil {
		return err
	}
	d := &reportData{Report: rep, Label: incidentLabels[rep.Incident.Type], CanExport: r.actor.Can(haven.PermReportExport)}
	d.Sections = append(d.Sections, section("Incident", rep.Incident))
	for i, in := range rep.Internet {
		d.Sections = append(d.Sections, section(fmt.Sprintf("Internet details %d (%s)", i+1, in.Kind), in))
	}
	if rep.LawEnforcement != nil {
		d.Sections = append(d.Sections, section("Law enforcement already involved", rep.LawEnforcement))
	}
	d.Sections = append(d.Sections, section("Reporter", rep.Reporter))
	for i, p := range rep.Reported {
		d.Sections = append(d.Sections, section(fmt.Sprintf("Person or user reported %d", i+1), p))
	}
	for i, p := range rep.Recipients {
		d.Sections = append(d.Sections, section(fmt.Sprintf("Intended recipient %d", i+1), p))
	}
	for i, p := range rep.Victims {
		d.Sections = append(d.Sections, section(fmt.Sprintf("Child victim %d", i+1), p))
	}
	if rep.AdditionalInfo != "" {
		d.Sections = append(d.Sections, factSection{Title: "Additional information", Rows: []fact{{Label: "Text", Value: rep.AdditionalInfo}}})
	}
	for i := range d.Sections {
		// Drop the redundant role rows of people sections.
		rows := d.Sections[i].Rows[:0]
		for _, row := range d.Sections[i].Rows {
			if row.Label != "Role" {
				rows = append(rows, row)
			}
		}
		d.Sections[i].Rows = rows
	}
	if d.Followups, err = s.app.Intake.Followups(r.Context(), r.actor, id); err != nil {
		return err
	}
	matches, err := s.app.Hashes.FileMatches(r.Context(), r.actor, id)
	if err != nil {
		return err
	}
	d.Matches = map[string][]hashmatch.FileMatchView{}
	for _, m := range matches {
		d.Matches[m.Match.FileID] = append(d.Matches[m.Match.FileID], m)
	}
	if rep.Source == haven.SourcePhone {
		if d.Callback, err = s.app.Intake.Callback(r.Context(), r.actor, id); err != nil {
			return err
		}
	}
	if d.Triage, err = s.triagePanelData(r, id); err != nil {
		return err
	}
	if d.Identifiers, err = s.identifiersPanel(r, id); err != nil {
		return err
	}
	if d.Location, err = s.locationPanel(r, id); err != nil {
		return err
	}
	country, region := "", ""
	if loc, err := s.app.Geo.Location(r.Context(), r.actor, id); err == nil && loc != nil {
		country, region = loc.Effective()
	}
	if r.actor.Can(haven.PermRefer) {
		if d.Referral, err = s.referralPanel(r, id, country, region); err != nil {
			return err
		}
	}
	if d.ViewerLinks, err = s.app.Viewer.Links(r.Context(), r.actor, id); err != nil {
		return err
	}
	if d.CanCases = r.actor.Can(haven.PermCaseRead); d.CanCases {
		if d.Cases, err = s.app.Casework.ReportCases(r.Context(), r.actor, id); err != nil {
			return err
		}
	}
	d.CanOpenCase = r.actor.Can(haven.PermCaseManage)
	d.CanOffenderLinks = r.actor.Can(haven.PermOffenderRead)
	p := s.newPage(r, fmt.Sprintf("Report %d", id), d)
	p.Notice = notice
	status := http.StatusOK
	if problem != nil {
		p.Error, status = safeMessage(problem), statusOf(problem)
		p.Form = r.PostForm
		var he *haven.Error
		if asHaven(problem, &he) && he.Field != "" {
			p.Fields[he.Field] = he.Message
		}
	}
	return s.render(w, status, "report", p)
}

// reportExport downloads a report as CyberTipline XML (without its files),
// equivalent to what was submitted.
func (s *Server) reportExport(w http.ResponseWriter, r *request) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return haven.ErrNotFound
	}
	rep, err := s.app.Intake.Export(r.Context(), r.actor, id)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := cybertip.EncodeReport(&b, rep); err != nil {
		return err
	}
	download(w, fmt.Sprintf("report-%d.xml", id), "application/xml; charset=UTF-8")
	_, err = w.Write(b.Bytes())
	return err
}

// download sets the headers of a file download (SECURITY.md 25): never
// rendered by the browser, never cached, sandboxed.
func download(w http.ResponseWriter, name, contentType string) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Header().Set("Content-Security-Policy", "sandbox; default-src 'none'")
	w.Header().Set("Cache-Control", "no-store")
}

type phoneData struct {
	Types  []haven.IncidentType
	Labels map[haven.IncidentType]string
}

func (s *Server) phonePage(w http.ResponseWriter, r *request) error {
	return s.render(w, http.StatusOK, "phone", s.newPage(r, "Phone intake", phoneData{Types: haven.IncidentTypes, Labels: incidentLabels}))
}

func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// phoneReport builds a report from the phone intake form.
func phoneReport(f map[string][]string, now time.Time) (*haven.Report, *haven.Callback, error) {
	get := func(k string) string {
		if v := f[k]; len(v) > 0 {
			return strings.TrimSpace(v[0])
		}
		return ""
	}
	for k, v := range f {
		if len(v) > 0 && len(v[0]) > 5000 {
			return nil, nil, haven.Invalidf(k, "this field is longer than 5,000 characters")
		}
	}
	r := &haven.Report{}
	r.Incident.Type = haven.IncidentType(get("incident_type"))
	if !r.Incident.Type.Valid() {
		return nil, nil, haven.Invalidf("incident_type", "choose what happened")
	}
	if get("urgent") == "on" {
		reason := get("urgent_reason")
		if reason == "" {
			reason = "Caller says a child is in immediate danger"
		}
		r.Incident.Escalate = &reason
	}
	r.Incident.Platform = get("platform")
	r.Incident.DateTime = now
	if w := get("when"); w != "" {
		t, err := time.ParseInLocation("2006-01-02T15:04", w, time.UTC)
		if err != nil {
			return nil, nil, haven.Invalidf("when", "give the date and time as shown, or leave it empty if unknown")
		}
		if t.After(now.Add(5 * time.Minute)) {
			return nil, nil, haven.Invalidf("when", "the date is in the future")
		}
		r.Incident.DateTime = t
	} else {
		r.Incident.DateTimeDescription = "Unknown: the caller did not know when"
	}
	if d := get("when_text"); d != "" {
		r.Incident.DateTimeDescription = d
	}
	if urls := lines(get("urls")); len(urls) > 0 {
		for _, u := range urls {
			if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
				return nil, nil, haven.Invalidf("urls", "each address must start with http:// or https://")
			}
		}
		r.Internet = append(r.Internet, haven.InternetDetail{Kind: haven.InternetWebPage, URLs: urls})
	}
	if name, user, desc := get("suspect_name"), get("suspect_user"), get("suspect_desc"); name+user+desc != "" {
		p := haven.Involved{Role: haven.RoleReported, ScreenName: user, ESPService: r.Incident.Platform}
		if name != "" {
			p.Person = &haven.Person{FirstName: name}
		}
		if desc != "" {
			p.AdditionalInfo = []string{desc}
		}
		r.Reported = append(r.Reported, p)
	}
	if name, age, desc := get("child_name"), get("child_age"), get("child_desc"); name+age+desc != "" {
		p := haven.Involved{Role: haven.RoleVictim, Person: &haven.Person{FirstName: name}}
		if age != "" {
			n, err := strconv.Atoi(age)
			if err != nil || n < 0 || n > 17 {
				return nil, nil, haven.Invalidf("child_age", "give the child's age in years (0–17), or leave it empty")
			}
			p.Person.Age = &n
		}
		if desc != "" {
			p.AdditionalInfo = []string{desc}
		}
		r.Victims = append(r.Victims, p)
	}
	r.AdditionalInfo = get("summary")
	if get("summary") == "" {
		return nil, nil, haven.Invalidf("summary", "write a short summary of what the caller said")
	}
	var cb *haven.Callback
	if get("anonymous") != "on" {
		cb = &haven.Callback{Name: get("caller_name"), Phone: get("caller_phone"), Email: get("caller_email"),
			BestTime: get("caller_time"), Notes: get("caller_notes")}
		if *cb == (haven.Callback{}) {
			cb = nil
		}
	}
	return r, cb, nil
}

func (s *Server) phoneSubmit(w http.ResponseWriter, r *request) error {
	p := s.newPage(r, "Phone intake", phoneData{Types: haven.IncidentTypes, Labels: incidentLabels})
	if err := parseForm(r); err != nil {
		return err
	}
	rep, cb, err := phoneReport(r.PostForm, s.app.Clock.Now())
	if err != nil {
		return s.formError(w, r, "phone", p, err)
	}
	out, err := s.app.Intake.SubmitPhone(r.Context(), r.actor, rep, cb)
	if err != nil {
		return s.formError(w, r, "phone", p, err)
	}
	http.Redirect(w, r.Request, fmt.Sprintf("/app/reports/%d?filed=1", out.ID), http.StatusSeeOther)
	return nil
}
