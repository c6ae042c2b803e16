package triage_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/haventest"
	"github.com/haven-hotline/haven/internal/store"
	"github.com/haven-hotline/haven/internal/store/storetest"
	"github.com/haven-hotline/haven/internal/triage"
)

var userSeq int

// submit files a report through intake as an ESP would, with the given
// files, and returns its number. Each report names another reported user,
// so that reports are not linked unless a test links them.
func submit(t *testing.T, env *haventest.Env, esp *haventest.User, change func(r *haven.Report), files ...[]byte) int64 {
	t.Helper()
	ctx := context.Background()
	a := haven.Actor{UserID: esp.ID, Role: haven.RoleESP}
	r := &haven.Report{Incident: haven.IncidentSummary{Type: haven.IncidentCSAM, DateTime: env.Clock.Now().Add(-48 * time.Hour)},
		Reporter: haven.Reporter{ReportingPerson: haven.Person{FirstName: "Trust", LastName: "Safety", Emails: []haven.Email{{Value: "tips@example.org"}}}},
		Reported: []haven.Involved{{Role: haven.RoleReported, ScreenName: "example_user_" + strconv.Itoa(userSeq), ESPService: "Example Chat"}}}
	userSeq++
	if change != nil {
		change(r)
	}
	sub, err := env.App.Intake.Submit(ctx, a, haven.SourceESP, r)
	if err != nil {
		t.Fatal(err)
	}
	for i, b := range files {
		if _, err := env.App.Intake.AddFile(ctx, a, sub.Report.ID, bytes.NewReader(b), "file"+string(rune('a'+i))+".bin", ""); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := env.App.Intake.Finish(ctx, a, sub.Report.ID); err != nil {
		t.Fatal(err)
	}
	return sub.Report.ID
}

// processFiles runs the file step of the pipeline (hash matching) for a
// report, as the file job does.
func processFiles(t *testing.T, env *haventest.Env, id int64) {
	t.Helper()
	ctx := context.Background()
	var files []*haven.ReportFile
	env.App.Store.View(ctx, func(tx *store.Tx) (err error) { files, err = tx.ReportFiles(ctx, id); return err })
	for _, f := range files {
		if _, err := env.App.Hashes.ProcessReportFile(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
}

func work(t *testing.T, env *haventest.Env, id int64) *triage.Item {
	t.Helper()
	it, err := env.App.Triage.Work(context.Background(), haven.SystemActor("test"), id)
	if err != nil || it == nil {
		t.Fatalf("work of %d: %v %v", id, it, err)
	}
	return it
}

// TestTriageLifecycle on both engines: priority on arrival with reasons,
// the queue order, claim by one analyst and not another, notes, the SLA
// clock and its alert, an override with a reason, a status that leaves
// the queue only with a reason.
func TestTriageLifecycle(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(engine, func(t *testing.T) {
			ctx := context.Background()
			env := haventest.StartWith(t, engine, haventest.Options{})
			esp := env.NewUser(t, "Example ESP", haven.RoleESP, "")
			ana := env.NewUser(t, "analyst@example.org", haven.RoleIntake, "")
			other := env.NewUser(t, "analyst2@example.org", haven.RoleIntake, "")
			sup := env.NewUser(t, "supervisor@example.org", haven.RoleSupervisor, "")
			aa := haven.Actor{UserID: ana.ID, Role: ana.Role}
			oa := haven.Actor{UserID: other.ID, Role: other.Role}
			sa := haven.Actor{UserID: sup.ID, Role: sup.Role}

			plain := submit(t, env, esp, nil)
			env.Clock.Advance(time.Minute)
			urgent := submit(t, env, esp, func(r *haven.Report) { s := "meeting tonight"; r.Incident.Escalate = &s })
			env.Clock.Advance(time.Minute)
			noIDs := submit(t, env, esp, func(r *haven.Report) { r.Reported = nil })
			for _, id := range []int64{plain, urgent, noIDs} {
				if err := env.App.Triage.Triage(ctx, id, "arrival"); err != nil {
					t.Fatal(err)
				}
			}
			if it := work(t, env, urgent); it.Priority != "P1" || it.Reasons[0].RuleID != "escalation" ||
				it.Reasons[0].Detail != "escalateToHighPriority: meeting tonight" || it.SLALeft != time.Hour-time.Minute {
				t.Errorf("urgent: %s %+v SLA left %v", it.Priority, it.Reasons, it.SLALeft)
			}
			if it := work(t, env, noIDs); it.Priority != "INFO" || it.HasSLA {
				t.Errorf("no identifiers: %s SLA %v", it.Priority, it.HasSLA)
			}
			items, _, err := env.App.Triage.Queue(ctx, aa, triage.QueueFilter{})
			if err != nil || len(items) != 3 || items[0].ReportID != urgent || items[1].ReportID != plain || items[2].ReportID != noIDs {
				t.Fatalf("queue order: %v", ids(items))
			}
			// Claims.
			if err := env.App.Triage.Claim(ctx, aa, urgent); err != nil {
				t.Fatal(err)
			}
			if err := env.App.Triage.Claim(ctx, oa, urgent); !haven.IsKind(err, haven.KindConflict) {
				t.Errorf("a second analyst claimed a claimed report: %v", err)
			}
			if err := env.App.Triage.Release(ctx, oa, urgent); !haven.IsKind(err, haven.KindForbidden) {
				t.Errorf("another analyst released the claim: %v", err)
			}
			if err := env.App.Triage.Assign(ctx, sa, urgent, other.ID); err != nil {
				t.Fatal(err)
			}
			if err := env.App.Triage.Assign(ctx, aa, urgent, ana.ID); !haven.IsKind(err, haven.KindForbidden) {
				t.Errorf("an analyst assigned: %v", err)
			}
			if err := env.App.Triage.Assign(ctx, sa, urgent, esp.ID); !haven.IsKind(err, haven.KindInvalid) {
				t.Errorf("assigned to an ESP account: %v", err)
			}
			if it := work(t, env, urgent); it.ClaimedBy != other.ID || it.AssignedBy != sup.ID || it.Status != "in_review" || !it.Reviewed {
				t.Errorf("after assignment: %+v", it.Work)
			}
			if err := env.App.Triage.AddNote(ctx, oa, urgent, "Called the ESP's emergency line."); err != nil {
				t.Fatal(err)
			}
			// Leaving the queue takes a reason.
			if err := env.App.Triage.SetStatus(ctx, oa, urgent, triage.StatusClosed, " "); !haven.IsKind(err, haven.KindInvalid) {
				t.Errorf("closed without a reason: %v", err)
			}
			if err := env.App.Triage.SetStatus(ctx, oa, urgent, triage.StatusInformational, "duplicate of an earlier report"); err != nil {
				t.Fatal(err)
			}
			it := work(t, env, urgent)
			if it.Open || it.ClaimedBy != "" || len(it.Notes) != 1 || len(it.History) != 1 || it.History[0].Reason != "duplicate of an earlier report" {
				t.Errorf("after closing: %+v notes %d history %d", it.Work, len(it.Notes), len(it.History))
			}
			if items, _, _ := env.App.Triage.Queue(ctx, aa, triage.QueueFilter{}); len(items) != 2 {
				t.Errorf("the closed report is still queued: %v", ids(items))
			}
			// Override.
			if err := env.App.Triage.Override(ctx, aa, plain, triage.P1, ""); !haven.IsKind(err, haven.KindInvalid) {
				t.Errorf("override without a reason: %v", err)
			}
			if err := env.App.Triage.Override(ctx, aa, plain, triage.P2, "the victim is a known child at risk"); err != nil {
				t.Fatal(err)
			}
			if it := work(t, env, plain); it.Priority != "P2" || it.ComputedPriority != "P3" || it.OverrideBy != ana.ID {
				t.Errorf("override: %+v", it.Work)
			}
			// A re-evaluation keeps the override.
			if err := env.App.Triage.Triage(ctx, plain, "match"); err != nil {
				t.Fatal(err)
			}
			if it := work(t, env, plain); it.Priority != "P2" {
				t.Errorf("re-evaluation lost the override: %s", it.Priority)
			}
			// SLA: a new P1 not reviewed within the hour raises one alert.
			late := submit(t, env, esp, func(r *haven.Report) { s := ""; r.Incident.Escalate = &s })
			if err := env.App.Triage.Triage(ctx, late, "arrival"); err != nil {
				t.Fatal(err)
			}
			if n, err := env.App.Triage.CheckSLA(ctx); err != nil || n != 0 {
				t.Fatalf("before the deadline: %d %v", n, err)
			}
			env.Clock.Advance(61 * time.Minute)
			if n, err := env.App.Triage.CheckSLA(ctx); err != nil || n != 1 {
				t.Fatalf("after the deadline: %d alerts, %v", n, err)
			}
			if n, _ := env.App.Triage.CheckSLA(ctx); n != 0 {
				t.Errorf("the alert was raised twice")
			}
			over, err := env.App.Triage.Overdue(ctx, sa)
			if err != nil || len(over) != 1 || over[0].ReportID != late || !over[0].Overdue() {
				t.Errorf("supervisor's overdue list: %v %v", over, err)
			}
			if !strings.Contains(auditTypes(t, env), "triage.sla_breached") {
				t.Error("no audit event for the breach")
			}
		})
	}
}

func ids(items []*triage.Item) []int64 {
	var out []int64
	for _, it := range items {
		out = append(out, it.ReportID)
	}
	return out
}

func auditTypes(t *testing.T, env *haventest.Env) string {
	t.Helper()
	ctx := context.Background()
	var types []string
	env.App.Store.View(ctx, func(tx *store.Tx) error {
		evs, err := tx.RecentAuditEvents(ctx, store.AuditFilter{Limit: 1000})
		for _, e := range evs {
			types = append(types, e.Type)
		}
		return err
	})
	return strings.Join(types, " ")
}

// TestBundlingViralDuplicates: reports whose files are all known viral
// material join one incident group and are informational; a report with
// one more, unknown file is not bundled; a batched report counts an
// incident per file.
func TestBundlingViralDuplicates(t *testing.T) {
	ctx := context.Background()
	env := haventest.StartWith(t, "sqlite", haventest.Options{})
	esp := env.NewUser(t, "Example ESP", haven.RoleESP, "")
	sys := haven.SystemActor("test")
	bank, err := env.App.Hashes.CreateBank(ctx, sys, haven.HashBank{Name: "Viral", Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	meme := []byte("a synthetic meme file")
	sum := md5.Sum(meme)
	if _, err := env.App.Hashes.AddEntry(ctx, sys, haven.HashEntry{BankID: bank.ID, Algo: haven.AlgoMD5, Value: sum[:], Viral: true}); err != nil {
		t.Fatal(err)
	}
	var dup []int64
	for range 3 {
		id := submit(t, env, esp, nil, meme)
		processFiles(t, env, id)
		if err := env.App.Triage.Triage(ctx, id, "match"); err != nil {
			t.Fatal(err)
		}
		dup = append(dup, id)
	}
	mixed := submit(t, env, esp, nil, meme, []byte("something else"))
	processFiles(t, env, mixed)
	env.App.Triage.Triage(ctx, mixed, "match")
	batched := submit(t, env, esp, func(r *haven.Report) { r.BatchedReason = "VIRAL_POTENTIAL_MEME" }, []byte("one"), []byte("two"), []byte("three"))
	env.App.Triage.Triage(ctx, batched, "arrival")

	group := work(t, env, dup[0]).IncidentGroup
	for _, id := range dup {
		it := work(t, env, id)
		if it.IncidentGroup != group || !strings.HasPrefix(group, "v-") || it.Priority != "INFO" {
			t.Errorf("duplicate %d: group %q priority %s", id, it.IncidentGroup, it.Priority)
		}
	}
	if it := work(t, env, mixed); it.IncidentGroup != "" || it.Priority == "INFO" {
		t.Errorf("mixed report: group %q priority %s", it.IncidentGroup, it.Priority)
	}
	if it := work(t, env, batched); it.IncidentGroup != "b-"+itoa(batched) || it.Incidents != 3 || it.Priority != "INFO" {
		t.Errorf("batched report: %+v", it.Work)
	}
	reports, incidents, err := env.App.Triage.Incidents(ctx, sys)
	// 3 duplicates → 1 incident; mixed → 1; batched with 3 files → 3.
	if err != nil || reports != 5 || incidents != 5 {
		t.Errorf("reports %d incidents %d (want 5 and 5): %v", reports, incidents, err)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestRulesAreVersionedAndAudited: a supervisor changes the table with a
// reason; the version goes up, the change is audited, open reports are
// evaluated again under the new table; a bad rule is refused.
func TestRulesAreVersionedAndAudited(t *testing.T) {
	ctx := context.Background()
	env := haventest.StartWith(t, "sqlite", haventest.Options{})
	esp := env.NewUser(t, "Example ESP", haven.RoleESP, "")
	sup := env.NewUser(t, "supervisor@example.org", haven.RoleSupervisor, "")
	sa := haven.Actor{UserID: sup.ID, Role: sup.Role, AuthAt: env.Clock.Now()}
	id := submit(t, env, esp, nil)
	env.App.Triage.Triage(ctx, id, "arrival")
	cur, _, err := env.App.Triage.Rules(ctx, sa)
	if err != nil || cur.Version != 1 {
		t.Fatalf("rules: %+v %v", cur, err)
	}
	rules := append(cur.Rules, triage.Rule{ID: "example-chat", Name: "Reports about Example Chat users", Effect: triage.Raise, Level: triage.P2,
		Enabled: true, Conditions: []triage.Condition{{Signal: "source", Op: triage.OpEq, Value: "esp"}}})
	if _, err := env.App.Triage.UpdateRules(ctx, sa, rules, ""); !haven.IsKind(err, haven.KindInvalid) {
		t.Errorf("no reason: %v", err)
	}
	bad := append(cur.Rules[:len(cur.Rules):len(cur.Rules)], triage.Rule{ID: "x", Name: "X", Effect: triage.Raise, Level: triage.P1,
		Conditions: []triage.Condition{{Signal: "mood", Op: triage.OpIs, Value: "true"}}})
	if _, err := env.App.Triage.UpdateRules(ctx, sa, bad, "test"); !haven.IsKind(err, haven.KindInvalid) {
		t.Errorf("unknown signal: %v", err)
	}
	if _, err := env.App.Triage.UpdateRules(ctx, haven.Actor{UserID: "x", Role: haven.RoleIntake}, rules, "test"); !haven.IsKind(err, haven.KindForbidden) {
		t.Errorf("an intake analyst changed the rules: %v", err)
	}
	v2, err := env.App.Triage.UpdateRules(ctx, sa, rules, "pilot with Example Chat")
	if err != nil || v2.Version != 2 {
		t.Fatalf("update: %+v %v", v2, err)
	}
	if n, err := env.App.Triage.ReevaluateOpen(ctx); err != nil || n != 1 {
		t.Fatalf("re-evaluate: %d %v", n, err)
	}
	if it := work(t, env, id); it.Priority != "P2" || it.RuleVersion != 2 {
		t.Errorf("after the change: %s version %d", it.Priority, it.RuleVersion)
	}
	_, hist, _ := env.App.Triage.Rules(ctx, sa)
	if len(hist) != 2 || hist[0].Reason != "pilot with Example Chat" {
		t.Errorf("history: %d", len(hist))
	}
	if !strings.Contains(auditTypes(t, env), "triage.rules_changed") {
		t.Error("the change is not audited")
	}
}

// TestLinkedReportsRaisePriority: the fourth report about the same
// screen name is linked to the three before it and rises to P2 with the
// repeat-subject rule.
func TestLinkedReportsRaisePriority(t *testing.T) {
	ctx := context.Background()
	env := haventest.StartWith(t, "sqlite", haventest.Options{})
	esp := env.NewUser(t, "Example ESP", haven.RoleESP, "")
	same := func(r *haven.Report) { r.Reported[0].ScreenName = "same_user" }
	var last int64
	for range 4 {
		last = submit(t, env, esp, same)
		if err := env.App.Triage.Triage(ctx, last, "arrival"); err != nil {
			t.Fatal(err)
		}
	}
	it := work(t, env, last)
	if it.Priority != "P2" || it.Reasons[0].RuleID != "repeat-subject" {
		t.Errorf("fourth report: %s %+v", it.Priority, it.Reasons)
	}
}
