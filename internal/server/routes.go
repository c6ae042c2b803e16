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
	SurfaceISPWS                     // /ispws: HTTP Basic per ESP account, XML
	SurfacePublic                    // /report: anyone, no staff cookie, rate-limited
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
	// FormCSRF marks a multipart form whose handler checks the CSRF field
	// itself, before reading any file part (browsers cannot send the
	// header without script).
	FormCSRF bool
	Handler  func(http.ResponseWriter, *request) error
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
	case (rt.Surface == SurfaceStaff || rt.Surface == SurfaceLE || rt.Surface == SurfaceAPI || rt.Surface == SurfaceISPWS) && rt.Public:
		return fmt.Errorf("route %s %s: routes of an authenticated surface cannot be public", rt.Method, rt.Path)
	}
	return nil
}

// routeTable lists every route of Haven. Keep it the one place where a
// route is added, apart from the programs' own tables appended at the end
// (each in the file of its handlers).
func (s *Server) routeTable() []Route {
	rs := s.coreRoutes()
	for _, more := range [][]Route{s.triageRoutes(), s.identifierRoutes(), s.viewerRoutes(), s.referralRoutes(), s.victimIDRoutes(), s.labRoutes(), s.offenderRoutes(), s.caseRoutes(), s.supportRoutes(), s.selfReportRoutes(), s.statsRoutes()} {
		rs = append(rs, more...)
	}
	return rs
}

// staffRoute is a route of the staff interface.
func staffRoute(method, path string, perm haven.Permission, h func(http.ResponseWriter, *request) error) Route {
	return Route{Method: method, Path: path, Surface: SurfaceStaff, Perm: perm, Handler: h}
}

// leRoute is a route of the law-enforcement portal.
func leRoute(method, path string, perm haven.Permission, h func(http.ResponseWriter, *request) error) Route {
	return Route{Method: method, Path: path, Surface: SurfaceLE, Perm: perm, Handler: h}
}

func (s *Server) coreRoutes() []Route {
	const (
		get  = http.MethodGet
		post = http.MethodPost
		put  = http.MethodPut
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

		// Public report form (no account; rate-limited; English and Spanish).
		{Method: get, Path: "/report", Surface: SurfacePublic, Public: true, Handler: s.publicReportPage},
		{Method: post, Path: "/report", Surface: SurfacePublic, Public: true, Handler: s.publicReportSubmit},
		{Method: get, Path: "/report/followup", Surface: SurfacePublic, Public: true, Handler: s.publicFollowupPage},
		{Method: post, Path: "/report/followup", Surface: SurfacePublic, Public: true, Handler: s.publicFollowupSubmit},

		// Staff interface.
		staff(get, "/app", haven.PermStaffHome, s.home),
		staff(get, "/app/programs/{program}", haven.PermStaffHome, s.program),
		staff(get, "/app/reports", haven.PermReportRead, s.reportsPage),
		staff(get, "/app/reports/{id}", haven.PermReportRead, s.reportPage),
		staff(get, "/app/reports/{id}/cybertip.xml", haven.PermReportExport, s.reportExport),
		staff(get, "/app/banks", haven.PermReadBanks, s.banksPage),
		staff(post, "/app/banks", haven.PermManageBanks, s.banksCreate),
		staff(get, "/app/banks/{id}", haven.PermReadBanks, s.bankPage),
		staff(post, "/app/banks/{id}/entries", haven.PermManageBanks, s.bankAddEntry),
		staff(post, "/app/banks/{id}/{action}", haven.PermManageBanks, s.bankAction),
		{Method: post, Path: "/app/banks/{id}/import", Surface: SurfaceStaff, Perm: haven.PermManageBanks, FormCSRF: true,
			MaxBody: s.app.Config.MaxUploadBytes + 1<<20, Handler: s.bankImport},
		staff(get, "/app/imports/{id}", haven.PermReadBanks, s.importPage),
		staff(get, "/app/banks/{id}/export/{format}", haven.PermExportBanks, s.bankExport),
		staff(post, "/app/reports/{id}/files/{fileId}/matches/{entry}/confirm", haven.PermReportRead, s.matchConfirm),
		staff(get, "/app/hashes", haven.PermReadBanks, s.hashSearchPage),
		staff(get, "/app/phone", haven.PermPhoneIntake, s.phonePage),
		staff(post, "/app/phone", haven.PermPhoneIntake, s.phoneSubmit),
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

		// CyberTipline-compatible ESP API.
		{Method: get, Path: s.ispwsPrefix + "/status", Surface: SurfaceISPWS, Perm: haven.PermReportSubmit, Handler: s.ispwsStatus},
		{Method: get, Path: s.ispwsPrefix + "/xsd", Surface: SurfaceISPWS, Perm: haven.PermReportSubmit, Handler: s.ispwsXSD},
		{Method: post, Path: s.ispwsPrefix + "/submit", Surface: SurfaceISPWS, Perm: haven.PermReportSubmit, Handler: s.ispwsSubmit},
		{Method: post, Path: s.ispwsPrefix + "/upload", Surface: SurfaceISPWS, Perm: haven.PermReportSubmit,
			MaxBody: s.app.Config.MaxUploadBytes + 1<<20, Handler: s.ispwsUpload},
		{Method: post, Path: s.ispwsPrefix + "/fileinfo", Surface: SurfaceISPWS, Perm: haven.PermReportSubmit, Handler: s.ispwsFileinfo},
		{Method: post, Path: s.ispwsPrefix + "/finish", Surface: SurfaceISPWS, Perm: haven.PermReportSubmit, Handler: s.ispwsFinish},
		{Method: post, Path: s.ispwsPrefix + "/retract", Surface: SurfaceISPWS, Perm: haven.PermReportSubmit, Handler: s.ispwsRetract},
		{Method: get, Path: s.ispwsPrefix + "/{rest...}", Surface: SurfaceISPWS, Perm: haven.PermReportSubmit, Handler: s.ispwsUnknown},
		{Method: post, Path: s.ispwsPrefix + "/{rest...}", Surface: SurfaceISPWS, Perm: haven.PermReportSubmit, Handler: s.ispwsUnknown},

		// JSON API.
		{Method: get, Path: "/api/v1/whoami", Surface: SurfaceAPI, Perm: haven.PermAPIToken, Handler: s.apiWhoami},
		{Method: get, Path: "/api/v1/agencies/{id}", Surface: SurfaceAPI, Perm: haven.PermAPIToken, Handler: s.apiAgency},
		{Method: post, Path: "/api/v1/evidence", Surface: SurfaceAPI, Perm: haven.PermEvidenceWrite,
			MaxBody: s.app.Config.MaxUploadBytes + 1<<20, Handler: s.apiEvidence},
		{Method: post, Path: "/api/v1/reports", Surface: SurfaceAPI, Perm: haven.PermReportSubmit, Handler: s.apiReportCreate},
		{Method: get, Path: "/api/v1/reports/{id}", Surface: SurfaceAPI, Perm: haven.PermReportSubmit, Handler: s.apiReportGet},
		{Method: post, Path: "/api/v1/reports/{id}/files", Surface: SurfaceAPI, Perm: haven.PermReportSubmit,
			MaxBody: s.app.Config.MaxUploadBytes + 1<<20, Handler: s.apiReportFile},
		{Method: put, Path: "/api/v1/reports/{id}/files/{fileId}", Surface: SurfaceAPI, Perm: haven.PermReportSubmit, Handler: s.apiReportFileDetails},
		{Method: post, Path: "/api/v1/reports/{id}/finish", Surface: SurfaceAPI, Perm: haven.PermReportSubmit, Handler: s.apiReportFinish},
		{Method: post, Path: "/api/v1/reports/{id}/retract", Surface: SurfaceAPI, Perm: haven.PermReportSubmit, Handler: s.apiReportRetract},
		{Method: post, Path: "/api/v1/match", Surface: SurfaceAPI, Perm: haven.PermMatchAPI, MaxBody: maxMatchFile + 1<<20, Handler: s.apiMatch},
		{Method: get, Path: "/api/v1/openapi.json", Surface: SurfaceOps, Public: true, Handler: s.openAPI},
	}
}
