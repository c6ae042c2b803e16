package server

import (
	"bytes"
	"crypto/subtle"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/offender"
	"github.com/haven-hotline/haven/internal/store"
	"github.com/haven-hotline/haven/internal/upload"
)

// Sex-offender tracking (issue 7, program P6): registry records and
// their timelines, imports, compliance, linkage, incidents, locate
// requests and surveys for offender analysts; locate requests in the
// law-enforcement portal; and the public counts of registered offenders.

// offenderRoutes lists the routes of sex-offender tracking (issue 7).
func (s *Server) offenderRoutes() []Route {
	const get, post = http.MethodGet, http.MethodPost
	read, manage := haven.PermOffenderRead, haven.PermOffenderManage
	public := func(path string) Route {
		return Route{Method: get, Path: path, Surface: SurfacePublic, Public: true, Handler: s.publicOffenderCounts}
	}
	return []Route{
		staffRoute(get, "/app/offenders", read, s.offendersPage),
		staffRoute(get, "/app/offenders/{id}", read, s.offenderPage),
		staffRoute(post, "/app/offenders/{id}/facts", manage, s.offenderAddFact),
		staffRoute(get, "/app/offenders/imports", read, s.offenderImportsPage),
		staffRoute(post, "/app/offenders/mappings", manage, s.offenderMappingSave),
		{Method: post, Path: "/app/offenders/imports", Surface: SurfaceStaff, Perm: manage, FormCSRF: true,
			MaxBody: offender.MaxImportBytes + 1<<20, Handler: s.offenderImportUpload},
		staffRoute(get, "/app/offenders/imports/{id}", read, s.offenderImportPage),
		staffRoute(post, "/app/offenders/imports/{id}/apply", manage, s.offenderImportApply),
		staffRoute(get, "/app/offenders/compliance", read, s.offenderCompliancePage),
		staffRoute(get, "/app/offenders/links", read, s.offenderLinksPage),
		staffRoute(post, "/app/offenders/links/run", manage, s.offenderLinksRun),
		staffRoute(post, "/app/offenders/links/{id}/confirm", manage, s.offenderLinkDecide),
		staffRoute(post, "/app/offenders/links/{id}/dismiss", manage, s.offenderLinkDecide),
		staffRoute(get, "/app/offenders/reports/{id}/links", read, s.offenderReportLinks),
		staffRoute(get, "/app/offenders/incidents", haven.PermIncidents, s.offenderIncidentsPage),
		staffRoute(post, "/app/offenders/incidents", haven.PermIncidents, s.offenderIncidentSave),
		staffRoute(get, "/app/offenders/incidents/{id}", haven.PermIncidents, s.offenderIncidentPage),
		staffRoute(get, "/app/offenders/locate", read, s.offenderLocateList),
		staffRoute(get, "/app/offenders/locate/{id}", read, s.offenderLocatePage),
		staffRoute(get, "/app/offenders/locate/{id}/report.pdf", read, s.offenderLocatePDF),
		staffRoute(post, "/app/offenders/locate/{id}/offender", manage, s.offenderLocateAction),
		staffRoute(post, "/app/offenders/locate/{id}/query", manage, s.offenderLocateAction),
		staffRoute(post, "/app/offenders/locate/{id}/candidate", manage, s.offenderLocateAction),
		staffRoute(post, "/app/offenders/locate/{id}/deliver", manage, s.offenderLocateAction),
		staffRoute(get, "/app/offenders/surveys", haven.PermSurveys, s.offenderSurveysPage),
		staffRoute(post, "/app/offenders/surveys", haven.PermSurveys, s.offenderSurveyEnter),
		staffRoute(post, "/app/offenders/surveys/compute", haven.PermSurveys, s.offenderSurveyCompute),

		leRoute(get, "/le/locate", haven.PermLocateRequest, s.leLocatePage),
		leRoute(post, "/le/locate", haven.PermLocateRequest, s.leLocateSubmit),
		leRoute(get, "/le/locate/{id}", haven.PermLocateRequest, s.leLocateReport),
		leRoute(get, "/le/locate/{id}/report.pdf", haven.PermLocateRequest, s.leLocatePDF),

		public("/statistics/registered-offenders"),
		public("/statistics/registered-offenders.csv"),
		public("/statistics/registered-offenders.json"),
	}
}

// formDate reads an optional YYYY-MM-DD field.
func formDate(r *request, field string) (time.Time, error) {
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

// userError reports whether err goes back into the form rather than to
// an error page.
func userError(err error) bool {
	return statusOf(err) < 500 && !haven.IsKind(err, haven.KindForbidden) && !haven.IsKind(err, haven.KindNotFound)
}

func (s *Server) offendersForm(r *request) (*page, error) {
	q := r.URL.Query()
	f := store.OffenderFilter{Query: strings.TrimSpace(q.Get("q")), Jurisdiction: q.Get("jurisdiction"), Status: q.Get("status")}
	if len(f.Query) > 200 {
		f.Query = f.Query[:200]
	}
	list, err := s.app.Offenders.Offenders(r.Context(), r.actor, f)
	if err != nil {
		return nil, err
	}
	now := s.app.Clock.Now()
	type row struct {
		*store.Offender
		Compliance offender.Compliance
		Tier       string
	}
	rows := make([]row, len(list))
	for i, o := range list {
		rows[i] = row{Offender: o, Compliance: offender.Assess(o, now), Tier: offender.TierName(o.Tier)}
	}
	return s.newPage(r, "Registered offenders", map[string]any{"Rows": rows, "Filter": f, "Statuses": offender.Statuses,
		"CanManage": r.actor.Can(haven.PermOffenderManage), "CanSurveys": r.actor.Can(haven.PermSurveys)}), nil
}

func (s *Server) offendersPage(w http.ResponseWriter, r *request) error {
	p, err := s.offendersForm(r)
	if err != nil {
		return err
	}
	return s.render(w, http.StatusOK, "offender_list", p)
}

func (s *Server) offenderRecordPage(r *request) (*page, error) {
	rec, err := s.app.Offenders.Offender(r.Context(), r.actor, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	return s.newPage(r, rec.Name, map[string]any{"Record": rec, "Tier": offender.TierName(rec.Tier), "Kinds": offender.FactKinds,
		"CanManage": r.actor.Can(haven.PermOffenderManage)}), nil
}

func (s *Server) offenderPage(w http.ResponseWriter, r *request) error {
	p, err := s.offenderRecordPage(r)
	if err != nil {
		return err
	}
	p.Notice = map[string]string{"fact": "The fact was added to the record."}[r.URL.Query().Get("done")]
	return s.render(w, http.StatusOK, "offender", p)
}

func (s *Server) offenderAddFact(w http.ResponseWriter, r *request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	id := r.PathValue("id")
	in := offender.FactInput{Kind: r.PostFormValue("kind"), Value: r.PostFormValue("value"), Detail: r.PostFormValue("detail"),
		Lat: r.PostFormValue("lat"), Lon: r.PostFormValue("lon")}
	var err error
	if in.ValidFrom, err = formDate(r, "valid_from"); err == nil {
		in.ValidTo, err = formDate(r, "valid_to")
	}
	if err == nil {
		_, err = s.app.Offenders.AddFact(r.Context(), r.actor, id, in)
	}
	if err != nil {
		if !userError(err) {
			return err
		}
		p, perr := s.offenderRecordPage(r)
		if perr != nil {
			return perr
		}
		return s.formError(w, r, "offender", p, err)
	}
	http.Redirect(w, r.Request, "/app/offenders/"+id+"?done=fact", http.StatusSeeOther)
	return nil
}

// Imports.

func (s *Server) offenderImportsForm(r *request) (*page, error) {
	ms, err := s.app.Offenders.Mappings(r.Context(), r.actor)
	if err != nil {
		return nil, err
	}
	ims, err := s.app.Offenders.Imports(r.Context(), r.actor)
	if err != nil {
		return nil, err
	}
	return s.newPage(r, "Registry imports", map[string]any{"Mappings": ms, "Imports": ims, "Fields": offender.Fields,
		"CanManage": r.actor.Can(haven.PermOffenderManage)}), nil
}

func (s *Server) offenderImportsPage(w http.ResponseWriter, r *request) error {
	p, err := s.offenderImportsForm(r)
	if err != nil {
		return err
	}
	p.Notice = map[string]string{"mapping": "The mapping was saved."}[r.URL.Query().Get("done")]
	return s.render(w, http.StatusOK, "offender_imports", p)
}

func (s *Server) offenderMappingSave(w http.ResponseWriter, r *request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	m, err := offender.ParseMapping([]byte(r.PostFormValue("mapping")))
	if err == nil {
		_, err = s.app.Offenders.SaveMapping(r.Context(), r.actor, *m)
	}
	if err != nil {
		if !userError(err) {
			return err
		}
		p, perr := s.offenderImportsForm(r)
		if perr != nil {
			return perr
		}
		return s.formError(w, r, "offender_imports", p, err)
	}
	http.Redirect(w, r.Request, "/app/offenders/imports?done=mapping", http.StatusSeeOther)
	return nil
}

// offenderImportUpload receives an export as a multipart form (fields
// csrf and source first, then the file) and shows its preview.
func (s *Server) offenderImportUpload(w http.ResponseWriter, r *request) error {
	var im *store.OffenderImport
	_, err := upload.Read(r.Header.Get("Content-Type"), r.Body, upload.Limits{MaxParts: 4, MaxFieldBytes: 1 << 10},
		func(fields map[string][]string, f *upload.File) error {
			if v := fields[csrfField]; len(v) == 0 || subtle.ConstantTimeCompare([]byte(v[0]), []byte(r.principal.Session.CSRFToken)) != 1 {
				return errCSRF
			}
			source := ""
			if v := fields["source"]; len(v) > 0 {
				source = v[0]
			}
			body, err := io.ReadAll(io.LimitReader(f, offender.MaxImportBytes+1))
			if err != nil {
				return err
			}
			im, _, err = s.app.Offenders.StartImport(r.Context(), r.actor, source, f.Name, body)
			return err
		})
	if err != nil {
		if !userError(err) {
			return err
		}
		p, perr := s.offenderImportsForm(r)
		if perr != nil {
			return perr
		}
		p.Error = safeMessage(err)
		return s.render(w, statusOf(err), "offender_imports", p)
	}
	if im == nil {
		return haven.Invalidf("file", "choose an export file")
	}
	http.Redirect(w, r.Request, "/app/offenders/imports/"+im.ID, http.StatusSeeOther)
	return nil
}

func (s *Server) offenderImportPage(w http.ResponseWriter, r *request) error {
	im, pv, err := s.app.Offenders.Import(r.Context(), r.actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	return s.render(w, http.StatusOK, "offender_import", s.newPage(r, "Import "+im.Filename,
		map[string]any{"Import": im, "Preview": pv, "CanManage": r.actor.Can(haven.PermOffenderManage)}))
}

func (s *Server) offenderImportApply(w http.ResponseWriter, r *request) error {
	id := r.PathValue("id")
	if err := s.app.Offenders.ApplyImport(r.Context(), r.actor, id); err != nil {
		return err
	}
	http.Redirect(w, r.Request, "/app/offenders/imports/"+id, http.StatusSeeOther)
	return nil
}

// Compliance and links.

func (s *Server) offenderCompliancePage(w http.ResponseWriter, r *request) error {
	lists, err := s.app.Offenders.NoncompliantList(r.Context(), r.actor, r.URL.Query().Get("jurisdiction"))
	if err != nil {
		return err
	}
	p := s.newPage(r, "Noncompliant offenders", lists)
	p.Form = r.URL.Query()
	return s.render(w, http.StatusOK, "offender_compliance", p)
}

func (s *Server) offenderLinksPage(w http.ResponseWriter, r *request) error {
	status := r.URL.Query().Get("status")
	links, err := s.app.Offenders.Links(r.Context(), r.actor, status)
	if err != nil {
		return err
	}
	if status == "" {
		status = offender.LinkCandidate
	}
	p := s.newPage(r, "Links to cases", map[string]any{"Links": links, "Status": status, "CanManage": r.actor.Can(haven.PermOffenderManage)})
	p.Notice = map[string]string{"queued": "Linkage is running in the background: reload this page to see new candidates."}[r.URL.Query().Get("done")]
	return s.render(w, http.StatusOK, "offender_links", p)
}

// offenderReportLinks lists the offenders linked to a tip (the report
// side of a link).
func (s *Server) offenderReportLinks(w http.ResponseWriter, r *request) error {
	id := r.PathValue("id")
	links, err := s.app.Offenders.LinksOfTarget(r.Context(), r.actor, "report", id)
	if err != nil {
		return err
	}
	return s.render(w, http.StatusOK, "offender_links", s.newPage(r, "Offenders linked to report "+id,
		map[string]any{"Links": links, "Status": "offenders linked to report " + id, "Report": id,
			"CanManage": r.actor.Can(haven.PermOffenderManage)}))
}

func (s *Server) offenderLinksRun(w http.ResponseWriter, r *request) error {
	if err := s.app.Offenders.StartLinkage(r.Context(), r.actor); err != nil {
		return err
	}
	http.Redirect(w, r.Request, "/app/offenders/links?done=queued", http.StatusSeeOther)
	return nil
}

func (s *Server) offenderLinkDecide(w http.ResponseWriter, r *request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	confirm := strings.HasSuffix(r.URL.Path, "/confirm")
	if err := s.app.Offenders.DecideLink(r.Context(), r.actor, r.PathValue("id"), confirm, r.PostFormValue("note")); err != nil {
		return err
	}
	next := r.PostFormValue("next")
	if !strings.HasPrefix(next, "/app/offenders") || strings.HasPrefix(next, "//") {
		next = "/app/offenders/links"
	}
	http.Redirect(w, r.Request, next, http.StatusSeeOther)
	return nil
}

// Incidents.

func (s *Server) offenderIncidentsForm(r *request) (*page, error) {
	list, err := s.app.Offenders.Incidents(r.Context(), r.actor)
	if err != nil {
		return nil, err
	}
	return s.newPage(r, "Incidents", map[string]any{"Incidents": list, "Kinds": offender.IncidentKinds}), nil
}

func (s *Server) offenderIncidentsPage(w http.ResponseWriter, r *request) error {
	p, err := s.offenderIncidentsForm(r)
	if err != nil {
		return err
	}
	return s.render(w, http.StatusOK, "offender_incidents", p)
}

func (s *Server) offenderIncidentSave(w http.ResponseWriter, r *request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	in := offender.IncidentInput{Kind: r.PostFormValue("kind"), Place: r.PostFormValue("place"), Lat: r.PostFormValue("lat"),
		Lon: r.PostFormValue("lon"), Jurisdiction: r.PostFormValue("jurisdiction"), Person: r.PostFormValue("person"),
		Vehicle: r.PostFormValue("vehicle"), Outcome: r.PostFormValue("outcome"), Identifiers: r.PostFormValue("identifiers")}
	var rec *store.Incident
	var err error
	if in.OccurredAt, err = formDate(r, "occurred_at"); err == nil {
		rec, err = s.app.Offenders.RecordIncident(r.Context(), r.actor, in)
	}
	if err != nil {
		if !userError(err) {
			return err
		}
		p, perr := s.offenderIncidentsForm(r)
		if perr != nil {
			return perr
		}
		return s.formError(w, r, "offender_incidents", p, err)
	}
	http.Redirect(w, r.Request, "/app/offenders/incidents/"+rec.ID, http.StatusSeeOther)
	return nil
}

func (s *Server) offenderIncidentPage(w http.ResponseWriter, r *request) error {
	v, err := s.app.Offenders.Incident(r.Context(), r.actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	return s.render(w, http.StatusOK, "offender_incident", s.newPage(r, "Incident", map[string]any{"Incident": v,
		"CanManage": r.actor.Can(haven.PermOffenderManage)}))
}

// Locate requests, analysts' side.

func (s *Server) offenderLocateList(w http.ResponseWriter, r *request) error {
	list, err := s.app.Offenders.LocateRequests(r.Context(), r.actor)
	if err != nil {
		return err
	}
	return s.render(w, http.StatusOK, "offender_locate_list", s.newPage(r, "Locate requests", list))
}

func (s *Server) offenderLocateForm(r *request) (*page, error) {
	rep, err := s.app.Offenders.LocateReport(r.Context(), r.actor, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	return s.newPage(r, "Locate request "+rep.Request.CaseNumber, map[string]any{"Report": rep, "Kinds": offender.CandidateKinds,
		"Confidences": offender.Confidences, "CanManage": r.actor.Can(haven.PermOffenderManage)}), nil
}

func (s *Server) offenderLocatePage(w http.ResponseWriter, r *request) error {
	p, err := s.offenderLocateForm(r)
	if err != nil {
		return err
	}
	p.Notice = map[string]string{"saved": "Saved.", "delivered": "The report was delivered to the agency's portal."}[r.URL.Query().Get("done")]
	return s.render(w, http.StatusOK, "offender_locate", p)
}

func (s *Server) offenderLocateAction(w http.ResponseWriter, r *request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	id := r.PathValue("id")
	ctx, svc := r.Context(), s.app.Offenders
	done := "saved"
	var err error
	switch r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:] {
	case "offender":
		err = svc.SetLocateOffender(ctx, r.actor, id, strings.TrimSpace(r.PostFormValue("offender")))
	case "query":
		in := offender.QueryInput{Source: r.PostFormValue("source"), Asked: r.PostFormValue("asked"), Found: r.PostFormValue("found")}
		if in.QueriedOn, err = formDate(r, "queried_on"); err == nil {
			err = svc.AddLocateQuery(ctx, r.actor, id, in)
		}
	case "candidate":
		in := offender.CandidateInput{Kind: r.PostFormValue("kind"), Value: r.PostFormValue("value"), Confidence: r.PostFormValue("confidence"),
			Note: r.PostFormValue("note"), Lat: r.PostFormValue("lat"), Lon: r.PostFormValue("lon")}
		if in.ValidFrom, err = formDate(r, "valid_from"); err == nil {
			if in.ValidTo, err = formDate(r, "valid_to"); err == nil {
				err = svc.AddLocateCandidate(ctx, r.actor, id, in)
			}
		}
	case "deliver":
		done = "delivered"
		err = svc.DeliverLocate(ctx, r.actor, id, r.PostFormValue("outcome"), r.PostFormValue("summary"))
	default:
		return haven.ErrNotFound
	}
	if err != nil {
		if !userError(err) {
			return err
		}
		p, perr := s.offenderLocateForm(r)
		if perr != nil {
			return perr
		}
		return s.formError(w, r, "offender_locate", p, err)
	}
	http.Redirect(w, r.Request, "/app/offenders/locate/"+id+"?done="+done, http.StatusSeeOther)
	return nil
}

// writeLocatePDF answers with a request's report as a PDF.
func (s *Server) writeLocatePDF(w http.ResponseWriter, r *request) error {
	rep, err := s.app.Offenders.LocateReport(r.Context(), r.actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	if !rep.Delivered() && !r.actor.Can(haven.PermOffenderRead) {
		return haven.ErrNotFound
	}
	var b bytes.Buffer
	if err := offender.WriteLocatePDF(&b, rep); err != nil {
		return err
	}
	download(w, "locate-"+rep.Request.ID+".pdf", "application/pdf")
	_, err = w.Write(b.Bytes())
	return err
}

func (s *Server) offenderLocatePDF(w http.ResponseWriter, r *request) error {
	return s.writeLocatePDF(w, r)
}

// Surveys.

func (s *Server) offenderSurveysForm(r *request) (*page, error) {
	list, err := s.app.Offenders.Surveys(r.Context(), r.actor)
	if err != nil {
		return nil, err
	}
	return s.newPage(r, "Registry surveys", list), nil
}

func (s *Server) offenderSurveysPage(w http.ResponseWriter, r *request) error {
	p, err := s.offenderSurveysForm(r)
	if err != nil {
		return err
	}
	p.Notice = map[string]string{"entered": "The count was recorded.", "computed": "The survey was computed from the records."}[r.URL.Query().Get("done")]
	return s.render(w, http.StatusOK, "offender_surveys", p)
}

func (s *Server) offenderSurveyEnter(w http.ResponseWriter, r *request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	date, err := formDate(r, "date")
	if err == nil {
		var n int
		if n, err = strconv.Atoi(strings.TrimSpace(r.PostFormValue("count"))); err != nil {
			err = haven.Invalidf("count", "give the count as a whole number")
		} else {
			err = s.app.Offenders.EnterSurveyCount(r.Context(), r.actor, date, r.PostFormValue("jurisdiction"), n)
		}
	}
	if err != nil {
		if !userError(err) {
			return err
		}
		p, perr := s.offenderSurveysForm(r)
		if perr != nil {
			return perr
		}
		return s.formError(w, r, "offender_surveys", p, err)
	}
	http.Redirect(w, r.Request, "/app/offenders/surveys?done=entered", http.StatusSeeOther)
	return nil
}

func (s *Server) offenderSurveyCompute(w http.ResponseWriter, r *request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	date, err := formDate(r, "date")
	if err == nil {
		_, err = s.app.Offenders.ComputeSurvey(r.Context(), r.actor, date)
	}
	if err != nil {
		if !userError(err) {
			return err
		}
		p, perr := s.offenderSurveysForm(r)
		if perr != nil {
			return perr
		}
		return s.formError(w, r, "offender_surveys", p, err)
	}
	http.Redirect(w, r.Request, "/app/offenders/surveys?done=computed", http.StatusSeeOther)
	return nil
}

// Law-enforcement portal.

func (s *Server) leLocateForm(r *request) (*page, error) {
	list, err := s.app.Offenders.AgencyLocateRequests(r.Context(), r.actor)
	if err != nil {
		return nil, err
	}
	return s.newPage(r, "Locate requests", list), nil
}

func (s *Server) leLocatePage(w http.ResponseWriter, r *request) error {
	p, err := s.leLocateForm(r)
	if err != nil {
		return err
	}
	p.Notice = map[string]string{"sent": "Your request was sent to the offender-tracking team."}[r.URL.Query().Get("done")]
	return s.render(w, http.StatusOK, "le_locate", p)
}

func (s *Server) leLocateSubmit(w http.ResponseWriter, r *request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	_, err := s.app.Offenders.SubmitLocate(r.Context(), r.actor, offender.LocateInput{CaseNumber: r.PostFormValue("case_number"),
		Subject: r.PostFormValue("subject"), Details: r.PostFormValue("details")})
	if err != nil {
		if !userError(err) {
			return err
		}
		p, perr := s.leLocateForm(r)
		if perr != nil {
			return perr
		}
		return s.formError(w, r, "le_locate", p, err)
	}
	http.Redirect(w, r.Request, "/le/locate?done=sent", http.StatusSeeOther)
	return nil
}

func (s *Server) leLocateReport(w http.ResponseWriter, r *request) error {
	rep, err := s.app.Offenders.LocateReport(r.Context(), r.actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	return s.render(w, http.StatusOK, "le_locate_report", s.newPage(r, "Locate request "+rep.Request.CaseNumber, rep))
}

func (s *Server) leLocatePDF(w http.ResponseWriter, r *request) error { return s.writeLocatePDF(w, r) }

// Public counts.

// publicOffenderCounts serves the latest registry survey as a page, CSV
// or JSON: aggregate counts only, no individual data.
func (s *Server) publicOffenderCounts(w http.ResponseWriter, r *request) error {
	sv, err := s.app.Offenders.PublicCounts(r.Context())
	if err != nil {
		return err
	}
	switch {
	case strings.HasSuffix(r.URL.Path, ".csv"):
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="registered-offenders.csv"`)
		return offender.WriteCountsCSV(w, sv)
	case strings.HasSuffix(r.URL.Path, ".json"):
		w.Header().Set("Content-Type", "application/json")
		return offender.WriteCountsJSON(w, sv)
	}
	return s.render(w, http.StatusOK, "public_offender_counts", s.newPage(r, "Registered sex offenders by state", sv))
}
