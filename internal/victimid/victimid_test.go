package victimid_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/audit"
	"github.com/haven-hotline/haven/internal/hashmatch"
	"github.com/haven-hotline/haven/internal/pdq"
	"github.com/haven-hotline/haven/internal/store"
	"github.com/haven-hotline/haven/internal/store/storetest"
	"github.com/haven-hotline/haven/internal/victimid"
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

func key() []byte {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return b
}

func sharedImage(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "shared", "testdata", "pdq", "images", name))
	if err != nil {
		t.Skipf("PDQ reference images not found: %v", err)
	}
	return b
}

type env struct {
	store  *store.Store
	svc    *victimid.Service
	hashes *hashmatch.Service
	clock  *fakeClock
	vid    haven.Actor // victim-identification analyst
	sup    haven.Actor // support: notifications
	le     haven.Actor
	agency *haven.Agency
	md5s   []string // exact MD5s in SERIES-TEST-1
}

func setup(t *testing.T, engine string) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{store: storetest.Open(t, engine), clock: &fakeClock{t: time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)}}
	log := audit.New(key(), key(), e.clock, e.store.Dialect().AuditChains())
	e.hashes = hashmatch.New(e.store, log, nil, nil, e.clock, nil)
	e.svc = victimid.New(e.store, log, e.clock, nil, e.hashes)
	now := e.clock.Now()
	e.agency = &haven.Agency{ID: haven.NewID(), Name: "Example County ICAC Task Force", Kind: haven.AgencyICAC, CreatedAt: now}
	if err := e.store.InTx(ctx, func(tx *store.Tx) error { return tx.CreateAgency(ctx, e.agency) }); err != nil {
		t.Fatal(err)
	}
	e.vid = haven.Actor{UserID: "vid1", Role: haven.RoleVictimID, AuthAt: now}
	e.sup = haven.Actor{UserID: "sup1", Role: haven.RoleSupport, AuthAt: now}
	e.le = haven.Actor{UserID: "le1", Role: haven.RoleLE, AgencyID: e.agency.ID, AuthAt: now}

	sys := haven.SystemActor("test")
	bank, err := e.hashes.CreateBank(ctx, sys, haven.HashBank{Name: "Test series bank", Source: "tests", Enabled: true, PDQThreshold: 31})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		sum := md5.Sum([]byte{byte(i), 'x'})
		e.md5s = append(e.md5s, hex.EncodeToString(sum[:]))
		if _, err := e.hashes.AddEntry(ctx, sys, haven.HashEntry{BankID: bank.ID, Algo: haven.AlgoMD5, Value: sum[:], SeriesID: "SERIES-TEST-1"}); err != nil {
			t.Fatal(err)
		}
	}
	h, q, err := pdq.HashReader(bytes.NewReader(sharedImage(t, "bridge-mods/aaa-orig.jpg")), pdq.Options{})
	if err != nil || q < pdq.MinQuality {
		t.Fatalf("hash the bridge: %v", err)
	}
	if _, err := e.hashes.AddEntry(ctx, sys, haven.HashEntry{BankID: bank.ID, Algo: haven.AlgoPDQ, Value: h[:], SeriesID: "SERIES-TEST-2"}); err != nil {
		t.Fatal(err)
	}
	for _, s := range []store.Series{{Code: "SERIES-TEST-1", Name: "Test series one"}, {Code: "SERIES-TEST-2", Name: "Test series two"}} {
		if _, err := e.svc.SaveSeries(ctx, e.vid, s); err != nil {
			t.Fatal(err)
		}
	}
	victims := []store.Victim{
		{ID: "V-TEST-1", Identified: true, AgencyID: e.agency.ID, OfficerName: "Officer One", OfficerEmail: "officer1@example.org",
			IdentifiedOn: now, Notify: victimid.NotifyYes, CounselName: "Counsel One", CounselContact: "counsel1@example.org",
			Series: []string{"SERIES-TEST-1"}},
		{ID: "V-TEST-2", Identified: true, AgencyID: e.agency.ID, OfficerName: "Officer Two", OfficerEmail: "officer2@example.org",
			IdentifiedOn: now, Notify: victimid.NotifyNo, Series: []string{"SERIES-TEST-1"}},
		{ID: "V-TEST-3", Notify: victimid.NotifyProsecutionOnly, Series: []string{"SERIES-TEST-2"}},
	}
	for _, v := range victims {
		if _, err := e.svc.SaveVictim(ctx, e.vid, v); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

func TestIdentificationRequest(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(engine, func(t *testing.T) {
			e := setup(t, engine)
			ctx := context.Background()
			// A blurred copy of the bridge matches perceptually.
			mod, _, err := pdq.HashReader(bytes.NewReader(sharedImage(t, "bridge-mods/blur-a-little.jpg")), pdq.Options{})
			if err != nil {
				t.Fatal(err)
			}
			list := "md5,pdq\n" + e.md5s[0] + ",\n" + e.md5s[1] + ",\n" + strings.Repeat("0", 32) + ",\n," + mod.String() + "\n"
			rep, err := e.svc.Request(ctx, e.le, victimid.Submission{CaseNumber: "CASE-TEST-1", Purpose: "investigation",
				ListFormat: victimid.FormatCSV, List: strings.NewReader(list)})
			if err != nil {
				t.Fatal(err)
			}
			r := rep.Result
			if r.Submitted != 4 || r.Matched != 3 || len(r.Series) != 2 {
				t.Fatalf("result: got %+v, want 4 submitted, 3 matched, 2 series", r)
			}
			if r.Series[0].Code != "SERIES-TEST-1" || r.Series[0].Files != 2 || len(r.Series[0].Contacts) != 2 {
				t.Errorf("series one: got %+v", r.Series[0])
			}
			if r.Series[1].Code != "SERIES-TEST-2" || r.Series[1].Files != 1 || r.Series[1].Identified || len(r.Unidentified) != 1 {
				t.Errorf("series two: got %+v", r.Series[1])
			}
			var buf bytes.Buffer
			if err := victimid.WriteJSON(&buf, rep); err != nil {
				t.Fatal(err)
			}
			for _, banned := range []string{"Counsel One", "counsel1@example.org", "prosecution_only", "do_not_notify"} {
				if strings.Contains(buf.String(), banned) {
					t.Errorf("the JSON report shows %q", banned)
				}
			}
			var doc map[string]any
			if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
				t.Fatal(err)
			}
			buf.Reset()
			if err := victimid.WritePDF(&buf, rep); err != nil || !bytes.HasPrefix(buf.Bytes(), []byte("%PDF")) {
				t.Errorf("PDF: %v", err)
			}
			// Only the opted-in victim is notified (the purpose is not prosecution).
			ns, err := e.svc.Notifications(ctx, e.sup)
			if err != nil {
				t.Fatal(err)
			}
			if len(ns) != 1 || ns[0].VictimID != "V-TEST-1" || ns[0].CaseNumber != "CASE-TEST-1" || ns[0].CounselName != "Counsel One" {
				t.Fatalf("notifications: got %d", len(ns))
			}
			if err := e.svc.MarkSent(ctx, e.sup, ns[0].ID, "letter to counsel"); err != nil {
				t.Fatal(err)
			}
			// A prosecution request notifies the prosecution_only victim once
			// series two is identified.
			if _, err := e.svc.SaveVictim(ctx, e.vid, store.Victim{ID: "V-TEST-3", Identified: true, AgencyID: e.agency.ID,
				IdentifiedOn: e.clock.Now(), Notify: victimid.NotifyProsecutionOnly, Series: []string{"SERIES-TEST-2"}}); err != nil {
				t.Fatal(err)
			}
			if _, err := e.svc.Request(ctx, e.le, victimid.Submission{CaseNumber: "CASE-TEST-2", Purpose: victimid.PurposeProsecution,
				Hashes: "pdq:" + mod.String()}); err != nil {
				t.Fatal(err)
			}
			ns, _ = e.svc.Notifications(ctx, e.sup)
			if len(ns) != 2 || ns[0].VictimID != "V-TEST-3" {
				t.Errorf("after a prosecution request: got %d notifications", len(ns))
			}
			// Reports are the agency's own; another agency's user gets not found.
			other := haven.Actor{UserID: "le2", Role: haven.RoleLE, AgencyID: haven.NewID(), AuthAt: e.clock.Now()}
			if _, err := e.svc.GetReport(ctx, other, rep.Request.ID, victimid.FormatPage); !haven.IsKind(err, haven.KindNotFound) {
				t.Errorf("another agency's report: got %v, want not found", err)
			}
			if got, err := e.svc.GetReport(ctx, e.le, rep.Request.ID, victimid.FormatPDF); err != nil || got.Result.Matched != 3 {
				t.Errorf("own report: %v", err)
			}
			st, err := e.svc.Stats(ctx, e.vid)
			if err != nil {
				t.Fatal(err)
			}
			if st.VictimsByStatus[victimid.StatusIdentified] != 3 || len(st.RequestsPerMonth) != 1 || st.RequestsPerMonth[0].Count != 2 {
				t.Errorf("stats: got %+v", st)
			}
		})
	}
}

func TestAccess(t *testing.T) {
	e := setup(t, "sqlite")
	ctx := context.Background()
	// LE users never list series or victims.
	if _, err := e.svc.ListSeries(ctx, e.le); !haven.IsKind(err, haven.KindForbidden) {
		t.Errorf("LE lists series: got %v, want forbidden", err)
	}
	if _, err := e.svc.Victims(ctx, e.le); !haven.IsKind(err, haven.KindForbidden) {
		t.Errorf("LE lists victims: got %v, want forbidden", err)
	}
	if _, err := e.svc.Victim(ctx, e.le, "V-TEST-1"); !haven.IsKind(err, haven.KindForbidden) {
		t.Errorf("LE reads a victim: got %v, want forbidden", err)
	}
	// Counsel details only with PermNotifications.
	admin := haven.Actor{UserID: "adm", Role: haven.RoleAdmin, AuthAt: e.clock.Now()}
	v, err := e.svc.Victim(ctx, admin, "V-TEST-1")
	if err != nil {
		t.Fatal(err)
	}
	if v.CounselName != "" || v.CounselContact != "" {
		t.Error("an admin sees the counsel details")
	}
	if v, err := e.svc.Victim(ctx, e.vid, "V-TEST-1"); err != nil || v.CounselName != "Counsel One" {
		t.Errorf("the victim-ID team does not see counsel: %v", err)
	}
	// Every read is audited, and so is the denial.
	var reads, denied int
	err = e.store.View(ctx, func(tx *store.Tx) error {
		evs, err := tx.RecentAuditEvents(ctx, store.AuditFilter{ObjectType: "victim", Limit: 100})
		for _, ev := range evs {
			if ev.Type == "victim.read" && ev.Outcome == haven.OutcomeSuccess {
				reads++
			}
			if ev.Outcome == haven.OutcomeDenied {
				denied++
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if reads != 2 || denied != 2 {
		t.Errorf("audit: got %d reads and %d denials, want 2 and 2", reads, denied)
	}
}
