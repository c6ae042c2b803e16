package server

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/account"
	"github.com/haven-hotline/haven/internal/audit"
	"github.com/haven-hotline/haven/internal/store"
)

type usersData struct {
	Users    []*haven.User
	Agencies []*haven.Agency
	Roles    []haven.Role
	Link     string // a new enrolment link, shown once
	Created  *haven.User
}

func (s *Server) usersData(r *request) (*usersData, error) {
	users, err := s.app.Accounts.Users(r.Context(), r.actor, store.UserFilter{})
	if err != nil {
		return nil, err
	}
	ags, err := s.app.Accounts.Agencies(r.Context(), r.actor)
	if err != nil {
		return nil, err
	}
	roles := make([]haven.Role, 0, len(haven.Roles))
	for _, ro := range haven.Roles {
		if ro != haven.RoleESP {
			roles = append(roles, ro)
		}
	}
	var people []*haven.User
	for _, u := range users {
		if u.Role != haven.RoleESP {
			people = append(people, u)
		}
	}
	return &usersData{Users: people, Agencies: ags, Roles: roles}, nil
}

func (s *Server) usersPage(w http.ResponseWriter, r *request) error {
	d, err := s.usersData(r)
	if err != nil {
		return err
	}
	return s.render(w, http.StatusOK, "users", s.newPage(r, "Accounts", d))
}

func (s *Server) usersCreate(w http.ResponseWriter, r *request) error {
	d, err := s.usersData(r)
	if err != nil {
		return err
	}
	p := s.newPage(r, "Accounts", d)
	f := r.PostForm
	agency := ""
	if haven.Role(f.Get("role")) == haven.RoleLE {
		agency = f.Get("agency")
	}
	u, link, err := s.app.Accounts.CreateUser(r.Context(), r.actor, account.NewUser{Login: f.Get("email"),
		DisplayName: f.Get("name"), Role: haven.Role(f.Get("role")), AgencyID: agency})
	if err != nil {
		return s.formError(w, r, "users", p, err)
	}
	if d, err = s.usersData(r); err != nil {
		return err
	}
	d.Link, d.Created = link, u
	p.Data = d
	p.Notice = "The account was created. Give the person the one-time link below through a channel you trust; it works once, for 72 hours."
	return s.render(w, http.StatusCreated, "users", p)
}

type userData struct {
	User     *haven.User
	Agency   *haven.Agency
	Agencies []*haven.Agency
	Roles    []haven.Role
	Events   []*haven.AuditEvent
	Link     string
	Self     bool
}

func (s *Server) userData(r *request, id string) (*userData, error) {
	u, err := s.app.Accounts.User(r.Context(), r.actor, id)
	if err != nil {
		return nil, err
	}
	d := &userData{User: u, Self: u.ID == r.actor.UserID}
	if d.Agencies, err = s.app.Accounts.Agencies(r.Context(), r.actor); err != nil {
		return nil, err
	}
	for _, ag := range d.Agencies {
		if ag.ID == u.AgencyID {
			d.Agency = ag
		}
	}
	for _, ro := range haven.Roles {
		if ro != haven.RoleESP {
			d.Roles = append(d.Roles, ro)
		}
	}
	if r.actor.Can(haven.PermReadAudit) {
		err = s.app.Store.View(r.Context(), func(tx *store.Tx) (err error) {
			d.Events, err = tx.RecentAuditEvents(r.Context(), store.AuditFilter{ObjectType: "user", ObjectID: u.ID, Limit: 20})
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	return d, nil
}

func (s *Server) userPage(w http.ResponseWriter, r *request) error {
	d, err := s.userData(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	return s.render(w, http.StatusOK, "user", s.newPage(r, d.User.Login, d))
}

var userActionNotices = map[string]string{
	"disable":   "The account is disabled. Its sessions and API tokens ended immediately.",
	"enable":    "The account is enabled again.",
	"unlock":    "The account is unlocked. The user can sign in again.",
	"reset-mfa": "The second factor was removed. At the next sign-in the user sets up a new one.",
	"role":      "The role was changed. The user's sessions ended, so the new role applies at the next sign-in.",
	"link":      "A new one-time link was made; earlier links no longer work. Give it to the user through a channel you trust.",
}

func (s *Server) userAction(w http.ResponseWriter, r *request) error {
	id, action := r.PathValue("id"), r.PathValue("action")
	ctx := r.Context()
	var err error
	var link string
	switch action {
	case "disable":
		err = s.app.Accounts.SetDisabled(ctx, r.actor, id, true)
	case "enable":
		err = s.app.Accounts.SetDisabled(ctx, r.actor, id, false)
	case "unlock":
		err = s.app.Accounts.Unlock(ctx, r.actor, id)
	case "reset-mfa":
		err = s.app.Accounts.ResetMFA(ctx, r.actor, id)
	case "role":
		role := haven.Role(r.PostFormValue("role"))
		agency := ""
		if role == haven.RoleLE {
			agency = r.PostFormValue("agency")
		}
		err = s.app.Accounts.SetRole(ctx, r.actor, id, role, agency)
	case "link":
		link, err = s.app.Accounts.NewEnrolmentLink(ctx, r.actor, id)
	default:
		return haven.ErrNotFound
	}
	if haven.IsKind(err, haven.KindReauth) {
		http.Redirect(w, r.Request, "/app/reauth?next="+url.QueryEscape("/app/admin/users/"+id), http.StatusSeeOther)
		return nil
	}
	d, derr := s.userData(r, id)
	if derr != nil {
		return derr
	}
	p := s.newPage(r, d.User.Login, d)
	if err != nil {
		return s.formError(w, r, "user", p, err)
	}
	d.Link = link
	p.Notice = userActionNotices[action]
	return s.render(w, http.StatusOK, "user", p)
}

func (s *Server) agenciesPage(w http.ResponseWriter, r *request) error {
	ags, err := s.app.Accounts.Agencies(r.Context(), r.actor)
	if err != nil {
		return err
	}
	return s.render(w, http.StatusOK, "agencies", s.newPage(r, "Agencies", map[string]any{"Agencies": ags, "Kinds": haven.AgencyKinds}))
}

func (s *Server) agenciesCreate(w http.ResponseWriter, r *request) error {
	_, err := s.app.Accounts.CreateAgency(r.Context(), r.actor, haven.Agency{Name: r.PostFormValue("name"),
		Kind: haven.AgencyKind(r.PostFormValue("kind")), Jurisdiction: strings.TrimSpace(r.PostFormValue("jurisdiction"))})
	ags, lerr := s.app.Accounts.Agencies(r.Context(), r.actor)
	if lerr != nil {
		return lerr
	}
	p := s.newPage(r, "Agencies", map[string]any{"Agencies": ags, "Kinds": haven.AgencyKinds})
	if err != nil {
		return s.formError(w, r, "agencies", p, err)
	}
	p.Notice = "The agency was added."
	return s.render(w, http.StatusCreated, "agencies", p)
}

type espsData struct {
	ESPs  []*haven.User
	Creds *account.ESPCredentials
}

func (s *Server) espsData(r *request) (*espsData, error) {
	users, err := s.app.Accounts.Users(r.Context(), r.actor, store.UserFilter{Role: haven.RoleESP})
	if err != nil {
		return nil, err
	}
	return &espsData{ESPs: users}, nil
}

func (s *Server) espsPage(w http.ResponseWriter, r *request) error {
	d, err := s.espsData(r)
	if err != nil {
		return err
	}
	return s.render(w, http.StatusOK, "esps", s.newPage(r, "Online services (ESPs)", d))
}

func (s *Server) espsCreate(w http.ResponseWriter, r *request) error {
	creds, err := s.app.Accounts.CreateESP(r.Context(), r.actor, r.PostFormValue("name"))
	d, derr := s.espsData(r)
	if derr != nil {
		return derr
	}
	p := s.newPage(r, "Online services (ESPs)", d)
	if err != nil {
		return s.formError(w, r, "esps", p, err)
	}
	d.Creds = creds
	p.Notice = "The ESP account was created. Copy the password now: it is shown only once."
	return s.render(w, http.StatusCreated, "esps", p)
}

func (s *Server) espsRotate(w http.ResponseWriter, r *request) error {
	creds, err := s.app.Accounts.RotateESP(r.Context(), r.actor, r.PathValue("id"))
	if haven.IsKind(err, haven.KindReauth) {
		http.Redirect(w, r.Request, "/app/reauth?next=/app/admin/esps", http.StatusSeeOther)
		return nil
	}
	d, derr := s.espsData(r)
	if derr != nil {
		return derr
	}
	p := s.newPage(r, "Online services (ESPs)", d)
	if err != nil {
		return s.formError(w, r, "esps", p, err)
	}
	d.Creds = creds
	p.Notice = "A new password was issued; the old one stopped working. Copy it now: it is shown only once."
	return s.render(w, http.StatusOK, "esps", p)
}

type auditData struct {
	Events []*haven.AuditEvent
	Filter store.AuditFilter
	Result *audit.Result
	Next   string
}

func (s *Server) auditData(r *request) (*auditData, error) {
	q := r.URL.Query()
	f := store.AuditFilter{Type: strings.TrimSpace(q.Get("type")), ActorID: strings.TrimSpace(q.Get("actor")),
		ObjectType: strings.TrimSpace(q.Get("object_type")), ObjectID: strings.TrimSpace(q.Get("object_id")), Limit: 100}
	if b := q.Get("before"); b != "" {
		if !haven.ValidID(b) {
			return nil, haven.Invalidf("before", "before must be an event ID")
		}
		f.BeforeID = b
	}
	d := &auditData{Filter: f}
	ctx := r.Context()
	err := s.app.Store.InTx(ctx, func(tx *store.Tx) (err error) {
		if d.Events, err = tx.RecentAuditEvents(ctx, f); err != nil {
			return err
		}
		// Reading the audit log is itself audited (SECURITY.md 12).
		return s.app.Audit.Record(ctx, tx, r.actor, audit.Entry{Type: "audit.read", ObjectType: "audit",
			Details: map[string]string{"type": f.Type, "object_type": f.ObjectType, "count": itoa(len(d.Events))}})
	})
	if err != nil {
		return nil, err
	}
	if len(d.Events) == f.Limit {
		d.Next = d.Events[len(d.Events)-1].ID
	}
	return d, nil
}

func (s *Server) auditPage(w http.ResponseWriter, r *request) error {
	d, err := s.auditData(r)
	if err != nil {
		return err
	}
	return s.render(w, http.StatusOK, "audit", s.newPage(r, "Audit log", d))
}

func (s *Server) auditVerify(w http.ResponseWriter, r *request) error {
	res, err := s.app.Audit.Verify(r.Context(), s.app.Store)
	if err != nil {
		return err
	}
	ctx := r.Context()
	outcome := haven.OutcomeSuccess
	details := map[string]string{"events": itoa(int(res.Events))}
	if res.Problem != nil {
		outcome = haven.OutcomeFailure
		details["first_bad"] = itoa(int(res.Problem.Seq))
	}
	err = s.app.Store.InTx(ctx, func(tx *store.Tx) error {
		return s.app.Audit.Record(ctx, tx, r.actor, audit.Entry{Type: "audit.verify", ObjectType: "audit", Outcome: outcome, Details: details})
	})
	if err != nil {
		return err
	}
	d, err := s.auditData(r)
	if err != nil {
		return err
	}
	d.Result = &res
	return s.render(w, http.StatusOK, "audit", s.newPage(r, "Audit log", d))
}
