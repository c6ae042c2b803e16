package server

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/referral"
	"github.com/haven-hotline/haven/internal/store"
)

// Referral (issue 5, program P4): the staff side of referring reports to
// agencies, the jurisdiction administration, the law-enforcement portal
// and the ESP feedback API.

// referralRoutes lists the routes of referral.
func (s *Server) referralRoutes() []Route {
	const get, post = http.MethodGet, http.MethodPost
	return []Route{
		// Staff: the referral of a report.
		staffRoute(get, "/app/reports/{id}/referral", haven.PermReportRead, s.referralSummaryPage),
		staffRoute(get, "/app/reports/{id}/referral.pdf", haven.PermRefer, s.referralDownload),
		staffRoute(get, "/app/reports/{id}/referral.json", haven.PermRefer, s.referralDownload),
		staffRoute(post, "/app/reports/{id}/referrals", haven.PermRefer, s.referralCreate),
		staffRoute(post, "/app/reports/{id}/referrals/{agency}/revoke", haven.PermRefer, s.referralRevoke),
		staffRoute(post, "/app/reports/{id}/referrals/{agency}/messages", haven.PermRefer, s.referralReply),

		// Staff: the agency directory's geography and the jurisdiction rules.
		staffRoute(get, "/app/admin/jurisdiction", haven.PermJurisdiction, s.jurisdictionPage),
		staffRoute(post, "/app/admin/jurisdiction/areas", haven.PermJurisdiction, s.jurisdictionAreas),
		staffRoute(post, "/app/admin/jurisdiction/rules", haven.PermJurisdiction, s.jurisdictionAddRule),
		staffRoute(post, "/app/admin/jurisdiction/rules/{id}/{action}", haven.PermJurisdiction, s.jurisdictionRuleAction),

		// Law-enforcement portal: the agency's referred reports only.
		leRoute(get, "/le/referrals", haven.PermLEReferrals, s.leReferralsPage),
		leRoute(get, "/le/referrals/{id}", haven.PermLEReferrals, s.leReferralPage),
		leRoute(get, "/le/referrals/{id}/package.pdf", haven.PermLEReferrals, s.leReferralDownload),
		leRoute(get, "/le/referrals/{id}/package.json", haven.PermLEReferrals, s.leReferralDownload),
		leRoute(post, "/le/referrals/{id}/acknowledge", haven.PermLEReferrals, s.leReferralAcknowledge),
		leRoute(post, "/le/referrals/{id}/messages", haven.PermLEReferrals, s.leReferralAsk),
		leRoute(post, "/le/referrals/{id}/outcome", haven.PermLEReferrals, s.leReferralOutcome),

		// ESP feedback.
		{Method: get, Path: "/api/v1/feedback", Surface: SurfaceAPI, Perm: haven.PermFeedback, Handler: s.apiFeedback},
	}
}

// referralReportID reads the report number of a path. A malformed one
// reads as 0, a number no report has, so that it is refused exactly like
// any other report the actor cannot see.
func referralReportID(r *request) int64 {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 0 {
		return 0
	}
	return id
}

// referralPanelData is what the referral_panel partial receives. It
// carries its own CSRF token, so the partial works wherever it is
// included: {{template "referral_panel" .Data.Referral}}.
type referralPanelData struct {
	*referral.Panel
	CSRF     string
	Outcomes []referral.OutcomeCode
}

// Name returns the display name of an account mentioned by the panel.
func (d *referralPanelData) Name(id string) string {
	if n := d.Names[id]; n != "" {
		return n
	}
	return "—"
}

// OutcomeLabel returns the label of an outcome code.
func (d *referralPanelData) OutcomeLabel(code string) string { return referral.OutcomeLabel(code) }

// referralPanel gathers the staff referral panel of a report: suggested
// agencies for the report's place (country and region, either may be
// empty), the refer form, the referrals with their acknowledgement,
// outcome history and messages, and the ESP preservation deadline. The
// report page renders it with {{template "referral_panel" DATA}}.
func (s *Server) referralPanel(r *request, reportID int64, country, region string) (any, error) {
	p, err := s.app.Referrals.Panel(r.Context(), r.actor, reportID, country, region)
	if err != nil {
		return nil, err
	}
	d := &referralPanelData{Panel: p, Outcomes: referral.OutcomeCodes}
	if r.principal != nil {
		d.CSRF = r.principal.Session.CSRFToken
	}
	return d, nil
}

// referralNotices are the confirmations of the referral actions
// (?done=…): fixed texts, never taken from the URL.
var referralNotices = map[string]string{
	"referred": "The report was referred. The agency sees it in its portal now.",
	"revoked":  "The referral was revoked. The agency lost access at once.",
	"replied":  "Your message was sent to the agency.",
}

// referralSummaryData is the staff referral page: the package summary
// and the panel.
type referralSummaryData struct {
	Package *referral.Package
	Panel   any // from referralPanel
	Labels  map[haven.IncidentType]string
}

func (s *Server) referralSummary(r *request, id int64) (*referralSummaryData, error) {
	pkg, err := s.app.Referrals.Package(r.Context(), r.actor, id, referral.FormatPage)
	if err != nil {
		return nil, err
	}
	q := r.URL.Query()
	panel, err := s.referralPanel(r, id, q.Get("country"), q.Get("region"))
	if err != nil {
		return nil, err
	}
	return &referralSummaryData{Package: pkg, Panel: panel, Labels: incidentLabels}, nil
}

func (s *Server) referralSummaryPage(w http.ResponseWriter, r *request) error {
	id := referralReportID(r)
	d, err := s.referralSummary(r, id)
	if err != nil {
		return err
	}
	p := s.newPage(r, fmt.Sprintf("Referral of report %d", id), d)
	p.Notice = referralNotices[r.URL.Query().Get("done")]
	return s.render(w, http.StatusOK, "referral_summary", p)
}

// referralFormError shows the referral page again with the problem of a
// failed staff action.
func (s *Server) referralFormError(w http.ResponseWriter, r *request, id int64, err error) error {
	if statusOf(err) >= 500 || haven.IsKind(err, haven.KindNotFound) {
		return err
	}
	d, derr := s.referralSummary(r, id)
	if derr != nil {
		return derr
	}
	return s.formError(w, r, "referral_summary", s.newPage(r, fmt.Sprintf("Referral of report %d", id), d), err)
}

func (s *Server) referralCreate(w http.ResponseWriter, r *request) error {
	id := referralReportID(r)
	if err := parseForm(r); err != nil {
		return err
	}
	_, err := s.app.Referrals.Refer(r.Context(), r.actor, id, r.PostForm["agency"], r.PostFormValue("note"))
	if err != nil {
		return s.referralFormError(w, r, id, err)
	}
	http.Redirect(w, r.Request, fmt.Sprintf("/app/reports/%d/referral?done=referred", id), http.StatusSeeOther)
	return nil
}

func (s *Server) referralRevoke(w http.ResponseWriter, r *request) error {
	id := referralReportID(r)
	err := s.app.Referrals.Revoke(r.Context(), r.actor, id, r.PathValue("agency"), r.PostFormValue("reason"))
	if err != nil {
		return s.referralFormError(w, r, id, err)
	}
	http.Redirect(w, r.Request, fmt.Sprintf("/app/reports/%d/referral?done=revoked", id), http.StatusSeeOther)
	return nil
}

func (s *Server) referralReply(w http.ResponseWriter, r *request) error {
	id := referralReportID(r)
	err := s.app.Referrals.Reply(r.Context(), r.actor, id, r.PathValue("agency"), r.PostFormValue("text"))
	if err != nil {
		return s.referralFormError(w, r, id, err)
	}
	http.Redirect(w, r.Request, fmt.Sprintf("/app/reports/%d/referral?done=replied", id), http.StatusSeeOther)
	return nil
}

// writePackage answers a package as a PDF or JSON download.
func writePackage(w http.ResponseWriter, pkg *referral.Package, format string) error {
	var b bytes.Buffer
	name := fmt.Sprintf("report-%d-referral", pkg.Report.ID)
	switch format {
	case referral.FormatPDF:
		if err := referral.WritePDF(&b, pkg); err != nil {
			return err
		}
		download(w, name+".pdf", "application/pdf")
	default:
		if err := referral.WriteJSON(&b, pkg); err != nil {
			return err
		}
		download(w, name+".json", "application/json")
	}
	_, err := w.Write(b.Bytes())
	return err
}

func packageFormat(path string) string {
	if strings.HasSuffix(path, ".pdf") {
		return referral.FormatPDF
	}
	return referral.FormatJSON
}

func (s *Server) referralDownload(w http.ResponseWriter, r *request) error {
	format := packageFormat(r.URL.Path)
	pkg, err := s.app.Referrals.Package(r.Context(), r.actor, referralReportID(r), format)
	if err != nil {
		return err
	}
	return writePackage(w, pkg, format)
}

// Jurisdiction administration.

// ruleRow is a jurisdiction rule with its place in the order, from 1.
type ruleRow struct {
	*store.JurisdictionRule
	Number int
}

type jurisdictionData struct {
	Directory   []referral.AgencyAreas
	Rules       []ruleRow
	Agencies    map[string]*haven.Agency
	Kinds       []haven.AgencyKind
	TryCountry  string
	TryRegion   string
	Suggestions []referral.Suggestion
	Tried       bool
}

func (s *Server) jurisdictionData(r *request) (*jurisdictionData, error) {
	ctx := r.Context()
	dir, err := s.app.Referrals.Directory(ctx, r.actor)
	if err != nil {
		return nil, err
	}
	rules, err := s.app.Referrals.Rules(ctx, r.actor)
	if err != nil {
		return nil, err
	}
	d := &jurisdictionData{Directory: dir, Agencies: map[string]*haven.Agency{}, Kinds: haven.AgencyKinds}
	for i, rule := range rules {
		d.Rules = append(d.Rules, ruleRow{JurisdictionRule: rule, Number: i + 1})
	}
	for _, x := range dir {
		d.Agencies[x.Agency.ID] = x.Agency
	}
	return d, nil
}

func (s *Server) jurisdictionPage(w http.ResponseWriter, r *request) error {
	d, err := s.jurisdictionData(r)
	if err != nil {
		return err
	}
	p := s.newPage(r, "Jurisdiction", d)
	q := r.URL.Query()
	if q.Has("country") || q.Has("region") {
		d.Tried, d.TryCountry, d.TryRegion = true, q.Get("country"), q.Get("region")
		d.Suggestions, err = s.app.Referrals.Suggest(r.Context(), r.actor, d.TryCountry, d.TryRegion)
		if err != nil {
			if !haven.IsKind(err, haven.KindInvalid) {
				return err
			}
			p.Error = safeMessage(err)
			return s.render(w, http.StatusBadRequest, "jurisdiction", p)
		}
	}
	switch q.Get("done") {
	case "areas":
		p.Notice = "The areas were saved. Suggestions use them at once."
	case "rule":
		p.Notice = "The rules were changed. Suggestions follow them at once."
	}
	return s.render(w, http.StatusOK, "jurisdiction", p)
}

// jurisdictionError shows the page again with the problem of a change.
func (s *Server) jurisdictionError(w http.ResponseWriter, r *request, err error) error {
	d, derr := s.jurisdictionData(r)
	if derr != nil {
		return derr
	}
	return s.formError(w, r, "jurisdiction", s.newPage(r, "Jurisdiction", d), err)
}

func (s *Server) jurisdictionAreas(w http.ResponseWriter, r *request) error {
	agency := r.PostFormValue("agency")
	areas, err := referral.ParseAreas(r.PostFormValue("areas"))
	if err == nil {
		if agency == "" {
			err = haven.Invalidf("agency", "choose the agency")
		} else {
			err = s.app.Referrals.SetAreas(r.Context(), r.actor, agency, areas)
		}
	}
	if err != nil {
		return s.jurisdictionError(w, r, err)
	}
	http.Redirect(w, r.Request, "/app/admin/jurisdiction?done=areas", http.StatusSeeOther)
	return nil
}

func (s *Server) jurisdictionAddRule(w http.ResponseWriter, r *request) error {
	in := store.JurisdictionRule{Label: r.PostFormValue("label"), Country: r.PostFormValue("country"),
		Region: r.PostFormValue("region"), Fallback: r.PostFormValue("fallback") == "on"}
	// "choose" is either kind:KIND or the ID of one agency.
	if kind, ok := strings.CutPrefix(r.PostFormValue("choose"), "kind:"); ok {
		in.AgencyKind = haven.AgencyKind(kind)
	} else {
		in.AgencyID = r.PostFormValue("choose")
	}
	if _, err := s.app.Referrals.AddRule(r.Context(), r.actor, in); err != nil {
		return s.jurisdictionError(w, r, err)
	}
	http.Redirect(w, r.Request, "/app/admin/jurisdiction?done=rule", http.StatusSeeOther)
	return nil
}

func (s *Server) jurisdictionRuleAction(w http.ResponseWriter, r *request) error {
	id := r.PathValue("id")
	var err error
	switch r.PathValue("action") {
	case "up":
		err = s.app.Referrals.MoveRule(r.Context(), r.actor, id, -1)
	case "down":
		err = s.app.Referrals.MoveRule(r.Context(), r.actor, id, 1)
	case "delete":
		err = s.app.Referrals.DeleteRule(r.Context(), r.actor, id)
	default:
		return haven.ErrNotFound
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r.Request, "/app/admin/jurisdiction?done=rule", http.StatusSeeOther)
	return nil
}

// Law-enforcement portal.

type leReferralsData struct {
	Agency *haven.Agency
	Rows   []*referral.AgencyRow
	Next   string
	Labels map[haven.IncidentType]string
}

const leReferralsPageSize = 100

func (s *Server) leReferralsPage(w http.ResponseWriter, r *request) error {
	ag, err := s.app.Accounts.Agency(r.Context(), r.actor, r.actor.AgencyID)
	if err != nil {
		return err
	}
	before := r.URL.Query().Get("before")
	if before != "" && !haven.ValidID(before) {
		before = ""
	}
	rows, err := s.app.Referrals.AgencyReferrals(r.Context(), r.actor, before, leReferralsPageSize)
	if err != nil {
		return err
	}
	d := &leReferralsData{Agency: ag, Rows: rows, Labels: incidentLabels}
	if len(rows) == leReferralsPageSize {
		d.Next = rows[len(rows)-1].ID
	}
	return s.render(w, http.StatusOK, "le_referrals", s.newPage(r, "Referrals to "+ag.Name, d))
}

type leReferralData struct {
	Package  *referral.Package
	Labels   map[haven.IncidentType]string
	Outcomes []referral.OutcomeCode
}

// OutcomeLabel returns the label of an outcome code.
func (d *leReferralData) OutcomeLabel(code string) string { return referral.OutcomeLabel(code) }

// Name returns the display name of an account mentioned by the referral.
func (d *leReferralData) Name(id string) string {
	if n := d.Package.Names[id]; n != "" {
		return n
	}
	return "—"
}

// leReferralNotices are the confirmations of the portal's actions.
var leReferralNotices = map[string]string{
	"acknowledged": "You acknowledged the referral. The hotline sees it now.",
	"asked":        "Your request was sent to the hotline.",
	"outcome":      "The outcome was recorded. The hotline sees it now.",
}

func (s *Server) leReferral(r *request, id int64) (*page, error) {
	pkg, err := s.app.Referrals.Package(r.Context(), r.actor, id, referral.FormatPage)
	if err != nil {
		return nil, err
	}
	d := &leReferralData{Package: pkg, Labels: incidentLabels, Outcomes: referral.OutcomeCodes}
	return s.newPage(r, fmt.Sprintf("Report %d", id), d), nil
}

func (s *Server) leReferralPage(w http.ResponseWriter, r *request) error {
	p, err := s.leReferral(r, referralReportID(r))
	if err != nil {
		return err
	}
	p.Notice = leReferralNotices[r.URL.Query().Get("done")]
	return s.render(w, http.StatusOK, "le_referral", p)
}

func (s *Server) leReferralDownload(w http.ResponseWriter, r *request) error {
	format := packageFormat(r.URL.Path)
	pkg, err := s.app.Referrals.Package(r.Context(), r.actor, referralReportID(r), format)
	if err != nil {
		return err
	}
	return writePackage(w, pkg, format)
}

// leReferralDone redirects after an action of the portal, or shows its
// problem. A report the agency may not see answers not found whatever the
// input (the service checks the referral before the input).
func (s *Server) leReferralDone(w http.ResponseWriter, r *request, id int64, done string, err error) error {
	if err != nil {
		if statusOf(err) >= 500 || haven.IsKind(err, haven.KindNotFound) {
			return err
		}
		p, perr := s.leReferral(r, id)
		if perr != nil {
			return perr
		}
		return s.formError(w, r, "le_referral", p, err)
	}
	http.Redirect(w, r.Request, fmt.Sprintf("/le/referrals/%d?done=%s", id, url.QueryEscape(done)), http.StatusSeeOther)
	return nil
}

func (s *Server) leReferralAcknowledge(w http.ResponseWriter, r *request) error {
	id := referralReportID(r)
	return s.leReferralDone(w, r, id, "acknowledged", s.app.Referrals.Acknowledge(r.Context(), r.actor, id))
}

func (s *Server) leReferralAsk(w http.ResponseWriter, r *request) error {
	id := referralReportID(r)
	return s.leReferralDone(w, r, id, "asked", s.app.Referrals.Ask(r.Context(), r.actor, id, r.PostFormValue("text")))
}

func (s *Server) leReferralOutcome(w http.ResponseWriter, r *request) error {
	id := referralReportID(r)
	err := s.app.Referrals.RecordOutcome(r.Context(), r.actor, id, referral.OutcomeCode(r.PostFormValue("code")), r.PostFormValue("note"))
	return s.leReferralDone(w, r, id, "outcome", err)
}

// apiFeedback answers an ESP's aggregated, anonymous outcomes.
func (s *Server) apiFeedback(w http.ResponseWriter, r *request) error {
	f, err := s.app.Referrals.ESPFeedback(r.Context(), r.actor)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, f)
	return nil
}
