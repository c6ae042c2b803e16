package support_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/audit"
	"github.com/haven-hotline/haven/internal/store"
	"github.com/haven-hotline/haven/internal/store/storetest"
	"github.com/haven-hotline/haven/internal/support"
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

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func key() []byte {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return b
}

type env struct {
	store  *store.Store
	svc    *support.Service
	clock  *fakeClock
	coord  haven.Actor // support coordinator
	case_  haven.Actor // casework specialist: providers and referrals, not volunteers
	sup    haven.Actor // supervisor: reads providers only
	intake haven.Actor
}

func setup(t *testing.T, engine string) *env {
	t.Helper()
	e := &env{store: storetest.Open(t, engine), clock: &fakeClock{t: now}}
	log := audit.New(key(), key(), e.clock, e.store.Dialect().AuditChains())
	e.svc = support.New(e.store, log, e.clock, nil)
	e.coord = haven.Actor{UserID: "coord1", Role: haven.RoleSupport, AuthAt: now}
	e.case_ = haven.Actor{UserID: "case1", Role: haven.RoleCasework, AuthAt: now}
	e.sup = haven.Actor{UserID: "sup1", Role: haven.RoleSupervisor, AuthAt: now}
	e.intake = haven.Actor{UserID: "intake1", Role: haven.RoleIntake, AuthAt: now}
	return e
}

func (e *env) events(t *testing.T, typ string) []*haven.AuditEvent {
	t.Helper()
	var out []*haven.AuditEvent
	err := e.store.View(context.Background(), func(tx *store.Tx) error {
		var err error
		out, err = tx.RecentAuditEvents(context.Background(), store.AuditFilter{Type: typ, Limit: 500})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func volunteer(name string, exp ...string) store.Volunteer {
	return store.Volunteer{Name: name, Relation: "parent", Experiences: exp, ExperienceSince: now.AddDate(-3, 0, 0),
		Languages: []string{"en", "es"}, Region: "Midwest", TimeZone: "America/Chicago", Availability: []string{"weekend"},
		TrainedOn: now.AddDate(0, -6, 0), Capacity: 1, Active: true}
}

// TestSupportFlow follows a family from the call to a second volunteer:
// proposals with reasons, approval with the introduction scheduled, the
// family asking for a different volunteer (the first never proposed
// again), follow-ups recorded, a paused or full volunteer never proposed,
// and every read of the family's record audited.
func TestSupportFlow(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(engine, func(t *testing.T) {
			e := setup(t, engine)
			ctx := context.Background()
			var vols []*store.Volunteer
			for i, exp := range []string{support.CaseMissing, support.CaseMissing, support.CaseRecovered, support.CaseSexuallyExploited} {
				v, err := e.svc.SaveVolunteer(ctx, e.coord, volunteer(fmt.Sprintf("Example Volunteer %d", i+1), exp))
				if err != nil {
					t.Fatal(err)
				}
				vols = append(vols, v)
			}
			// Volunteer 2 takes a wellbeing pause.
			if err := e.svc.AddPause(ctx, e.coord, vols[1].ID, now.AddDate(0, 0, -1), time.Time{}, "rest"); err != nil {
				t.Fatal(err)
			}
			req, err := e.svc.CreateRequest(ctx, e.coord, store.SupportRequest{Family: "Example Family One", CaseType: support.CaseMissing,
				Needs: []string{"emotional_support"}, Language: "es", Region: "Midwest", TimeZone: "America/Chicago"})
			if err != nil {
				t.Fatal(err)
			}
			v, err := e.svc.Request(ctx, e.coord, req.ID)
			if err != nil {
				t.Fatal(err)
			}
			ids := func(ps []support.Proposal) []string {
				var out []string
				for _, p := range ps {
					out = append(out, p.Volunteer.ID)
				}
				return out
			}
			if got, want := ids(v.Result.Proposals), []string{vols[0].ID, vols[2].ID}; !slices.Equal(got, want) {
				t.Fatalf("proposals %v, want %v (same experience first, paused and exploited-only left out)", got, want)
			}
			if !slices.Contains(v.Result.Proposals[0].Keys, support.ReasonSameExperience) ||
				!slices.Contains(v.Result.Proposals[1].Keys, support.ReasonRelatedExperience) {
				t.Errorf("reasons %v / %v", v.Result.Proposals[0].Reasons, v.Result.Proposals[1].Reasons)
			}
			// A paused volunteer cannot be approved even by hand.
			if _, err := e.svc.Approve(ctx, e.coord, req.ID, vols[1].ID); !haven.IsKind(err, haven.KindConflict) {
				t.Errorf("approve a paused volunteer: got %v, want a conflict", err)
			}
			m, err := e.svc.Approve(ctx, e.coord, req.ID, vols[0].ID)
			if err != nil {
				t.Fatal(err)
			}
			v, err = e.svc.Request(ctx, e.coord, req.ID)
			if err != nil {
				t.Fatal(err)
			}
			if v.Request.Status != support.StatusMatched || v.Active == nil || v.Active.ID != m.ID || v.Result != nil {
				t.Fatalf("after approval: status %s, active %+v", v.Request.Status, v.Active)
			}
			if len(v.Contacts) != 1 || v.Contacts[0].Kind != support.ContactIntroduction || !v.Contacts[0].DueAt.Equal(now.Add(support.IntroductionWithin)) {
				t.Errorf("got contacts %+v, want the introduction scheduled", v.Contacts)
			}
			due, err := e.svc.DueContacts(ctx, e.coord, 7*24*time.Hour)
			if err != nil || len(due) != 1 || due[0].RequestID != req.ID || due[0].VolunteerID != vols[0].ID {
				t.Errorf("due contacts: %+v, %v", due, err)
			}
			if due, err := e.svc.DueContacts(ctx, e.coord, time.Hour); err != nil || len(due) != 0 {
				t.Errorf("due within the hour: %d, %v", len(due), err)
			}
			// Volunteer 1 is now full: a second family does not get them.
			req2, err := e.svc.CreateRequest(ctx, e.coord, store.SupportRequest{Family: "Example Family Two", CaseType: support.CaseMissing, Language: "en"})
			if err != nil {
				t.Fatal(err)
			}
			v2, err := e.svc.Request(ctx, e.coord, req2.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(v2.Result.Proposals); slices.Contains(got, vols[0].ID) || v2.Result.Excluded[support.ExcludedFull] != 1 {
				t.Errorf("second family: proposals %v, exclusions %v; want volunteer 1 left out as full", got, v2.Result.Excluded)
			}
			// Introduction held; a follow-up scheduled and held.
			if _, err := e.svc.RecordContact(ctx, e.coord, v.Contacts[0].ID, "introduced by phone"); err != nil {
				t.Fatal(err)
			}
			if _, err := e.svc.RecordContact(ctx, e.coord, v.Contacts[0].ID, "again"); !haven.IsKind(err, haven.KindConflict) {
				t.Errorf("record twice: got %v", err)
			}
			fu, err := e.svc.ScheduleContact(ctx, e.coord, req.ID, support.ContactFollowUp, now.AddDate(0, 0, 14))
			if err != nil {
				t.Fatal(err)
			}
			if rid, err := e.svc.RecordContact(ctx, e.coord, fu.ID, "follow-up held"); err != nil || rid != req.ID {
				t.Fatalf("record follow-up: %q, %v", rid, err)
			}
			pending, err := e.svc.ScheduleContact(ctx, e.coord, req.ID, support.ContactFollowUp, now.AddDate(0, 0, 28))
			if err != nil {
				t.Fatal(err)
			}
			// The family asks for a different volunteer.
			if err := e.svc.AskDifferent(ctx, e.coord, req.ID, "not a good fit"); err != nil {
				t.Fatal(err)
			}
			if _, err := e.svc.RecordContact(ctx, e.coord, pending.ID, "held"); !haven.IsKind(err, haven.KindConflict) {
				t.Errorf("record a follow-up of a replaced volunteer: got %v, want a conflict (cancelled)", err)
			}
			v, err = e.svc.Request(ctx, e.coord, req.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(v.Result.Proposals); !slices.Equal(got, []string{vols[2].ID}) || v.Result.Excluded[support.ExcludedPrevious] != 1 {
				t.Errorf("after asking for a different volunteer: proposals %v, exclusions %v", got, v.Result.Excluded)
			}
			if _, err := e.svc.Approve(ctx, e.coord, req.ID, vols[0].ID); !haven.IsKind(err, haven.KindConflict) {
				t.Errorf("re-approve the previous volunteer: got %v, want a conflict", err)
			}
			if _, err := e.svc.Approve(ctx, e.coord, req.ID, vols[2].ID); err != nil {
				t.Fatal(err)
			}
			if err := e.svc.CloseRequest(ctx, e.coord, req.ID, "support completed"); err != nil {
				t.Fatal(err)
			}
			if _, err := e.svc.Approve(ctx, e.coord, req.ID, vols[2].ID); !haven.IsKind(err, haven.KindConflict) {
				t.Errorf("approve on a closed request: got %v", err)
			}
			fams, err := e.svc.VolunteerFamilies(ctx, e.coord, vols[0].ID)
			if err != nil || len(fams) != 1 || fams[0].RequestID != req.ID || fams[0].Status != support.MatchReplaced {
				t.Errorf("families of volunteer 1: %+v, %v", fams, err)
			}
			// Only support coordinators see families; the refusal is audited.
			for _, a := range []haven.Actor{e.case_, e.sup, e.intake} {
				if _, err := e.svc.Request(ctx, a, req.ID); !haven.IsKind(err, haven.KindForbidden) {
					t.Errorf("%s reads a family: got %v, want forbidden", a.Role, err)
				}
				if _, err := e.svc.Volunteers(ctx, a); !haven.IsKind(err, haven.KindForbidden) {
					t.Errorf("%s lists volunteers: got %v, want forbidden", a.Role, err)
				}
			}
			reads := e.events(t, "support.request.read")
			var ok, denied int
			for _, ev := range reads {
				switch {
				case ev.Outcome == haven.OutcomeDenied:
					denied++
				case ev.ObjectID == req.ID || ev.ObjectID == req2.ID:
					ok++
				}
			}
			if ok != 4 || denied != 3 {
				t.Errorf("audited %d reads and %d denials of family records, want 4 and 3", ok, denied)
			}
			for _, typ := range []string{"support.match.approve", "support.match.replace", "support.contact.record", "support.request.close"} {
				if len(e.events(t, typ)) == 0 {
					t.Errorf("no %s event", typ)
				}
			}
		})
	}
}

// TestVolunteerValidation checks the rules of a profile.
func TestVolunteerValidation(t *testing.T) {
	e := setup(t, "sqlite")
	ctx := context.Background()
	for name, tc := range map[string]struct {
		edit  func(*store.Volunteer)
		field string
	}{
		"no name":          {func(v *store.Volunteer) { v.Name = " " }, "name"},
		"unknown relation": {func(v *store.Volunteer) { v.Relation = "neighbour" }, "relation"},
		"no experience":    {func(v *store.Volunteer) { v.Experiences = nil }, "experiences"},
		"bad language":     {func(v *store.Volunteer) { v.Languages = []string{"Spanish!"} }, "languages"},
		"bad zone":         {func(v *store.Volunteer) { v.TimeZone = "Mars/Olympus" }, "time_zone"},
		"capacity":         {func(v *store.Volunteer) { v.Capacity = 99 }, "capacity"},
		"future training":  {func(v *store.Volunteer) { v.TrainedOn = now.AddDate(0, 0, 1) }, "trained_on"},
	} {
		v := volunteer("Example Volunteer", support.CaseMissing)
		tc.edit(&v)
		_, err := e.svc.SaveVolunteer(ctx, e.coord, v)
		var he *haven.Error
		if !haven.IsKind(err, haven.KindInvalid) || !errors.As(err, &he) || he.Field != tc.field {
			t.Errorf("%s: got %v, want invalid %s", name, err, tc.field)
		}
	}
	if _, err := e.svc.SaveVolunteer(ctx, e.case_, volunteer("Example Volunteer", support.CaseMissing)); !haven.IsKind(err, haven.KindForbidden) {
		t.Errorf("casework saves a volunteer: got %v", err)
	}
}

// BenchmarkRequest10000 is the whole page's work for one family with
// 10,000 volunteers in SQLite: load the roster (with loads and pauses),
// match, audit the read.
func BenchmarkRequest10000(b *testing.B) {
	ctx := context.Background()
	s := storetest.Open(b, "sqlite")
	clock := &fakeClock{t: now}
	svc := support.New(s, audit.New(key(), key(), clock, s.Dialect().AuditChains()), clock, nil)
	coord := haven.Actor{UserID: "coord1", Role: haven.RoleSupport, AuthAt: now}
	err := s.InTx(ctx, func(tx *store.Tx) error {
		for _, v := range roster(10000, 4) {
			v.ID, v.CreatedAt, v.UpdatedAt = haven.NewID(), now, now
			if err := tx.CreateVolunteer(ctx, v); err != nil {
				return err
			}
			for _, p := range v.Pauses {
				p.ID, p.VolunteerID, p.CreatedBy, p.CreatedAt = haven.NewID(), v.ID, "coord1", now
				if err := tx.AddVolunteerPause(ctx, &p); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	req, err := svc.CreateRequest(ctx, coord, store.SupportRequest{Family: "Example Family One", CaseType: support.CaseMissing,
		Language: "en", TimeZone: "America/Chicago", Region: "Midwest"})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		v, err := svc.Request(ctx, coord, req.ID)
		if err != nil || len(v.Result.Proposals) == 0 {
			b.Fatalf("request: %v", err)
		}
	}
}
