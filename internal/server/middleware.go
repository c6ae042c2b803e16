package server

import (
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/account"
	"github.com/haven-hotline/haven/internal/audit"
	"github.com/haven-hotline/haven/internal/store"
)

// SessionCookie is the name of the session cookie. The __Host- prefix makes
// browsers refuse it unless it is Secure, has Path=/ and no Domain.
const SessionCookie = "__Host-haven_session"

// csrfField is the name of the hidden form field carrying the CSRF token.
const csrfField = "csrf"

func setSessionCookie(w http.ResponseWriter, token string) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: token, Path: "/", Secure: true, HttpOnly: true,
		SameSite: http.SameSiteStrictMode})
}

func clearSessionCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", Secure: true, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, MaxAge: -1})
}

func sessionToken(r *http.Request) string {
	c, err := r.Cookie(SessionCookie)
	if err != nil {
		return ""
	}
	return c.Value
}

var errCSRF = &haven.Error{Kind: haven.KindForbidden, Message: "This form has expired or came from another site. Go back, reload the page and try again."}

// authenticate establishes who is asking, according to the route's
// surface. It may answer the request itself (a redirect).
func (s *Server) authenticate(w *statusWriter, r *request) error {
	rt := r.route
	unsafe := r.Method != http.MethodGet && r.Method != http.MethodHead && r.Method != http.MethodOptions
	switch rt.Surface {
	case SurfaceOps, SurfaceStatic:
		return nil
	case SurfaceISPWS:
		return s.ispwsAuthenticate(r)
	case SurfacePublic:
		// Anyone may use the public form; staff cookies are ignored here.
		if unsafe {
			if err := s.cop.Check(r.Request); err != nil {
				return errCSRF
			}
		}
		return nil
	case SurfaceAPI:
		h := r.Header.Get("Authorization")
		token, ok := strings.CutPrefix(h, "Bearer ")
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="Haven API"`)
			return &haven.Error{Kind: haven.KindUnauthenticated, Message: "a bearer token is required (Authorization: Bearer hvn_…)"}
		}
		a, err := s.app.Accounts.AuthenticateBearer(r.Context(), r.client, strings.TrimSpace(token))
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="Haven API", error="invalid_token"`)
			return err
		}
		r.actor = a
		return nil
	}
	// Cookie surfaces: reject cross-site unsafe requests first.
	if unsafe {
		if err := s.cop.Check(r.Request); err != nil {
			return errCSRF
		}
	}
	if rt.Public {
		if unsafe && r.URL.Path == "/login" {
			return nil
		}
		// Public pages still know a signed-in user, to offer a way back.
		if tok := sessionToken(r.Request); tok != "" {
			if p, err := s.app.Accounts.Authenticate(r.Context(), tok); err == nil {
				r.principal = p
				r.actor = p.Actor(r.client)
			}
		}
		return nil
	}
	p, err := s.app.Accounts.Authenticate(r.Context(), sessionToken(r.Request))
	if err != nil {
		if haven.IsKind(err, haven.KindUnauthenticated) {
			clearSessionCookie(w)
			if !unsafe {
				http.Redirect(w, r.Request, "/login", http.StatusSeeOther)
				return nil
			}
		}
		return err
	}
	r.principal = p
	r.actor = p.Actor(r.client)
	if p.MFAPending && !rt.Pending {
		if !unsafe {
			http.Redirect(w, r.Request, "/login/mfa", http.StatusSeeOther)
			return nil
		}
		return account.ErrSessionEnded
	}
	if unsafe {
		// NOTE: multipart bodies are never parsed here (ParseMultipartForm
		// spills to disk in clear): their token travels in a header.
		var got string
		if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
			if rt.FormCSRF && r.Header.Get("X-CSRF-Token") == "" {
				return nil // the handler checks the form's csrf field before any file
			}
			got = r.Header.Get("X-CSRF-Token")
		} else {
			if err := parseForm(r); err != nil {
				return err
			}
			got = r.Request.PostFormValue(csrfField)
		}
		if subtle.ConstantTimeCompare([]byte(got), []byte(p.Session.CSRFToken)) != 1 || got == "" {
			return errCSRF
		}
	}
	return nil
}

// authorize checks the route's permission for the actor, recording a
// denial in the audit log.
func (s *Server) authorize(r *request) error {
	rt := r.route
	if rt.Public || (rt.Pending && rt.Perm == "") {
		return nil
	}
	if r.actor.Can(rt.Perm) {
		return nil
	}
	ctx := r.Context()
	err := s.app.Store.InTx(ctx, func(tx *store.Tx) error {
		return s.app.Audit.Record(ctx, tx, r.actor, audit.Entry{Type: "access.denied", ObjectType: "route",
			ObjectID: rt.Method + " " + rt.Path, Outcome: haven.OutcomeDenied})
	})
	if err != nil {
		return err
	}
	return &haven.Error{Kind: haven.KindForbidden, Message: "Your role does not give access to this page."}
}
