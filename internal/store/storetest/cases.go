package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/store"
)

// testCases is the conformance test of the store's casework records:
// cases and what is linked to them, plan versions, the Hope Bag stock and
// assistance requests.
func testCases(t *testing.T, s *store.Store) {
	ctx := context.Background()
	ag, other := newAgency("Example County Sheriff"), newAgency("Example Other Police")
	write(t, s, func(tx *store.Tx) error {
		if err := tx.CreateAgency(ctx, ag); err != nil {
			return err
		}
		return tx.CreateAgency(ctx, other)
	})
	reportID := newReferralReport(t, s, "esp-cases", t0)

	c := &store.Case{ID: haven.NewID(), Type: "family_abduction", Status: "open", Title: "Example case one",
		ChildPseudonym: "Child Example A", ChildAge: 9, ChildDescription: "synthetic description", OpenedBy: "user-1",
		OpenedAt: t0, UpdatedAt: t0}
	c2 := &store.Case{ID: haven.NewID(), Type: "trafficking_at_risk", Status: "open", Title: "Example case two",
		ChildPseudonym: "Child Example B", ChildAge: -1, OpenedBy: "user-1", OpenedAt: t0, UpdatedAt: t0.Add(time.Hour)}
	write(t, s, func(tx *store.Tx) error {
		if err := tx.CreateCase(ctx, c); err != nil {
			return err
		}
		return tx.CreateCase(ctx, c2)
	})
	read(t, s, func(tx *store.Tx) error {
		got, err := tx.Case(ctx, c.ID)
		if err != nil {
			return err
		}
		if diff := cmp.Diff(c, got); diff != "" {
			t.Errorf("case round trip (-want +got):\n%s", diff)
		}
		_, err = tx.Case(ctx, haven.NewID())
		wantKind(t, err, haven.KindNotFound)
		list, err := tx.Cases(ctx, 10)
		if err != nil {
			return err
		}
		if len(list) != 2 || list[0].ID != c2.ID || list[1].ID != c.ID {
			t.Errorf("cases: got %d, want case two (newer update) then case one", len(list))
		}
		return nil
	})

	// Links and child records.
	task := &store.CaseTask{ID: haven.NewID(), CaseID: c.ID, Title: "Call the school", Owner: "Example Worker", DueOn: t0.Add(48 * time.Hour),
		CreatedBy: "user-1", CreatedAt: t0}
	write(t, s, func(tx *store.Tx) error {
		for _, fn := range []func() error{
			func() error {
				return tx.AddCaseStatus(ctx, &store.CaseStatusChange{ID: haven.NewID(), CaseID: c.ID, Status: "open", ActorID: "user-1", At: t0})
			},
			func() error {
				return tx.AddCasePerson(ctx, &store.CasePerson{ID: haven.NewID(), CaseID: c.ID, Name: "Example Person One", Role: "parent",
					Contact: "555-0100", ActorID: "user-1", At: t0})
			},
			func() error {
				return tx.PutCaseAgency(ctx, &store.CaseAgency{CaseID: c.ID, AgencyID: ag.ID, Role: "investigating", ActorID: "user-1", At: t0})
			},
			func() error {
				return tx.AddCaseReport(ctx, &store.CaseReport{CaseID: c.ID, ReportID: reportID, ActorID: "user-1", At: t0})
			},
			func() error {
				return tx.AddCaseOffender(ctx, &store.CaseOffender{CaseID: c.ID, OffenderID: "OFF-EXAMPLE-1", ActorID: "user-1", At: t0})
			},
			func() error { return tx.AddCaseTask(ctx, task) },
			func() error {
				return tx.AddCaseNote(ctx, &store.CaseNote{ID: haven.NewID(), CaseID: c.ID, Body: "synthetic note", ActorID: "user-1", At: t0})
			},
			func() error {
				return tx.AddCaseIndicator(ctx, &store.CaseIndicator{CaseID: c.ID, Code: "older_partner", ActorID: "user-1", At: t0})
			},
		} {
			if err := fn(); err != nil {
				return err
			}
		}
		return nil
	})
	// Repeated links are conflicts.
	err := s.InTx(ctx, func(tx *store.Tx) error {
		return tx.AddCaseReport(ctx, &store.CaseReport{CaseID: c.ID, ReportID: reportID, ActorID: "user-1", At: t0})
	})
	wantKind(t, err, haven.KindConflict)
	err = s.InTx(ctx, func(tx *store.Tx) error {
		return tx.AddCaseIndicator(ctx, &store.CaseIndicator{CaseID: c.ID, Code: "older_partner", ActorID: "user-2", At: t0})
	})
	wantKind(t, err, haven.KindConflict)

	read(t, s, func(tx *store.Tx) error {
		people, err := tx.CasePeople(ctx, c.ID)
		if err != nil {
			return err
		}
		if len(people) != 1 || people[0].Name != "Example Person One" || !people[0].At.Equal(t0) {
			t.Errorf("people: got %+v", people)
		}
		reps, err := tx.CaseReports(ctx, c.ID)
		if err != nil {
			return err
		}
		if len(reps) != 1 || reps[0].ReportID != reportID {
			t.Errorf("reports: got %+v, want report %d", reps, reportID)
		}
		ids, err := tx.CasesForReport(ctx, reportID)
		if err != nil {
			return err
		}
		if diff := cmp.Diff([]string{c.ID}, ids); diff != "" {
			t.Errorf("cases of the report (-want +got):\n%s", diff)
		}
		tasks, err := tx.CaseTasks(ctx, c.ID)
		if err != nil {
			return err
		}
		if len(tasks) != 1 {
			t.Fatalf("tasks: got %d, want 1", len(tasks))
		}
		if diff := cmp.Diff(task, tasks[0]); diff != "" {
			t.Errorf("task round trip (-want +got):\n%s", diff)
		}
		inds, err := tx.CaseIndicators(ctx, c.ID)
		if err != nil {
			return err
		}
		if len(inds) != 1 || inds[0].ActorID != "user-1" {
			t.Errorf("indicators: got %+v, want the first recording kept", inds)
		}
		ags, err := tx.CaseAgencies(ctx, c.ID)
		if err != nil {
			return err
		}
		if len(ags) != 1 || ags[0].AgencyName != ag.Name || ags[0].Shared {
			t.Errorf("agencies: got %+v", ags)
		}
		return nil
	})

	// Completing a task: once.
	write(t, s, func(tx *store.Tx) error { return tx.CompleteCaseTask(ctx, c.ID, task.ID, "user-2", t0.Add(time.Hour)) })
	err = s.InTx(ctx, func(tx *store.Tx) error {
		return tx.CompleteCaseTask(ctx, c.ID, task.ID, "user-2", t0.Add(2*time.Hour))
	})
	wantKind(t, err, haven.KindNotFound)
	err = s.InTx(ctx, func(tx *store.Tx) error { return tx.CompleteCaseTask(ctx, c2.ID, task.ID, "user-2", t0) })
	wantKind(t, err, haven.KindNotFound)

	// Sharing: only a shared agency sees the case.
	read(t, s, func(tx *store.Tx) error {
		shared, err := tx.CasesSharedWith(ctx, ag.ID, 10)
		if err != nil {
			return err
		}
		if len(shared) != 0 {
			t.Errorf("an unshared case is listed for its agency")
		}
		return nil
	})
	write(t, s, func(tx *store.Tx) error {
		return tx.PutCaseAgency(ctx, &store.CaseAgency{CaseID: c.ID, AgencyID: ag.ID, Role: "investigating", Shared: true, ActorID: "user-1", At: t0})
	})
	read(t, s, func(tx *store.Tx) error {
		for _, tc := range []struct {
			agency string
			want   bool
		}{{ag.ID, true}, {other.ID, false}} {
			ok, err := tx.CaseSharedWith(ctx, c.ID, tc.agency)
			if err != nil {
				return err
			}
			if ok != tc.want {
				t.Errorf("shared with %s: got %v, want %v", tc.agency, ok, tc.want)
			}
			list, err := tx.CasesSharedWith(ctx, tc.agency, 10)
			if err != nil {
				return err
			}
			if (len(list) == 1 && list[0].ID == c.ID) != tc.want || len(list) > 1 {
				t.Errorf("cases shared with %s: got %d", tc.agency, len(list))
			}
		}
		ags, err := tx.CaseAgencies(ctx, c.ID)
		if err != nil {
			return err
		}
		if len(ags) != 1 || !ags[0].Shared {
			t.Errorf("after sharing: got %+v, want one shared agency", ags)
		}
		return nil
	})

	// Plan versions: the newest first; a version number twice conflicts.
	write(t, s, func(tx *store.Tx) error {
		for v := 1; v <= 2; v++ {
			if err := tx.AddPlanVersion(ctx, &store.PlanVersion{CaseID: c.ID, Version: v, Body: `{"needs":[]}`, ActorID: "user-1",
				At: t0.Add(time.Duration(v) * time.Minute)}); err != nil {
				return err
			}
		}
		return nil
	})
	err = s.InTx(ctx, func(tx *store.Tx) error {
		return tx.AddPlanVersion(ctx, &store.PlanVersion{CaseID: c.ID, Version: 2, Body: "{}", ActorID: "user-2", At: t0})
	})
	wantKind(t, err, haven.KindConflict)
	read(t, s, func(tx *store.Tx) error {
		vs, err := tx.PlanVersions(ctx, c.ID)
		if err != nil {
			return err
		}
		if len(vs) != 2 || vs[0].Version != 2 || vs[1].Version != 1 || !vs[0].At.Equal(t0.Add(2*time.Minute)) {
			t.Errorf("plan versions: got %d, want 2 then 1", len(vs))
		}
		return nil
	})

	// Hope Bags: the stock never goes below zero.
	item := &store.HopeBagItem{ID: haven.NewID(), Size: "Teen", Variant: "Standard", StockPoint: "Example Warehouse", LowThreshold: 3,
		CreatedAt: t0, UpdatedAt: t0}
	write(t, s, func(tx *store.Tx) error {
		if err := tx.CreateHopeBagItem(ctx, item); err != nil {
			return err
		}
		return tx.AdjustHopeBagStock(ctx, item.ID, 5, t0)
	})
	err = s.InTx(ctx, func(tx *store.Tx) error {
		return tx.CreateHopeBagItem(ctx, &store.HopeBagItem{ID: haven.NewID(), Size: "Teen", Variant: "Standard", StockPoint: "Example Warehouse",
			CreatedAt: t0, UpdatedAt: t0})
	})
	wantKind(t, err, haven.KindConflict)
	err = s.InTx(ctx, func(tx *store.Tx) error { return tx.AdjustHopeBagStock(ctx, item.ID, -6, t0) })
	wantKind(t, err, haven.KindConflict)
	err = s.InTx(ctx, func(tx *store.Tx) error { return tx.AdjustHopeBagStock(ctx, haven.NewID(), 1, t0) })
	wantKind(t, err, haven.KindNotFound)
	write(t, s, func(tx *store.Tx) error {
		if err := tx.AdjustHopeBagStock(ctx, item.ID, -2, t0); err != nil {
			return err
		}
		if err := tx.AddHopeBagMovement(ctx, &store.HopeBagMovement{ID: haven.NewID(), ItemID: item.ID, Kind: "distribution", Quantity: 2,
			CaseID: c.ID, Recipient: "Example Caseworker", OnDate: t0, ActorID: "user-1", At: t0}); err != nil {
			return err
		}
		return tx.AddHopeBagMovement(ctx, &store.HopeBagMovement{ID: haven.NewID(), ItemID: item.ID, Kind: "restock", Quantity: 5,
			OnDate: t0, ActorID: "user-1", At: t0.Add(-time.Minute)})
	})
	read(t, s, func(tx *store.Tx) error {
		got, err := tx.HopeBagItem(ctx, item.ID)
		if err != nil {
			return err
		}
		if got.Quantity != 3 {
			t.Errorf("stock: got %d, want 5 - 2 = 3", got.Quantity)
		}
		ms, err := tx.CaseHopeBagMovements(ctx, c.ID)
		if err != nil {
			return err
		}
		if len(ms) != 1 || ms[0].Recipient != "Example Caseworker" || ms[0].AgencyID != "" {
			t.Errorf("case movements: got %+v", ms)
		}
		all, err := tx.HopeBagMovements(ctx, 10)
		if err != nil {
			return err
		}
		if len(all) != 2 || all[0].Kind != "distribution" || all[1].CaseID != "" {
			t.Errorf("movements: got %d, want the distribution first", len(all))
		}
		return nil
	})

	// Assistance requests.
	le := &store.AssistanceRequest{ID: haven.NewID(), Source: "law_enforcement", AgencyID: ag.ID, RequesterName: "Example Officer",
		RequesterContact: "officer@example.org", Question: "synthetic question", Status: "new", CreatedBy: "user-le", CreatedAt: t0, UpdatedAt: t0}
	atty := &store.AssistanceRequest{ID: haven.NewID(), Source: "civil_attorney", RequesterName: "Example Attorney", RequesterOrg: "Example Law",
		RequesterContact: "attorney@example.org", Question: "synthetic question two", Status: "new", CreatedBy: "user-1",
		CreatedAt: t0.Add(time.Minute), UpdatedAt: t0.Add(time.Minute)}
	write(t, s, func(tx *store.Tx) error {
		if err := tx.CreateAssistanceRequest(ctx, le); err != nil {
			return err
		}
		return tx.CreateAssistanceRequest(ctx, atty)
	})
	atty.CaseID, atty.Priority, atty.Status, atty.AssignedTo, atty.Analysis = c.ID, "high", "delivered", "user-1", "synthetic analysis"
	atty.DeliveredBy, atty.DeliveredAt, atty.UpdatedAt = "user-1", t0.Add(time.Hour), t0.Add(time.Hour)
	write(t, s, func(tx *store.Tx) error { return tx.UpdateAssistanceRequest(ctx, atty) })
	read(t, s, func(tx *store.Tx) error {
		got, err := tx.AssistanceRequest(ctx, atty.ID)
		if err != nil {
			return err
		}
		if diff := cmp.Diff(atty, got); diff != "" {
			t.Errorf("assistance round trip (-want +got):\n%s", diff)
		}
		mine, err := tx.AssistanceRequests(ctx, ag.ID, 10)
		if err != nil {
			return err
		}
		if len(mine) != 1 || mine[0].ID != le.ID {
			t.Errorf("the agency's requests: got %d, want its one", len(mine))
		}
		none, err := tx.AssistanceRequests(ctx, other.ID, 10)
		if err != nil {
			return err
		}
		if len(none) != 0 {
			t.Errorf("another agency's requests: got %d, want 0", len(none))
		}
		all, err := tx.AssistanceRequests(ctx, "", 10)
		if err != nil {
			return err
		}
		if len(all) != 2 {
			t.Errorf("all requests: got %d, want 2", len(all))
		}
		linked, err := tx.CaseAssistanceRequests(ctx, c.ID)
		if err != nil {
			return err
		}
		if len(linked) != 1 || linked[0].ID != atty.ID {
			t.Errorf("requests of the case: got %d, want the attorney's", len(linked))
		}
		_, err = tx.AssistanceRequest(ctx, haven.NewID())
		wantKind(t, err, haven.KindNotFound)
		return nil
	})
}
