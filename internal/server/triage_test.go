package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/haventest"
	"github.com/haven-hotline/haven/internal/ispwsclient"
	"github.com/haven-hotline/haven/internal/triage"
)

// waitTriaged waits for the triage job to have queued a report.
func waitTriaged(t *testing.T, env *haventest.Env, id int64) *triage.Item {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		it, err := env.App.Triage.Work(context.Background(), haven.SystemActor("test"), id)
		if err != nil {
			t.Fatal(err)
		}
		if it != nil {
			return it
		}
		if time.Now().After(deadline) {
			t.Fatalf("report %d was not triaged within 30 s", id)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestQueueAndTriagePanel: two ESP reports arrive through /ispws, one with
// escalateToHighPriority; the triage job queues both; the queue page lists
// the escalated one first as P1; its page shows the reasons and the
// reporter's words; the analyst claims it, adds a note and closes it with
// a reason through the page's forms; a supervisor changes the rule table
// through the rules page.
func TestQueueAndTriagePanel(t *testing.T) {
	env := haventest.StartWith(t, "sqlite", haventest.Options{Workers: true})
	ctx := context.Background()
	esp := env.NewUser(t, "Example Chat", haven.RoleESP, "")
	c := &ispwsclient.Client{BaseURL: env.HTTP.URL + "/ispws", Username: esp.Login, Password: esp.Password}
	file := func(xml string) int64 {
		sub, err := c.Submit(ctx, []byte(xml))
		if err != nil || sub.Code != 0 {
			t.Fatalf("submit: %v %+v", err, sub)
		}
		if fin, err := c.Finish(ctx, sub.ReportID, false); err != nil || fin.Code != 0 {
			t.Fatalf("finish: %v %+v", err, fin)
		}
		return sub.ReportID
	}
	plain := file(minimalReport)
	env.Clock.Advance(time.Minute)
	urgent := file(reportWith("<escalateToHighPriority>the child says they are meeting the user tonight</escalateToHighPriority>"))
	waitTriaged(t, env, plain)
	if it := waitTriaged(t, env, urgent); it.Priority != "P1" {
		t.Fatalf("the escalated report is %s", it.Priority)
	}
	ana := env.NewUser(t, "analyst@example.org", haven.RoleIntake, "")
	web := env.Client(t)
	web.Login(ana)
	q := web.Get("/app/queue")
	if q.StatusCode != http.StatusOK {
		t.Fatalf("queue: %d\n%s", q.StatusCode, env.Logs.String())
	}
	iu, ip := strings.Index(q.Body, fmt.Sprintf(`href="/app/reports/%d"`, urgent)), strings.Index(q.Body, fmt.Sprintf(`href="/app/reports/%d"`, plain))
	if iu < 0 || ip < 0 || iu > ip {
		t.Fatalf("the escalated report is not first in the queue (positions %d, %d)", iu, ip)
	}
	if !strings.Contains(q.Body, "due in 59 min") {
		t.Error("the queue shows no SLA countdown for the P1 report")
	}
	page := web.Get(fmt.Sprintf("/app/reports/%d", urgent))
	for _, want := range []string{`id="triage"`, ">P1<", "The reporter asked for urgent handling",
		"escalateToHighPriority: the child says they are meeting the user tonight", "Claim this report"} {
		if !strings.Contains(page.Body, want) {
			t.Errorf("the report page lacks %q", want)
		}
	}
	base := fmt.Sprintf("/app/reports/%d/triage/", urgent)
	if r := web.Post(base+"claim", nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("claim: %d %s", r.StatusCode, r.Body)
	}
	if r := web.Post(base+"note", url.Values{"note": {"Escalated to the ESP's emergency contact."}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("note: %d", r.StatusCode)
	}
	r := web.Post(base+"status", url.Values{"status": {"closed"}, "reason": {""}})
	if r.StatusCode != http.StatusBadRequest || !strings.Contains(r.Body, "recorded outcome") {
		t.Errorf("closing without a reason: %d", r.StatusCode)
	}
	if r := web.Post(base+"status", url.Values{"status": {"closed"}, "reason": {"handled by the ESP's emergency team"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("close: %d", r.StatusCode)
	}
	page = web.Get(fmt.Sprintf("/app/reports/%d?done=status", urgent))
	for _, want := range []string{"The status was changed.", "Escalated to the ESP&#39;s emergency contact.", "handled by the ESP&#39;s emergency team"} {
		if !strings.Contains(page.Body, want) {
			t.Errorf("after closing, the page lacks %q", want)
		}
	}
	if q := web.Get("/app/queue"); strings.Contains(q.Body, fmt.Sprintf(`href="/app/reports/%d"`, urgent)) {
		t.Error("the closed report is still in the open queue")
	}
	// An ESP cannot reach the queue; an intake analyst cannot change the rules.
	if r := web.Post("/app/triage/rules", url.Values{"rules": {"x"}, "reason": {"y"}}); r.StatusCode != http.StatusForbidden && r.StatusCode != http.StatusNotFound {
		t.Errorf("an analyst posted the rules: %d", r.StatusCode)
	}
	// A supervisor adds a rule through the page.
	sup := env.NewUser(t, "supervisor@example.org", haven.RoleSupervisor, "")
	sw := env.Client(t)
	sw.Login(sup)
	rp := sw.Get("/app/triage/rules")
	if rp.StatusCode != http.StatusOK || !strings.Contains(rp.Body, "escalation | The reporter asked for urgent handling | raise P1 | on | escalate is true") {
		t.Fatalf("rules page: %d", rp.StatusCode)
	}
	cur, _, _ := env.App.Triage.Rules(ctx, haven.SystemActor("test"))
	text := triage.FormatRules(cur.Rules) + "example-chat | Reports from Example Chat | raise P2 | on | source = esp\n"
	if r := sw.Post("/app/triage/rules", url.Values{"rules": {text + "bad | Bad | raise P1 | on | mood is high\n"}, "reason": {"pilot"}}); r.StatusCode != http.StatusBadRequest ||
		!strings.Contains(r.Body, "unknown signal") {
		t.Errorf("a bad rule: %d", r.StatusCode)
	}
	if r := sw.Post("/app/triage/rules", url.Values{"rules": {text}, "reason": {"pilot with Example Chat"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("save rules: %d %s", r.StatusCode, r.Body)
	}
	// The re-evaluation job raises the plain report to P2.
	deadline := time.Now().Add(30 * time.Second)
	for waitTriaged(t, env, plain).Priority != "P2" {
		if time.Now().After(deadline) {
			t.Fatal("open reports were not evaluated again after the rule change")
		}
		time.Sleep(100 * time.Millisecond)
	}
}
