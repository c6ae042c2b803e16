package viewer_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"image"
	"image/color"
	"image/png"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/haventest"
	"github.com/haven-hotline/haven/internal/store"
	"github.com/haven-hotline/haven/internal/store/storetest"
	"github.com/haven-hotline/haven/internal/viewer"
)

// bundle is what a viewer test needs: a running installation, an ESP to
// file reports and a viewer with the test's options.
type bundle struct {
	env    *haventest.Env
	esp    haven.Actor
	viewer *viewer.Service
}

func setup(t *testing.T, engine string, opt viewer.Options) *bundle {
	t.Helper()
	env := haventest.Start(t, engine)
	esp := env.NewUser(t, "esp-viewer", haven.RoleESP, "")
	v := viewer.New(env.App.Store, env.App.Audit, env.App.Custody, nil, env.Clock, nil, opt)
	v.SetMatcher(env.App.Hashes)
	return &bundle{env: env, esp: haven.Actor{UserID: esp.ID, Role: haven.RoleESP, Addr: "192.0.2.10"}, viewer: v}
}

// pattern is a benign synthetic picture: stripes and a disc.
func pattern(t testing.TB, seed uint8) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, 640, 480))
	for y := range 480 {
		for x := range 640 {
			c := color.NRGBA{R: uint8(x/10) * 7, G: seed + uint8(y/12)*5, B: 90, A: 255}
			if dx, dy := x-320, y-240; dx*dx+dy*dy < 120*120 {
				c = color.NRGBA{R: 250, G: 250 - seed, B: 30, A: 255}
			}
			img.SetNRGBA(x, y, c)
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// file files a finished report with one file and returns the report
// number and the file.
func (b *bundle) file(t *testing.T, data []byte, name string, details *haven.FileDetails) (int64, *haven.ReportFile) {
	t.Helper()
	ctx := context.Background()
	in := b.env.App.Intake
	sub, err := in.Submit(ctx, b.esp, haven.SourceESP, &haven.Report{Incident: haven.IncidentSummary{Type: haven.IncidentCSAM,
		DateTime: b.env.Clock.Now().Add(-time.Hour)}, Reporter: haven.Reporter{ReportingPerson: haven.Person{FirstName: "Trust",
		Emails: []haven.Email{{Value: "abuse@example.com"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	id := sub.Report.ID
	f, err := in.AddFile(ctx, b.esp, id, bytes.NewReader(data), name, "")
	if err != nil {
		t.Fatal(err)
	}
	if details != nil {
		if err := in.SetFileDetails(ctx, b.esp, id, f.ID, details); err != nil {
			t.Fatal(err)
		}
		f.Details = details
	}
	if _, err := in.Finish(ctx, b.esp, id); err != nil {
		t.Fatal(err)
	}
	return id, f
}

// person creates an account and returns it as a signed-in actor whose
// last sign-in is now.
func (b *bundle) person(t *testing.T, login string, role haven.Role, agencyID string) haven.Actor {
	t.Helper()
	u := b.env.NewUser(t, login, role, agencyID)
	return haven.Actor{UserID: u.ID, Role: role, AgencyID: agencyID, SessionID: haven.NewID(), Addr: "192.0.2.20",
		AuthAt: b.env.Clock.Now()}
}

// fresh returns a with a sign-in at the clock's now.
func (b *bundle) fresh(a haven.Actor) haven.Actor {
	a.AuthAt = b.env.Clock.Now()
	return a
}

// events returns the audit events of a type, newest first.
func (b *bundle) events(t *testing.T, typ string) []*haven.AuditEvent {
	t.Helper()
	var out []*haven.AuditEvent
	err := b.env.App.Store.View(context.Background(), func(tx *store.Tx) error {
		evs, err := tx.RecentAuditEvents(context.Background(), store.AuditFilter{Type: typ, Limit: 100})
		out = evs
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func refusal(t *testing.T, err error) *viewer.Refusal {
	t.Helper()
	r, ok := err.(*viewer.Refusal)
	if !ok {
		t.Fatalf("got error %v (%T), want a *viewer.Refusal", err, err)
	}
	return r
}

func TestViewerRenditionIsMadeAndStoredEncrypted(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(engine, func(t *testing.T) {
			ctx := context.Background()
			b := setup(t, engine, viewer.Options{})
			id, f := b.file(t, pattern(t, 10), "pattern.png", nil)
			analyst := b.person(t, "analyst@example.org", haven.RoleIntake, "")
			v, err := b.viewer.File(ctx, analyst, id, f.ID)
			if err != nil {
				t.Fatal(err)
			}
			if v.State != viewer.StateViewable || v.Rendition == nil || v.Rendition.Kind != store.RenditionImage {
				t.Fatalf("view: state %s, rendition %+v", v.State, v.Rendition)
			}
			if v.Rendition.Width != 320 || v.Rendition.Height != 240 {
				t.Errorf("rendition %d×%d, want 320×240", v.Rendition.Width, v.Rendition.Height)
			}
			rc, r, err := b.viewer.Rendition(ctx, analyst, id, f.ID)
			if err != nil {
				t.Fatal(err)
			}
			data, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := img.(*image.Gray); !ok || r.ContentType != "image/png" {
				t.Errorf("rendition is %T (%s), want greyscale PNG", img, r.ContentType)
			}
			// The rendition is a custody item of its own, encrypted: its
			// bytes are nowhere in the evidence folder in clear.
			it, acqs, err := b.env.App.Custody.Item(ctx, analyst, r.ItemID)
			if err != nil {
				t.Fatal(err)
			}
			if len(acqs) != 1 || acqs[0].Source != "rendition" || acqs[0].ContextID != f.ID || it.Size != int64(len(data)) {
				t.Errorf("custody of the rendition: %+v %+v", it, acqs)
			}
			err = filepath.WalkDir(filepath.Join(b.env.Dir, "evidence"), func(p string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				blob, err := os.ReadFile(p)
				if err != nil {
					return err
				}
				if bytes.Contains(blob, data[8:64]) || bytes.Contains(blob, []byte("\x89PNG")) {
					t.Errorf("%s holds PNG bytes in clear", p)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			// Made once: a second view reuses it.
			if v2, err := b.viewer.File(ctx, analyst, id, f.ID); err != nil || v2.Rendition.ItemID != r.ItemID {
				t.Errorf("second view: %+v %v", v2, err)
			}
			if n := len(b.events(t, "media.rendition_make")); n != 1 {
				t.Errorf("%d media.rendition_make events, want 1", n)
			}
			if n := len(b.events(t, "media.view")); n != 2 {
				t.Errorf("%d media.view events, want 2", n)
			}
			// A file that is not a picture gets no rendition, and no reveal.
			id2, f2 := b.file(t, []byte("%PDF-1.4 synthetic document, not a picture"), "notes.pdf", nil)
			v, err = b.viewer.File(ctx, analyst, id2, f2.ID)
			if err != nil || v.State != viewer.StateUnreadable {
				t.Fatalf("a PDF: state %v, %v; want unreadable", v, err)
			}
			if _, err := b.viewer.Reveal(ctx, b.fresh(analyst), id2, f2.ID, "check"); refusal(t, err).Why != "unreadable" {
				t.Errorf("reveal of a PDF: %v", err)
			}
		})
	}
}

func TestRevealGrantAndOriginal(t *testing.T) {
	ctx := context.Background()
	b := setup(t, "sqlite", viewer.Options{})
	data := pattern(t, 20)
	id, f := b.file(t, data, "pattern.png", nil)
	analyst := b.person(t, "analyst@example.org", haven.RoleIntake, "")
	other := b.person(t, "other@example.org", haven.RoleIntake, "")

	// No original without a grant.
	if _, err := b.viewer.Original(ctx, analyst, id, f.ID); !haven.IsKind(err, haven.KindForbidden) {
		t.Fatalf("original without a grant: %v, want forbidden", err)
	}
	// A reason is required and bounded.
	for _, reason := range []string{"", "   ", strings.Repeat("x", viewer.MaxReason+1)} {
		if _, err := b.viewer.Reveal(ctx, analyst, id, f.ID, reason); !haven.IsKind(err, haven.KindInvalid) {
			t.Errorf("reveal with reason of %d characters: %v, want invalid", len(reason), err)
		}
	}
	// An old sign-in must be confirmed first.
	stale := analyst
	stale.AuthAt = b.env.Clock.Now().Add(-6 * time.Minute)
	if _, err := b.viewer.Reveal(ctx, stale, id, f.ID, "classify"); !haven.IsKind(err, haven.KindReauth) {
		t.Errorf("reveal after a stale sign-in: %v, want reauth", err)
	}
	g, err := b.viewer.Reveal(ctx, analyst, id, f.ID, "confirm the classification")
	if err != nil {
		t.Fatal(err)
	}
	evs := b.events(t, "media.reveal")
	if len(evs) != 1 || evs[0].Outcome != haven.OutcomeSuccess || evs[0].ObjectID != f.ID || evs[0].Purpose != "confirm the classification" ||
		evs[0].Details["grant"] != g.ID {
		t.Fatalf("media.reveal events: %+v", evs)
	}
	o, err := b.viewer.Original(ctx, analyst, id, f.ID)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(o)
	o.Close()
	if !bytes.Equal(got, data) || o.ContentType != "image/png" {
		t.Errorf("original: %d bytes of %s, want the %d uploaded bytes as image/png", len(got), o.ContentType, len(data))
	}
	if evs := b.events(t, "media.original"); len(evs) != 1 || evs[0].Purpose != "confirm the classification" {
		t.Errorf("media.original events: %+v", evs)
	}
	// The grant is the analyst's, in that session, for a while.
	if _, err := b.viewer.Original(ctx, other, id, f.ID); !haven.IsKind(err, haven.KindForbidden) {
		t.Errorf("another analyst's original: %v, want forbidden", err)
	}
	otherSession := analyst
	otherSession.SessionID = haven.NewID()
	if _, err := b.viewer.Original(ctx, otherSession, id, f.ID); !haven.IsKind(err, haven.KindForbidden) {
		t.Errorf("original in another session: %v, want forbidden", err)
	}
	if _, err := b.viewer.Heartbeat(ctx, other, id, f.ID, g.ID, viewer.BeatVisible); !haven.IsKind(err, haven.KindNotFound) {
		t.Errorf("heartbeat of another's grant: %v, want not found", err)
	}
	b.env.Clock.Advance(viewer.DefaultGrantTTL)
	if _, err := b.viewer.Original(ctx, analyst, id, f.ID); !haven.IsKind(err, haven.KindForbidden) {
		t.Errorf("original after the grant expired: %v, want forbidden", err)
	}
	if _, err := b.viewer.Heartbeat(ctx, analyst, id, f.ID, g.ID, viewer.BeatVisible); err != viewer.ErrGrantExpired {
		t.Errorf("heartbeat after expiry: %v, want ErrGrantExpired", err)
	}
}

// TestExposureHeartbeats: heartbeats extend an interval, a stop ends it,
// a long silence starts a new one rather than counting the silence.
func TestExposureHeartbeats(t *testing.T) {
	ctx := context.Background()
	b := setup(t, "sqlite", viewer.Options{GrantTTL: time.Hour})
	id, f := b.file(t, pattern(t, 30), "pattern.png", nil)
	analyst := b.person(t, "analyst@example.org", haven.RoleIntake, "")
	g, err := b.viewer.Reveal(ctx, analyst, id, f.ID, "review")
	if err != nil {
		t.Fatal(err)
	}
	for range 12 { // three minutes of heartbeats
		b.env.Clock.Advance(viewer.HeartbeatEvery)
		if _, err := b.viewer.Heartbeat(ctx, analyst, id, f.ID, g.ID, viewer.BeatVisible); err != nil {
			t.Fatal(err)
		}
	}
	b.env.Clock.Advance(5 * time.Second)
	m, err := b.viewer.Heartbeat(ctx, analyst, id, f.ID, g.ID, viewer.BeatStop)
	if err != nil {
		t.Fatal(err)
	}
	if want := 3*time.Minute + 5*time.Second; m.Today != want {
		t.Errorf("after three minutes and a stop: today %v, want %v", m.Today, want)
	}
	// Resumed ten minutes later: a new interval, counting its first minute.
	b.env.Clock.Advance(10 * time.Minute)
	if m, err = b.viewer.Heartbeat(ctx, analyst, id, f.ID, g.ID, viewer.BeatVisible); err != nil {
		t.Fatal(err)
	}
	if want := 4*time.Minute + 5*time.Second; m.Today != want {
		t.Errorf("after resuming: today %v, want %v", m.Today, want)
	}
	if _, err := b.viewer.Heartbeat(ctx, analyst, id, f.ID, g.ID, "dancing"); !haven.IsKind(err, haven.KindInvalid) {
		t.Errorf("heartbeat of an unknown state: %v", err)
	}
}

// TestExposureBudgetStopsReveals: with a three-minute budget, reveals
// that count a minute each (no heartbeats) are refused at the fourth,
// kindly, and audited; the next day they are allowed again.
func TestExposureBudgetStopsReveals(t *testing.T) {
	ctx := context.Background()
	b := setup(t, "sqlite", viewer.Options{DailyBudget: 3 * time.Minute, BreakAfter: 2 * time.Hour})
	id, f := b.file(t, pattern(t, 40), "pattern.png", nil)
	analyst := b.person(t, "analyst@example.org", haven.RoleIntake, "")
	for i := range 3 {
		if _, err := b.viewer.Reveal(ctx, b.fresh(analyst), id, f.ID, "review"); err != nil {
			t.Fatalf("reveal %d: %v", i+1, err)
		}
		b.env.Clock.Advance(2 * time.Minute)
	}
	_, err := b.viewer.Reveal(ctx, b.fresh(analyst), id, f.ID, "review again")
	r := refusal(t, err)
	if r.Why != "budget" || r.Meter == nil || r.Meter.Today != 3*time.Minute || !haven.IsKind(err, haven.KindConflict) {
		t.Fatalf("refusal %+v", r)
	}
	if !strings.Contains(r.Message(), "limit") || strings.Contains(haven.ErrorMessage(err), "reveal refused") {
		t.Errorf("refusal message %q / safe message %q", r.Message(), haven.ErrorMessage(err))
	}
	evs := b.events(t, "media.reveal")
	if len(evs) != 4 || evs[0].Outcome != haven.OutcomeDenied || evs[0].Details["refused"] != "budget" || evs[0].Purpose != "review again" {
		t.Fatalf("latest media.reveal event: %+v", evs[0])
	}
	m, err := b.viewer.Meter(ctx, analyst)
	if err != nil || m.Left != 0 || !m.Over() {
		t.Errorf("meter: %+v %v", m, err)
	}
	// Tomorrow the budget starts again.
	b.env.Clock.Advance(r.Until.Sub(b.env.Clock.Now()) + time.Second)
	if _, err := b.viewer.Reveal(ctx, b.fresh(analyst), id, f.ID, "next day"); err != nil {
		t.Errorf("reveal the next day: %v", err)
	}
}

// TestExposureBreakRule: after BreakAfter of exposure, a break of
// BreakLength is due before the next reveal.
func TestExposureBreakRule(t *testing.T) {
	ctx := context.Background()
	b := setup(t, "sqlite", viewer.Options{BreakAfter: 2 * time.Minute, BreakLength: 10 * time.Minute})
	id, f := b.file(t, pattern(t, 50), "pattern.png", nil)
	analyst := b.person(t, "analyst@example.org", haven.RoleIntake, "")
	if _, err := b.viewer.Reveal(ctx, b.fresh(analyst), id, f.ID, "one"); err != nil {
		t.Fatal(err)
	}
	b.env.Clock.Advance(90 * time.Second)
	if _, err := b.viewer.Reveal(ctx, b.fresh(analyst), id, f.ID, "two"); err != nil {
		t.Fatal(err)
	}
	b.env.Clock.Advance(time.Minute)
	_, err := b.viewer.Reveal(ctx, b.fresh(analyst), id, f.ID, "three")
	r := refusal(t, err)
	// The second interval counts its first minute, to now; the break
	// lasts ten minutes from there.
	if r.Why != "break" || r.Until.Sub(b.env.Clock.Now()) != 10*time.Minute {
		t.Fatalf("refusal %+v (now %v)", r, b.env.Clock.Now())
	}
	if evs := b.events(t, "media.reveal"); evs[0].Outcome != haven.OutcomeDenied || evs[0].Details["refused"] != "break" {
		t.Errorf("latest media.reveal event: %+v", evs[0])
	}
	b.env.Clock.Advance(5 * time.Minute)
	if _, err := b.viewer.Reveal(ctx, b.fresh(analyst), id, f.ID, "too soon"); refusal(t, err).Why != "break" {
		t.Errorf("during the break: %v", err)
	}
	b.env.Clock.Advance(5 * time.Minute)
	if _, err := b.viewer.Reveal(ctx, b.fresh(analyst), id, f.ID, "after the break"); err != nil {
		t.Errorf("after the break: %v", err)
	}
}

// TestLegalGate: a file the ESP did not view is withheld (no rendition, no
// reveal, for staff and agencies) until a supervisor records a legal
// authority; that is audited, and afterwards the file opens.
func TestLegalGate(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(engine, func(t *testing.T) {
			ctx := context.Background()
			no, yes := false, true
			b := setup(t, engine, viewer.Options{LegalGate: true})
			ag := b.env.Agency(t, "Example County ICAC")
			b.viewer.SetAgencyAccess(func(_ context.Context, agencyID string, _ int64) (bool, error) { return agencyID == ag.ID, nil })
			id, f := b.file(t, pattern(t, 60), "pattern.png", &haven.FileDetails{ViewedByESP: &no})
			analyst := b.person(t, "analyst@example.org", haven.RoleIntake, "")
			officer := b.person(t, "officer@example.org", haven.RoleLE, ag.ID)
			supervisor := b.person(t, "supervisor@example.org", haven.RoleSupervisor, "")

			for _, a := range []haven.Actor{analyst, officer} {
				v, err := b.viewer.File(ctx, a, id, f.ID)
				if err != nil {
					t.Fatal(err)
				}
				if v.State != viewer.StateGated || v.Rendition != nil || !v.Gated {
					t.Fatalf("%s: state %s, rendition %v", a.Role, v.State, v.Rendition)
				}
				if _, _, err := b.viewer.Rendition(ctx, a, id, f.ID); !haven.IsKind(err, haven.KindConflict) {
					t.Errorf("%s: rendition of a gated file: %v", a.Role, err)
				}
				if _, err := b.viewer.Reveal(ctx, b.fresh(a), id, f.ID, "look"); refusal(t, err).Why != "legal_gate" {
					t.Errorf("%s: reveal of a gated file: %v", a.Role, err)
				}
			}
			// Nothing was derived from the gated file.
			err := b.env.App.Store.View(ctx, func(tx *store.Tx) error {
				_, err := tx.Rendition(ctx, f.ID)
				if !haven.IsKind(err, haven.KindNotFound) {
					t.Errorf("a gated file has a rendition: %v", err)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			in := viewer.AuthorityInput{Kind: "warrant", Reference: "SW-2026-0042", Issuer: "Example County Superior Court", IssuedOn: "2026-05-01"}
			if _, err := b.viewer.RecordAuthority(ctx, analyst, id, f.ID, in); !haven.IsKind(err, haven.KindForbidden) {
				t.Errorf("an analyst recording an authority: %v, want forbidden", err)
			}
			bad := in
			bad.IssuedOn = "2030-01-01"
			if _, err := b.viewer.RecordAuthority(ctx, supervisor, id, f.ID, bad); !haven.IsKind(err, haven.KindInvalid) {
				t.Errorf("an authority issued in the future: %v, want invalid", err)
			}
			if _, err := b.viewer.RecordAuthority(ctx, supervisor, id, "ffffffffffffffffffffffffffffffff", in); !haven.IsKind(err, haven.KindNotFound) {
				t.Errorf("an authority for a missing file: %v, want not found", err)
			}
			la, err := b.viewer.RecordAuthority(ctx, supervisor, id, f.ID, in)
			if err != nil {
				t.Fatal(err)
			}
			evs := b.events(t, "media.legal_authority")
			if len(evs) != 1 || evs[0].ActorID != supervisor.UserID || evs[0].ObjectID != f.ID || evs[0].Details["authority"] != la.ID ||
				evs[0].Details["reference"] != "SW-2026-0042" || evs[0].Details["gated"] != "true" {
				t.Fatalf("media.legal_authority events: %+v", evs)
			}
			for _, a := range []haven.Actor{analyst, officer} {
				v, err := b.viewer.File(ctx, a, id, f.ID)
				if err != nil || v.State != viewer.StateViewable || v.Rendition == nil || len(v.Authorities) != 1 {
					t.Fatalf("%s after the authority: %+v %v", a.Role, v, err)
				}
				if _, err := b.viewer.Reveal(ctx, b.fresh(a), id, f.ID, "under warrant SW-2026-0042"); err != nil {
					t.Errorf("%s: reveal after the authority: %v", a.Role, err)
				}
			}
			// Publicly available files, files the ESP viewed, and
			// deployments without the gate are not held.
			_, pub := b.file(t, pattern(t, 61), "public.png", &haven.FileDetails{ViewedByESP: &no, PubliclyAvailable: &yes})
			_, seen := b.file(t, pattern(t, 62), "seen.png", &haven.FileDetails{ViewedByESP: &yes})
			_, unsaid := b.file(t, pattern(t, 63), "unsaid.png", &haven.FileDetails{})
			for _, x := range []*haven.ReportFile{pub, seen, unsaid} {
				x := *x
				if b.viewer.Gated(&x) {
					t.Errorf("file %s (details %+v) is gated", x.Filename, x.Details)
				}
			}
			off := viewer.New(b.env.App.Store, b.env.App.Audit, b.env.App.Custody, nil, b.env.Clock, nil, viewer.Options{})
			if off.Gated(f) {
				t.Error("a deployment without the gate holds a file")
			}
		})
	}
}

// TestKnownMaterialIsNotShown: a file whose exact hash is in a positive
// bank has no rendition and cannot be revealed; its page names the bank
// and the classification. It holds whether the match was recorded by the
// pipeline or is only known to the banks yet.
func TestKnownMaterialIsNotShown(t *testing.T) {
	ctx := context.Background()
	b := setup(t, "sqlite", viewer.Options{})
	sys := haven.SystemActor("test")
	bank, err := b.env.App.Hashes.CreateBank(ctx, sys, haven.HashBank{Name: "Known series bank", Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	data := pattern(t, 70)
	sum := md5.Sum(data)
	if _, err := b.env.App.Hashes.AddEntry(ctx, sys, haven.HashEntry{BankID: bank.ID, Algo: haven.AlgoMD5, Value: sum[:],
		Classification: haven.Classification{Scheme: "industry", Code: "B2"}}); err != nil {
		t.Fatal(err)
	}
	analyst := b.person(t, "analyst@example.org", haven.RoleIntake, "")
	for _, recorded := range []bool{true, false} {
		id, f := b.file(t, data, "known.png", nil)
		if recorded {
			if _, err := b.env.App.Hashes.ProcessFile(ctx, f); err != nil {
				t.Fatal(err)
			}
		}
		v, err := b.viewer.File(ctx, analyst, id, f.ID)
		if err != nil {
			t.Fatal(err)
		}
		if v.State != viewer.StateKnown || v.Rendition != nil || len(v.Known) != 1 || v.Known[0].Bank != "Known series bank" ||
			v.Known[0].Code != "B2" {
			t.Fatalf("recorded=%v: view %+v", recorded, v)
		}
		if _, _, err := b.viewer.Rendition(ctx, analyst, id, f.ID); !haven.IsKind(err, haven.KindConflict) {
			t.Errorf("recorded=%v: rendition of known material: %v", recorded, err)
		}
		if _, err := b.viewer.Reveal(ctx, b.fresh(analyst), id, f.ID, "look"); refusal(t, err).Why != "known" {
			t.Errorf("recorded=%v: reveal of known material: %v", recorded, err)
		}
		links, err := b.viewer.Links(ctx, analyst, id)
		if err != nil {
			t.Fatal(err)
		}
		if l := links[f.ID]; recorded && (l == nil || l.State != viewer.StateKnown || l.Known.Bank != "Known series bank") {
			t.Errorf("link of a recorded match: %+v", l)
		}
	}
	if n := len(b.events(t, "media.rendition_make")); n != 0 {
		t.Errorf("%d renditions made of known material, want none", n)
	}
}

// TestLEUserOfAnotherAgencySeesNothing: a law-enforcement user reaches a
// file only when its report was referred to their agency; otherwise every
// call answers the same not-found as a file that does not exist, and the
// refusal is audited.
func TestLEUserOfAnotherAgencySeesNothing(t *testing.T) {
	ctx := context.Background()
	b := setup(t, "sqlite", viewer.Options{})
	agA, agB := b.env.Agency(t, "Agency A"), b.env.Agency(t, "Agency B")
	id, f := b.file(t, pattern(t, 80), "pattern.png", nil)
	officerA := b.person(t, "a@example.org", haven.RoleLE, agA.ID)
	officerB := b.person(t, "b@example.org", haven.RoleLE, agB.ID)
	// Before the referral service is wired, no agency sees anything.
	if _, err := b.viewer.File(ctx, officerA, id, f.ID); !haven.IsKind(err, haven.KindNotFound) {
		t.Fatalf("without an agency check: %v, want not found", err)
	}
	b.viewer.SetAgencyAccess(func(_ context.Context, agencyID string, reportID int64) (bool, error) {
		return agencyID == agA.ID && reportID == id, nil
	})
	if _, err := b.viewer.File(ctx, officerA, id, f.ID); err != nil {
		t.Fatalf("the agency the report was referred to: %v", err)
	}
	for _, tc := range []struct {
		name   string
		report int64
		file   string
	}{{"another agency's file", id, f.ID}, {"a missing file", id, "ffffffffffffffffffffffffffffffff"}, {"a missing report", id + 100, f.ID}} {
		_, err1 := b.viewer.File(ctx, officerB, tc.report, tc.file)
		_, _, err2 := b.viewer.Rendition(ctx, officerB, tc.report, tc.file)
		_, err3 := b.viewer.Original(ctx, officerB, tc.report, tc.file)
		_, err4 := b.viewer.Reveal(ctx, officerB, tc.report, tc.file, "look")
		for i, err := range []error{err1, err2, err3, err4} {
			if err != haven.ErrNotFound {
				t.Errorf("%s, call %d: %v, want haven.ErrNotFound", tc.name, i+1, err)
			}
		}
	}
	if n := len(b.events(t, "media.access")); n < 12 {
		t.Errorf("%d denied accesses audited, want at least 12", n)
	}
}

// TestOpenReportGetsNoRendition: nothing is derived from the files of a
// report still open (its submitter may retract it, destroying its files).
func TestOpenReportGetsNoRendition(t *testing.T) {
	ctx := context.Background()
	b := setup(t, "sqlite", viewer.Options{})
	sub, err := b.env.App.Intake.Submit(ctx, b.esp, haven.SourceESP, &haven.Report{Incident: haven.IncidentSummary{
		Type: haven.IncidentCSAM, DateTime: b.env.Clock.Now().Add(-time.Hour)}})
	if err != nil {
		t.Fatal(err)
	}
	f, err := b.env.App.Intake.AddFile(ctx, b.esp, sub.Report.ID, bytes.NewReader(pattern(t, 90)), "pattern.png", "")
	if err != nil {
		t.Fatal(err)
	}
	analyst := b.person(t, "analyst@example.org", haven.RoleIntake, "")
	v, err := b.viewer.File(ctx, analyst, sub.Report.ID, f.ID)
	if err != nil {
		t.Fatal(err)
	}
	if v.Rendition != nil || v.Problem != viewer.ErrReportOpen.Message {
		t.Errorf("open report: rendition %+v, problem %q", v.Rendition, v.Problem)
	}
	if _, err := b.viewer.Reveal(ctx, analyst, sub.Report.ID, f.ID, "look"); err != viewer.ErrReportOpen {
		t.Errorf("reveal in an open report: %v, want ErrReportOpen", err)
	}
	if err := b.env.App.Intake.Retract(ctx, b.esp, sub.Report.ID); err != nil {
		t.Fatal(err)
	}
	if n := len(b.events(t, "media.rendition_make")); n != 0 {
		t.Errorf("%d renditions made for an open report", n)
	}
}

// TestDestroyedFileShowsNothing: once the original is destroyed, neither
// it nor its rendition is shown.
func TestDestroyedFileShowsNothing(t *testing.T) {
	ctx := context.Background()
	b := setup(t, "sqlite", viewer.Options{})
	id, f := b.file(t, pattern(t, 100), "pattern.png", nil)
	analyst := b.person(t, "analyst@example.org", haven.RoleIntake, "")
	if v, err := b.viewer.File(ctx, analyst, id, f.ID); err != nil || v.Rendition == nil {
		t.Fatalf("before: %+v %v", v, err)
	}
	if err := b.env.App.Custody.Shred(ctx, haven.SystemActor("test"), f.ItemID, "synthetic destruction order"); err != nil {
		t.Fatal(err)
	}
	v, err := b.viewer.File(ctx, analyst, id, f.ID)
	if err != nil || v.State != viewer.StateDestroyed || v.Rendition != nil {
		t.Fatalf("after: %+v %v", v, err)
	}
	if _, _, err := b.viewer.Rendition(ctx, analyst, id, f.ID); !haven.IsKind(err, haven.KindConflict) {
		t.Errorf("rendition of a destroyed file: %v", err)
	}
	if _, err := b.viewer.Reveal(ctx, analyst, id, f.ID, "look"); !haven.IsKind(err, haven.KindConflict) {
		t.Errorf("reveal of a destroyed file: %v", err)
	}
}
