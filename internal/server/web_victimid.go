package server

import (
	"bytes"
	"crypto/subtle"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/store"
	"github.com/haven-hotline/haven/internal/upload"
	"github.com/haven-hotline/haven/internal/victimid"
)

// Victim identification (issue 6, program P5): series and victims for
// the victim-identification team, the notification queue, statistics,
// and identification requests in the law-enforcement portal.

// victimIDRoutes lists the routes of victim identification.
func (s *Server) victimIDRoutes() []Route {
	const get, post = http.MethodGet, http.MethodPost
	return []Route{
		staffRoute(get, "/app/victims", haven.PermSeriesRead, s.seriesListPage),
		staffRoute(post, "/app/victims/series", haven.PermSeriesManage, s.seriesSave),
		staffRoute(get, "/app/victims/series/{code}", haven.PermSeriesRead, s.seriesPage),
		staffRoute(get, "/app/victims/records", haven.PermVictimRead, s.victimsPage),
		staffRoute(post, "/app/victims/records", haven.PermSeriesManage, s.victimSave),
		staffRoute(get, "/app/victims/records/{id}", haven.PermVictimRead, s.victimPage),
		staffRoute(get, "/app/victims/notifications", haven.PermNotifications, s.notificationsPage),
		staffRoute(post, "/app/victims/notifications/{id}/sent", haven.PermNotifications, s.notificationSent),
		staffRoute(post, "/app/victims/self-reports/{id}/sent", haven.PermNotifications, s.selfReportNewsSent),
		staffRoute(get, "/app/victims/stats", haven.PermVictimIDStats, s.victimStatsPage),

		leRoute(get, "/le/identification", haven.PermIDRequest, s.leIdentificationPage),
		{Method: post, Path: "/le/identification", Surface: SurfaceLE, Perm: haven.PermIDRequest,
			FormCSRF: true, MaxBody: s.app.Config.MaxUploadBytes + 1<<20, Handler: s.leIdentificationSubmit},
		leRoute(get, "/le/identification/{id}", haven.PermIDRequest, s.leIdentificationReport),
		leRoute(get, "/le/identification/{id}/report.pdf", haven.PermIDRequest, s.leIdentificationDownload),
		leRoute(get, "/le/identification/{id}/report.json", haven.PermIDRequest, s.leIdentificationDownload),
	}
}

// seriesListForm is the series list with its form, for the page and for
// a form sent back with its errors.
func (s *Server) seriesListForm(r *request) (*page, error) {
	rows, err := s.app.VictimID.ListSeries(r.Context(), r.actor)
	if err != nil {
		return nil, err
	}
	return s.newPage(r, "Series", map[string]any{"Rows": rows, "CanManage": r.actor.Can(haven.PermSeriesManage),
		"CanVictims": r.actor.Can(haven.PermVictimRead), "CanNotify": r.actor.Can(haven.PermNotifications),
		"CanStats": r.actor.Can(haven.PermVictimIDStats), "Statuses": []string{"identified", "partially", "unidentified"}}), nil
}

func (s *Server) seriesListPage(w http.ResponseWriter, r *request) error {
	p, err := s.seriesListForm(r)
	if err != nil {
		return err
	}
	p.Notice = map[string]string{"saved": "The series was saved."}[r.URL.Query().Get("done")]
	return s.render(w, http.StatusOK, "victimid_series_list", p)
}

func (s *Server) seriesSave(w http.ResponseWriter, r *request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	in := store.Series{Code: r.PostFormValue("code"), Name: r.PostFormValue("name"), Status: r.PostFormValue("status"),
		Notes: r.PostFormValue("notes")}
	if _, err := s.app.VictimID.SaveSeries(r.Context(), r.actor, in); err != nil {
		if statusOf(err) >= 500 || haven.IsKind(err, haven.KindForbidden) {
			return err
		}
		p, perr := s.seriesListForm(r)
		if perr != nil {
			return perr
		}
		return s.formError(w, r, "victimid_series_list", p, err)
	}
	http.Redirect(w, r.Request, "/app/victims?done=saved", http.StatusSeeOther)
	return nil
}

func (s *Server) seriesPage(w http.ResponseWriter, r *request) error {
	v, err := s.app.VictimID.Series(r.Context(), r.actor, r.PathValue("code"))
	if err != nil {
		return err
	}
	agencies := map[string]string{}
	if ags, err := s.app.Accounts.Agencies(r.Context(), r.actor); err == nil {
		for _, a := range ags {
			agencies[a.ID] = a.Name
		}
	} else if !haven.IsKind(err, haven.KindForbidden) {
		return err
	}
	p := s.newPage(r, "Series "+v.Code, map[string]any{"Series": v, "CanVictims": r.actor.Can(haven.PermVictimRead),
		"CanNotify": r.actor.Can(haven.PermNotifications), "CanReports": r.actor.Can(haven.PermReportRead),
		"CanBanks": r.actor.Can(haven.PermReadBanks), "Agencies": agencies, "Max": victimid.MaxSeriesRows})
	p.Notice = map[string]string{"promoted": "The identification was recorded."}[r.URL.Query().Get("done")]
	return s.render(w, http.StatusOK, "victimid_series", p)
}

// victimsForm is the victim list with its form, for the page and for a
// form sent back with its errors.
func (s *Server) victimsForm(r *request) (*page, error) {
	vs, err := s.app.VictimID.Victims(r.Context(), r.actor)
	if err != nil {
		return nil, err
	}
	d := map[string]any{"Victims": vs, "CanManage": r.actor.Can(haven.PermSeriesManage),
		"CanNotify": r.actor.Can(haven.PermNotifications), "Choices": []string{victimid.NotifyNo, victimid.NotifyYes, victimid.NotifyProsecutionOnly}}
	if r.actor.Can(haven.PermSeriesManage) {
		ags, err := s.app.Accounts.Agencies(r.Context(), r.actor)
		if err != nil {
			return nil, err
		}
		d["Agencies"] = ags
	}
	return s.newPage(r, "Victims", d), nil
}

func (s *Server) victimsPage(w http.ResponseWriter, r *request) error {
	p, err := s.victimsForm(r)
	if err != nil {
		return err
	}
	p.Notice = map[string]string{"saved": "The victim record was saved."}[r.URL.Query().Get("done")]
	return s.render(w, http.StatusOK, "victimid_victims", p)
}

func (s *Server) victimSave(w http.ResponseWriter, r *request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	err := s.saveVictim(r)
	if err == nil {
		http.Redirect(w, r.Request, "/app/victims/records?done=saved", http.StatusSeeOther)
		return nil
	}
	if statusOf(err) >= 500 || haven.IsKind(err, haven.KindForbidden) {
		return err
	}
	p, perr := s.victimsForm(r)
	if perr != nil {
		return perr
	}
	return s.formError(w, r, "victimid_victims", p, err)
}

func (s *Server) saveVictim(r *request) error {
	in := store.Victim{ID: r.PostFormValue("id"), Identified: r.PostFormValue("identified") == "on", AgencyID: r.PostFormValue("agency"),
		OfficerName: r.PostFormValue("officer_name"), OfficerEmail: r.PostFormValue("officer_email"),
		OfficerPhone: r.PostFormValue("officer_phone"), Notify: r.PostFormValue("notify"),
		CounselName: r.PostFormValue("counsel_name"), CounselContact: r.PostFormValue("counsel_contact"),
		Series: strings.Fields(strings.ReplaceAll(r.PostFormValue("series"), ",", " "))}
	if a := strings.TrimSpace(r.PostFormValue("approx_age")); a != "" {
		age, err := strconv.Atoi(a)
		if err != nil {
			return haven.Invalidf("approx_age", "give the approximate age at production as a whole number of years")
		}
		in.ApproxAge = age
	}
	if d := strings.TrimSpace(r.PostFormValue("identified_on")); d != "" {
		t, err := time.Parse("2006-01-02", d)
		if err != nil {
			return haven.Invalidf("identified_on", "give the date as YYYY-MM-DD")
		}
		in.IdentifiedOn = t
	}
	_, err := s.app.VictimID.SaveVictim(r.Context(), r.actor, in)
	return err
}

func (s *Server) victimPage(w http.ResponseWriter, r *request) error {
	v, err := s.app.VictimID.Victim(r.Context(), r.actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	return s.render(w, http.StatusOK, "victimid_victim", s.newPage(r, "Victim "+v.ID,
		map[string]any{"Victim": v, "CanNotify": r.actor.Can(haven.PermNotifications)}))
}

func (s *Server) notificationsPage(w http.ResponseWriter, r *request) error {
	ns, err := s.app.VictimID.Notifications(r.Context(), r.actor)
	if err != nil {
		return err
	}
	news, err := s.app.SelfReports.NewsQueue(r.Context(), r.actor)
	if err != nil {
		return err
	}
	p := s.newPage(r, "Victim notifications", map[string]any{"Victims": ns, "News": news})
	p.Notice = map[string]string{"sent": "The notification was marked sent.",
		"news": "The news was marked passed on."}[r.URL.Query().Get("done")]
	return s.render(w, http.StatusOK, "victimid_notifications", p)
}

// selfReportNewsSent records that a survivor's news was passed on.
func (s *Server) selfReportNewsSent(w http.ResponseWriter, r *request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	if err := s.app.SelfReports.MarkNewsSent(r.Context(), r.actor, r.PathValue("id"), r.PostFormValue("note")); err != nil {
		return err
	}
	http.Redirect(w, r.Request, "/app/victims/notifications?done=news#self-reports", http.StatusSeeOther)
	return nil
}

func (s *Server) notificationSent(w http.ResponseWriter, r *request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	if err := s.app.VictimID.MarkSent(r.Context(), r.actor, r.PathValue("id"), r.PostFormValue("note")); err != nil {
		return err
	}
	http.Redirect(w, r.Request, "/app/victims/notifications?done=sent", http.StatusSeeOther)
	return nil
}

func (s *Server) victimStatsPage(w http.ResponseWriter, r *request) error {
	st, err := s.app.VictimID.Stats(r.Context(), r.actor)
	if err != nil {
		return err
	}
	return s.render(w, http.StatusOK, "victimid_stats", s.newPage(r, "Victim identification statistics", st))
}

// Law-enforcement portal.

type leIdentificationData struct {
	Requests []*store.IDRequest
	Purposes []string
}

func (s *Server) leIdentificationForm(r *request) (*page, error) {
	reqs, err := s.app.VictimID.AgencyRequests(r.Context(), r.actor)
	if err != nil {
		return nil, err
	}
	return s.newPage(r, "Identification requests", &leIdentificationData{Requests: reqs, Purposes: victimid.Purposes}), nil
}

func (s *Server) leIdentificationPage(w http.ResponseWriter, r *request) error {
	p, err := s.leIdentificationForm(r)
	if err != nil {
		return err
	}
	return s.render(w, http.StatusOK, "le_identification", p)
}

// leIdentificationSubmit receives a request: case number, purpose,
// single hashes and a hash list with its format, as a url-encoded form
// (the list pasted) or a multipart form (fields csrf first, then a "list"
// file and any number of "files" of seized media, each hashed as it
// arrives and never kept).
func (s *Server) leIdentificationSubmit(w http.ResponseWriter, r *request) error {
	var sub victimid.Submission
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
		var list []byte
		fields, err := upload.Read(r.Header.Get("Content-Type"), r.Body, upload.Limits{MaxParts: 1100, MaxFiles: 1001, MaxFieldBytes: 8 << 20},
			func(fields map[string][]string, f *upload.File) error {
				if v := fields[csrfField]; len(v) == 0 || subtle.ConstantTimeCompare([]byte(v[0]), []byte(r.principal.Session.CSRFToken)) != 1 {
					return errCSRF
				}
				b, err := io.ReadAll(f)
				if err != nil {
					return err
				}
				if f.Field == "list" {
					list = b
				} else {
					sub.Hashed = append(sub.Hashed, victimid.HashFile(b))
				}
				return nil
			})
		if err != nil {
			return err
		}
		if v := fields[csrfField]; len(v) == 0 || subtle.ConstantTimeCompare([]byte(v[0]), []byte(r.principal.Session.CSRFToken)) != 1 {
			return errCSRF
		}
		r.PostForm = url.Values(fields)
		if len(list) == 0 {
			list = []byte(r.PostFormValue("list")) // pasted rather than attached
		}
		if len(bytes.TrimSpace(list)) > 0 {
			sub.List = bytes.NewReader(list)
		}
	} else if err := parseForm(r); err != nil {
		return err
	} else if list := r.PostFormValue("list"); strings.TrimSpace(list) != "" {
		sub.List = strings.NewReader(list)
	}
	sub.CaseNumber, sub.Purpose = r.PostFormValue("case_number"), r.PostFormValue("purpose")
	sub.Hashes, sub.ListFormat = r.PostFormValue("hashes"), r.PostFormValue("format")
	rep, err := s.app.VictimID.Request(r.Context(), r.actor, sub)
	if err != nil {
		if statusOf(err) >= 500 || haven.IsKind(err, haven.KindForbidden) {
			return err
		}
		p, perr := s.leIdentificationForm(r)
		if perr != nil {
			return perr
		}
		return s.formError(w, r, "le_identification", p, err)
	}
	http.Redirect(w, r.Request, "/le/identification/"+rep.Request.ID, http.StatusSeeOther)
	return nil
}

func (s *Server) leIdentificationReport(w http.ResponseWriter, r *request) error {
	rep, err := s.app.VictimID.GetReport(r.Context(), r.actor, r.PathValue("id"), victimid.FormatPage)
	if err != nil {
		return err
	}
	return s.render(w, http.StatusOK, "le_identification_report", s.newPage(r, "Identification report "+rep.Request.CaseNumber, rep))
}

func (s *Server) leIdentificationDownload(w http.ResponseWriter, r *request) error {
	format := victimid.FormatJSON
	if strings.HasSuffix(r.URL.Path, ".pdf") {
		format = victimid.FormatPDF
	}
	rep, err := s.app.VictimID.GetReport(r.Context(), r.actor, r.PathValue("id"), format)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	name := fmt.Sprintf("identification-%s", rep.Request.ID)
	if format == victimid.FormatPDF {
		if err := victimid.WritePDF(&b, rep); err != nil {
			return err
		}
		download(w, name+".pdf", "application/pdf")
	} else {
		if err := victimid.WriteJSON(&b, rep); err != nil {
			return err
		}
		download(w, name+".json", "application/json")
	}
	_, err = w.Write(b.Bytes())
	return err
}
