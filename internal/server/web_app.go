package server

import (
	"net/http"
	"strings"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/account"
)

func isPlaceholder(login string) bool { return strings.HasSuffix(login, account.PlaceholderDomain) }

// program describes one of the programs of PRODUCT.md, for the home page
// and its empty states until the program is built.
type program struct {
	Slug, Code, Short, Name, Summary string
	Will                             []string
}

var programs = []program{
	{"reports", "P1–P2", "Reports", "CyberTipline reports and triage",
		"Reports from the public, from hotline phone staff and from online services arrive here, ranked so a child in imminent danger is seen first.",
		[]string{"the triage queue, P1 first, with SLA clocks", "reports from the ESP API, the JSON API, the public form and phone intake", "identifier linking, geolocation and duplicate bundling", "safe viewing with blurred renditions and exposure budgets"}},
	{"hashes", "P3", "Hash matching", "Hash matching",
		"Known material is recognised automatically so that analysts do not look at the same abuse twice.",
		[]string{"hash banks (MD5, SHA-1, SHA-256, PDQ, video PDQ) with their sources and flags", "imports and exports in the field's formats", "match results on every incoming file"}},
	{"referrals", "P4", "Referrals", "Law-enforcement referral",
		"Reports become help for a child when the right agency receives them.",
		[]string{"jurisdiction rules that map a report to agencies", "referral packages and the agency portal", "outcomes reported back by agencies", "preservation deadlines"}},
	{"victims", "P5", "Victim ID", "Victim identification",
		"The central record of which children in known image series have been identified.",
		[]string{"series and pseudonymous victim records (restricted and audited)", "identification reports for law enforcement", "the unidentified-series workboard", "notification choices of victims through counsel"}},
	{"offenders", "P6", "Offenders", "Sex-offender tracking",
		"Helping law enforcement find registered sex offenders who stopped complying, and linking them to unresolved cases.",
		[]string{"registry records with their history", "imports from state registry exports", "compliance lists and locate requests", "timelines and linkage reports"}},
	{"cases", "P7", "Cases", "Trafficking and missing-child casework",
		"Casework that follows a child who is missing, at risk of or recovered from trafficking.",
		[]string{"cases with risk indicators and timelines", "recovery plans", "Hope Bag supplies and distribution", "assistance requests"}},
	{"support", "P8", "Support", "Victim and family support",
		"Support that follows a family: peer volunteers and therapists who give their time.",
		[]string{"peer-support volunteers and matching", "the mental-health provider directory", "referrals with consent and follow-up"}},
	{"statistics", "P9", "Statistics", "Statistics and transparency",
		"Numbers that inform lawmakers, courts, industry and the public without exposing anyone.",
		[]string{"dashboards with charts and data tables", "public data releases with small-count suppression"}},
}

func (s *Server) home(w http.ResponseWriter, r *request) error {
	return s.render(w, http.StatusOK, "home", s.newPage(r, "Home", map[string]any{"Programs": programs}))
}

func (s *Server) program(w http.ResponseWriter, r *request) error {
	for _, pr := range programs {
		if pr.Slug == r.PathValue("program") {
			return s.render(w, http.StatusOK, "program", s.newPage(r, pr.Name, pr))
		}
	}
	return haven.ErrNotFound
}

func (s *Server) accountPage(w http.ResponseWriter, r *request) error {
	return s.render(w, http.StatusOK, "account", s.newPage(r, "Your account", nil))
}

func (s *Server) accountPassword(w http.ResponseWriter, r *request) error {
	p := s.newPage(r, "Your account", nil)
	if err := parseForm(r); err != nil {
		return err
	}
	next := r.PostForm.Get("new")
	clear := func() {
		for _, f := range []string{"current", "new", "confirm"} {
			r.PostForm.Del(f)
		}
	}
	if next != r.PostForm.Get("confirm") {
		clear()
		return s.formError(w, r, "account", p, haven.Invalidf("confirm", "the two new passwords are not the same"))
	}
	if err := s.app.Accounts.ChangePassword(r.Context(), r.client, r.principal, r.PostForm.Get("current"), next); err != nil {
		clear()
		return s.formError(w, r, "account", p, err)
	}
	p.Notice = "Your password was changed."
	return s.render(w, http.StatusOK, "account", p)
}

func (s *Server) reauthPage(w http.ResponseWriter, r *request) error {
	p := s.newPage(r, "Confirm it is you", map[string]string{"Next": safePath(r.URL.Query().Get("next"))})
	return s.render(w, http.StatusOK, "reauth", p)
}

func (s *Server) reauthSubmit(w http.ResponseWriter, r *request) error {
	next := safePath(r.PostFormValue("next"))
	p := s.newPage(r, "Confirm it is you", map[string]string{"Next": next})
	err := s.app.Accounts.Reauthenticate(r.Context(), r.client, r.principal, r.PostFormValue("password"), r.PostFormValue("code"))
	if err != nil {
		if _, aerr := s.app.Accounts.Authenticate(r.Context(), sessionToken(r.Request)); aerr != nil {
			clearSessionCookie(w)
			http.Redirect(w, r.Request, "/login", http.StatusSeeOther)
			return nil
		}
		r.PostForm.Del("password")
		r.PostForm.Del("code")
		return s.formError(w, r, "reauth", p, err)
	}
	http.Redirect(w, r.Request, next, http.StatusSeeOther)
	return nil
}
