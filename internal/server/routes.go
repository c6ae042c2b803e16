package server

import (
	"fmt"
	"net/http"

	"github.com/haven-hotline/haven"
)

// Surface names the HTTP surface a route belongs to; each has its own
// authentication and error format.
type Surface int

// The surfaces.
const (
	SurfaceOps    Surface = iota + 1 // health, readiness, metrics: JSON, no session
	SurfaceStatic                    // embedded assets
	SurfaceLogin                     // sign-in, second factor, enrolment: HTML, before a full session
	SurfaceStaff                     // /app: session with both factors, CSRF
	SurfaceLE                        // /le: session with both factors, CSRF, agency-scoped
	SurfaceAPI                       // /api/v1: bearer token, JSON
)

// Route is one entry of the route table.
type Route struct {
	Method  string // GET, POST…
	Path    string // net/http pattern path
	Surface Surface
	// Perm is the permission the route needs. Every route needs one unless
	// it is Public; a route with neither fails the start and the tests.
	Perm   haven.Permission
	Public bool
	// Pending lets a session that has passed the password but not yet the
	// second factor reach the route (the second-factor pages only).
	Pending bool
	// MaxBody overrides the request body limit.
	MaxBody int64
	Handler func(http.ResponseWriter, *request) error
}

func (rt Route) check() error {
	switch {
	case rt.Method == "" || rt.Path == "" || rt.Handler == nil:
		return fmt.Errorf("route %s %s: method, path and handler are required", rt.Method, rt.Path)
	case rt.Surface == 0:
		return fmt.Errorf("route %s %s: no surface", rt.Method, rt.Path)
	case rt.Public && rt.Perm != "":
		return fmt.Errorf("route %s %s: public routes take no permission", rt.Method, rt.Path)
	case !rt.Public && rt.Perm == "" && !rt.Pending:
		return fmt.Errorf("route %s %s: no permission rule: every route must declare the permission it needs or be public", rt.Method, rt.Path)
	case (rt.Surface == SurfaceStaff || rt.Surface == SurfaceLE || rt.Surface == SurfaceAPI) && rt.Public:
		return fmt.Errorf("route %s %s: routes of an authenticated surface cannot be public", rt.Method, rt.Path)
	}
	return nil
}

// routeTable lists every route of Haven. Keep it the one place where a
// route is added.
func (s *Server) routeTable() []Route {
	const (
		get  = http.MethodGet
		post = http.MethodPost
	)
	staff := func(method, path string, perm haven.Permission, h func(http.ResponseWriter, *request) error) Route {
		return Route{Method: method, Path: path, Surface: SurfaceStaff, Perm: perm, Handler: h}
	}
	return []Route{
		// Operations.
		{Method: get, Path: "/healthz", Surface: SurfaceOps, Public: true, Handler: s.healthz},
		{Method: get, Path: "/readyz", Surface: SurfaceOps, Public: true, Handler: s.readyz},
		{Method: get, Path: "/metrics", Surface: SurfaceOps, Public: true, Handler: s.metricsHandler},
		{Method: get, Path: "/static/{name}", Surface: SurfaceStatic, Public: true, Handler: s.static},
		{Method: get, Path: "/{$}", Surface: SurfaceLogin, Public: true, Handler: s.root},

		// Sign-in.
		{Method: get, Path: "/login", Surface: SurfaceLogin, Public: true, Handler: s.loginPage},
		{Method: post, Path: "/login", Surface: SurfaceLogin, Public: true, Handler: s.loginSubmit},
		{Method: get, Path: "/login/mfa", Surface: SurfaceLogin, Pending: true, Handler: s.mfaPage},
		{Method: post, Path: "/login/mfa", Surface: SurfaceLogin, Pending: true, Handler: s.mfaSubmit},
		{Method: get, Path: "/enrol/{token}", Surface: SurfaceLogin, Public: true, Handler: s.enrolPage},
		{Method: post, Path: "/enrol/{token}", Surface: SurfaceLogin, Public: true, Handler: s.enrolSubmit},
		{Method: post, Path: "/logout", Surface: SurfaceLogin, Pending: true, Handler: s.logout},

		// Staff interface.
		staff(get, "/app", haven.PermStaffHome, s.home),
		staff(get, "/app/programs/{program}", haven.PermStaffHome, s.program),
		staff(get, "/app/account", haven.PermOwnAccount, s.accountPage),
		staff(post, "/app/account/password", haven.PermOwnAccount, s.accountPassword),
		staff(get, "/app/reauth", haven.PermOwnAccount, s.reauthPage),
		staff(post, "/app/reauth", haven.PermOwnAccount, s.reauthSubmit),
		staff(get, "/app/admin/users", haven.PermManageUsers, s.usersPage),
		staff(post, "/app/admin/users", haven.PermManageUsers, s.usersCreate),
		staff(get, "/app/admin/users/{id}", haven.PermManageUsers, s.userPage),
		staff(post, "/app/admin/users/{id}/{action}", haven.PermManageUsers, s.userAction),
		staff(get, "/app/admin/agencies", haven.PermViewAgencies, s.agenciesPage),
		staff(post, "/app/admin/agencies", haven.PermManageAgencies, s.agenciesCreate),
		staff(get, "/app/admin/esps", haven.PermManageESPs, s.espsPage),
		staff(post, "/app/admin/esps", haven.PermManageESPs, s.espsCreate),
		staff(post, "/app/admin/esps/{id}/rotate", haven.PermManageESPs, s.espsRotate),
		staff(get, "/app/audit", haven.PermReadAudit, s.auditPage),
		staff(post, "/app/audit/verify", haven.PermVerifyAudit, s.auditVerify),

		// Law-enforcement portal.
		{Method: get, Path: "/le", Surface: SurfaceLE, Perm: haven.PermLEPortal, Handler: s.leHome},
		{Method: get, Path: "/le/agencies/{id}", Surface: SurfaceLE, Perm: haven.PermLEPortal, Handler: s.leAgency},
		{Method: get, Path: "/le/account", Surface: SurfaceLE, Perm: haven.PermOwnAccount, Handler: s.accountPage},
		{Method: post, Path: "/le/account/password", Surface: SurfaceLE, Perm: haven.PermOwnAccount, Handler: s.accountPassword},

		// JSON API.
		{Method: get, Path: "/api/v1/whoami", Surface: SurfaceAPI, Perm: haven.PermAPIToken, Handler: s.apiWhoami},
		{Method: get, Path: "/api/v1/agencies/{id}", Surface: SurfaceAPI, Perm: haven.PermAPIToken, Handler: s.apiAgency},
		{Method: post, Path: "/api/v1/evidence", Surface: SurfaceAPI, Perm: haven.PermEvidenceWrite,
			MaxBody: s.app.Config.MaxUploadBytes + 1<<20, Handler: s.apiEvidence},
	}
}
