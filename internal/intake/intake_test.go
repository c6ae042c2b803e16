package intake_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/app"
	"github.com/haven-hotline/haven/internal/config"
	"github.com/haven-hotline/haven/internal/intake"
	"github.com/haven-hotline/haven/internal/store"
	"github.com/haven-hotline/haven/internal/store/storetest"
)

// fakeClock is a clock that moves only when told (the server tests use
// haventest's; this package's tests avoid importing the HTTP server).
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

type env struct {
	app   *app.App
	clock *fakeClock
	esp   haven.Actor
	other haven.Actor
	dir   string
}

func setup(t *testing.T, engine string) *env {
	t.Helper()
	dir := t.TempDir()
	clock := &fakeClock{t: time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)}
	cfg, _, err := config.Load("test", nil, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	cfg.DataDir, cfg.DatabaseURL = dir, filepath.Join(dir, "haven.db")
	if engine == "postgres" {
		cfg.DatabaseURL = storetest.PostgresURL(t)
	}
	cfg.EvidenceURL, cfg.MasterKeyFile = "file://"+filepath.Join(dir, "evidence"), filepath.Join(dir, "master.key")
	a, err := app.Open(context.Background(), cfg, nil, app.Options{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	ctx := context.Background()
	sys := haven.SystemActor("test")
	e := &env{app: a, clock: clock, dir: dir}
	for i, name := range []string{"Example Photos", "Other Service"} {
		c, err := a.Accounts.CreateESP(ctx, sys, name)
		if err != nil {
			t.Fatal(err)
		}
		act := haven.Actor{UserID: c.UserID, Role: haven.RoleESP, Addr: "203.0.113.9"}
		if i == 0 {
			e.esp = act
		} else {
			e.other = act
		}
	}
	return e
}

func minimal(clock *fakeClock) *haven.Report {
	return &haven.Report{
		Incident: haven.IncidentSummary{Type: haven.IncidentCSAM, DateTime: clock.Now().Add(-time.Hour)},
		Reporter: haven.Reporter{ReportingPerson: haven.Person{FirstName: "Trust", LastName: "Safety",
			Emails: []haven.Email{{Value: "abuse@example.org"}}}},
	}
}

func TestLifecycle(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(engine, func(t *testing.T) {
			e := setup(t, engine)
			ctx := context.Background()
			s := e.app.Intake
			sub, err := s.Submit(ctx, e.esp, haven.SourceESP, minimal(e.clock))
			if err != nil {
				t.Fatal(err)
			}
			id := sub.Report.ID
			if id <= 0 || sub.Report.Status != haven.ReportOpen {
				t.Fatalf("submitted: %+v", sub.Report)
			}
			f, err := s.AddFile(ctx, e.esp, id, strings.NewReader("synthetic file bytes"), "a.jpg", "image/jpeg")
			if err != nil {
				t.Fatal(err)
			}
			if len(f.ID) != 32 || len(f.MD5) != 16 {
				t.Fatalf("file: %+v", f)
			}
			// Another ESP sees nothing of it.
			if _, err := s.AddFile(ctx, e.other, id, strings.NewReader("x"), "b.jpg", ""); !errors.Is(err, intake.ErrReportNotFound) {
				t.Errorf("other ESP upload: got %v, want report not found", err)
			}
			if err := s.SetFileDetails(ctx, e.other, id, f.ID, &haven.FileDetails{}); !errors.Is(err, intake.ErrReportNotFound) {
				t.Errorf("other ESP fileinfo: got %v", err)
			}
			if _, err := s.Get(ctx, e.other, id); !errors.Is(err, intake.ErrReportNotFound) {
				t.Errorf("other ESP get: got %v", err)
			}
			if err := s.SetFileDetails(ctx, e.esp, id, "0123456789abcdef0123456789abcdef", &haven.FileDetails{}); !errors.Is(err, intake.ErrFileNotFound) {
				t.Errorf("unknown file: got %v", err)
			}
			viewed := true
			if err := s.SetFileDetails(ctx, e.esp, id, f.ID, &haven.FileDetails{FileName: "a.jpg", ViewedByESP: &viewed}); err != nil {
				t.Fatal(err)
			}
			done, err := s.Finish(ctx, e.esp, id)
			if err != nil {
				t.Fatal(err)
			}
			if done.Status != haven.ReportFinished || len(done.Files) != 1 || done.Files[0].Details == nil || *done.Files[0].Details.ViewedByESP != true {
				t.Fatalf("finished: %+v", done)
			}
			for name, err := range map[string]error{
				"finish again": func() error { _, err := s.Finish(ctx, e.esp, id); return err }(),
				"retract":      s.Retract(ctx, e.esp, id),
				"upload":       func() error { _, err := s.AddFile(ctx, e.esp, id, strings.NewReader("x"), "", ""); return err }(),
			} {
				if !errors.Is(err, intake.ErrFinished) {
					t.Errorf("%s after finish: got %v, want already finished", name, err)
				}
			}
			if _, err := s.Finish(ctx, e.esp, 999999); !errors.Is(err, intake.ErrReportNotFound) {
				t.Errorf("unknown report: got %v", err)
			}
			// Staff read it, audited.
			staff := haven.Actor{UserID: "analyst", Role: haven.RoleIntake}
			got, err := s.Get(ctx, staff, id)
			if err != nil || got.ID != id {
				t.Fatalf("staff get: %v %v", got, err)
			}
			if _, err := s.Get(ctx, haven.Actor{UserID: "le", Role: haven.RoleLE, AgencyID: "x"}, id); !errors.Is(err, intake.ErrReportNotFound) {
				t.Errorf("LE get of an unreferred report: got %v", err)
			}
			var reads int
			_ = e.app.Store.View(ctx, func(tx *store.Tx) error {
				evs, err := tx.RecentAuditEvents(ctx, store.AuditFilter{Type: "report.read"})
				reads = len(evs)
				return err
			})
			if reads == 0 {
				t.Error("the staff read was not audited")
			}
		})
	}
}

func TestRetractDestroysUploads(t *testing.T) {
	e := setup(t, "sqlite")
	ctx := context.Background()
	s := e.app.Intake
	sub, err := s.Submit(ctx, e.esp, haven.SourceESP, minimal(e.clock))
	if err != nil {
		t.Fatal(err)
	}
	f, err := s.AddFile(ctx, e.esp, sub.Report.ID, strings.NewReader("bytes to retract"), "r.png", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Retract(ctx, e.esp, sub.Report.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.Retract(ctx, e.esp, sub.Report.ID); !errors.Is(err, intake.ErrRetracted) {
		t.Errorf("second retract: got %v, want already retracted", err)
	}
	if _, err := s.Finish(ctx, e.esp, sub.Report.ID); !errors.Is(err, intake.ErrRetracted) {
		t.Errorf("finish after retract: got %v", err)
	}
	it, _, err := e.app.Custody.Item(ctx, haven.Actor{Role: haven.RoleIntake}, f.ItemID)
	if err != nil || !it.Shredded() {
		t.Fatalf("the retracted upload was not destroyed: %+v %v", it, err)
	}
}

func TestExpiry(t *testing.T) {
	e := setup(t, "sqlite")
	ctx := context.Background()
	s := e.app.Intake
	sub, err := s.Submit(ctx, e.esp, haven.SourceESP, minimal(e.clock))
	if err != nil {
		t.Fatal(err)
	}
	id := sub.Report.ID
	// Active near the end of the first day: the report lives until an hour
	// after the last change.
	e.clock.Advance(23*time.Hour + 30*time.Minute)
	if _, err := s.AddFile(ctx, e.esp, id, strings.NewReader("late file"), "", ""); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(45 * time.Minute) // 24h15 after opening, 45 min after the change
	if n, err := s.ExpireDue(ctx); err != nil || n != 0 {
		t.Fatalf("expired %d (%v) while within an hour of the last change", n, err)
	}
	e.clock.Advance(16 * time.Minute)
	if n, err := s.ExpireDue(ctx); err != nil || n != 1 {
		t.Fatalf("got %d expired (%v), want 1", n, err)
	}
	if _, err := s.Finish(ctx, e.esp, id); !errors.Is(err, intake.ErrReportNotFound) {
		t.Errorf("finish after expiry: got %v, want report not found", err)
	}
	// A fresh report lasts 24 hours even without changes.
	if _, err := s.Submit(ctx, e.esp, haven.SourceESP, minimal(e.clock)); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(23 * time.Hour)
	if n, _ := s.ExpireDue(ctx); n != 0 {
		t.Fatal("a report expired before 24 hours")
	}
	e.clock.Advance(time.Hour + time.Second)
	if n, _ := s.ExpireDue(ctx); n != 1 {
		t.Fatal("a report outlived 24 hours")
	}
}

func TestIdempotency(t *testing.T) {
	e := setup(t, "sqlite")
	ctx := context.Background()
	r1 := minimal(e.clock)
	r1.IdempotencyKey = "retry-42"
	a, err := e.app.Intake.Submit(ctx, e.esp, haven.SourceAPI, r1)
	if err != nil {
		t.Fatal(err)
	}
	r2 := minimal(e.clock)
	r2.IdempotencyKey = "retry-42"
	b, err := e.app.Intake.Submit(ctx, e.esp, haven.SourceAPI, r2)
	if err != nil {
		t.Fatal(err)
	}
	if !b.Replayed || b.Report.ID != a.Report.ID {
		t.Fatalf("retry made report %d (replayed %v), want %d", b.Report.ID, b.Replayed, a.Report.ID)
	}
	r3 := minimal(e.clock)
	r3.IdempotencyKey = "retry-42"
	c, err := e.app.Intake.Submit(ctx, e.other, haven.SourceAPI, r3)
	if err != nil || c.Replayed {
		t.Fatalf("another ESP's key collided: %v %v", c, err)
	}
}

func TestPhoneCallbackSealedAndRestricted(t *testing.T) {
	e := setup(t, "sqlite")
	ctx := context.Background()
	intakeStaff := haven.Actor{UserID: "phone-1", Role: haven.RoleIntake, AuthAt: e.clock.Now()}
	const marker = "CALLBACK-CANARY-555-0147"
	r := minimal(e.clock)
	r.AdditionalInfo = "Caller described a chat on a game platform."
	out, err := e.app.Intake.SubmitPhone(ctx, intakeStaff, r, &haven.Callback{Name: "Pat Example", Phone: marker})
	if err != nil {
		t.Fatal(err)
	}
	if out.Source != haven.SourcePhone || out.Status != haven.ReportFinished {
		t.Fatalf("phone report: %+v", out)
	}
	cb, err := e.app.Intake.Callback(ctx, intakeStaff, out.ID)
	if err != nil || cb == nil || cb.Phone != marker {
		t.Fatalf("callback for intake staff: %+v %v", cb, err)
	}
	cb, err = e.app.Intake.Callback(ctx, haven.Actor{UserID: "v", Role: haven.RoleVictimID}, out.ID)
	if err != nil || cb != nil {
		t.Fatalf("callback shown to a victim-ID analyst: %+v %v", cb, err)
	}
	// Sealed: the number is in clear nowhere in the database.
	out2, _ := exec.Command("grep", "-rl", marker, e.dir).Output()
	if len(bytes.TrimSpace(out2)) > 0 {
		t.Errorf("the callback number is in clear in %s", out2)
	}
	if _, err := e.app.Intake.SubmitPhone(ctx, haven.Actor{UserID: "x", Role: haven.RoleOffender}, minimal(e.clock), nil); !haven.IsKind(err, haven.KindForbidden) {
		t.Errorf("phone intake by an offender analyst: got %v", err)
	}
}

func TestPublicFollowup(t *testing.T) {
	e := setup(t, "sqlite")
	ctx := context.Background()
	anon := haven.Actor{Addr: "198.51.100.20"}
	out, secret, err := e.app.Intake.SubmitPublic(ctx, anon, minimal(e.clock))
	if err != nil {
		t.Fatal(err)
	}
	if len(secret) != 24 || out.Status != haven.ReportFinished {
		t.Fatalf("secret %q, report %+v", secret, out)
	}
	if err := e.app.Intake.AddFollowup(ctx, anon, out.ID, strings.ToLower(secret), "More detail about the link.", "en"); err != nil {
		t.Fatalf("follow-up with the secret (lower case): %v", err)
	}
	if err := e.app.Intake.AddFollowup(ctx, anon, out.ID, "AAAA-AAAA-AAAA-AAAA-AAAA", "x", "en"); !errors.Is(err, intake.ErrFollowupDenied) {
		t.Errorf("wrong secret: got %v", err)
	}
	if err := e.app.Intake.AddFollowup(ctx, anon, out.ID+1000, secret, "x", "en"); !errors.Is(err, intake.ErrFollowupDenied) {
		t.Errorf("wrong number: got %v", err)
	}
	fs, err := e.app.Intake.Followups(ctx, haven.Actor{Role: haven.RoleIntake}, out.ID)
	if err != nil || len(fs) != 1 || fs[0].Text != "More detail about the link." {
		t.Fatalf("follow-ups: %v %v", fs, err)
	}
}
