package server

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"math"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/account"
	"github.com/haven-hotline/haven/internal/store"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// asset is an embedded static file served under a content-hashed name.
type asset struct {
	name, hashed, contentType string
	body                      []byte
}

type pages struct {
	tmpl   map[string]*template.Template
	assets map[string]*asset // by hashed name
	byName map[string]*asset // by plain name
}

func parsePages() (*pages, error) {
	p := &pages{tmpl: map[string]*template.Template{}, assets: map[string]*asset{}, byName: map[string]*asset{}}
	err := fs.WalkDir(staticFiles, "static", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := staticFiles.ReadFile(name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		base := path.Base(name)
		ext := path.Ext(base)
		a := &asset{name: base, hashed: strings.TrimSuffix(base, ext) + "." + hex.EncodeToString(sum[:6]) + ext, body: b}
		switch ext {
		case ".css":
			a.contentType = "text/css; charset=utf-8"
		case ".js":
			a.contentType = "text/javascript; charset=utf-8"
		case ".svg":
			a.contentType = "image/svg+xml"
		case ".png":
			a.contentType = "image/png"
		case ".wasm":
			a.contentType = "application/wasm"
		default:
			a.contentType = "application/octet-stream"
		}
		p.assets[a.hashed], p.byName[base] = a, a
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load static files: %w", err)
	}
	funcs := template.FuncMap{
		"asset": func(name string) (string, error) {
			a, ok := p.byName[name]
			if !ok {
				return "", fmt.Errorf("no static file %q", name)
			}
			return "/static/" + a.hashed, nil
		},
		"percent":   func(share float64) string { return strconv.Itoa(int(math.Round(share*100))) + "%" },
		"countdown": countdown,
		"count": func(n int) string {
			if n > store.QueueCountCap {
				return fmt.Sprintf("%d,%03d+", store.QueueCountCap/1000, store.QueueCountCap%1000)
			}
			return strconv.Itoa(n)
		},
		"priorityClass": func(p string) string {
			switch p {
			case "P1":
				return "bad"
			case "P2":
				return "warn"
			case "INFO":
				return ""
			}
			return "ok"
		},
		"when": func(t time.Time) string {
			if t.IsZero() {
				return "—"
			}
			return t.UTC().Format("2006-01-02 15:04 UTC")
		},
		"roleLabel": func(r haven.Role) string { return r.Label() },
		"dataPNG": func(b []byte) template.URL {
			return template.URL("data:image/png;base64," + b64(b))
		},
		"hasPrefix": strings.HasPrefix,
		"list":      func(v ...string) []string { return v },
		"deref":     func(b *bool) bool { return b != nil && *b },
	}
	layout, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFiles, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("parse layout: %w", err)
	}
	// Files named _*.html hold partials ({{define "…"}} blocks) that every
	// page may use, such as the panels of the report page.
	if partials, _ := fs.Glob(templateFiles, "templates/_*.html"); len(partials) > 0 {
		if layout, err = layout.ParseFS(templateFiles, partials...); err != nil {
			return nil, fmt.Errorf("parse partials: %w", err)
		}
	}
	names, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		base := path.Base(name)
		if base == "layout.html" || strings.HasPrefix(base, "_") {
			continue
		}
		t, err := template.Must(layout.Clone()).ParseFS(templateFiles, name)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", base, err)
		}
		p.tmpl[strings.TrimSuffix(base, ".html")] = t
	}
	return p, nil
}

// navItem is one entry of the staff navigation.
type navItem struct {
	Href, Label string
	Active      bool
}

// page is what every template receives.
type page struct {
	Title     string
	Principal *account.Principal
	CSRF      string
	Nav       []navItem
	Notice    string            // a confirmation shown at the top
	Error     string            // a problem shown at the top
	Fields    map[string]string // problems by form field
	Form      url.Values        // the submitted values, to refill a form
	Data      any
	RequestID string
	LE        bool
}

// Field returns the submitted value of a form field.
func (p *page) Field(name string) string {
	if p.Form == nil {
		return ""
	}
	return p.Form.Get(name)
}

func (s *Server) newPage(r *request, title string, data any) *page {
	p := &page{Title: title, Principal: r.principal, Data: data, RequestID: r.id, Fields: map[string]string{}}
	if r.principal != nil && !r.principal.MFAPending {
		p.CSRF = r.principal.Session.CSRFToken
		p.LE = r.principal.User.Role == haven.RoleLE
		p.Nav = navFor(r.actor, r.URL.Path)
	} else if r.principal != nil {
		p.CSRF = r.principal.Session.CSRFToken
	}
	return p
}

func navFor(a haven.Actor, current string) []navItem {
	var items []navItem
	add := func(href, label string, ok bool) {
		if ok {
			active := current == href || (href != "/app" && href != "/le" && strings.HasPrefix(current, href))
			items = append(items, navItem{Href: href, Label: label, Active: active})
		}
	}
	add("/app", "Home", a.Can(haven.PermStaffHome))
	add("/app/queue", "Queue", a.Can(haven.PermReportRead))
	add("/app/reports", "Reports", a.Can(haven.PermReportRead))
	add("/app/identifiers", "Identifiers", a.Can(haven.PermIdentifiers))
	add("/app/phone", "Phone intake", a.Can(haven.PermPhoneIntake))
	add("/app/banks", "Hash banks", a.Can(haven.PermReadBanks))
	add("/app/victims", "Victim ID", a.Can(haven.PermSeriesRead))
	add("/app/workboard", "Workboard", a.Can(haven.PermSeriesRead))
	add("/app/victims/notifications", "Victim notifications", a.Can(haven.PermNotifications) && !a.Can(haven.PermSeriesRead))
	add("/app/victims/stats", "Victim-ID statistics", a.Can(haven.PermVictimIDStats) && !a.Can(haven.PermSeriesRead))
	add("/app/offenders", "Offenders", a.Can(haven.PermOffenderRead))
	add("/app/cases", "Cases", a.Can(haven.PermCaseRead))
	add("/app/hopebags", "Hope Bags", a.Can(haven.PermHopeBags) && !a.Can(haven.PermCaseRead))
	add("/app/support", "Family support", a.Can(haven.PermSupport))
	add("/app/providers", "Providers", a.Can(haven.PermProvidersRead) && !a.Can(haven.PermSupport))
	for _, pr := range programs {
		if pr.Slug == "reports" || pr.Slug == "referrals" || (pr.Slug == "hashes" && a.Can(haven.PermReadBanks)) ||
			(pr.Slug == "victims" && a.Can(haven.PermSeriesRead)) || (pr.Slug == "offenders" && a.Can(haven.PermOffenderRead)) ||
			(pr.Slug == "cases" && a.Can(haven.PermCaseRead)) || (pr.Slug == "support" && a.Can(haven.PermSupport)) {
			continue
		}
		add("/app/programs/"+pr.Slug, pr.Short, a.Can(haven.PermStaffHome))
	}
	add("/app/dashboards", "Dashboards", a.Can(haven.PermDashboards))
	add("/app/releases", "Public releases", a.Can(haven.PermDashboards))
	add("/app/research", "Research exports", a.Can(haven.PermResearch))
	add("/app/admin/users", "Accounts", a.Can(haven.PermManageUsers))
	add("/app/admin/agencies", "Agencies", a.Can(haven.PermViewAgencies) && a.Role != haven.RoleLE)
	add("/app/admin/jurisdiction", "Jurisdiction", a.Can(haven.PermJurisdiction))
	add("/app/admin/esps", "ESPs", a.Can(haven.PermManageESPs))
	add("/app/exposure", "Exposure", a.Can(haven.PermExposureReport))
	add("/app/audit", "Audit", a.Can(haven.PermReadAudit))
	add("/le/referrals", "Referrals", a.Can(haven.PermLEReferrals))
	add("/le/identification", "Identification requests", a.Can(haven.PermIDRequest))
	add("/le/lab", "Redacted lab", a.Can(haven.PermLabView))
	add("/le/locate", "Locate requests", a.Can(haven.PermLocateRequest))
	add("/le/cases", "Cases and assistance", a.Can(haven.PermLECases))
	return items
}

// render writes a page with status.
func (s *Server) render(w http.ResponseWriter, status int, name string, p *page) error {
	t, ok := s.pages.tmpl[name]
	if !ok {
		return fmt.Errorf("no template %q", name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", p); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}

// renderError shows an error page.
func (s *Server) renderError(w http.ResponseWriter, r *request, status int, msg string) {
	p := s.newPage(r, http.StatusText(status), nil)
	p.Error = msg
	p.Data = map[string]any{"Status": status}
	if err := s.render(w, status, "error", p); err != nil {
		s.log.Error("render error page", "request_id", r.id, "err", err)
		http.Error(w, msg, status)
	}
}

// formError re-renders a form with the error of err placed on its field.
func (s *Server) formError(w http.ResponseWriter, r *request, name string, p *page, err error) error {
	status := statusOf(err)
	if status >= 500 {
		return err
	}
	var he *haven.Error
	if asHaven(err, &he) && he.Field != "" {
		p.Fields[he.Field] = he.Message
	}
	p.Error = safeMessage(err)
	p.Form = r.PostForm
	return s.render(w, status, name, p)
}

func (s *Server) static(w http.ResponseWriter, r *request) error {
	a, ok := s.pages.assets[r.PathValue("name")]
	if !ok {
		return haven.ErrNotFound
	}
	w.Header().Set("Content-Type", a.contentType)
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	_, err := w.Write(a.body)
	return err
}
