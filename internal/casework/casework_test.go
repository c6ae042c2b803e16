package casework_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/casework"
	"github.com/haven-hotline/haven/internal/haventest"
	"github.com/haven-hotline/haven/internal/store"
	"github.com/haven-hotline/haven/internal/store/storetest"
)

// setup is what the tests need: a running Haven, actors of the roles
// that matter and a finished report to open cases from.
type setup struct {
	env        *haventest.Env
	ctx        context.Context
	specialist haven.Actor
	supervisor haven.Actor
	support    haven.Actor
	intake     haven.Actor
	le         haven.Actor
	otherLE    haven.Actor
	agency     *haven.Agency
	report     int64
}

func newSetup(t *testing.T, engine string) *setup {
	t.Helper()
	env := haventest.Start(t, engine)
	ctx := context.Background()
	now := env.Clock.Now()
	actor := func(login string, role haven.Role, agency string) haven.Actor {
		u := env.NewUser(t, login, role, agency)
		return haven.Actor{UserID: u.ID, Role: role, AgencyID: agency, AuthAt: now}
	}
	ag, other := env.Agency(t, "Example County Sheriff"), env.Agency(t, "Example Other Police")
	s := &setup{env: env, ctx: ctx, agency: ag,
		specialist: actor("specialist@example.org", haven.RoleCasework, ""),
		supervisor: actor("supervisor@example.org", haven.RoleSupervisor, ""),
		support:    actor("support@example.org", haven.RoleSupport, ""),
		intake:     actor("intake@example.org", haven.RoleIntake, ""),
		le:         actor("officer@example.org", haven.RoleLE, ag.ID),
		otherLE:    actor("officer2@example.org", haven.RoleLE, other.ID),
	}
	esp := env.NewUser(t, "esp-cases", haven.RoleESP, "")
	espActor := haven.Actor{UserID: esp.ID, Role: haven.RoleESP}
	sub, err := env.App.Intake.Submit(ctx, espActor, haven.SourceESP, &haven.Report{Incident: haven.IncidentSummary{
		Type: haven.IncidentSexTrafficking, DateTime: now.Add(-time.Hour)}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.App.Intake.Finish(ctx, espActor, sub.Report.ID); err != nil {
		t.Fatal(err)
	}
	s.report = sub.Report.ID
	return s
}

func (s *setup) open(t *testing.T) *store.Case {
	t.Helper()
	c, err := s.env.App.Casework.OpenCase(s.ctx, s.specialist, casework.NewCase{Type: casework.TypeEndangeredRunaway,
		Title: "Example runaway case", ChildPseudonym: "Child Example A", ChildAge: 14, ReportID: s.report})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (s *setup) auditCount(t *testing.T, typ, objectID string, outcome haven.Outcome) int {
	t.Helper()
	n := 0
	err := s.env.App.Store.View(s.ctx, func(tx *store.Tx) error {
		evs, err := tx.RecentAuditEvents(s.ctx, store.AuditFilter{Type: typ, ObjectID: objectID, Limit: 500})
		for _, e := range evs {
			if e.Outcome == outcome {
				n++
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func wantKind(t *testing.T, what string, err error, kind haven.Kind) {
	t.Helper()
	if err == nil || haven.ErrorKind(err) != kind {
		t.Errorf("%s: got error %v, want kind %v", what, err, kind)
	}
}

// TestCaseLifecycle opens a case from a report, works it and checks the
// timeline holds every record in time order, and that every read of the
// child's record is audited — on each engine.
func TestCaseLifecycle(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(engine, func(t *testing.T) {
			s := newSetup(t, engine)
			cw := s.env.App.Casework
			c := s.open(t)
			step := func() { s.env.Clock.Advance(time.Minute) }
			step()
			n, err := cw.RecordIndicators(s.ctx, s.specialist, c.ID, []string{"older_partner", "unexplained_money", "older_partner"}, "seen by the school")
			if err != nil || n != 2 {
				t.Fatalf("indicators: got %d, %v, want 2 recorded", n, err)
			}
			step()
			if n, err := cw.RecordIndicators(s.ctx, s.specialist, c.ID, []string{"older_partner", "repeat_missing"}, ""); err != nil || n != 1 {
				t.Fatalf("indicators again: got %d, %v, want only the new one recorded", n, err)
			}
			_, err = cw.RecordIndicators(s.ctx, s.specialist, c.ID, []string{"not_an_indicator"}, "")
			wantKind(t, "unknown indicator", err, haven.KindInvalid)
			step()
			if err := cw.AddTask(s.ctx, s.specialist, c.ID, "Call the school", "Example Worker", s.env.Clock.Now().Add(48*time.Hour)); err != nil {
				t.Fatal(err)
			}
			step()
			if err := cw.AddNote(s.ctx, s.specialist, c.ID, "Synthetic note"); err != nil {
				t.Fatal(err)
			}
			step()
			if err := cw.LinkOffender(s.ctx, s.specialist, c.ID, "OFF-EXAMPLE-1", ""); err != nil {
				t.Fatal(err)
			}
			wantKind(t, "same offender twice", cw.LinkOffender(s.ctx, s.specialist, c.ID, "OFF-EXAMPLE-1", ""), haven.KindInvalid)
			wantKind(t, "same report twice", cw.LinkReport(s.ctx, s.specialist, c.ID, s.report), haven.KindInvalid)
			wantKind(t, "missing report", cw.LinkReport(s.ctx, s.specialist, c.ID, s.report+1000), haven.KindInvalid)
			step()
			if err := cw.SetStatus(s.ctx, s.specialist, c.ID, casework.StatusRecovered, "found at a bus station"); err != nil {
				t.Fatal(err)
			}
			step()
			v1, err := cw.SavePlan(s.ctx, s.specialist, c.ID, casework.Plan{Needs: []casework.Need{
				{Area: "safety", Responsible: "Example County CPS", Status: "in_progress", DueOn: "2026-12-01"},
				{Area: "mental_health", Responsible: "Example Worker", Services: []casework.Referral{{ProviderName: "Example Counselling Centre", Service: "trauma therapy"}}},
			}}, "first plan")
			if err != nil || v1 != 1 {
				t.Fatalf("plan: version %d, %v", v1, err)
			}
			step()
			v2, err := cw.SavePlan(s.ctx, s.specialist, c.ID, casework.Plan{Needs: []casework.Need{
				{Area: "safety", Responsible: "Example County CPS", Status: "met", DueOn: "2026-12-01"},
			}}, "")
			if err != nil || v2 != 2 {
				t.Fatalf("plan again: version %d, %v", v2, err)
			}

			reads := s.auditCount(t, "case.child.read", c.ID, haven.OutcomeSuccess)
			v, err := cw.Case(s.ctx, s.supervisor, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got := s.auditCount(t, "case.child.read", c.ID, haven.OutcomeSuccess); got != reads+1 {
				t.Errorf("child reads audited: got %d, want %d", got, reads+1)
			}
			if v.Case.Status != casework.StatusRecovered || len(v.Statuses) != 2 {
				t.Errorf("status: got %s with %d changes, want recovered with 2", v.Case.Status, len(v.Statuses))
			}
			if len(v.Reports) != 1 || v.Reports[0].ReportID != s.report {
				t.Errorf("the case is not linked to its report")
			}
			if len(v.Indicators) != 3 || v.Indicators[0].ActorID != s.specialist.UserID {
				t.Errorf("indicators: got %d, want 3 with who recorded them", len(v.Indicators))
			}
			if v.Plan.Current == nil || v.Plan.Current.Version != 2 || len(v.Plan.Versions) != 2 {
				t.Fatalf("plan history: got %+v", v.Plan)
			}
			if old := v.Plan.Versions[1].Plan; len(old.Needs) != 2 || old.Needs[1].Services[0].ProviderName != "Example Counselling Centre" {
				t.Errorf("the first version was not kept as it was: %+v", old)
			}
			if !strings.Contains(v.Plan.Current.Summary, "Safety In progress → Met") || !strings.Contains(v.Plan.Current.Summary, "Mental health removed") {
				t.Errorf("plan change summary: got %q", v.Plan.Current.Summary)
			}
			if rc, err := cw.ReportCases(s.ctx, s.supervisor, s.report); err != nil || len(rc) != 1 || rc[0].ID != c.ID {
				t.Errorf("cases of the report: %d, %v, want this case", len(rc), err)
			}
			if _, err := cw.ReportCases(s.ctx, s.intake, s.report); !haven.IsKind(err, haven.KindForbidden) {
				t.Errorf("intake lists the cases of a report: %v", err)
			}
			if n := s.auditCount(t, "case.plan.save", c.ID, haven.OutcomeSuccess); n != 2 {
				t.Errorf("plan saves audited: got %d, want 2", n)
			}
			kinds := map[string]int{}
			for i, e := range v.Timeline {
				kinds[e.Kind]++
				if i > 0 && e.At.Before(v.Timeline[i-1].At) {
					t.Errorf("timeline out of order at %d", i)
				}
			}
			for kind, want := range map[string]int{"status": 2, "report": 1, "indicator": 3, "task": 1, "note": 1, "offender": 1, "plan": 2} {
				if kinds[kind] != want {
					t.Errorf("timeline %s entries: got %d, want %d", kind, kinds[kind], want)
				}
			}
			if v.Timeline[0].Kind != "status" && v.Timeline[0].Kind != "report" {
				t.Errorf("the timeline starts with %s, want the opening", v.Timeline[0].Kind)
			}
			if v.Timeline[len(v.Timeline)-1].Kind != "plan" {
				t.Errorf("the timeline ends with %s, want the last plan version", v.Timeline[len(v.Timeline)-1].Kind)
			}
		})
	}
}

// TestAccess checks the permission rules in the service itself.
func TestAccess(t *testing.T) {
	s := newSetup(t, "sqlite")
	cw := s.env.App.Casework
	c := s.open(t)
	if err := cw.AddNote(s.ctx, s.specialist, c.ID, "Internal synthetic note"); err != nil {
		t.Fatal(err)
	}
	if err := cw.AddPerson(s.ctx, s.specialist, c.ID, "Example Person One", "parent", "555-0100"); err != nil {
		t.Fatal(err)
	}

	// Roles without the permission are refused, and the refused read is
	// audited.
	_, err := cw.OpenCase(s.ctx, s.supervisor, casework.NewCase{Type: casework.TypeFamilyAbduction, Title: "x", ChildPseudonym: "y"})
	wantKind(t, "supervisor opens a case", err, haven.KindForbidden)
	wantKind(t, "intake adds a note", cw.AddNote(s.ctx, s.intake, c.ID, "x"), haven.KindForbidden)
	_, err = cw.Case(s.ctx, s.support, c.ID)
	wantKind(t, "support coordinator reads a case", err, haven.KindForbidden)
	if s.auditCount(t, "case.child.read", c.ID, haven.OutcomeDenied) != 1 {
		t.Error("the refused read of the child's record is not audited")
	}
	_, err = cw.Case(s.ctx, s.le, c.ID)
	wantKind(t, "LE reads through the staff method", err, haven.KindForbidden)
	_, err = cw.Cases(s.ctx, s.intake)
	wantKind(t, "intake lists cases", err, haven.KindForbidden)
	_, err = cw.Inventory(s.ctx, s.intake)
	wantKind(t, "intake sees Hope Bags", err, haven.KindForbidden)
	if _, err := cw.Inventory(s.ctx, s.support); err != nil {
		t.Errorf("support coordinator sees Hope Bags: %v", err)
	}
	_, err = cw.SavePlan(s.ctx, s.supervisor, c.ID, casework.Plan{Needs: []casework.Need{{Area: "safety"}}}, "")
	wantKind(t, "supervisor saves a plan", err, haven.KindForbidden)

	// LE: not shared is not found, exactly like a missing case.
	_, err = cw.AgencyCase(s.ctx, s.le, c.ID)
	wantKind(t, "LE reads an unshared case", err, haven.KindNotFound)
	_, errMissing := cw.AgencyCase(s.ctx, s.le, haven.NewID())
	if haven.ErrorMessage(err) != haven.ErrorMessage(errMissing) || haven.ErrorKind(err) != haven.ErrorKind(errMissing) {
		t.Errorf("unshared and missing differ: %v / %v", err, errMissing)
	}
	if err := cw.PutAgency(s.ctx, s.specialist, c.ID, s.agency.ID, "investigating", true); err != nil {
		t.Fatal(err)
	}
	before := s.auditCount(t, "case.child.read", c.ID, haven.OutcomeSuccess)
	v, err := cw.AgencyCase(s.ctx, s.le, c.ID)
	if err != nil {
		t.Fatalf("LE reads a shared case: %v", err)
	}
	if s.auditCount(t, "case.child.read", c.ID, haven.OutcomeSuccess) != before+1 {
		t.Error("the officer's read of the child's record is not audited")
	}
	if len(v.Notes) != 0 || v.People[0].Contact != "" {
		t.Error("the agency's view holds internal notes or contacts")
	}
	for _, e := range v.Timeline {
		if e.Kind == "note" {
			t.Error("the agency's timeline holds a note")
		}
	}
	_, err = cw.AgencyCase(s.ctx, s.otherLE, c.ID)
	wantKind(t, "another agency reads the shared case", err, haven.KindNotFound)
	list, err := cw.AgencyCases(s.ctx, s.otherLE)
	if err != nil || len(list) != 0 {
		t.Errorf("another agency's list: %d, %v", len(list), err)
	}
	list, err = cw.AgencyCases(s.ctx, s.le)
	if err != nil || len(list) != 1 {
		t.Errorf("the agency's list: %d, %v, want the shared case", len(list), err)
	}
	// Unsharing hides it again.
	if err := cw.PutAgency(s.ctx, s.specialist, c.ID, s.agency.ID, "investigating", false); err != nil {
		t.Fatal(err)
	}
	_, err = cw.AgencyCase(s.ctx, s.le, c.ID)
	wantKind(t, "LE after unsharing", err, haven.KindNotFound)
}

type directory map[string]string

func (d directory) ProviderName(_ context.Context, id string) (string, error) {
	if n, ok := d[id]; ok {
		return n, nil
	}
	return "", haven.ErrNotFound
}

// TestPlanReferrals: without a directory a referral names its provider
// in free text; with one, the ID must be known and gives the name.
func TestPlanReferrals(t *testing.T) {
	s := newSetup(t, "sqlite")
	cw := s.env.App.Casework
	c := s.open(t)
	plan := func(r casework.Referral) casework.Plan {
		return casework.Plan{Needs: []casework.Need{{Area: "mental_health", Services: []casework.Referral{r}}}}
	}
	_, err := cw.SavePlan(s.ctx, s.specialist, c.ID, plan(casework.Referral{Service: "therapy"}), "")
	wantKind(t, "referral without a provider", err, haven.KindInvalid)
	if _, err := cw.SavePlan(s.ctx, s.specialist, c.ID, plan(casework.Referral{ProviderName: "Example Clinic"}), ""); err != nil {
		t.Fatalf("free-text provider: %v", err)
	}
	cw.SetProviders(directory{"prov-1": "Example Network Clinic"})
	_, err = cw.SavePlan(s.ctx, s.specialist, c.ID, plan(casework.Referral{ProviderID: "prov-404", ProviderName: "Made Up"}), "")
	wantKind(t, "unknown provider ID", err, haven.KindInvalid)
	if _, err := cw.SavePlan(s.ctx, s.specialist, c.ID, plan(casework.Referral{ProviderID: "prov-1", ProviderName: "typed name"}), ""); err != nil {
		t.Fatal(err)
	}
	v, err := cw.Case(s.ctx, s.specialist, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := v.Plan.Current.Plan.Needs[0].Services[0]; got.ProviderName != "Example Network Clinic" || got.ProviderID != "prov-1" {
		t.Errorf("referral: got %+v, want the directory's name", got)
	}
	_, err = cw.SavePlan(s.ctx, s.specialist, c.ID, casework.Plan{Needs: []casework.Need{{Area: "safety"}, {Area: "safety"}}}, "")
	wantKind(t, "a need twice", err, haven.KindInvalid)
	_, err = cw.SavePlan(s.ctx, s.specialist, c.ID, casework.Plan{Needs: []casework.Need{{Area: "safety", DueOn: "next week"}}}, "")
	wantKind(t, "a bad due date", err, haven.KindInvalid)
}

// TestHopeBags: restock, distribution, the stock floor and the low-stock
// alert.
func TestHopeBags(t *testing.T) {
	s := newSetup(t, "sqlite")
	cw := s.env.App.Casework
	c := s.open(t)
	it, err := cw.AddStockLine(s.ctx, s.support, "Teen", "Standard", "Example Warehouse", 3)
	if err != nil {
		t.Fatal(err)
	}
	_, err = cw.AddStockLine(s.ctx, s.support, "Teen", "Standard", "Example Warehouse", 1)
	wantKind(t, "the same line twice", err, haven.KindInvalid)
	if err := cw.Restock(s.ctx, s.support, it.ID, 5, time.Time{}, "donation"); err != nil {
		t.Fatal(err)
	}
	inv, err := cw.Inventory(s.ctx, s.support)
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Low) != 0 || inv.Items[0].Quantity != 5 {
		t.Fatalf("after restock: %d low, %d in stock", len(inv.Low), inv.Items[0].Quantity)
	}
	d := casework.Distribution{ItemID: it.ID, Quantity: 2, CaseID: c.ID, Recipient: "Example Caseworker"}
	if err := cw.Distribute(s.ctx, s.specialist, d); err != nil {
		t.Fatal(err)
	}
	d.Quantity = 4
	wantKind(t, "more than in stock", cw.Distribute(s.ctx, s.specialist, d), haven.KindConflict)
	d.Quantity, d.CaseID, d.AgencyID = 1, "", s.agency.ID
	if err := cw.Distribute(s.ctx, s.support, d); err != nil {
		t.Fatal(err)
	}
	d.CaseID = c.ID
	wantKind(t, "both case and agency", cw.Distribute(s.ctx, s.support, d), haven.KindInvalid)
	d.AgencyID, d.Recipient = "", ""
	wantKind(t, "no recipient", cw.Distribute(s.ctx, s.support, d), haven.KindInvalid)
	inv, err = cw.Inventory(s.ctx, s.support)
	if err != nil {
		t.Fatal(err)
	}
	if inv.Items[0].Quantity != 2 || len(inv.Low) != 1 {
		t.Errorf("after distributing 3 of 5 with an alert at 3: %d in stock, %d low, want 2 and 1", inv.Items[0].Quantity, len(inv.Low))
	}
	if len(inv.Movements) != 3 || inv.Movements[0].AgencyName != s.agency.Name {
		t.Errorf("movements: got %d, want 3 with the agency named", len(inv.Movements))
	}
	if err := cw.SetThreshold(s.ctx, s.support, it.ID, 1); err != nil {
		t.Fatal(err)
	}
	if inv, _ = cw.Inventory(s.ctx, s.support); len(inv.Low) != 0 {
		t.Error("still low after lowering the threshold")
	}
	v, err := cw.Case(s.ctx, s.specialist, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(v.HopeBags) != 1 || v.HopeBags[0].Quantity != 2 {
		t.Errorf("the case shows %d distributions, want its one", len(v.HopeBags))
	}
}

// TestHopeBagStockUnderConcurrency: ten simultaneous distributions of
// one bag from a stock of five leave exactly five done and the stock at
// zero, on each engine.
func TestHopeBagStockUnderConcurrency(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(engine, func(t *testing.T) {
			s := newSetup(t, engine)
			cw := s.env.App.Casework
			c := s.open(t)
			it, err := cw.AddStockLine(s.ctx, s.support, "Teen", "Standard", "Example Warehouse", 0)
			if err != nil {
				t.Fatal(err)
			}
			if err := cw.Restock(s.ctx, s.support, it.ID, 5, time.Time{}, ""); err != nil {
				t.Fatal(err)
			}
			errs := make(chan error, 10)
			var wg sync.WaitGroup
			for range 10 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs <- cw.Distribute(s.ctx, s.specialist, casework.Distribution{ItemID: it.ID, Quantity: 1, CaseID: c.ID, Recipient: "Example Caseworker"})
				}()
			}
			wg.Wait()
			close(errs)
			done, refused := 0, 0
			for err := range errs {
				switch {
				case err == nil:
					done++
				case haven.IsKind(err, haven.KindConflict):
					refused++
				default:
					t.Errorf("distribution: %v", err)
				}
			}
			inv, err := cw.Inventory(s.ctx, s.support)
			if err != nil {
				t.Fatal(err)
			}
			if done != 5 || refused != 5 || inv.Items[0].Quantity != 0 {
				t.Errorf("got %d done, %d refused, %d left; want 5, 5, 0", done, refused, inv.Items[0].Quantity)
			}
		})
	}
}

// TestAssistance walks a request from the LE portal to its outcome.
func TestAssistance(t *testing.T) {
	s := newSetup(t, "sqlite")
	cw := s.env.App.Casework
	r, err := cw.SubmitAssistance(s.ctx, s.le, casework.AssistanceInput{Source: casework.SourceAttorney, RequesterName: "Example Officer",
		RequesterContact: "officer@example.org", TheirReference: "CASE-EX-1", Question: "Please analyse the synthetic timeline."})
	if err != nil {
		t.Fatal(err)
	}
	if r.Source != casework.SourceLE || r.AgencyID != s.agency.ID {
		t.Errorf("an LE request: source %s agency %s, want law_enforcement and the officer's agency", r.Source, r.AgencyID)
	}
	_, err = cw.SubmitAssistance(s.ctx, s.specialist, casework.AssistanceInput{Source: casework.SourceLE, RequesterName: "x",
		RequesterOrg: "y", RequesterContact: "z", Question: "q"})
	wantKind(t, "staff enters an LE request", err, haven.KindInvalid)
	_, err = cw.SubmitAssistance(s.ctx, s.intake, casework.AssistanceInput{Source: casework.SourceAttorney})
	wantKind(t, "intake enters a request", err, haven.KindForbidden)

	_, err = cw.Assistance(s.ctx, s.otherLE, r.ID)
	wantKind(t, "another agency reads the request", err, haven.KindNotFound)
	wantKind(t, "assign before triage", cw.Assign(s.ctx, s.specialist, r.ID, s.specialist.UserID), haven.KindInvalid)
	wantKind(t, "LE triages", cw.Triage(s.ctx, s.le, r.ID, "high"), haven.KindForbidden)
	if err := cw.Triage(s.ctx, s.supervisor, r.ID, "urgent"); err != nil {
		t.Fatal(err)
	}
	wantKind(t, "assign to an intake analyst", cw.Assign(s.ctx, s.supervisor, r.ID, s.intake.UserID), haven.KindInvalid)
	if err := cw.Assign(s.ctx, s.supervisor, r.ID, s.specialist.UserID); err != nil {
		t.Fatal(err)
	}
	if err := cw.Deliver(s.ctx, s.specialist, r.ID, "Synthetic analysis: three linked accounts."); err != nil {
		t.Fatal(err)
	}
	v, err := cw.Assistance(s.ctx, s.le, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if v.Status != casework.RequestDelivered || v.Analysis == "" || v.AssignedTo != "" {
		t.Errorf("the agency's view: status %s, analysis %q, assignee %q", v.Status, v.Analysis, v.AssignedTo)
	}
	var pdf bytes.Buffer
	if err := casework.WriteAnalysisPDF(&pdf, v); err != nil || !bytes.HasPrefix(pdf.Bytes(), []byte("%PDF")) {
		t.Errorf("PDF: %v", err)
	}
	if err := cw.Close(s.ctx, s.specialist, r.ID, "The agency made an arrest (synthetic)."); err != nil {
		t.Fatal(err)
	}
	wantKind(t, "triage a closed request", cw.Triage(s.ctx, s.specialist, r.ID, "low"), haven.KindConflict)
	list, err := cw.AssistanceRequests(s.ctx, s.otherLE)
	if err != nil || len(list) != 0 {
		t.Errorf("another agency's list: %d, %v", len(list), err)
	}
	if n := s.auditCount(t, "assistance.deliver", r.ID, haven.OutcomeSuccess); n != 1 {
		t.Errorf("delivery audited %d times, want 1", n)
	}
}

func testPNG(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 40, 30))
	for x := range 40 {
		for y := range 30 {
			img.Set(x, y, color.RGBA{uint8(x * 6), uint8(y * 8), 77, 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestPhotos: a child's photo is held encrypted (no file under the data
// directory holds its bytes), read back intact, and only images are taken.
func TestPhotos(t *testing.T) {
	s := newSetup(t, "sqlite")
	cw := s.env.App.Casework
	c := s.open(t)
	data := testPNG(t)
	p, err := cw.AddPhoto(s.ctx, s.specialist, c.ID, bytes.NewReader(data), "photo.png", "school photo")
	if err != nil {
		t.Fatal(err)
	}
	_, err = cw.AddPhoto(s.ctx, s.specialist, c.ID, strings.NewReader("not an image at all"), "notes.txt", "")
	wantKind(t, "a text file as photo", err, haven.KindInvalid)
	_, err = cw.AddPhoto(s.ctx, s.supervisor, c.ID, bytes.NewReader(data), "photo.png", "")
	wantKind(t, "supervisor adds a photo", err, haven.KindForbidden)

	err = filepath.WalkDir(s.env.Dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(b, data[len(data)/2:]) {
			t.Errorf("%s holds the photo in clear", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	rc, got, err := cw.Photo(s.ctx, s.specialist, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || !bytes.Equal(b, data) || got.ContentType != "image/png" {
		t.Errorf("read back: %d bytes, type %s, err %v", len(b), got.ContentType, err)
	}
	_, _, err = cw.Photo(s.ctx, s.support, p.ID)
	wantKind(t, "support coordinator opens a photo", err, haven.KindForbidden)
	v, err := cw.Case(s.ctx, s.specialist, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Photos) != 1 || v.Photos[0].Caption != "school photo" {
		t.Errorf("photos on the case: %d", len(v.Photos))
	}
}
