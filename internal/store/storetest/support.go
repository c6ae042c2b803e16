package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/store"
)

// testSupport is the conformance test of the store's support records:
// volunteers with lists, pauses and load, requests, matches and their
// contacts, providers with organisations and locations (upsert), and
// referrals with their closed-loop events.
func testSupport(t *testing.T, s *store.Store) {
	ctx := context.Background()
	vol := &store.Volunteer{ID: haven.NewID(), Name: "Example Volunteer One", Relation: "parent",
		Experiences: []string{"missing", "recovered"}, ExperienceSince: t0.AddDate(-4, 0, 0), Languages: []string{"en", "es"},
		Region: "Midwest", TimeZone: "America/Chicago", Availability: []string{"weekend"}, TrainedOn: t0.AddDate(-1, 0, 0),
		Capacity: 2, Active: true, Notes: "synthetic", CreatedAt: t0, UpdatedAt: t0}
	bare := &store.Volunteer{ID: haven.NewID(), Name: "Example Volunteer Two", Relation: "sibling", Capacity: 1, CreatedAt: t0, UpdatedAt: t0}
	pause := store.VolunteerPause{ID: haven.NewID(), VolunteerID: vol.ID, From: t0.Add(time.Hour), Reason: "rest", CreatedBy: "u1", CreatedAt: t0}
	req := &store.SupportRequest{ID: haven.NewID(), Family: "Example Family One", CaseType: "missing", Needs: []string{"emotional_support", "media"},
		Language: "es", Region: "Midwest", TimeZone: "America/Chicago", PreferRelation: "parent", PreferAvailability: []string{"weekend"},
		Status: "open", CreatedBy: "u1", CreatedAt: t0, UpdatedAt: t0}
	m := &store.SupportMatch{ID: haven.NewID(), RequestID: req.ID, VolunteerID: vol.ID, Score: 70, Reasons: []string{"same lived experience", "speaks Spanish"},
		Status: "active", ApprovedBy: "u1", ApprovedAt: t0}
	c := &store.SupportContact{ID: haven.NewID(), MatchID: m.ID, Kind: "introduction", DueAt: t0.Add(48 * time.Hour), CreatedBy: "u1", CreatedAt: t0}
	c2 := &store.SupportContact{ID: haven.NewID(), MatchID: m.ID, Kind: "follow_up", DueAt: t0.Add(96 * time.Hour), CreatedBy: "u1", CreatedAt: t0}
	write(t, s, func(tx *store.Tx) error {
		for _, v := range []*store.Volunteer{vol, bare} {
			if err := tx.CreateVolunteer(ctx, v); err != nil {
				return err
			}
		}
		if err := tx.AddVolunteerPause(ctx, &pause); err != nil {
			return err
		}
		if err := tx.CreateSupportRequest(ctx, req); err != nil {
			return err
		}
		if err := tx.CreateSupportMatch(ctx, m); err != nil {
			return err
		}
		if err := tx.AddSupportContact(ctx, c); err != nil {
			return err
		}
		return tx.AddSupportContact(ctx, c2)
	})
	read(t, s, func(tx *store.Tx) error {
		got, err := tx.Volunteer(ctx, vol.ID)
		if err != nil {
			return err
		}
		want := *vol
		want.Load, want.Pauses = 1, []store.VolunteerPause{pause}
		if d := cmp.Diff(&want, got); d != "" {
			t.Errorf("volunteer (-want +got):\n%s", d)
		}
		all, err := tx.Volunteers(ctx)
		if err != nil {
			return err
		}
		if len(all) != 2 || all[0].ID != vol.ID || all[1].Load != 0 || all[1].Experiences != nil || !all[1].TrainedOn.IsZero() {
			t.Errorf("got volunteers %+v", all)
		}
		gr, err := tx.SupportRequest(ctx, req.ID)
		if err != nil {
			return err
		}
		if d := cmp.Diff(req, gr); d != "" {
			t.Errorf("request (-want +got):\n%s", d)
		}
		ms, err := tx.SupportMatches(ctx, req.ID)
		if err != nil {
			return err
		}
		if d := cmp.Diff([]*store.SupportMatch{m}, ms); d != "" {
			t.Errorf("matches (-want +got):\n%s", d)
		}
		due, err := tx.DueSupportContacts(ctx, t0.Add(72*time.Hour), 10)
		if err != nil {
			return err
		}
		if len(due) != 1 || due[0].ID != c.ID || due[0].Family != req.Family || due[0].VolunteerName != vol.Name || due[0].RequestID != req.ID {
			t.Errorf("due contacts before t0+72h: got %+v, want the introduction only", due)
		}
		if due, err = tx.DueSupportContacts(ctx, t0.Add(100*time.Hour), 1); err != nil || len(due) != 1 {
			t.Errorf("limit 1: got %d, %v", len(due), err)
		}
		if rid, err := tx.SupportContactRequest(ctx, c.ID); err != nil || rid != req.ID {
			t.Errorf("contact request: got %q, %v", rid, err)
		}
		_, err = tx.Volunteer(ctx, haven.NewID())
		wantKind(t, err, haven.KindNotFound)
		return nil
	})
	write(t, s, func(tx *store.Tx) error {
		vol.Capacity, vol.UpdatedAt, vol.Languages = 3, t0.Add(time.Minute), []string{"fr"}
		if err := tx.UpdateVolunteer(ctx, vol); err != nil {
			return err
		}
		if err := tx.RecordSupportContact(ctx, c.ID, "went well", "u2", t0.Add(49*time.Hour)); err != nil {
			return err
		}
		wantKind(t, tx.RecordSupportContact(ctx, c.ID, "again", "u2", t0), haven.KindNotFound)
		if err := tx.EndSupportMatch(ctx, m.ID, "replaced", "family asked", t0.Add(72*time.Hour)); err != nil {
			return err
		}
		wantKind(t, tx.EndSupportMatch(ctx, m.ID, "ended", "", t0), haven.KindNotFound)
		if err := tx.CancelSupportContacts(ctx, m.ID, t0.Add(72*time.Hour)); err != nil {
			return err
		}
		wantKind(t, tx.RecordSupportContact(ctx, c2.ID, "too late", "u2", t0), haven.KindNotFound)
		return tx.SetSupportRequestStatus(ctx, req.ID, "open", t0.Add(72*time.Hour))
	})
	read(t, s, func(tx *store.Tx) error {
		got, err := tx.Volunteer(ctx, vol.ID)
		if err != nil {
			return err
		}
		if got.Capacity != 3 || got.Load != 0 || !cmp.Equal(got.Languages, []string{"fr"}) {
			t.Errorf("after update and end: got capacity %d, load %d, languages %v", got.Capacity, got.Load, got.Languages)
		}
		cs, err := tx.SupportContacts(ctx, req.ID)
		if err != nil {
			return err
		}
		if len(cs) != 2 || cs[0].Note != "went well" || cs[0].DoneBy != "u2" || !cs[0].DoneAt.Equal(t0.Add(49*time.Hour)) ||
			!cs[0].CancelledAt.IsZero() || cs[1].ID != c2.ID || !cs[1].DoneAt.IsZero() || !cs[1].CancelledAt.Equal(t0.Add(72*time.Hour)) {
			t.Errorf("got contacts %+v, want the held one kept and the pending one cancelled", cs)
		}
		ms, err := tx.SupportMatches(ctx, req.ID)
		if err != nil {
			return err
		}
		if ms[0].Status != "replaced" || ms[0].EndReason != "family asked" || !ms[0].EndedAt.Equal(t0.Add(72*time.Hour)) {
			t.Errorf("got match %+v", ms[0])
		}
		if due, err := tx.DueSupportContacts(ctx, t0.Add(1000*time.Hour), 10); err != nil || len(due) != 0 {
			t.Errorf("due contacts after one held and one cancelled: got %d, %v", len(due), err)
		}
		fams, err := tx.VolunteerFamilies(ctx, vol.ID)
		if err != nil {
			return err
		}
		if len(fams) != 1 || fams[0].MatchID != m.ID || fams[0].Family != req.Family || fams[0].Status != "replaced" ||
			!fams[0].EndedAt.Equal(t0.Add(72*time.Hour)) {
			t.Errorf("volunteer families: got %+v", fams)
		}
		if fams, err := tx.VolunteerFamilies(ctx, bare.ID); err != nil || len(fams) != 0 {
			t.Errorf("families of a new volunteer: %d, %v", len(fams), err)
		}
		open, err := tx.SupportRequests(ctx, "open")
		if err != nil {
			return err
		}
		closed, err := tx.SupportRequests(ctx, "closed")
		if err != nil {
			return err
		}
		if len(open) != 1 || len(closed) != 0 {
			t.Errorf("got %d open and %d closed requests", len(open), len(closed))
		}
		return nil
	})

	// Providers.
	org := &store.ProviderOrg{ID: haven.NewID(), Name: "Example Counselling Collective", Description: "synthetic", Email: "intake@example.org",
		Website: "https://example.org"}
	p := &store.Provider{ID: haven.NewID(), OrganizationID: org.ID, Name: "Trauma counselling", Clinician: "Example Clinician One",
		LicenceType: "LPC", LicenceNumber: "TX-0001", LicenceState: "TX", LicenceVerifiedOn: time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC),
		Specialities: []string{"trauma", "child sexual abuse"}, Languages: []string{"en", "es"}, Modes: []string{"in_person", "telehealth"},
		FeeTerms: []string{"pro_bono"}, Areas: []string{"TX", "OK"}, Capacity: 1, Email: "clinician@example.org", Phone: "555-0101",
		Status: "active", CreatedAt: t0, UpdatedAt: t0, Organization: *org,
		Locations: []store.ProviderLocation{{ID: haven.NewID(), Name: "Main office", Address1: "1 Example Street", City: "Austin",
			State: "TX", PostalCode: "78701", Country: "US"}, {ID: haven.NewID(), Name: "Second office"}}}
	ref := &store.ProviderReferral{ID: haven.NewID(), ProviderID: p.ID, RequestID: req.ID, ConsentBy: "parent", ConsentAt: t0,
		Status: "referred", CreatedBy: "u1", CreatedAt: t0, UpdatedAt: t0}
	write(t, s, func(tx *store.Tx) error {
		if err := tx.PutProviderOrg(ctx, org); err != nil {
			return err
		}
		if err := tx.PutProvider(ctx, p); err != nil {
			return err
		}
		return tx.CreateProviderReferral(ctx, ref)
	})
	read(t, s, func(tx *store.Tx) error {
		got, err := tx.Provider(ctx, p.ID)
		if err != nil {
			return err
		}
		want := *p
		want.Open = 1
		if d := cmp.Diff(&want, got); d != "" {
			t.Errorf("provider (-want +got):\n%s", d)
		}
		byName, err := tx.ProviderOrgByName(ctx, org.Name)
		if err != nil || byName.ID != org.ID {
			t.Errorf("org by name: got %+v, %v", byName, err)
		}
		_, err = tx.ProviderOrgByName(ctx, "Nobody")
		wantKind(t, err, haven.KindNotFound)
		return nil
	})
	write(t, s, func(tx *store.Tx) error {
		org.Name = "Example Counselling Collective (renamed)"
		if err := tx.PutProviderOrg(ctx, org); err != nil {
			return err
		}
		p.Locations, p.Capacity, p.Organization = p.Locations[1:], 4, *org
		if err := tx.PutProvider(ctx, p); err != nil {
			return err
		}
		if err := tx.AddReferralEvent(ctx, ref.ID, store.ReferralEvent{Status: "contacted", Note: "called", By: "u2", At: t0.Add(time.Hour)}); err != nil {
			return err
		}
		return tx.AddReferralEvent(ctx, ref.ID, store.ReferralEvent{Status: "first_session", By: "u2", At: t0.Add(48 * time.Hour)})
	})
	read(t, s, func(tx *store.Tx) error {
		all, err := tx.Providers(ctx)
		if err != nil {
			return err
		}
		if d := cmp.Diff([]*store.Provider{p}, all, cmpopts.IgnoreFields(store.Provider{}, "Open")); d != "" {
			t.Errorf("providers after upsert (-want +got):\n%s", d)
		}
		rs, err := tx.ProviderReferrals(ctx, p.ID)
		if err != nil {
			return err
		}
		byReq, err := tx.RequestReferrals(ctx, req.ID)
		if err != nil {
			return err
		}
		want := *ref
		want.Status, want.UpdatedAt = "first_session", t0.Add(48*time.Hour)
		want.Events = []store.ReferralEvent{{Status: "referred", By: "u1", At: t0}, {Status: "contacted", Note: "called", By: "u2", At: t0.Add(time.Hour)},
			{Status: "first_session", By: "u2", At: t0.Add(48 * time.Hour)}}
		if d := cmp.Diff([]*store.ProviderReferral{&want}, rs); d != "" {
			t.Errorf("referrals (-want +got):\n%s", d)
		}
		if d := cmp.Diff(rs, byReq); d != "" {
			t.Errorf("referrals by request differ:\n%s", d)
		}
		if all[0].Open != 1 {
			t.Errorf("got %d open referrals, want 1 (first session held is still open care)", all[0].Open)
		}
		_, err = tx.Provider(ctx, haven.NewID())
		wantKind(t, err, haven.KindNotFound)
		return nil
	})
}
