package identifiers_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/audit"
	"github.com/haven-hotline/haven/internal/identifiers"
	"github.com/haven-hotline/haven/internal/store"
	"github.com/haven-hotline/haven/internal/store/storetest"
)

var (
	analyst = haven.Actor{UserID: "analyst-1", Role: haven.RoleIntake, RequestID: "req-1"}
	leUser  = haven.Actor{UserID: "le-1", Role: haven.RoleLE, AgencyID: "agency-1"}
)

type fixture struct {
	s   *store.Store
	svc *identifiers.Service
}

func setup(t testing.TB, engine string) *fixture {
	t.Helper()
	s := storetest.Open(t, engine)
	l := audit.New([]byte("chain-key-for-tests-0123456789ab"), []byte("pseudonym-key-for-tests-01234567"), haven.SystemClock{}, s.Dialect().AuditChains())
	return &fixture{s: s, svc: identifiers.New(s, l, haven.SystemClock{}, nil, identifiers.Options{DefaultCallingCode: "1"})}
}

// put stores a report with its files and returns its number.
func (f *fixture) put(t testing.TB, r *haven.Report) int64 {
	t.Helper()
	ctx := context.Background()
	err := f.s.InTx(ctx, func(tx *store.Tx) (err error) {
		if r.ID, err = tx.NextReportNumber(ctx); err != nil {
			return err
		}
		if err := tx.CreateReport(ctx, r, nil, time.Time{}); err != nil {
			return err
		}
		for i, file := range r.Files {
			file.ID, file.ReportID = fmt.Sprintf("%032x", r.ID*100+int64(i)), r.ID
			file.AcquisitionID, file.ItemID, file.UploadedAt = "acq", "item", r.OpenedAt
			if err := tx.AddReportFile(ctx, file); err != nil {
				return err
			}
			if file.Details != nil {
				if err := tx.SetReportFileDetails(ctx, r.ID, file.ID, file.Details, r.OpenedAt); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return r.ID
}

func (f *fixture) index(t testing.TB, ids ...int64) {
	t.Helper()
	for _, id := range ids {
		if err := f.svc.IndexReport(context.Background(), id); err != nil {
			t.Fatal(err)
		}
	}
}

// auditEvents lists the events of a type, newest first.
func (f *fixture) auditEvents(t testing.TB, typ string) []*haven.AuditEvent {
	t.Helper()
	var out []*haven.AuditEvent
	err := f.s.View(context.Background(), func(tx *store.Tx) (err error) {
		out, err = tx.RecentAuditEvents(context.Background(), store.AuditFilter{Type: typ})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// noValues fails the test if an audit event holds one of the values.
func noValues(t *testing.T, evs []*haven.AuditEvent, values ...string) {
	t.Helper()
	for _, ev := range evs {
		text := fmt.Sprint(ev.Details, ev.ObjectID, ev.Purpose)
		for _, v := range values {
			if strings.Contains(strings.ToLower(text), strings.ToLower(v)) {
				t.Errorf("audit event %s holds an identifying value: %s", ev.Type, text)
			}
		}
	}
}

func TestService(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			f := setup(t, engine)
			a := f.put(t, espReport())
			b := f.put(t, publicReport())
			other := publicReport()
			other.OpenedAt = other.OpenedAt.Add(time.Hour)
			other.Reported = []haven.Involved{{Person: &haven.Person{Emails: []haven.Email{{Value: "someone.else@example.org"}}}}}
			other.Reporter = haven.Reporter{}
			c := f.put(t, other)
			f.index(t, a, b, c)
			// Indexing twice changes nothing.
			f.index(t, a, b)

			rel, err := f.svc.Related(ctx, analyst, a)
			if err != nil {
				t.Fatal(err)
			}
			if len(rel.Identifiers) != 17 {
				t.Errorf("report %d: got %d identifiers, want 17", a, len(rel.Identifiers))
			}
			if len(rel.Reports) != 1 || rel.Reports[0].ReportID != b || rel.More {
				t.Fatalf("related to %d: got %+v, want report %d only", a, rel.Reports, b)
			}
			var shared []string
			for _, sh := range rel.Reports[0].Shared {
				shared = append(shared, fmt.Sprintf("%s %s %v", sh.Kind, sh.Value, sh.Roles))
			}
			want := []string{"email suspect.one@example.org [reported]", "screen_name example chat:suspect_one [reported]"}
			if !slices.Equal(shared, want) {
				t.Errorf("shared: got %q, want %q", shared, want)
			}
			for _, l := range rel.Identifiers {
				if l.Kind == identifiers.KindEmail && l.Value == "suspect.one@example.org" && l.Reports != 2 {
					t.Errorf("the shared e-mail counts %d reports, want 2", l.Reports)
				}
			}
			if rel, err := f.svc.Related(ctx, analyst, c); err != nil || len(rel.Reports) != 0 {
				t.Errorf("report %d is related to %+v, %v", c, rel, err)
			}

			// Search by the e-mail as typed differently, without a kind.
			res, err := f.svc.Search(ctx, analyst, "", "  Suspect.One@EXAMPLE.org ")
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Entities) != 1 || res.Entities[0].Reports != 2 || res.Entities[0].Kind != identifiers.KindEmail {
				t.Fatalf("search: %+v", res)
			}
			emailID := res.Entities[0].ID
			// By kind, phone in another format, and a Gmail variant.
			for _, q := range []struct {
				kind identifiers.Kind
				q    string
			}{
				{identifiers.KindPhone, "+1 202-555-0143"}, {"", "202.555.0143"}, {identifiers.KindEmail, "SuspectOne+x@googlemail.com"},
				{"", "https://example.org/page/#top"}, {"", "example chat:@SUSPECT_ONE"}, {"", "esp:esp-account-1:u-1001"},
				{identifiers.KindDevice, "idfa:6d92078a-8246-4ba4-ae5b-76104861e7dc"}, {"", strings.Repeat("11", 16)},
				{"", "::ffff:192.0.2.7"}, {"", "2001:db8::20"},
			} {
				res, err := f.svc.Search(ctx, analyst, q.kind, q.q)
				if err != nil || len(res.Entities) != 1 {
					t.Errorf("search %s %q: %+v %v", q.kind, q.q, res, err)
				}
			}
			// A network.
			res, err = f.svc.Search(ctx, analyst, identifiers.KindIP, "192.0.2.0/24")
			if err != nil || len(res.Entities) != 1 || res.Entities[0].Value != "192.0.2.7" || res.Network != "192.0.2.0/24" {
				t.Errorf("network search: %+v %v", res, err)
			}
			res, err = f.svc.Search(ctx, analyst, "", "2001:db8::/32")
			if err != nil || len(res.Entities) != 1 {
				t.Errorf("IPv6 network search: %+v %v", res, err)
			}
			// Nothing found is not an error.
			if res, err := f.svc.Search(ctx, analyst, "", "nobody@example.org"); err != nil || len(res.Entities) != 0 {
				t.Errorf("search for an unknown address: %+v %v", res, err)
			}
			// Refusals name the field.
			for _, q := range []struct {
				kind  identifiers.Kind
				q     string
				field string
			}{
				{"", "", "q"}, {"", "just words", "q"}, {identifiers.KindEmail, "not-an-address", "q"}, {"shoe_size", "42", "kind"},
				{identifiers.KindIP, "10.0.0.0/4", "q"}, {identifiers.KindScreenName, "no service", "q"},
			} {
				_, err := f.svc.Search(ctx, analyst, q.kind, q.q)
				var he *haven.Error
				if !haven.IsKind(err, haven.KindInvalid) || !asError(err, &he) || he.Field != q.field {
					t.Errorf("search %s %q: got %v, want invalid %s", q.kind, q.q, err, q.field)
				}
			}

			// The entity's timeline, newest report first.
			v, err := f.svc.Entity(ctx, analyst, emailID, nil)
			if err != nil {
				t.Fatal(err)
			}
			if v.Entity.Value != "suspect.one@example.org" || len(v.Timeline) != 2 || v.Timeline[0].ReportID != b || v.Timeline[1].ReportID != a || v.Next != nil {
				t.Errorf("entity: %+v", v)
			}
			if _, err := f.svc.Entity(ctx, analyst, 1<<40, nil); !haven.IsKind(err, haven.KindNotFound) {
				t.Errorf("unknown entity: got %v, want not found", err)
			}

			// Law enforcement may not use any of it.
			if _, err := f.svc.Search(ctx, leUser, "", "suspect.one@example.org"); !haven.IsKind(err, haven.KindForbidden) {
				t.Errorf("LE search: got %v, want forbidden", err)
			}
			if _, err := f.svc.Entity(ctx, leUser, emailID, nil); !haven.IsKind(err, haven.KindForbidden) {
				t.Errorf("LE entity: got %v, want forbidden", err)
			}
			if _, err := f.svc.Related(ctx, leUser, a); !haven.IsKind(err, haven.KindForbidden) {
				t.Errorf("LE related: got %v, want forbidden", err)
			}

			// Every read is audited, without the values.
			searches := f.auditEvents(t, "identifier.search")
			if len(searches) != 14 {
				t.Errorf("got %d search events, want one per search", len(searches))
			}
			if searches[len(searches)-1].Details["query"] == "" || !strings.HasPrefix(searches[len(searches)-1].Details["query"], "hmac:") {
				t.Errorf("the search event holds no pseudonym: %v", searches[len(searches)-1].Details)
			}
			reads := f.auditEvents(t, "identifier.entity_read")
			if len(reads) != 1 || reads[0].ObjectID != fmt.Sprint(emailID) || reads[0].ActorID != analyst.UserID {
				t.Errorf("entity read events: %+v", reads)
			}
			indexed := f.auditEvents(t, "identifier.index")
			if len(indexed) != 5 || indexed[0].Details["identifiers"] == "" {
				t.Errorf("index events: %d", len(indexed))
			}
			all := append(append(append(searches, reads...), indexed...), f.auditEvents(t, "identifier.related")...)
			noValues(t, all, "suspect", "example.org", "5550143", "192.0.2", "2001:db8", "u-1001", "6d92078a")

			// Re-indexing after the report lost an identifier removes the
			// link, and the entity with it.
			err = f.s.InTx(ctx, func(tx *store.Tx) error {
				r, err := tx.Report(ctx, b, true)
				if err != nil {
					return err
				}
				r.Reporter = haven.Reporter{}
				return tx.UpdateReportContent(ctx, r)
			})
			if err != nil {
				t.Fatal(err)
			}
			f.index(t, b)
			if res, err := f.svc.Search(ctx, analyst, identifiers.KindEmail, "reporter@example.org"); err != nil || len(res.Entities) != 0 {
				t.Errorf("the removed reporter's e-mail is still found: %+v %v", res, err)
			}
			if err := f.svc.IndexReport(ctx, 1<<40); !haven.IsKind(err, haven.KindNotFound) {
				t.Errorf("indexing an unknown report: got %v, want not found", err)
			}
		})
	}
}

// TestRelatedManyReports: an entity shared by more reports than listed
// gives the newest RelatedLimit, with More set, and the timeline pages
// through all of them.
func TestRelatedManyReports(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			f := setup(t, engine)
			n := identifiers.RelatedLimit + identifiers.TimelineLimit
			var ids []int64
			for i := range n {
				r := publicReport()
				r.OpenedAt = r.OpenedAt.Add(time.Duration(i) * time.Minute)
				// The shared address in two roles, so reports have two
				// rows each.
				r.Reported[0].ScreenName = ""
				r.Victims = []haven.Involved{{Person: &haven.Person{Emails: []haven.Email{{Value: "suspect.one@example.org"}}}}}
				r.Reporter = haven.Reporter{}
				ids = append(ids, f.put(t, r))
			}
			f.index(t, ids...)
			rel, err := f.svc.Related(ctx, analyst, ids[0])
			if err != nil {
				t.Fatal(err)
			}
			if len(rel.Reports) != identifiers.RelatedLimit || !rel.More {
				t.Fatalf("got %d related (more %v), want %d and more", len(rel.Reports), rel.More, identifiers.RelatedLimit)
			}
			for i, rr := range rel.Reports {
				if want := ids[n-1-i]; rr.ReportID != want {
					t.Errorf("related %d: report %d, want %d", i, rr.ReportID, want)
				}
				if len(rr.Shared) != 1 || len(rr.Shared[0].Roles) != 2 {
					t.Errorf("related %d shares %+v, want one entity in two roles", i, rr.Shared)
				}
			}
			res, err := f.svc.Search(ctx, analyst, identifiers.KindEmail, "suspect.one@example.org")
			if err != nil || len(res.Entities) != 1 || res.Entities[0].Reports != int64(n) {
				t.Fatalf("search: %+v %v", res, err)
			}
			seen := map[int64]int{}
			var after *identifiers.Cursor
			pages := 0
			for {
				v, err := f.svc.Entity(ctx, analyst, res.Entities[0].ID, after)
				if err != nil {
					t.Fatal(err)
				}
				pages++
				for _, s := range v.Timeline {
					seen[s.ReportID]++
				}
				if v.Next == nil {
					break
				}
				c, err := identifiers.ParseCursor(v.Next.String())
				if err != nil || *c != *v.Next {
					t.Fatalf("cursor round trip: %v %v", c, err)
				}
				after = c
			}
			if len(seen) != n || pages < 2 {
				t.Errorf("the timeline showed %d reports in %d pages, want %d in several", len(seen), pages, n)
			}
			for id, k := range seen {
				if k != 2 {
					t.Errorf("report %d appears %d times, want 2 (both roles, never split)", id, k)
				}
			}
		})
	}
}

func asError(err error, target **haven.Error) bool {
	e, ok := err.(*haven.Error)
	if ok {
		*target = e
	}
	return ok
}
