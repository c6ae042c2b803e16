package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/auth"
	"github.com/haven-hotline/haven/internal/haventest"
	"github.com/haven-hotline/haven/internal/server"
	"github.com/haven-hotline/haven/internal/store"
)

// fill replaces the wildcards of a route pattern with plausible values.
func fill(path string) string {
	r := strings.NewReplacer("{id}", haven.NewID(), "{token}", "not-a-token", "{program}", "reports",
		"{action}", "disable", "{name}", "missing.css", "{$}", "", "{rest...}", "nothing-here", "{fileId}", "0123456789abcdef0123456789abcdef")
	return r.Replace(path)
}

// TestRoleRouteTable is the role × route table of SECURITY.md 4: every
// route of the route table is requested by a signed-in account of every
// role, and must be refused exactly when the role lacks the route's
// permission. A route added without a rule makes server.New fail, and so
// this test.
func TestRoleRouteTable(t *testing.T) {
	env := haventest.Start(t, "sqlite")
	ctx := context.Background()
	ag := env.Agency(t, "Route Table Agency")
	users := map[haven.Role]*haventest.User{}
	bearers := map[haven.Role]string{}
	for _, role := range haven.Roles {
		agency := ""
		if role.NeedsAgency() {
			agency = ag.ID
		}
		u := env.NewUser(t, string(role)+"@example.org", role, agency)
		users[role] = u
		if role.Can(haven.PermAPIToken) {
			tok, err := env.App.Accounts.CreateAPIToken(ctx, haven.SystemActor("test"), u.ID, "route-table")
			if err != nil {
				t.Fatal(err)
			}
			bearers[role] = tok
		}
	}
	// session gives the user a fresh, fully authenticated session (made
	// directly in the store, so that ESP accounts, which cannot sign in
	// to the web, get one too) and clears any failures an earlier request
	// caused, so each request is judged on the permission alone.
	session := func(u *haventest.User) (token, csrf string) {
		tok, hash := auth.NewToken()
		csrf, _ = auth.NewToken()
		now := env.Clock.Now()
		err := env.App.Store.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.ClearLoginFailures(ctx, u.ID); err != nil {
				return err
			}
			cur, err := tx.User(ctx, u.ID)
			if err != nil {
				return err
			}
			cur.LockedAt = time.Time{}
			if err := tx.UpdateUser(ctx, cur); err != nil {
				return err
			}
			return tx.CreateSession(ctx, &haven.Session{ID: haven.NewID(), TokenHash: hash, UserID: u.ID, CSRFToken: csrf,
				MFAAt: now, AuthAt: now, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)})
		})
		if err != nil {
			t.Fatal(err)
		}
		return tok, csrf
	}
	// Routes that check a credential typed by the user answer 401 to the
	// empty one the test sends, which is not a permission refusal.
	credential := map[string]bool{"POST /login/mfa": true, "POST /app/reauth": true}
	routes := env.Server.Routes()
	if len(routes) < 20 {
		t.Fatalf("got %d routes, want the whole table", len(routes))
	}
	checked := 0
	statuses := map[int]int{}
	for _, rt := range routes {
		if rt.Public {
			continue
		}
		for _, role := range haven.Roles {
			c := env.Client(t)
			req, err := http.NewRequest(rt.Method, env.HTTP.URL+fill(rt.Path), nil)
			if err != nil {
				t.Fatal(err)
			}
			if rt.Surface == server.SurfaceISPWS {
				if role == haven.RoleESP {
					req.SetBasicAuth(users[role].Login, users[role].Password)
				} else {
					// Only ESP accounts have API credentials; others
					// cannot even present any.
					req.SetBasicAuth(users[role].Login, "not-an-api-password")
				}
			} else if rt.Surface == server.SurfaceAPI {
				if bearers[role] != "" {
					req.Header.Set("Authorization", "Bearer "+bearers[role])
				}
			} else {
				var csrf string
				c.Cookie, csrf = session(users[role])
				if rt.Method == http.MethodPost {
					// A valid CSRF token, so only the permission decides.
					req, _ = http.NewRequest(rt.Method, env.HTTP.URL+fill(rt.Path), strings.NewReader("csrf="+csrf))
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				}
			}
			resp := c.Do(req)
			statuses[resp.StatusCode]++
			var allowed bool
			switch {
			case rt.Pending && rt.Perm == "":
				allowed = true // any session
			case rt.Surface == server.SurfaceISPWS && role != haven.RoleESP:
				if resp.StatusCode != http.StatusUnauthorized {
					t.Errorf("%s %s as %s: got %d, want 401 (ESP accounts only)", rt.Method, rt.Path, role, resp.StatusCode)
				}
				checked++
				continue
			case rt.Surface == server.SurfaceAPI && bearers[role] == "":
				if resp.StatusCode != http.StatusUnauthorized {
					t.Errorf("%s %s as %s without a token: got %d, want 401", rt.Method, rt.Path, role, resp.StatusCode)
				}
				checked++
				continue
			default:
				allowed = role.Can(rt.Perm)
			}
			denied := resp.StatusCode == http.StatusForbidden ||
				(resp.StatusCode == http.StatusUnauthorized && !credential[rt.Method+" "+rt.Path])
			if allowed && denied {
				t.Errorf("%s %s as %s: got %d, want it allowed (permission %s)", rt.Method, rt.Path, role, resp.StatusCode, rt.Perm)
			}
			if !allowed && resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s %s as %s: got %d, want 403 (permission %s)", rt.Method, rt.Path, role, resp.StatusCode, rt.Perm)
			}
			if resp.StatusCode >= 500 {
				t.Errorf("%s %s as %s: got %d\n%s", rt.Method, rt.Path, role, resp.StatusCode, resp.Body)
			}
			checked++
		}
	}
	t.Logf("checked %d role × route pairs over %d routes; statuses seen: %v", checked, len(routes), statuses)
}
