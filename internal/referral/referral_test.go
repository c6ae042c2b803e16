package referral_test

import (
	"bytes"
	"compress/zlib"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/audit"
	"github.com/haven-hotline/haven/internal/referral"
	"github.com/haven-hotline/haven/internal/store"
	"github.com/haven-hotline/haven/internal/store/storetest"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is what a test needs: the service over a fresh store, a clock,
// actors, agencies and one filed ESP report.
type env struct {
	store   *store.Store
	svc     *referral.Service
	clock   *fakeClock
	hooked  []int64
	analyst haven.Actor
	leA     haven.Actor // of the state ICAC task force
	leB     haven.Actor // of the county sheriff
	esp     haven.Actor
	icac    *haven.Agency
	fed     *haven.Agency
	intl    *haven.Agency
	county  *haven.Agency
	report  int64
}

func key() []byte {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return b
}

func setup(t *testing.T, engine string) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{store: storetest.Open(t, engine), clock: &fakeClock{t: time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)}}
	log := audit.New(key(), key(), e.clock, e.store.Dialect().AuditChains())
	e.svc = referral.New(e.store, log, e.clock, nil, referral.Options{
		AfterRefer: func(ctx context.Context, tx *store.Tx, a haven.Actor, reportID int64) error {
			e.hooked = append(e.hooked, reportID)
			return nil
		}})
	mk := func(name string, kind haven.AgencyKind) *haven.Agency {
		return &haven.Agency{ID: haven.NewID(), Name: name, Kind: kind, CreatedAt: e.clock.Now()}
	}
	e.icac = mk("Example State ICAC Task Force", haven.AgencyICAC)
	e.fed = mk("Example Federal Bureau", haven.AgencyFederal)
	e.intl = mk("Example International Liaison", haven.AgencyInternational)
	e.county = mk("Example County Sheriff's Office", haven.AgencyLocal)
	user := func(login string, role haven.Role, agency string) haven.Actor {
		u := &haven.User{ID: haven.NewID(), Login: login, DisplayName: "Test " + login, Role: role, AgencyID: agency,
			CreatedAt: e.clock.Now(), UpdatedAt: e.clock.Now()}
		if err := e.store.InTx(ctx, func(tx *store.Tx) error { return tx.CreateUser(ctx, u) }); err != nil {
			t.Fatal(err)
		}
		return haven.Actor{UserID: u.ID, Role: role, AgencyID: agency, Addr: "192.0.2.10", AuthAt: e.clock.Now()}
	}
	err := e.store.InTx(ctx, func(tx *store.Tx) error {
		for _, ag := range []*haven.Agency{e.icac, e.fed, e.intl, e.county} {
			if err := tx.CreateAgency(ctx, ag); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	e.analyst = user("analyst@example.org", haven.RoleIntake, "")
	e.leA = user("detective@icac.example.org", haven.RoleLE, e.icac.ID)
	e.leB = user("deputy@county.example.org", haven.RoleLE, e.county.ID)
	e.esp = user("example-photos", haven.RoleESP, "")
	e.report = e.newReport(t, haven.SourceESP, e.esp.UserID)
	return e
}

// newReport stores a filed report received now.
func (e *env) newReport(t *testing.T, source haven.ReportSource, submitter string) int64 {
	t.Helper()
	ctx := context.Background()
	now := e.clock.Now()
	yes := true
	r := &haven.Report{Source: source, Status: haven.ReportFinished, SubmitterID: submitter, OpenedAt: now, ModifiedAt: now, FinishedAt: now,
		Incident: haven.IncidentSummary{Type: haven.IncidentEnticement, Platform: "Example Chat", DateTime: now.Add(-time.Hour)},
		Reporter: haven.Reporter{ReportingPerson: haven.Person{FirstName: "Trust", LastName: "Team",
			Emails: []haven.Email{{Value: "safety@example.org", Verified: &yes}}, Phones: []haven.Phone{{Value: "555-0123"}}}},
		Reported: []haven.Involved{{Role: haven.RoleReported, ScreenName: "example-user-1",
			IPCaptures: []haven.IPCapture{{IPAddress: "198.51.100.7", EventName: "Login", DateTime: now.Add(-2 * time.Hour)}}}},
		AdditionalInfo: "Synthetic test report.",
	}
	err := e.store.InTx(ctx, func(tx *store.Tx) error {
		id, err := tx.NextReportNumber(ctx)
		if err != nil {
			return err
		}
		r.ID = id
		if err := tx.CreateReport(ctx, r, nil, time.Time{}); err != nil {
			return err
		}
		return tx.AddReportFile(ctx, &haven.ReportFile{ID: fileID(id), ReportID: id, AcquisitionID: "acq", ItemID: "item",
			Filename: "pattern.png", ContentType: "image/png", Size: 42, MD5: make([]byte, 16), SHA1: make([]byte, 20),
			SHA256: make([]byte, 32), UploadedAt: now})
	})
	if err != nil {
		t.Fatal(err)
	}
	return r.ID
}

// events returns the audit events of a type, newest first.
func (e *env) events(t *testing.T, typ string) []*haven.AuditEvent {
	t.Helper()
	var out []*haven.AuditEvent
	err := e.store.View(context.Background(), func(tx *store.Tx) (err error) {
		out, err = tx.RecentAuditEvents(context.Background(), store.AuditFilter{Type: typ})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func forEngines(t *testing.T, fn func(t *testing.T, e *env)) {
	for _, engine := range storetest.Engines() {
		t.Run(engine, func(t *testing.T) { fn(t, setup(t, engine)) })
	}
}

func wantKind(t *testing.T, what string, err error, kind haven.Kind) {
	t.Helper()
	if err == nil || haven.ErrorKind(err) != kind {
		t.Errorf("%s: got error %v, want kind %s", what, err, kind)
	}
}

func TestReferAgainKeepsTheFirstReferrals(t *testing.T) {
	forEngines(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		first, err := e.svc.Refer(ctx, e.analyst, e.report, []string{e.icac.ID}, "Suspect appears to be in the task force's area.")
		if err != nil || len(first) != 1 {
			t.Fatalf("refer: got %v %v", first, err)
		}
		e.clock.Advance(time.Hour)
		more, err := e.svc.Refer(ctx, e.analyst, e.report, []string{e.icac.ID, e.fed.ID, e.fed.ID}, "Federal interest too.")
		if err != nil || len(more) != 1 || more[0].AgencyID != e.fed.ID {
			t.Fatalf("refer again: got %v %v, want one new referral to the federal agency", more, err)
		}
		_, err = e.svc.Refer(ctx, e.analyst, e.report, []string{e.fed.ID, e.icac.ID}, "")
		wantKind(t, "refer to the same agencies", err, haven.KindConflict)
		all, err := e.svc.ReportReferrals(ctx, e.analyst, e.report)
		if err != nil || len(all) != 2 {
			t.Fatalf("referrals: got %v %v", all, err)
		}
		if a := all[0]; a.ID != first[0].ID || a.Note != "Suspect appears to be in the task force's area." || !a.ReferredAt.Equal(first[0].ReferredAt) || !a.Live() {
			t.Errorf("the first referral changed: %+v", a.Referral)
		}
		if len(e.hooked) != 2 || e.hooked[0] != e.report {
			t.Errorf("AfterRefer ran for %v, want twice for report %d", e.hooked, e.report)
		}
		if n := len(e.events(t, "referral.create")); n != 2 {
			t.Errorf("got %d referral.create events, want 2", n)
		}
		_, err = e.svc.Refer(ctx, e.analyst, e.report, nil, "")
		wantKind(t, "refer to nobody", err, haven.KindInvalid)
		_, err = e.svc.Refer(ctx, e.analyst, e.report, []string{haven.NewID()}, "")
		wantKind(t, "refer to an unknown agency", err, haven.KindInvalid)
		_, err = e.svc.Refer(ctx, e.analyst, e.report+100, []string{e.icac.ID}, "")
		wantKind(t, "refer an unknown report", err, haven.KindNotFound)
		_, err = e.svc.Refer(ctx, e.leA, e.report, []string{e.county.ID}, "")
		wantKind(t, "refer as law enforcement", err, haven.KindForbidden)
	})
}

func TestAfterReferFailureRollsBack(t *testing.T) {
	e := setup(t, "sqlite")
	ctx := context.Background()
	boom := errors.New("queue unavailable")
	e.svc.SetAfterRefer(func(context.Context, *store.Tx, haven.Actor, int64) error { return boom })
	if _, err := e.svc.Refer(ctx, e.analyst, e.report, []string{e.icac.ID}, ""); !errors.Is(err, boom) {
		t.Fatalf("got %v, want the hook's error", err)
	}
	if ok, err := e.svc.AgencyCanSee(ctx, e.icac.ID, e.report); ok || err != nil {
		t.Errorf("AgencyCanSee after a rolled-back referral: %v %v", ok, err)
	}
}

func TestRevocationTakesEffectAtOnce(t *testing.T) {
	forEngines(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		if _, err := e.svc.Refer(ctx, e.analyst, e.report, []string{e.icac.ID}, ""); err != nil {
			t.Fatal(err)
		}
		if ok, err := e.svc.AgencyCanSee(ctx, e.icac.ID, e.report); !ok || err != nil {
			t.Fatalf("AgencyCanSee before revocation: %v %v", ok, err)
		}
		if _, err := e.svc.Package(ctx, e.leA, e.report, referral.FormatPage); err != nil {
			t.Fatalf("package before revocation: %v", err)
		}
		err := e.svc.Revoke(ctx, e.analyst, e.report, e.icac.ID, "")
		wantKind(t, "revoke without a reason", err, haven.KindInvalid)
		if err := e.svc.Revoke(ctx, e.analyst, e.report, e.icac.ID, "Referred to the wrong agency."); err != nil {
			t.Fatal(err)
		}
		if ok, err := e.svc.AgencyCanSee(ctx, e.icac.ID, e.report); ok || err != nil {
			t.Errorf("AgencyCanSee after revocation: %v %v", ok, err)
		}
		_, err = e.svc.Package(ctx, e.leA, e.report, referral.FormatPage)
		wantKind(t, "package after revocation", err, haven.KindNotFound)
		wantKind(t, "acknowledge after revocation", e.svc.Acknowledge(ctx, e.leA, e.report), haven.KindNotFound)
		rows, err := e.svc.AgencyReferrals(ctx, e.leA, "", 0)
		if err != nil || len(rows) != 0 {
			t.Errorf("agency list after revocation: got %v %v", rows, err)
		}
		denied := e.events(t, "referral.read")
		if len(denied) != 2 || denied[0].Outcome != haven.OutcomeDenied || denied[1].Outcome != haven.OutcomeSuccess {
			t.Errorf("referral.read events: got %+v, want a success then a denial", denied)
		}
		wantKind(t, "revoke twice", e.svc.Revoke(ctx, e.analyst, e.report, e.icac.ID, "again"), haven.KindNotFound)
		// Referring again makes a new referral; the revoked one stays in
		// the history.
		if _, err := e.svc.Refer(ctx, e.analyst, e.report, []string{e.icac.ID}, "Correct after all."); err != nil {
			t.Fatal(err)
		}
		all, err := e.svc.ReportReferrals(ctx, e.analyst, e.report)
		if err != nil || len(all) != 2 || all[0].Live() || all[0].RevokeReason != "Referred to the wrong agency." || !all[1].Live() {
			t.Errorf("history: got %v %v", all, err)
		}
	})
}

func TestOtherAgencyGetsNotFound(t *testing.T) {
	forEngines(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		if _, err := e.svc.Refer(ctx, e.analyst, e.report, []string{e.icac.ID}, ""); err != nil {
			t.Fatal(err)
		}
		for _, id := range []int64{e.report, e.report + 1000} {
			for _, f := range []string{referral.FormatPage, referral.FormatPDF, referral.FormatJSON} {
				_, err := e.svc.Package(ctx, e.leB, id, f)
				if !errors.Is(err, haven.ErrNotFound) {
					t.Errorf("package %s of report %d for another agency: got %v, want ErrNotFound", f, id, err)
				}
			}
			for name, err := range map[string]error{
				"acknowledge": e.svc.Acknowledge(ctx, e.leB, id),
				"ask":         e.svc.Ask(ctx, e.leB, id, ""),
				"outcome":     e.svc.RecordOutcome(ctx, e.leB, id, "made-up", ""),
			} {
				if !errors.Is(err, haven.ErrNotFound) {
					t.Errorf("%s on report %d for another agency: got %v, want ErrNotFound", name, id, err)
				}
			}
		}
		rows, err := e.svc.AgencyReferrals(ctx, e.leB, "", 0)
		if err != nil || len(rows) != 0 {
			t.Errorf("the other agency's list: got %v %v", rows, err)
		}
		if ok, _ := e.svc.AgencyCanSee(ctx, e.county.ID, e.report); ok {
			t.Error("AgencyCanSee is true for an agency the report was not referred to")
		}
		for _, ev := range e.events(t, "referral.outcome") {
			if ev.Outcome != haven.OutcomeDenied || ev.AgencyID != e.county.ID {
				t.Errorf("refused outcome event: %+v", ev)
			}
		}
	})
}

func TestAgencyWorkflowFlowsBack(t *testing.T) {
	forEngines(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		if _, err := e.svc.Refer(ctx, e.analyst, e.report, []string{e.icac.ID}, "Please review."); err != nil {
			t.Fatal(err)
		}
		rows, err := e.svc.AgencyReferrals(ctx, e.leA, "", 0)
		if err != nil || len(rows) != 1 || rows[0].ReportID != e.report || rows[0].Status() != "New" {
			t.Fatalf("agency list: got %v %v", rows, err)
		}
		if d := rows[0].Preservation; !d.Applies || d.DaysLeft != 365 || d.Overdue {
			t.Errorf("preservation: got %+v, want 365 days left", d)
		}
		if err := e.svc.Acknowledge(ctx, e.leA, e.report); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.Acknowledge(ctx, e.leA, e.report); err != nil {
			t.Errorf("acknowledging twice: %v", err)
		}
		wantKind(t, "empty question", e.svc.Ask(ctx, e.leA, e.report, "  "), haven.KindInvalid)
		if err := e.svc.Ask(ctx, e.leA, e.report, "Do you hold the subscriber details?"); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.Reply(ctx, e.analyst, e.report, e.icac.ID, "Yes: see the ESP's supplement."); err != nil {
			t.Fatal(err)
		}
		wantKind(t, "unknown code", e.svc.RecordOutcome(ctx, e.leA, e.report, "solved", ""), haven.KindInvalid)
		if err := e.svc.RecordOutcome(ctx, e.leA, e.report, referral.OutcomeInvestigation, "Case 2026-0001."); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(24 * time.Hour)
		if err := e.svc.RecordOutcome(ctx, e.leA, e.report, referral.OutcomeSafeguarded, "Child safe."); err != nil {
			t.Fatal(err)
		}
		p, err := e.svc.Panel(ctx, e.analyst, e.report, "US", "CA")
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Referrals) != 1 {
			t.Fatalf("panel referrals: %v", p.Referrals)
		}
		v := p.Referrals[0]
		if !v.Acknowledged() || len(v.Outcomes) != 2 || v.Outcome().Code != string(referral.OutcomeSafeguarded) || len(v.Messages) != 2 ||
			v.Messages[0].Sender != store.SenderAgency || v.Messages[1].Sender != store.SenderHotline {
			t.Errorf("panel referral: %+v outcomes %v messages %v", v.Referral, v.Outcomes, v.Messages)
		}
		if p.Names[e.leA.UserID] != "Test detective@icac.example.org" {
			t.Errorf("names: %v", p.Names)
		}
		if p.Region != "US-CA" || !p.Preservation.Applies {
			t.Errorf("panel place and preservation: %q %+v", p.Region, p.Preservation)
		}
		for _, ag := range p.Agencies {
			if ag.ID == e.icac.ID {
				t.Error("the panel offers an agency that already holds a live referral")
			}
		}
		// The agency sees its own thread, with hotline staff unnamed.
		pkg, err := e.svc.Package(ctx, e.leA, e.report, referral.FormatPage)
		if err != nil {
			t.Fatal(err)
		}
		if got := pkg.Names[e.analyst.UserID]; got != "Hotline staff" {
			t.Errorf("an agency sees the analyst as %q, want Hotline staff", got)
		}
		for _, typ := range []string{"referral.acknowledge", "referral.message", "referral.outcome"} {
			if len(e.events(t, typ)) == 0 {
				t.Errorf("no %s event", typ)
			}
		}
	})
}

func TestSuggestByRules(t *testing.T) {
	forEngines(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		admin := haven.Actor{UserID: e.analyst.UserID, Role: haven.RoleSupervisor, AuthAt: e.clock.Now()}
		areas, err := referral.ParseAreas("us-ca, US-OR\nus-nv")
		if err != nil {
			t.Fatal(err)
		}
		if err := e.svc.SetAreas(ctx, admin, e.icac.ID, areas); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.SetAreas(ctx, admin, e.fed.ID, []store.AgencyArea{{Country: "us"}}); err != nil {
			t.Fatal(err)
		}
		wantKind(t, "bad area", e.svc.SetAreas(ctx, admin, e.fed.ID, []store.AgencyArea{{Country: "ZZ"}}), haven.KindInvalid)
		wantKind(t, "areas as an analyst", e.svc.SetAreas(ctx, e.analyst, e.fed.ID, nil), haven.KindForbidden)
		rules := []store.JurisdictionRule{
			{Label: "The region's ICAC task force", AgencyKind: haven.AgencyICAC},
			{Label: "The country's federal agency", AgencyKind: haven.AgencyFederal},
			{Label: "International liaison", AgencyID: e.intl.ID, Fallback: true},
		}
		var ids []string
		for _, r := range rules {
			got, err := e.svc.AddRule(ctx, admin, r)
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, got.ID)
		}
		_, err = e.svc.AddRule(ctx, admin, store.JurisdictionRule{AgencyKind: haven.AgencyICAC, AgencyID: e.icac.ID})
		wantKind(t, "rule with both", err, haven.KindInvalid)
		_, err = e.svc.AddRule(ctx, admin, store.JurisdictionRule{Country: "US", Region: "FR-75", AgencyKind: haven.AgencyICAC})
		wantKind(t, "rule with a region outside its country", err, haven.KindInvalid)
		names := func(country, region string) []string {
			t.Helper()
			got, err := e.svc.Suggest(ctx, e.analyst, country, region)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, s := range got {
				if s.Rule == nil || s.Reason == "" {
					t.Errorf("suggestion without its rule: %+v", s)
				}
				out = append(out, s.Agency.Name)
			}
			return out
		}
		check := func(country, region string, want ...string) {
			t.Helper()
			if got := names(country, region); strings.Join(got, "|") != strings.Join(want, "|") {
				t.Errorf("Suggest(%q, %q): got %q, want %q", country, region, got, want)
			}
		}
		check("US", "US-CA", e.icac.Name, e.fed.Name)
		check("us", "ca", e.icac.Name, e.fed.Name)
		check("US", "US-TX", e.fed.Name)
		check("FR", "", e.intl.Name)
		check("", "", e.intl.Name)
		got, err := e.svc.Suggest(ctx, e.analyst, "US", "US-CA")
		if err != nil || got[0].RuleNumber != 1 || got[0].Area == nil || got[0].Area.Region != "US-CA" || got[1].RuleNumber != 2 {
			t.Errorf("suggestion details: %+v %v", got, err)
		}
		if err := e.svc.MoveRule(ctx, admin, ids[1], -1); err != nil {
			t.Fatal(err)
		}
		check("US", "US-CA", e.fed.Name, e.icac.Name)
		if err := e.svc.DeleteRule(ctx, admin, ids[2]); err != nil {
			t.Fatal(err)
		}
		check("FR", "")
		_, err = e.svc.Suggest(ctx, e.analyst, "XX", "")
		wantKind(t, "unknown country", err, haven.KindInvalid)
		wantKind(t, "delete twice", e.svc.DeleteRule(ctx, admin, ids[2]), haven.KindNotFound)
		for _, typ := range []string{"agency.areas", "jurisdiction.rule_add", "jurisdiction.rule_move", "jurisdiction.rule_delete"} {
			if len(e.events(t, typ)) == 0 {
				t.Errorf("no %s event", typ)
			}
		}
	})
}

func TestParsePlace(t *testing.T) {
	tests := []struct {
		name, country, region string
		wantC, wantR          string
		wantErr               bool
	}{
		{"country", "fr", "", "FR", "", false},
		{"region code", "US", "us-ca", "US", "US-CA", false},
		{"short region", "US", "CA", "US", "US-CA", false},
		{"region only", "", "GB-SCT", "GB", "GB-SCT", false},
		{"unknown", "", "", "", "", false},
		{"not a country", "EU", "", "", "", true},
		{"three letters", "USA", "", "", "", true},
		{"region of another country", "US", "MX-BCN", "", "", true},
		{"bad region", "US", "US-CALIF", "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, r, err := referral.ParsePlace(tt.country, tt.region)
			if (err != nil) != tt.wantErr || c != tt.wantC || r != tt.wantR {
				t.Errorf("ParsePlace(%q, %q) = %q, %q, %v", tt.country, tt.region, c, r, err)
			}
		})
	}
}

func TestPreservation(t *testing.T) {
	received := time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		source  haven.ReportSource
		now     time.Time
		applies bool
		days    int
		overdue bool
		soon    bool
	}{
		{"just received", haven.SourceESP, received, true, 365, false, false},
		{"json api", haven.SourceAPI, received.AddDate(0, 11, 20), true, 11, false, true},
		{"last hour", haven.SourceESP, received.AddDate(1, 0, 0).Add(-time.Hour), true, 1, false, true},
		{"passed", haven.SourceESP, received.AddDate(1, 0, 3), true, -3, true, false},
		{"public form", haven.SourcePublic, received, false, 0, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := referral.PreservationOf(tt.source, received, tt.now)
			if p.Applies != tt.applies || p.DaysLeft != tt.days || p.Overdue != tt.overdue || p.Soon != tt.soon {
				t.Errorf("got %+v, want applies %v days %d overdue %v soon %v", p, tt.applies, tt.days, tt.overdue, tt.soon)
			}
		})
	}
}

// pdfText returns the text-showing strings of a PDF's content streams,
// inflating compressed ones: enough to check what a page says.
func pdfText(t *testing.T, b []byte) string {
	t.Helper()
	var out strings.Builder
	streams := regexp.MustCompile(`(?s)stream\r?\n(.*?)\r?\nendstream`).FindAllSubmatch(b, -1)
	str := regexp.MustCompile(`\(((?:\\.|[^\\)])*)\)\s*Tj`)
	for _, m := range streams {
		data := m[1]
		if zr, err := zlib.NewReader(bytes.NewReader(data)); err == nil {
			if inflated, err := io.ReadAll(zr); err == nil {
				data = inflated
			}
		}
		for _, s := range str.FindAllSubmatch(data, -1) {
			out.Write(s[1])
			out.WriteByte('\n')
		}
	}
	return out.String()
}

func TestPackageFormats(t *testing.T) {
	forEngines(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		public := e.newReport(t, haven.SourcePublic, "")
		for _, id := range []int64{e.report, public} {
			if _, err := e.svc.Refer(ctx, e.analyst, id, []string{e.icac.ID}, "Note for the agency."); err != nil {
				t.Fatal(err)
			}
		}
		p, err := e.svc.Package(ctx, e.leA, e.report, referral.FormatPDF)
		if err != nil {
			t.Fatal(err)
		}
		var pdf bytes.Buffer
		if err := referral.WritePDF(&pdf, p); err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(pdf.Bytes(), []byte("%PDF-")) {
			t.Fatalf("the PDF starts with %q", pdf.Bytes()[:min(pdf.Len(), 8)])
		}
		text := pdfText(t, pdf.Bytes())
		for _, want := range []string{"Report " + itoa(e.report), e.icac.Name, "Note for the agency.", "example-user-1", fileID(e.report)} {
			if !strings.Contains(text, want) {
				t.Errorf("the PDF text lacks %q:\n%s", want, text)
			}
		}

		// JSON: the CyberTipline form of the document, the files, the
		// agency's own referral; a public reporter's details withheld.
		for _, tc := range []struct {
			id       int64
			withheld bool
		}{{e.report, false}, {public, true}} {
			p, err := e.svc.Package(ctx, e.leA, tc.id, referral.FormatJSON)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := referral.WriteJSON(&buf, p); err != nil {
				t.Fatal(err)
			}
			var doc struct {
				Format string `json:"format"`
				Report struct {
					ID               int64           `json:"id"`
					Document         json.RawMessage `json:"document"`
					DocumentFormat   string          `json:"documentFormat"`
					ReporterWithheld bool            `json:"reporterWithheld"`
					Files            []struct {
						ID string `json:"fileId"`
					} `json:"files"`
				} `json:"report"`
				Preservation *struct {
					DaysLeft int `json:"daysLeft"`
				} `json:"preservation"`
				Referrals []struct {
					Agency struct {
						Name string `json:"name"`
					} `json:"agency"`
				} `json:"referrals"`
			}
			if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
				t.Fatalf("decode: %v\n%s", err, buf.String())
			}
			if doc.Format != referral.PackageFormat || doc.Report.ID != tc.id || len(doc.Report.Files) != 1 ||
				len(doc.Referrals) != 1 || doc.Referrals[0].Agency.Name != e.icac.Name || doc.Report.ReporterWithheld != tc.withheld {
				t.Errorf("package JSON of report %d:\n%s", tc.id, buf.String())
			}
			if doc.Report.DocumentFormat != "cybertip-json" || !strings.Contains(string(doc.Report.Document), "incidentSummary") {
				t.Errorf("document of report %d: format %q %s", tc.id, doc.Report.DocumentFormat, doc.Report.Document)
			}
			if got := strings.Contains(buf.String(), "safety@example.org"); got == tc.withheld {
				t.Errorf("report %d: reporter e-mail present = %v, want %v", tc.id, got, !tc.withheld)
			}
			if (doc.Preservation != nil) == tc.withheld {
				t.Errorf("report %d: preservation %+v", tc.id, doc.Preservation)
			}
		}
		if n := len(e.events(t, "referral.download")); n != 3 {
			t.Errorf("got %d referral.download events, want 3", n)
		}
	})
}

// fileID is the ID of the one file of a test report.
func fileID(report int64) string { return fmt.Sprintf("%032x", report) }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestESPFeedback(t *testing.T) {
	forEngines(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		// May: the setup's report and six more (7 filed), two referred
		// (so informational, 5, is withheld), one outcome. June: three reports (omitted). July: 5 reports, all
		// referred, 5 outcomes "arrest".
		may := []int64{e.report}
		for range 6 {
			may = append(may, e.newReport(t, haven.SourceESP, e.esp.UserID))
		}
		e.newReport(t, haven.SourceESP, "another-esp")
		if _, err := e.svc.Refer(ctx, e.analyst, may[0], []string{e.icac.ID, e.fed.ID}, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Refer(ctx, e.analyst, may[1], []string{e.icac.ID}, ""); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.RecordOutcome(ctx, e.leA, may[0], referral.OutcomeArrest, ""); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(31 * 24 * time.Hour)
		for range 3 {
			e.newReport(t, haven.SourceESP, e.esp.UserID)
		}
		e.clock.Advance(30 * 24 * time.Hour)
		for range 5 {
			id := e.newReport(t, haven.SourceESP, e.esp.UserID)
			if _, err := e.svc.Refer(ctx, e.analyst, id, []string{e.icac.ID}, ""); err != nil {
				t.Fatal(err)
			}
			if err := e.svc.RecordOutcome(ctx, e.leA, id, referral.OutcomeArrest, ""); err != nil {
				t.Fatal(err)
			}
		}
		f, err := e.svc.ESPFeedback(ctx, e.esp)
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(f.Months)
		if err != nil {
			t.Fatal(err)
		}
		want := `[{"month":"2026-07","reports":5,"referred":5,"informational":0,"outcomes":{"arrest":5}},` +
			`{"month":"2026-05","reports":7,"referred":"\u003c5","outcomes":{"arrest":"\u003c5"}}]`
		if string(b) != want {
			t.Errorf("feedback months:\n got %s\nwant %s", b, want)
		}
		_, err = e.svc.ESPFeedback(ctx, e.analyst)
		wantKind(t, "feedback for staff", err, haven.KindForbidden)
		if len(e.events(t, "feedback.read")) != 1 {
			t.Error("the feedback read was not audited")
		}
	})
}
