package offender_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/audit"
	"github.com/haven-hotline/haven/internal/offender"
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

func (c *fakeClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func key() []byte {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return b
}

// fakeReports stands for the CyberTipline reports: one tip (report 42)
// carries a phone number, another (report 43) a place and a time.
type fakeReports struct {
	byIdentifier map[string][]int64
	events       []offender.ReportEvent
}

func (f *fakeReports) ReportEvents(context.Context) ([]offender.ReportEvent, error) {
	return f.events, nil
}
func (f *fakeReports) ReportsWithIdentifier(_ context.Context, kind, value string) ([]int64, error) {
	return f.byIdentifier[kind+":"+value], nil
}

type env struct {
	store   *store.Store
	svc     *offender.Service
	clock   *fakeClock
	analyst haven.Actor
	le      haven.Actor // of agency A
	leB     haven.Actor // of agency B
	intake  haven.Actor
	reports *fakeReports
}

func setup(t *testing.T, engine string) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{store: storetest.Open(t, engine), clock: &fakeClock{t: time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)},
		reports: &fakeReports{byIdentifier: map[string][]int64{}}}
	log := audit.New(key(), key(), e.clock, e.store.Dialect().AuditChains())
	e.svc = offender.New(e.store, log, e.clock, nil, nil, offender.Options{})
	e.svc.SetReportSource(e.reports)
	now := e.clock.Now()
	agA := &haven.Agency{ID: haven.NewID(), Name: "Example County Sheriff", Kind: haven.AgencyICAC, CreatedAt: now}
	agB := &haven.Agency{ID: haven.NewID(), Name: "Example City Police", Kind: haven.AgencyICAC, CreatedAt: now}
	if err := e.store.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.CreateAgency(ctx, agA); err != nil {
			return err
		}
		return tx.CreateAgency(ctx, agB)
	}); err != nil {
		t.Fatal(err)
	}
	e.analyst = haven.Actor{UserID: "off1", Role: haven.RoleOffender, AuthAt: now}
	e.intake = haven.Actor{UserID: "int1", Role: haven.RoleIntake, AuthAt: now}
	e.le = haven.Actor{UserID: "le1", Role: haven.RoleLE, AgencyID: agA.ID, AuthAt: now}
	e.leB = haven.Actor{UserID: "le2", Role: haven.RoleLE, AgencyID: agB.ID, AuthAt: now}
	return e
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (e *env) saveMapping(t *testing.T, name string) *offender.Mapping {
	t.Helper()
	m, err := offender.ParseMapping(readFile(t, name))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.SaveMapping(context.Background(), e.analyst, *m); err != nil {
		t.Fatal(err)
	}
	return m
}

// importFile previews and applies an export, returning the preview.
func (e *env) importFile(t *testing.T, source, name string) (*store.OffenderImport, *offender.Preview) {
	t.Helper()
	ctx := context.Background()
	im, pv, err := e.svc.StartImport(ctx, e.analyst, source, name, readFile(t, name))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.ApplyImport(ctx, e.analyst, im.ID); err != nil {
		t.Fatal(err)
	}
	done, _, err := e.svc.Import(ctx, e.analyst, im.ID)
	if err != nil {
		t.Fatal(err)
	}
	if done.Status != offender.ImportDone {
		t.Fatalf("import status %s, want done", done.Status)
	}
	return done, pv
}

func (e *env) byKey(t *testing.T, source, key string) *offender.Record {
	t.Helper()
	ctx := context.Background()
	var id string
	if err := e.store.View(ctx, func(tx *store.Tx) error {
		o, err := tx.OffenderBySourceKey(ctx, source, key)
		if err == nil {
			id = o.ID
		}
		return err
	}); err != nil {
		t.Fatalf("record %s/%s: %v", source, key, err)
	}
	rec, err := e.svc.Offender(ctx, e.analyst, id)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

func hasProblem(problems []string, record, words string) bool {
	return slices.ContainsFunc(problems, func(p string) bool {
		return strings.HasPrefix(p, "record "+record+":") && strings.Contains(p, words)
	})
}

func TestSampleExportsImportWithTheirMappings(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(engine, func(t *testing.T) {
			e := setup(t, engine)
			e.saveMapping(t, "state_a_mapping.json")
			e.saveMapping(t, "state_b_mapping.json")

			imA, pvA := e.importFile(t, "state-a", "state_a.csv")
			if pvA.Records != 7 || pvA.New != 4 || pvA.Rejected != 3 || pvA.Updated != 0 {
				t.Errorf("state A preview: %+v, want 7 records, 4 new, 3 rejected", pvA)
			}
			if imA.Added != 4 || imA.Rejected != 3 || imA.Records != 7 {
				t.Errorf("state A import: added %d rejected %d records %d", imA.Added, imA.Rejected, imA.Records)
			}
			for _, want := range []struct{ record, words string }{{"4", "tier"}, {"5", "name is missing"}, {"6", "dob is not a date"}} {
				if !hasProblem(strings.Split(imA.Problems, "\n"), want.record, want.words) {
					t.Errorf("state A: no problem for record %s mentioning %q in %q", want.record, want.words, imA.Problems)
				}
			}
			// No rejected row's value appears in the reasons.
			if strings.Contains(imA.Problems, "31/12/1985") || strings.Contains(imA.Problems, "IV") {
				t.Errorf("a reason quotes the rejected value: %q", imA.Problems)
			}
			one := e.byKey(t, "state-a", "A-1001")
			if one.Name != "Example Person One" || one.Tier != 3 || one.Status != offender.StatusCompliant || one.Jurisdiction != "State A" ||
				one.HeightCM != 180 || !one.LastVerified.Equal(time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)) {
				t.Errorf("A-1001: %+v", one.Offender)
			}
			res := one.Current(offender.FactResidence)
			if len(res) != 1 || res[0].Detail != offender.ResidencePermanent || !res[0].HasGeo || res[0].Lat != 40.71 ||
				!res[0].ValidFrom.Equal(time.Date(2024, 1, 15, 0, 0, 0, 0, time.UTC)) {
				t.Errorf("A-1001 residence: %+v", res)
			}
			if p := one.Current(offender.FactPhone); len(p) != 1 || p[0].Norm != "+12025550101" {
				t.Errorf("A-1001 phone: %+v", p)
			}
			if a := one.Current(offender.FactName); len(a) != 2 {
				t.Errorf("A-1001 aliases: got %d, want 2", len(a))
			}
			if v := one.Current(offender.FactVehicle); len(v) != 1 || v[0].Norm != "EXM1001" || v[0].Detail != "blue 2012 Example van" {
				t.Errorf("A-1001 vehicle: %+v", v)
			}
			if three := e.byKey(t, "state-a", "A-1003"); three.Status != offender.StatusNoncompliant {
				t.Errorf("A-1003 status from the mapping's statuses: got %s", three.Status)
			}

			imB, pvB := e.importFile(t, "state-b", "state_b.json")
			if pvB.Records != 7 || pvB.New != 3 || pvB.Rejected != 4 {
				t.Errorf("state B preview: %+v, want 7 records, 3 new, 4 rejected", pvB)
			}
			for _, want := range []struct{ record, words string }{{"4", "not a JSON object"}, {"5", "phone"}, {"6", "identifier"},
				{"7", "status"}} {
				if !hasProblem(strings.Split(imB.Problems, "\n"), want.record, want.words) {
					t.Errorf("state B: no problem for record %s mentioning %q in %q", want.record, want.words, imB.Problems)
				}
			}
			eleven := e.byKey(t, "state-b", "B-2001")
			if eleven.Tier != 2 || eleven.Jurisdiction != "State B" || eleven.Eyes != "grey" || eleven.WeightKG != 95 {
				t.Errorf("B-2001: %+v", eleven.Offender)
			}
			if d := eleven.Current(offender.FactDOB); len(d) != 2 {
				t.Errorf("B-2001 dates of birth: got %d, want 2", len(d))
			}
			if h := eleven.Current(offender.FactInternet); len(h) != 1 || h[0].Norm == "" {
				t.Errorf("B-2001 handle: %+v", h)
			}
			if twelve := e.byKey(t, "state-b", "B-2002"); twelve.Status != offender.StatusAbsconded ||
				twelve.Current(offender.FactResidence)[0].Detail != offender.ResidenceTemporary {
				t.Errorf("B-2002: %+v", twelve.Offender)
			}
			if thirteen := e.byKey(t, "state-b", "B-2003"); thirteen.Status != offender.StatusMovedOut {
				t.Errorf("B-2003 status: %s", thirteen.Status)
			}
		})
	}
}

func TestReimportKeepsHistory(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(engine, func(t *testing.T) {
			e := setup(t, engine)
			ctx := context.Background()
			e.saveMapping(t, "state_a_mapping.json")
			e.importFile(t, "state-a", "state_a.csv")
			first := e.byKey(t, "state-a", "A-1001")

			moved := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
			e.clock.set(moved)
			im, pv, err := e.svc.StartImport(ctx, e.analyst, "state-a", "state_a_v2.csv", readFile(t, "state_a_v2.csv"))
			if err != nil {
				t.Fatal(err)
			}
			if pv.Updated != 1 || pv.Unchanged != 1 || pv.New != 0 || pv.Rejected != 0 {
				t.Errorf("re-import preview: %+v, want 1 updated and 1 unchanged", pv)
			}
			if len(pv.Changes) != 1 || pv.Changes[0].Key != "A-1001" ||
				!slices.Contains(pv.Changes[0].Changes, "status compliant → absconded") ||
				!slices.Contains(pv.Changes[0].Changes, "residence: 1 new, 1 ended") ||
				!slices.Contains(pv.Changes[0].Changes, "employment: 0 new, 1 ended") {
				t.Errorf("re-import changes: %+v", pv.Changes)
			}
			// The preview changes nothing.
			if r := e.byKey(t, "state-a", "A-1001"); r.Status != offender.StatusCompliant || len(r.History(offender.FactResidence)) != 1 {
				t.Errorf("the preview changed the record: %+v", r.Offender)
			}
			if err := e.svc.ApplyImport(ctx, e.analyst, im.ID); err != nil {
				t.Fatal(err)
			}
			if err := e.svc.ApplyImport(ctx, e.analyst, im.ID); !haven.IsKind(err, haven.KindConflict) {
				t.Errorf("applying twice: got %v, want a conflict", err)
			}
			r := e.byKey(t, "state-a", "A-1001")
			if r.ID != first.ID || r.Status != offender.StatusAbsconded {
				t.Errorf("after re-import: id %s (was %s), status %s", r.ID, first.ID, r.Status)
			}
			hist := r.History(offender.FactResidence)
			if len(hist) != 2 {
				t.Fatalf("residence history: got %d, want 2", len(hist))
			}
			var old, cur *store.OffenderFact
			for _, f := range hist {
				if f.ValidTo.IsZero() {
					cur = f
				} else {
					old = f
				}
			}
			if old == nil || cur == nil || !old.ValidTo.Equal(moved) || !strings.HasPrefix(old.Value, "100 Example Street") ||
				cur.Detail != offender.ResidenceTemporary || !cur.ValidFrom.Equal(time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)) {
				t.Errorf("residence history: old %+v, current %+v", old, cur)
			}
			if emp := r.History(offender.FactEmployment); len(emp) != 1 || !emp[0].ValidTo.Equal(moved) {
				t.Errorf("employment ended: %+v", emp)
			}
			if len(r.Current(offender.FactEmployment)) != 0 {
				t.Error("an employer the registry no longer lists is still current")
			}
			var statuses []string
			for _, f := range r.History(offender.FactStatus) {
				statuses = append(statuses, f.Value+map[bool]string{true: " (open)", false: " (closed)"}[f.ValidTo.IsZero()])
			}
			if want := []string{"compliant (closed)", "absconded (open)"}; !slices.Equal(statuses, want) {
				t.Errorf("status events: got %v, want %v", statuses, want)
			}
			if p := r.Current(offender.FactPhone); len(p) != 1 || p[0].ValidTo.IsZero() == false {
				t.Errorf("the unchanged phone: %+v", p)
			}
			// Applying the same export a third time changes nothing.
			_, pv3 := e.importFile(t, "state-a", "state_a_v2.csv")
			if pv3.Unchanged != 2 || pv3.Updated != 0 {
				t.Errorf("a repeated export: %+v, want 2 unchanged", pv3)
			}
			if n := len(e.byKey(t, "state-a", "A-1001").History(offender.FactResidence)); n != 2 {
				t.Errorf("residence history after a repeated export: got %d, want 2", n)
			}
		})
	}
}

func TestComplianceByTier(t *testing.T) {
	verified := time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		tier   int
		status string
		now    time.Time
		want   string
		due    time.Time
	}{
		{"tier I within the year", 1, "compliant", time.Date(2027, 1, 9, 0, 0, 0, 0, time.UTC), "compliant", time.Date(2027, 1, 10, 0, 0, 0, 0, time.UTC)},
		{"tier I a year late", 1, "compliant", time.Date(2027, 1, 11, 0, 0, 0, 0, time.UTC), "noncompliant", time.Date(2027, 1, 10, 0, 0, 0, 0, time.UTC)},
		{"tier II within six months", 2, "compliant", time.Date(2026, 7, 9, 0, 0, 0, 0, time.UTC), "compliant", time.Date(2026, 7, 10, 0, 0, 0, 0, time.UTC)},
		{"tier II after six months", 2, "compliant", time.Date(2026, 7, 11, 0, 0, 0, 0, time.UTC), "noncompliant", time.Date(2026, 7, 10, 0, 0, 0, 0, time.UTC)},
		{"tier III within three months", 3, "compliant", time.Date(2026, 4, 9, 0, 0, 0, 0, time.UTC), "compliant", time.Date(2026, 4, 10, 0, 0, 0, 0, time.UTC)},
		{"tier III after three months", 3, "compliant", time.Date(2026, 4, 11, 0, 0, 0, 0, time.UTC), "noncompliant", time.Date(2026, 4, 10, 0, 0, 0, 0, time.UTC)},
		{"unknown tier takes three months", 0, "compliant", time.Date(2026, 4, 11, 0, 0, 0, 0, time.UTC), "noncompliant", time.Date(2026, 4, 10, 0, 0, 0, 0, time.UTC)},
		{"absconded set by the registry", 1, "absconded", time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), "absconded", time.Date(2027, 1, 10, 0, 0, 0, 0, time.UTC)},
		{"incarcerated is outside the schedule", 3, "incarcerated", time.Date(2028, 1, 1, 0, 0, 0, 0, time.UTC), "incarcerated", time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := &store.Offender{Tier: tt.tier, Status: tt.status, LastVerified: verified, RegisteredOn: verified.AddDate(-5, 0, 0)}
			c := offender.Assess(o, tt.now)
			if c.Status != tt.want || !c.Due.Equal(tt.due) {
				t.Errorf("got %s due %v, want %s due %v (%s)", c.Status, c.Due, tt.want, tt.due, c.Reason)
			}
		})
	}
}

func TestNoncompliantListWithInjectedClock(t *testing.T) {
	e := setup(t, "sqlite")
	ctx := context.Background()
	e.saveMapping(t, "state_a_mapping.json")
	e.saveMapping(t, "state_b_mapping.json")
	e.importFile(t, "state-a", "state_a.csv")
	e.importFile(t, "state-b", "state_b.json")
	names := func() map[string][]string {
		lists, err := e.svc.NoncompliantList(ctx, e.analyst, "")
		if err != nil {
			t.Fatal(err)
		}
		out := map[string][]string{}
		for _, l := range lists {
			for _, en := range l.Entries {
				out[l.Jurisdiction] = append(out[l.Jurisdiction], en.Offender.SourceKey)
			}
		}
		return out
	}
	// 2026-11-01: A-1001 (tier III, verified 2026-09-01) is due 2026-12-01;
	// A-1002 (tier I, 2026-04-01) due 2027-04-01; A-1003 noncompliant by
	// status; B-2001 (tier II, 2026-08-01) due 2027-02-01; B-2002
	// absconded; A-1007 incarcerated and B-2003 moved out are outside.
	got := names()
	if want := map[string][]string{"State A": {"A-1003"}, "State B": {"B-2002"}}; !equalLists(got, want) {
		t.Errorf("on 2026-11-01: got %v, want %v", got, want)
	}
	e.clock.set(time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC))
	got = names()
	if want := map[string][]string{"State A": {"A-1003", "A-1001"}, "State B": {"B-2002"}}; !equalLists(got, want) {
		t.Errorf("on 2026-12-02: got %v, want %v", got, want)
	}
	if _, err := e.svc.NoncompliantList(ctx, e.le, ""); !haven.IsKind(err, haven.KindForbidden) {
		t.Errorf("an LE user lists noncompliant offenders: got %v, want forbidden", err)
	}
}

func equalLists(a, b map[string][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

func TestLinkageFindsPlantedOffenders(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(engine, func(t *testing.T) {
			e := setup(t, engine)
			ctx := context.Background()
			e.saveMapping(t, "state_a_mapping.json")
			e.importFile(t, "state-a", "state_a.csv")
			one := e.byKey(t, "state-a", "A-1001")   // lives at 40.71, -77.01 since 2024-01-15
			two := e.byKey(t, "state-a", "A-1002")   // phone +1 202 555 0102
			three := e.byKey(t, "state-a", "A-1003") // homeless area 40.80, -77.20 since 2026-02-01

			near, err := e.svc.RecordIncident(ctx, e.analyst, offender.IncidentInput{Kind: offender.IncidentAttemptedAbduction,
				OccurredAt: time.Date(2026, 6, 3, 15, 30, 0, 0, time.UTC), Place: "Example Park", Lat: "40.7150", Lon: "-77.0050",
				Person: "adult male, dark jacket", Vehicle: "blue van", Outcome: "child ran to a teacher"})
			if err != nil {
				t.Fatal(err)
			}
			// Near A-1003's area but years before he was there: no link.
			early, err := e.svc.RecordIncident(ctx, e.analyst, offender.IncidentInput{Kind: offender.IncidentAttemptedAbduction,
				OccurredAt: time.Date(2020, 6, 3, 0, 0, 0, 0, time.UTC), Lat: "40.8010", Lon: "-77.2010"})
			if err != nil {
				t.Fatal(err)
			}
			// Far from everyone.
			far, err := e.svc.RecordIncident(ctx, e.analyst, offender.IncidentInput{Kind: offender.IncidentMissingChild,
				OccurredAt: time.Date(2026, 6, 3, 0, 0, 0, 0, time.UTC), Lat: "35.0", Lon: "-90.0"})
			if err != nil {
				t.Fatal(err)
			}
			// A tip carries A-1002's phone number.
			e.reports.byIdentifier["phone:+12025550102"] = []int64{42}
			res, err := e.svc.RunLinkage(ctx, e.analyst)
			if err != nil {
				t.Fatal(err)
			}
			if res.Periods == 0 || res.Points != 3 {
				t.Errorf("linkage read %d periods and %d points", res.Periods, res.Points)
			}
			links, err := e.svc.Links(ctx, e.analyst, offender.LinkCandidate)
			if err != nil {
				t.Fatal(err)
			}
			find := func(off, typ, target string) *offender.LinkView {
				for _, l := range links {
					if l.OffenderID == off && l.TargetType == typ && l.TargetID == target {
						return l
					}
				}
				return nil
			}
			placeLink := find(one.ID, "incident", near.ID)
			if placeLink == nil {
				t.Fatalf("the offender living near the attempted abduction is not linked; links: %v", links)
			}
			if placeLink.Score < 50 || len(placeLink.Reasons) == 0 || !strings.Contains(placeLink.Reasons[0], "km from the attempted abduction of 2026-06-03") ||
				!strings.Contains(placeLink.Reasons[0], "lived there at the time") {
				t.Errorf("place link: score %d, reasons %q", placeLink.Score, placeLink.Reasons)
			}
			phoneLink := find(two.ID, "report", "42")
			if phoneLink == nil {
				t.Fatalf("the offender sharing a phone number with a tip is not linked; links: %v", links)
			}
			if phoneLink.Score != 60 || !slices.Contains(phoneLink.Reasons, "shares the phone number +12025550102 with tip (report 42)") {
				t.Errorf("phone link: score %d, reasons %q", phoneLink.Score, phoneLink.Reasons)
			}
			for _, l := range links {
				if l.TargetID == early.ID || l.TargetID == far.ID {
					t.Errorf("a link to an incident out of place or time: %+v", l)
				}
				if l.OffenderID == three.ID {
					t.Errorf("A-1003 linked: %+v", l)
				}
			}
			// Confirming is audited and shows on both records.
			if err := e.svc.DecideLink(ctx, e.intake, placeLink.ID, true, ""); !haven.IsKind(err, haven.KindForbidden) {
				t.Errorf("an intake analyst confirms a link: got %v", err)
			}
			if err := e.svc.DecideLink(ctx, e.analyst, placeLink.ID, true, "same van described"); err != nil {
				t.Fatal(err)
			}
			if err := e.svc.DecideLink(ctx, e.analyst, phoneLink.ID, false, "reassigned number"); err != nil {
				t.Fatal(err)
			}
			iv, err := e.svc.Incident(ctx, e.analyst, near.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(iv.Links) != 1 || iv.Links[0].Status != offender.LinkConfirmed || iv.Links[0].OffenderName != "Example Person One" {
				t.Errorf("incident links: %+v", iv.Links)
			}
			rec := e.byKey(t, "state-a", "A-1001")
			if len(rec.Links) != 1 || rec.Links[0].Status != offender.LinkConfirmed {
				t.Errorf("offender links: %+v", rec.Links)
			}
			lane := slices.IndexFunc(rec.Timeline.Lanes, func(l *offender.Lane) bool { return l.Name == "Linked cases" })
			if lane < 0 {
				t.Error("the confirmed link is not on the offender's timeline")
			}
			// A second run keeps the decisions.
			if _, err := e.svc.RunLinkage(ctx, e.analyst); err != nil {
				t.Fatal(err)
			}
			dismissed, err := e.svc.Links(ctx, e.analyst, offender.LinkDismissed)
			if err != nil || len(dismissed) != 1 || dismissed[0].ID != phoneLink.ID {
				t.Errorf("dismissed after a second run: %v, %v", dismissed, err)
			}
			var audited []string
			if err := e.store.View(ctx, func(tx *store.Tx) error {
				evs, err := tx.RecentAuditEvents(ctx, store.AuditFilter{Limit: 500})
				for _, ev := range evs {
					audited = append(audited, ev.Type)
				}
				return err
			}); err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"offender.link_confirmed", "offender.link_dismissed", "offender.linkage_run", "offender.read"} {
				if !slices.Contains(audited, want) {
					t.Errorf("no %s audit event", want)
				}
			}
		})
	}
}

func TestLocateRequestScoping(t *testing.T) {
	e := setup(t, "sqlite")
	ctx := context.Background()
	e.saveMapping(t, "state_a_mapping.json")
	e.importFile(t, "state-a", "state_a.csv")
	three := e.byKey(t, "state-a", "A-1003")
	other := e.byKey(t, "state-a", "A-1002")

	if _, err := e.svc.SubmitLocate(ctx, e.analyst, offender.LocateInput{CaseNumber: "C-1", Subject: "x"}); !haven.IsKind(err, haven.KindForbidden) {
		t.Errorf("an analyst submits an LE request: got %v", err)
	}
	if _, err := e.svc.SubmitLocate(ctx, e.le, offender.LocateInput{Subject: "Example Person Three"}); !haven.IsKind(err, haven.KindInvalid) {
		t.Errorf("no case number: got %v", err)
	}
	req, err := e.svc.SubmitLocate(ctx, e.le, offender.LocateInput{CaseNumber: "CASE-2026-77", Subject: "Example Person Three",
		Details: "missed verification in January"})
	if err != nil {
		t.Fatal(err)
	}
	// Before delivery the agency sees its request, not the work.
	rep, err := e.svc.LocateReport(ctx, e.le, req.ID)
	if err != nil || rep.Offender != nil || rep.Delivered() {
		t.Errorf("undelivered report for the agency: %+v, %v", rep, err)
	}
	if err := e.svc.SetLocateOffender(ctx, e.le, req.ID, three.ID); !haven.IsKind(err, haven.KindForbidden) {
		t.Errorf("an LE user works the request: got %v", err)
	}
	if err := e.svc.SetLocateOffender(ctx, e.analyst, req.ID, three.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.AddLocateQuery(ctx, e.analyst, req.ID, offender.QueryInput{Source: "county property records (example)",
		QueriedOn: e.clock.Now(), Asked: "parcels owned", Found: "none"}); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.AddLocateCandidate(ctx, e.analyst, req.ID, offender.CandidateInput{Kind: "address", Value: "14 Example Hostel, Exampleville",
		Confidence: "medium", Lat: "40.81", Lon: "-77.19", ValidFrom: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.AddLocateCandidate(ctx, e.analyst, req.ID, offender.CandidateInput{Kind: "address", Value: "x", Confidence: "certain"}); !haven.IsKind(err, haven.KindInvalid) {
		t.Errorf("an unknown confidence: got %v", err)
	}
	if err := e.svc.DeliverLocate(ctx, e.analyst, req.ID, offender.OutcomeLocated, "Located at a hostel; see candidates."); err != nil {
		t.Fatal(err)
	}
	rep, err = e.svc.LocateReport(ctx, e.le, req.ID)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Offender == nil || rep.Offender.ID != three.ID || len(rep.Queries) != 1 || len(rep.Candidates) != 1 ||
		rep.Request.Outcome != offender.OutcomeLocated || rep.Timeline == nil || len(rep.Places) < 2 {
		t.Errorf("delivered report: %+v", rep)
	}
	var pdf bytes.Buffer
	if err := offender.WriteLocatePDF(&pdf, rep); err != nil || !bytes.HasPrefix(pdf.Bytes(), []byte("%PDF-")) {
		t.Errorf("PDF: %v", err)
	}
	// Another agency's user sees nothing of it, and no LE user reads an
	// offender record directly.
	if _, err := e.svc.LocateReport(ctx, e.leB, req.ID); !haven.IsKind(err, haven.KindNotFound) {
		t.Errorf("another agency reads the report: got %v, want not found", err)
	}
	if list, err := e.svc.AgencyLocateRequests(ctx, e.leB); err != nil || len(list) != 0 {
		t.Errorf("another agency's list: %v, %v", list, err)
	}
	for _, id := range []string{three.ID, other.ID} {
		if _, err := e.svc.Offender(ctx, e.le, id); !haven.IsKind(err, haven.KindForbidden) {
			t.Errorf("an LE user reads an offender record: got %v, want forbidden", err)
		}
	}
	if _, err := e.svc.Offenders(ctx, e.le, store.OffenderFilter{}); !haven.IsKind(err, haven.KindForbidden) {
		t.Errorf("an LE user lists offenders: got %v", err)
	}
	if err := e.svc.AddLocateQuery(ctx, e.analyst, req.ID, offender.QueryInput{Source: "s", Asked: "a"}); !haven.IsKind(err, haven.KindConflict) {
		t.Errorf("a change after delivery: got %v, want a conflict", err)
	}
}

func TestSurveysAndPublicCounts(t *testing.T) {
	e := setup(t, "sqlite")
	ctx := context.Background()
	e.saveMapping(t, "state_a_mapping.json")
	e.saveMapping(t, "state_b_mapping.json")
	e.importFile(t, "state-a", "state_a.csv")
	e.importFile(t, "state-b", "state_b.json")
	jan := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	jul := time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)
	if err := e.svc.EnterSurveyCount(ctx, e.analyst, jan, "State A", 900); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.EnterSurveyCount(ctx, e.le, jul, "State A", 1); !haven.IsKind(err, haven.KindForbidden) {
		t.Errorf("an LE user enters a survey: got %v", err)
	}
	if err := e.svc.EnterSurveyCount(ctx, e.analyst, jul, "State C", 1234); err != nil {
		t.Fatal(err)
	}
	n, err := e.svc.ComputeSurvey(ctx, e.analyst, jul)
	if err != nil || n != 2 {
		t.Fatalf("computed %d jurisdictions, %v; want 2", n, err)
	}
	sv, err := e.svc.PublicCounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// State A holds 4 records and State B 3; none is deceased.
	got := map[string]int{}
	for _, c := range sv.Counts {
		got[c.Jurisdiction] = c.Count
	}
	if !sv.Date.Equal(jul) || got["State A"] != 4 || got["State B"] != 3 || got["State C"] != 1234 || sv.Total != 4+3+1234 {
		t.Errorf("latest survey: %v %v total %d", sv.Date, got, sv.Total)
	}
	all, err := e.svc.Surveys(ctx, e.analyst)
	if err != nil || len(all) != 2 || all[1].Total != 900 {
		t.Errorf("survey history: %v, %v", all, err)
	}
	var c, j bytes.Buffer
	if err := offender.WriteCountsCSV(&c, sv); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&c).ReadAll()
	if err != nil || len(rows) != 5 || rows[4][1] != "TOTAL" || rows[4][2] != "1241" {
		t.Errorf("CSV: %v, %v", rows, err)
	}
	if err := offender.WriteCountsJSON(&j, sv); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		SurveyDate string `json:"survey_date"`
		Total      int    `json:"national_total"`
		Counts     []struct {
			Jurisdiction string `json:"jurisdiction"`
			Count        int    `json:"registered_offenders"`
		} `json:"counts"`
	}
	if err := json.Unmarshal(j.Bytes(), &doc); err != nil || doc.SurveyDate != "2026-07-01" || doc.Total != 1241 || len(doc.Counts) != 3 {
		t.Errorf("JSON: %+v, %v", doc, err)
	}
}

func TestMappingValidation(t *testing.T) {
	base := func() offender.Mapping {
		return offender.Mapping{Source: "state-x", Name: "X", Format: "csv", Jurisdiction: "State X",
			Columns: map[string]string{"key": "ID", "name": "Name"}}
	}
	tests := []struct {
		name  string
		edit  func(*offender.Mapping)
		field string
	}{
		{"no key", func(m *offender.Mapping) { delete(m.Columns, "key") }, "columns"},
		{"unknown field", func(m *offender.Mapping) { m.Columns["shoe_size"] = "S" }, "columns"},
		{"bad format", func(m *offender.Mapping) { m.Format = "xml" }, "format"},
		{"bad source", func(m *offender.Mapping) { m.Source = "State X!" }, "source"},
		{"bad status", func(m *offender.Mapping) { m.Statuses = map[string]string{"A": "happy"} }, "statuses"},
		{"bad tier", func(m *offender.Mapping) { m.Tiers = map[string]int{"4": 4} }, "tiers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := base()
			tt.edit(&m)
			err := m.Validate()
			var he *haven.Error
			if !haven.IsKind(err, haven.KindInvalid) || !asError(err, &he) || he.Field != tt.field {
				t.Errorf("got %v, want invalid %s", err, tt.field)
			}
		})
	}
	m := base()
	if err := m.Validate(); err != nil {
		t.Errorf("a valid mapping: %v", err)
	}
}

func asError(err error, he **haven.Error) bool {
	e, ok := err.(*haven.Error)
	*he = e
	return ok
}
