package server

import (
	"net/http"

	"github.com/haven-hotline/haven"
)

// noticeText is the system-use notice of SECURITY.md 10.
const noticeText = "This is a restricted system of a child-protection clearinghouse. Use is monitored and recorded. " +
	"Unauthorised use is prohibited and may be punished under criminal and civil law. By signing in you consent " +
	"to this monitoring and recording."

func (s *Server) loginPage(w http.ResponseWriter, r *request) error {
	if r.principal != nil && !r.principal.MFAPending {
		return s.root(w, r)
	}
	p := s.newPage(r, "Sign in", map[string]string{"Notice": noticeText})
	p.Principal = nil
	return s.render(w, http.StatusOK, "login", p)
}

func (s *Server) loginSubmit(w http.ResponseWriter, r *request) error {
	p := s.newPage(r, "Sign in", map[string]string{"Notice": noticeText})
	p.Principal, p.Nav = nil, nil
	if err := parseForm(r); err != nil {
		return err
	}
	token, err := s.app.Accounts.Login(r.Context(), r.client, r.PostForm.Get("email"), r.PostForm.Get("password"),
		r.PostForm.Get("notice") == "on")
	if err != nil {
		r.PostForm.Del("password")
		return s.formError(w, r, "login", p, err)
	}
	// A new session replaces whatever the browser held (rotation at login).
	if old := sessionToken(r.Request); old != "" {
		if prev, err := s.app.Accounts.Authenticate(r.Context(), old); err == nil {
			_ = s.app.Accounts.Logout(r.Context(), r.client, prev)
		}
	}
	setSessionCookie(w, token)
	http.Redirect(w, r.Request, "/login/mfa", http.StatusSeeOther)
	return nil
}

// mfaPage asks for the code, or, for an account without a second factor
// yet, shows the set-up (QR code and secret).
func (s *Server) mfaPage(w http.ResponseWriter, r *request) error {
	p := s.newPage(r, "Second factor", nil)
	p.Nav = nil
	if r.principal.User.TOTPEnabled {
		return s.render(w, http.StatusOK, "mfa", p)
	}
	enr, err := s.app.Accounts.BeginTOTP(r.Context(), r.client, r.principal)
	if err != nil {
		return err
	}
	p.Title = "Set up your second factor"
	p.Data = enr
	return s.render(w, http.StatusOK, "mfa_setup", p)
}

func (s *Server) mfaSubmit(w http.ResponseWriter, r *request) error {
	err := s.app.Accounts.VerifyTOTP(r.Context(), r.client, r.principal, r.PostFormValue("code"))
	if err != nil {
		if haven.IsKind(err, haven.KindUnauthenticated) || haven.IsKind(err, haven.KindConflict) {
			// Re-read the account: the failure may have locked it.
			if _, aerr := s.app.Accounts.Authenticate(r.Context(), sessionToken(r.Request)); aerr != nil {
				clearSessionCookie(w)
				p := s.newPage(r, "Sign in", map[string]string{"Notice": noticeText})
				p.Principal, p.Nav, p.CSRF = nil, nil, ""
				p.Error = safeMessage(err)
				return s.render(w, http.StatusUnauthorized, "login", p)
			}
			p := s.newPage(r, "Second factor", nil)
			p.Nav = nil
			p.Error = safeMessage(err)
			name := "mfa"
			if !r.principal.User.TOTPEnabled {
				enr, berr := s.app.Accounts.BeginTOTP(r.Context(), r.client, r.principal)
				if berr != nil {
					return berr
				}
				p.Data, name = enr, "mfa_setup"
				p.Error += " A new secret is shown below: remove the old entry from your app and scan this one."
			}
			return s.render(w, http.StatusUnauthorized, name, p)
		}
		return err
	}
	if r.principal.User.Role == haven.RoleLE {
		http.Redirect(w, r.Request, "/le", http.StatusSeeOther)
	} else {
		http.Redirect(w, r.Request, "/app", http.StatusSeeOther)
	}
	return nil
}

func (s *Server) logout(w http.ResponseWriter, r *request) error {
	if err := s.app.Accounts.Logout(r.Context(), r.client, r.principal); err != nil {
		return err
	}
	clearSessionCookie(w)
	p := s.newPage(r, "Signed out", map[string]string{"Notice": noticeText})
	p.Principal, p.Nav, p.CSRF = nil, nil, ""
	p.Notice = "You are signed out. Your session has ended on the server."
	return s.render(w, http.StatusOK, "login", p)
}

type enrolData struct {
	Token       string
	Login       string
	DisplayName string
	FirstAdmin  bool
}

func (s *Server) enrolPage(w http.ResponseWriter, r *request) error {
	token := r.PathValue("token")
	u, err := s.app.Accounts.EnrolmentUser(r.Context(), token)
	if err != nil {
		return err
	}
	p := s.newPage(r, "Set your password", enrolData{Token: token, Login: u.Login, DisplayName: u.DisplayName,
		FirstAdmin: isPlaceholder(u.Login)})
	p.Principal, p.Nav = nil, nil
	return s.render(w, http.StatusOK, "enrol", p)
}

func (s *Server) enrolSubmit(w http.ResponseWriter, r *request) error {
	token := r.PathValue("token")
	u, err := s.app.Accounts.EnrolmentUser(r.Context(), token)
	if err != nil {
		return err
	}
	p := s.newPage(r, "Set your password", enrolData{Token: token, Login: u.Login, DisplayName: u.DisplayName,
		FirstAdmin: isPlaceholder(u.Login)})
	p.Principal, p.Nav = nil, nil
	if err := parseForm(r); err != nil {
		return err
	}
	pw := r.PostForm.Get("password")
	if pw != r.PostForm.Get("confirm") {
		r.PostForm.Del("password")
		r.PostForm.Del("confirm")
		return s.formError(w, r, "enrol", p, haven.Invalidf("confirm", "the two passwords are not the same"))
	}
	session, err := s.app.Accounts.CompleteEnrolment(r.Context(), r.client, token, pw, r.PostForm.Get("email"), r.PostForm.Get("name"))
	if err != nil {
		r.PostForm.Del("password")
		r.PostForm.Del("confirm")
		return s.formError(w, r, "enrol", p, err)
	}
	setSessionCookie(w, session)
	http.Redirect(w, r.Request, "/login/mfa", http.StatusSeeOther)
	return nil
}
