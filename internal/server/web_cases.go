package server

import (
	"bytes"
	"crypto/subtle"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/casework"
	"github.com/haven-hotline/haven/internal/store"
	"github.com/haven-hotline/haven/internal/upload"
)

// Casework (issue 8, program P7): cases with their child record,
// timeline, indicators and recovery plan; the Hope Bag inventory;
// assistance requests worked by staff; and, in the law-enforcement portal,
// the cases shared with the agency and its assistance requests.

// caseRoutes lists the routes of casework: cases, recovery plans, Hope Bags and assistance requests (issue 8).
func (s *Server) caseRoutes() []Route {
	const get, post = http.MethodGet, http.MethodPost
	manage := func(path string, h func(http.ResponseWriter, *request) error) Route {
		return staffRoute(post, "/app/cases/{id}/"+path, haven.PermCaseManage, h)
	}
	return []Route{
		staffRoute(get, "/app/cases", haven.PermCaseRead, s.casesPage),
		staffRoute(get, "/app/cases/new", haven.PermCaseManage, s.caseNewPage),
		staffRoute(post, "/app/cases", haven.PermCaseManage, s.caseOpen),
		staffRoute(get, "/app/cases/{id}", haven.PermCaseRead, s.casePage),
		manage("status", s.caseStatus),
		manage("child", s.caseChild),
		manage("people", s.casePerson),
		manage("agencies", s.caseAgency),
		manage("reports", s.caseReport),
		manage("offenders", s.caseOffender),
		manage("tasks", s.caseTask),
		manage("tasks/done", s.caseTaskDone),
		manage("notes", s.caseNote),
		manage("indicators", s.caseIndicators),
		manage("plan", s.casePlan),
		{Method: post, Path: "/app/cases/{id}/photos", Surface: SurfaceStaff, Perm: haven.PermCaseManage, FormCSRF: true,
			MaxBody: s.app.Config.MaxUploadBytes + 1<<20, Handler: s.casePhotoUpload},
		staffRoute(get, "/app/cases/photos/{id}", haven.PermCaseRead, s.casePhoto),

		staffRoute(get, "/app/hopebags", haven.PermHopeBags, s.hopeBagsPage),
		staffRoute(post, "/app/hopebags/lines", haven.PermHopeBags, s.hopeBagLine),
		staffRoute(post, "/app/hopebags/restock", haven.PermHopeBags, s.hopeBagRestock),
		staffRoute(post, "/app/hopebags/distribute", haven.PermHopeBags, s.hopeBagDistribute),
		staffRoute(post, "/app/hopebags/threshold", haven.PermHopeBags, s.hopeBagThreshold),

		staffRoute(get, "/app/cases/assistance", haven.PermAssistanceWork, s.assistancePage),
		staffRoute(post, "/app/cases/assistance", haven.PermAssistanceWork, s.assistanceSubmit),
		staffRoute(get, "/app/cases/assistance/{id}", haven.PermAssistanceWork, s.assistanceRequestPage),
		staffRoute(get, "/app/cases/assistance/{id}/analysis.pdf", haven.PermAssistanceWork, s.assistancePDF),
		staffRoute(post, "/app/cases/assistance/{id}/triage", haven.PermAssistanceWork, s.assistanceTriage),
		staffRoute(post, "/app/cases/assistance/{id}/assign", haven.PermAssistanceWork, s.assistanceAssign),
		staffRoute(post, "/app/cases/assistance/{id}/deliver", haven.PermAssistanceWork, s.assistanceDeliver),
		staffRoute(post, "/app/cases/assistance/{id}/close", haven.PermAssistanceWork, s.assistanceClose),

		leRoute(get, "/le/cases", haven.PermLECases, s.leCasesPage),
		leRoute(post, "/le/cases/assistance", haven.PermLECases, s.leAssistanceSubmit),
		leRoute(get, "/le/cases/{id}", haven.PermLECases, s.leCasePage),
		leRoute(get, "/le/cases/assistance/{id}", haven.PermLECases, s.leAssistancePage),
		leRoute(get, "/le/cases/assistance/{id}/analysis.pdf", haven.PermLECases, s.assistancePDF),
	}
}

// caseDone are the confirmations of the case page.
var caseDone = map[string]string{
	"opened": "The case was opened.", "status": "The status was changed.", "child": "The child's record was saved.",
	"person": "The person was added.", "agency": "The agency was saved.", "report": "The report was linked.",
	"offender": "The offender was linked.", "task": "The task was added.", "taskdone": "The task was marked done.",
	"note": "The note was added.", "indicators": "The indicators were recorded.", "plan": "A new version of the plan was saved.",
	"photo": "The photo was added to the child's record.",
}

// caseRow is a case of a list with its labels.
type caseRow struct {
	*store.Case
	TypeLabel, StatusLabel string
}

func caseRows(cs []*store.Case) []caseRow {
	out := make([]caseRow, len(cs))
	for i, c := range cs {
		out[i] = caseRow{Case: c, TypeLabel: casework.Label(casework.CaseTypes, c.Type), StatusLabel: casework.Label(casework.Statuses, c.Status)}
	}
	return out
}

func (s *Server) casesPage(w http.ResponseWriter, r *request) error {
	cs, err := s.app.Casework.Cases(r.Context(), r.actor)
	if err != nil {
		return err
	}
	typ, status := r.URL.Query().Get("type"), r.URL.Query().Get("status")
	cs = slices.DeleteFunc(cs, func(c *store.Case) bool { return (typ != "" && c.Type != typ) || (status != "" && c.Status != status) })
	p := s.newPage(r, "Cases", map[string]any{"Cases": caseRows(cs), "Types": casework.CaseTypes,
		"Statuses": casework.Statuses, "CanManage": r.actor.Can(haven.PermCaseManage), "CanBags": r.actor.Can(haven.PermHopeBags),
		"CanAssist": r.actor.Can(haven.PermAssistanceWork)})
	p.Form = url.Values{"type": {typ}, "status": {status}}
	return s.render(w, http.StatusOK, "cases", p)
}

func (s *Server) caseNewData(r *request) map[string]any {
	return map[string]any{"Types": casework.CaseTypes, "Report": r.URL.Query().Get("report")}
}

func (s *Server) caseNewPage(w http.ResponseWriter, r *request) error {
	p := s.newPage(r, "Open a case", s.caseNewData(r))
	if rep := r.URL.Query().Get("report"); rep != "" {
		p.Form = url.Values{"report": {rep}}
	}
	return s.render(w, http.StatusOK, "case_new", p)
}

// optionalInt reads an optional whole number field: def when empty.
func optionalInt(r *request, field string, def int64) (int64, error) {
	v := strings.TrimSpace(r.PostFormValue(field))
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, haven.Invalidf(field, "give a whole number")
	}
	return n, nil
}

// optionalDate reads an optional YYYY-MM-DD field.
func optionalDate(r *request, field string) (time.Time, error) {
	v := strings.TrimSpace(r.PostFormValue(field))
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse("2006-01-02", v)
	if err != nil {
		return time.Time{}, haven.Invalidf(field, "give the date as YYYY-MM-DD")
	}
	return t, nil
}

func (s *Server) caseOpen(w http.ResponseWriter, r *request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	fail := func(err error) error {
		return s.formError(w, r, "case_new", s.newPage(r, "Open a case", s.caseNewData(r)), err)
	}
	age, err := optionalInt(r, "child_age", -1)
	if err != nil {
		return fail(err)
	}
	rep, err := optionalInt(r, "report", 0)
	if err != nil {
		return fail(err)
	}
	c, err := s.app.Casework.OpenCase(r.Context(), r.actor, casework.NewCase{Type: r.PostFormValue("type"), Title: r.PostFormValue("title"),
		ChildPseudonym: r.PostFormValue("child_pseudonym"), ChildAge: int(age), ChildDescription: r.PostFormValue("child_description"),
		ReportID: rep})
	if err != nil {
		if statusOf(err) >= 500 || haven.IsKind(err, haven.KindForbidden) {
			return err
		}
		return fail(err)
	}
	http.Redirect(w, r.Request, "/app/cases/"+c.ID+"?done=opened", http.StatusSeeOther)
	return nil
}

// casePageData is what the case page shows.
type casePageData struct {
	*casework.View
	CanManage        bool
	CanBags          bool
	AgencyChoices    []*haven.Agency
	Types            []casework.Choice
	StatusChoices    []casework.Choice
	IndicatorChoices []casework.Choice
	Areas            []casework.Choice
	NeedStates       []casework.Choice
	Recorded         map[string]bool
	Now              time.Time
	// Providers is the provider network to refer services to (empty when
	// the actor cannot read it).
	Providers []*store.Provider
}

func (s *Server) casePageFor(r *request, id string) (*page, error) {
	v, err := s.app.Casework.Case(r.Context(), r.actor, id)
	if err != nil {
		return nil, err
	}
	d := &casePageData{View: v, CanManage: r.actor.Can(haven.PermCaseManage), CanBags: r.actor.Can(haven.PermHopeBags),
		Types: casework.CaseTypes, StatusChoices: casework.Statuses, IndicatorChoices: casework.Indicators, Areas: casework.NeedAreas,
		NeedStates: casework.NeedStatuses, Recorded: map[string]bool{}, Now: s.app.Clock.Now()}
	for _, i := range v.Indicators {
		d.Recorded[i.Code] = true
	}
	if d.CanManage {
		if d.AgencyChoices, err = s.app.Accounts.Agencies(r.Context(), r.actor); err != nil {
			return nil, err
		}
		if r.actor.Can(haven.PermProvidersRead) {
			if d.Providers, err = s.app.Support.Providers(r.Context(), r.actor); err != nil {
				return nil, err
			}
		}
	}
	p := s.newPage(r, v.Case.Title, d)
	p.Notice = caseDone[r.URL.Query().Get("done")]
	return p, nil
}

func (s *Server) casePage(w http.ResponseWriter, r *request) error {
	p, err := s.casePageFor(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	return s.render(w, http.StatusOK, "case", p)
}

// caseForm runs a change of the case page: on an input problem the page
// is shown again with the problem on its field.
func (s *Server) caseForm(w http.ResponseWriter, r *request, done string, fn func(id string) error) error {
	if err := parseForm(r); err != nil {
		return err
	}
	id := r.PathValue("id")
	if err := fn(id); err != nil {
		if statusOf(err) >= 500 || haven.IsKind(err, haven.KindForbidden) || haven.IsKind(err, haven.KindNotFound) {
			return err
		}
		p, perr := s.casePageFor(r, id)
		if perr != nil {
			return perr
		}
		return s.formError(w, r, "case", p, err)
	}
	http.Redirect(w, r.Request, "/app/cases/"+id+"?done="+done, http.StatusSeeOther)
	return nil
}

func (s *Server) caseStatus(w http.ResponseWriter, r *request) error {
	return s.caseForm(w, r, "status", func(id string) error {
		return s.app.Casework.SetStatus(r.Context(), r.actor, id, r.PostFormValue("status"), r.PostFormValue("status_note"))
	})
}

func (s *Server) caseChild(w http.ResponseWriter, r *request) error {
	return s.caseForm(w, r, "child", func(id string) error {
		age, err := optionalInt(r, "child_age", -1)
		if err != nil {
			return err
		}
		return s.app.Casework.UpdateChild(r.Context(), r.actor, id, r.PostFormValue("child_pseudonym"), int(age), r.PostFormValue("child_description"))
	})
}

func (s *Server) casePerson(w http.ResponseWriter, r *request) error {
	return s.caseForm(w, r, "person", func(id string) error {
		return s.app.Casework.AddPerson(r.Context(), r.actor, id, r.PostFormValue("person_name"), r.PostFormValue("person_role"),
			r.PostFormValue("person_contact"))
	})
}

func (s *Server) caseAgency(w http.ResponseWriter, r *request) error {
	return s.caseForm(w, r, "agency", func(id string) error {
		return s.app.Casework.PutAgency(r.Context(), r.actor, id, r.PostFormValue("agency"), r.PostFormValue("agency_role"),
			r.PostFormValue("shared") == "on")
	})
}

func (s *Server) caseReport(w http.ResponseWriter, r *request) error {
	return s.caseForm(w, r, "report", func(id string) error {
		n, err := optionalInt(r, "report", 0)
		if err != nil {
			return err
		}
		return s.app.Casework.LinkReport(r.Context(), r.actor, id, n)
	})
}

func (s *Server) caseOffender(w http.ResponseWriter, r *request) error {
	return s.caseForm(w, r, "offender", func(id string) error {
		return s.app.Casework.LinkOffender(r.Context(), r.actor, id, r.PostFormValue("offender"), r.PostFormValue("offender_note"))
	})
}

func (s *Server) caseTask(w http.ResponseWriter, r *request) error {
	return s.caseForm(w, r, "task", func(id string) error {
		due, err := optionalDate(r, "task_due")
		if err != nil {
			return err
		}
		return s.app.Casework.AddTask(r.Context(), r.actor, id, r.PostFormValue("task_title"), r.PostFormValue("task_owner"), due)
	})
}

func (s *Server) caseTaskDone(w http.ResponseWriter, r *request) error {
	return s.caseForm(w, r, "taskdone", func(id string) error {
		return s.app.Casework.CompleteTask(r.Context(), r.actor, id, r.PostFormValue("task"))
	})
}

func (s *Server) caseNote(w http.ResponseWriter, r *request) error {
	return s.caseForm(w, r, "note", func(id string) error {
		return s.app.Casework.AddNote(r.Context(), r.actor, id, r.PostFormValue("note"))
	})
}

func (s *Server) caseIndicators(w http.ResponseWriter, r *request) error {
	return s.caseForm(w, r, "indicators", func(id string) error {
		_, err := s.app.Casework.RecordIndicators(r.Context(), r.actor, id, r.PostForm["indicator"], r.PostFormValue("indicator_note"))
		return err
	})
}

// casePlan saves a new plan version from the form: one row per need area
// (an area is part of the plan when it is ticked), each with at most one
// new service referral added to those it already has.
func (s *Server) casePlan(w http.ResponseWriter, r *request) error {
	return s.caseForm(w, r, "plan", func(id string) error {
		v, err := s.app.Casework.Case(r.Context(), r.actor, id)
		if err != nil {
			return err
		}
		var plan casework.Plan
		for _, area := range casework.NeedAreas {
			a := area.Code
			if r.PostFormValue(a+"_include") != "on" {
				continue
			}
			n := v.Plan.Need(a)
			n.Responsible, n.DueOn, n.Status = r.PostFormValue(a+"_responsible"), r.PostFormValue(a+"_due"), r.PostFormValue(a+"_status")
			n.Notes = r.PostFormValue(a + "_notes")
			pid, pname := strings.TrimSpace(r.PostFormValue(a+"_provider_id")), strings.TrimSpace(r.PostFormValue(a+"_provider"))
			if pid != "" || pname != "" {
				n.Services = append(n.Services, casework.Referral{ProviderID: pid, ProviderName: pname, Service: r.PostFormValue(a + "_service")})
			}
			plan.Needs = append(plan.Needs, n)
		}
		_, err = s.app.Casework.SavePlan(r.Context(), r.actor, id, plan, r.PostFormValue("comment"))
		return err
	})
}

// casePhotoUpload receives a photo of the child as multipart (fields csrf
// and caption first, then the file "photo"), streamed into the vault.
func (s *Server) casePhotoUpload(w http.ResponseWriter, r *request) error {
	id := r.PathValue("id")
	got := false
	fields, err := upload.Read(r.Header.Get("Content-Type"), r.Body, upload.Limits{MaxParts: 4, MaxFieldBytes: 4 << 10},
		func(fields map[string][]string, f *upload.File) error {
			if v := fields[csrfField]; len(v) == 0 || subtle.ConstantTimeCompare([]byte(v[0]), []byte(r.principal.Session.CSRFToken)) != 1 {
				return errCSRF
			}
			caption := ""
			if v := fields["caption"]; len(v) > 0 {
				caption = v[0]
			}
			got = true
			_, err := s.app.Casework.AddPhoto(r.Context(), r.actor, id, f, f.Name, caption)
			return err
		})
	if err == nil {
		if v := fields[csrfField]; len(v) == 0 || subtle.ConstantTimeCompare([]byte(v[0]), []byte(r.principal.Session.CSRFToken)) != 1 {
			return errCSRF
		}
		if !got {
			err = haven.Invalidf("photo", "choose a photo to add")
		}
	}
	if err != nil {
		if statusOf(err) >= 500 || haven.IsKind(err, haven.KindForbidden) || haven.IsKind(err, haven.KindNotFound) || err == errCSRF {
			return err
		}
		p, perr := s.casePageFor(r, id)
		if perr != nil {
			return perr
		}
		r.PostForm = url.Values(fields)
		return s.formError(w, r, "case", p, err)
	}
	http.Redirect(w, r.Request, "/app/cases/"+id+"?done=photo", http.StatusSeeOther)
	return nil
}

func (s *Server) casePhoto(w http.ResponseWriter, r *request) error {
	rc, p, err := s.app.Casework.Photo(r.Context(), r.actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	defer rc.Close()
	// Read it whole first: custody verifies the hash at the end, and a
	// photo that fails the check must not reach the browser.
	b, err := io.ReadAll(rc)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", p.ContentType)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "sandbox; default-src 'none'")
	_, err = w.Write(b)
	return err
}

// Hope Bags.

var hopeBagDone = map[string]string{"line": "The inventory line was added.", "restock": "The restock was recorded.",
	"distribute": "The distribution was recorded.", "threshold": "The threshold was changed."}

func (s *Server) hopeBagsPageFor(r *request) (*page, error) {
	inv, err := s.app.Casework.Inventory(r.Context(), r.actor)
	if err != nil {
		return nil, err
	}
	var ags []*haven.Agency
	if r.actor.Can(haven.PermViewAgencies) {
		if ags, err = s.app.Accounts.Agencies(r.Context(), r.actor); err != nil {
			return nil, err
		}
	}
	p := s.newPage(r, "Hope Bags", map[string]any{"Inventory": inv, "Agencies": ags, "Case": r.URL.Query().Get("case"),
		"Today": s.app.Clock.Now().Format("2006-01-02")})
	p.Notice = hopeBagDone[r.URL.Query().Get("done")]
	if c := r.URL.Query().Get("case"); c != "" {
		p.Form = url.Values{"case": {c}}
	}
	return p, nil
}

func (s *Server) hopeBagsPage(w http.ResponseWriter, r *request) error {
	p, err := s.hopeBagsPageFor(r)
	if err != nil {
		return err
	}
	return s.render(w, http.StatusOK, "hopebags", p)
}

func (s *Server) hopeBagForm(w http.ResponseWriter, r *request, done string, fn func() error) error {
	if err := parseForm(r); err != nil {
		return err
	}
	if err := fn(); err != nil {
		if statusOf(err) >= 500 || haven.IsKind(err, haven.KindForbidden) || haven.IsKind(err, haven.KindNotFound) {
			return err
		}
		p, perr := s.hopeBagsPageFor(r)
		if perr != nil {
			return perr
		}
		return s.formError(w, r, "hopebags", p, err)
	}
	http.Redirect(w, r.Request, "/app/hopebags?done="+done, http.StatusSeeOther)
	return nil
}

func (s *Server) hopeBagLine(w http.ResponseWriter, r *request) error {
	return s.hopeBagForm(w, r, "line", func() error {
		th, err := optionalInt(r, "threshold", 0)
		if err != nil {
			return err
		}
		_, err = s.app.Casework.AddStockLine(r.Context(), r.actor, r.PostFormValue("size"), r.PostFormValue("variant"),
			r.PostFormValue("stock_point"), int(th))
		return err
	})
}

func (s *Server) hopeBagRestock(w http.ResponseWriter, r *request) error {
	return s.hopeBagForm(w, r, "restock", func() error {
		q, err := optionalInt(r, "quantity", 0)
		if err != nil {
			return err
		}
		on, err := optionalDate(r, "on_date")
		if err != nil {
			return err
		}
		return s.app.Casework.Restock(r.Context(), r.actor, r.PostFormValue("item"), int(q), on, r.PostFormValue("note"))
	})
}

func (s *Server) hopeBagDistribute(w http.ResponseWriter, r *request) error {
	return s.hopeBagForm(w, r, "distribute", func() error {
		q, err := optionalInt(r, "quantity", 0)
		if err != nil {
			return err
		}
		on, err := optionalDate(r, "on_date")
		if err != nil {
			return err
		}
		return s.app.Casework.Distribute(r.Context(), r.actor, casework.Distribution{ItemID: r.PostFormValue("item"), Quantity: int(q),
			CaseID: strings.TrimSpace(r.PostFormValue("case")), AgencyID: r.PostFormValue("agency"), Recipient: r.PostFormValue("recipient"),
			OnDate: on, Note: r.PostFormValue("note")})
	})
}

func (s *Server) hopeBagThreshold(w http.ResponseWriter, r *request) error {
	return s.hopeBagForm(w, r, "threshold", func() error {
		th, err := optionalInt(r, "threshold", 0)
		if err != nil {
			return err
		}
		return s.app.Casework.SetThreshold(r.Context(), r.actor, r.PostFormValue("item"), int(th))
	})
}

// Assistance requests.

var assistanceDone = map[string]string{"created": "The request was recorded.", "triage": "The priority was set.",
	"assign": "The request was assigned.", "deliver": "The analysis was delivered.", "close": "The outcome was recorded and the request closed."}

func (s *Server) assistancePageFor(r *request) (*page, error) {
	rs, err := s.app.Casework.AssistanceRequests(r.Context(), r.actor)
	if err != nil {
		return nil, err
	}
	p := s.newPage(r, "Assistance requests", map[string]any{"Requests": rs, "Sources": casework.Sources[:2]})
	p.Notice = assistanceDone[r.URL.Query().Get("done")]
	return p, nil
}

func (s *Server) assistancePage(w http.ResponseWriter, r *request) error {
	p, err := s.assistancePageFor(r)
	if err != nil {
		return err
	}
	return s.render(w, http.StatusOK, "assistance", p)
}

func assistanceInput(r *request) casework.AssistanceInput {
	return casework.AssistanceInput{Source: r.PostFormValue("source"), RequesterName: r.PostFormValue("requester_name"),
		RequesterOrg: r.PostFormValue("requester_org"), RequesterContact: r.PostFormValue("requester_contact"),
		TheirReference: r.PostFormValue("their_reference"), CaseID: strings.TrimSpace(r.PostFormValue("case")),
		Question: r.PostFormValue("question")}
}

func (s *Server) assistanceSubmit(w http.ResponseWriter, r *request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	req, err := s.app.Casework.SubmitAssistance(r.Context(), r.actor, assistanceInput(r))
	if err != nil {
		if statusOf(err) >= 500 || haven.IsKind(err, haven.KindForbidden) {
			return err
		}
		p, perr := s.assistancePageFor(r)
		if perr != nil {
			return perr
		}
		return s.formError(w, r, "assistance", p, err)
	}
	http.Redirect(w, r.Request, "/app/cases/assistance/"+req.ID+"?done=created", http.StatusSeeOther)
	return nil
}

func (s *Server) assistanceRequestPageFor(r *request) (*page, error) {
	v, err := s.app.Casework.Assistance(r.Context(), r.actor, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	users, err := s.app.Casework.Assignees(r.Context(), r.actor)
	if err != nil {
		return nil, err
	}
	p := s.newPage(r, "Assistance request", map[string]any{"Request": v, "Priorities": casework.Priorities, "Assignees": users})
	p.Notice = assistanceDone[r.URL.Query().Get("done")]
	return p, nil
}

func (s *Server) assistanceRequestPage(w http.ResponseWriter, r *request) error {
	p, err := s.assistanceRequestPageFor(r)
	if err != nil {
		return err
	}
	return s.render(w, http.StatusOK, "assistance_request", p)
}

func (s *Server) assistanceForm(w http.ResponseWriter, r *request, done string, fn func(id string) error) error {
	if err := parseForm(r); err != nil {
		return err
	}
	id := r.PathValue("id")
	if err := fn(id); err != nil {
		if statusOf(err) >= 500 || haven.IsKind(err, haven.KindForbidden) || haven.IsKind(err, haven.KindNotFound) {
			return err
		}
		p, perr := s.assistanceRequestPageFor(r)
		if perr != nil {
			return perr
		}
		return s.formError(w, r, "assistance_request", p, err)
	}
	http.Redirect(w, r.Request, "/app/cases/assistance/"+id+"?done="+done, http.StatusSeeOther)
	return nil
}

func (s *Server) assistanceTriage(w http.ResponseWriter, r *request) error {
	return s.assistanceForm(w, r, "triage", func(id string) error {
		return s.app.Casework.Triage(r.Context(), r.actor, id, r.PostFormValue("priority"))
	})
}

func (s *Server) assistanceAssign(w http.ResponseWriter, r *request) error {
	return s.assistanceForm(w, r, "assign", func(id string) error {
		return s.app.Casework.Assign(r.Context(), r.actor, id, r.PostFormValue("assignee"))
	})
}

func (s *Server) assistanceDeliver(w http.ResponseWriter, r *request) error {
	return s.assistanceForm(w, r, "deliver", func(id string) error {
		return s.app.Casework.Deliver(r.Context(), r.actor, id, r.PostFormValue("analysis"))
	})
}

func (s *Server) assistanceClose(w http.ResponseWriter, r *request) error {
	return s.assistanceForm(w, r, "close", func(id string) error {
		return s.app.Casework.Close(r.Context(), r.actor, id, r.PostFormValue("outcome"))
	})
}

// assistancePDF serves the analysis as a PDF, to staff and to the
// requesting agency's users (the service refuses any other agency).
func (s *Server) assistancePDF(w http.ResponseWriter, r *request) error {
	v, err := s.app.Casework.Assistance(r.Context(), r.actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := casework.WriteAnalysisPDF(&b, v); err != nil {
		return err
	}
	download(w, fmt.Sprintf("assistance-%s.pdf", v.ID), "application/pdf")
	_, err = w.Write(b.Bytes())
	return err
}

// Law-enforcement portal.

func (s *Server) leCasesPageFor(r *request) (*page, error) {
	cs, err := s.app.Casework.AgencyCases(r.Context(), r.actor)
	if err != nil {
		return nil, err
	}
	rs, err := s.app.Casework.AssistanceRequests(r.Context(), r.actor)
	if err != nil {
		return nil, err
	}
	return s.newPage(r, "Cases and assistance", map[string]any{"Cases": caseRows(cs), "Requests": rs}), nil
}

func (s *Server) leCasesPage(w http.ResponseWriter, r *request) error {
	p, err := s.leCasesPageFor(r)
	if err != nil {
		return err
	}
	p.Notice = assistanceDone[r.URL.Query().Get("done")]
	return s.render(w, http.StatusOK, "le_cases", p)
}

func (s *Server) leAssistanceSubmit(w http.ResponseWriter, r *request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	in := assistanceInput(r)
	in.CaseID = ""
	req, err := s.app.Casework.SubmitAssistance(r.Context(), r.actor, in)
	if err != nil {
		if statusOf(err) >= 500 || haven.IsKind(err, haven.KindForbidden) {
			return err
		}
		p, perr := s.leCasesPageFor(r)
		if perr != nil {
			return perr
		}
		return s.formError(w, r, "le_cases", p, err)
	}
	http.Redirect(w, r.Request, "/le/cases/assistance/"+req.ID+"?done=created", http.StatusSeeOther)
	return nil
}

func (s *Server) leCasePage(w http.ResponseWriter, r *request) error {
	v, err := s.app.Casework.AgencyCase(r.Context(), r.actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	return s.render(w, http.StatusOK, "le_cases_case", s.newPage(r, v.Case.Title, v))
}

func (s *Server) leAssistancePage(w http.ResponseWriter, r *request) error {
	v, err := s.app.Casework.Assistance(r.Context(), r.actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	p := s.newPage(r, "Assistance request", v)
	p.Notice = assistanceDone[r.URL.Query().Get("done")]
	return s.render(w, http.StatusOK, "le_cases_assistance", p)
}
