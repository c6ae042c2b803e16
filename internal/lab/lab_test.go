package lab_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"strings"
	"testing"
	"time"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/haventest"
	"github.com/haven-hotline/haven/internal/lab"
	"github.com/haven-hotline/haven/internal/store"
	"github.com/haven-hotline/haven/internal/store/storetest"
)

// bundle is what a lab test needs.
type bundle struct {
	env  *haventest.Env
	esp  haven.Actor
	lab  *lab.Service
	bank *haven.HashBank
	next byte
}

func setup(t *testing.T, engine string) *bundle {
	t.Helper()
	env := haventest.Start(t, engine)
	esp := env.NewUser(t, "esp-lab", haven.RoleESP, "")
	b := &bundle{env: env, esp: haven.Actor{UserID: esp.ID, Role: haven.RoleESP, Addr: "192.0.2.10"},
		lab: lab.New(env.App.Store, env.App.Audit, env.App.Custody, env.Clock, nil, lab.Options{MaxSide: 320}), next: 1}
	b.bank = &haven.HashBank{ID: haven.NewID(), Name: "Series bank (synthetic)", PDQThreshold: 31, Enabled: true,
		CreatedAt: env.Clock.Now(), UpdatedAt: env.Clock.Now()}
	b.write(t, func(tx *store.Tx) error { return tx.CreateHashBank(context.Background(), b.bank) })
	return b
}

func (b *bundle) write(t *testing.T, fn func(*store.Tx) error) {
	t.Helper()
	if err := b.env.App.Store.InTx(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

// Pattern is a benign synthetic picture without any pure black pixel:
// stripes and a square.
func Pattern(t testing.TB, seed uint8) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, 400, 300))
	for y := range 300 {
		for x := range 400 {
			c := color.NRGBA{R: 40 + uint8(x/4), G: 40 + seed + uint8(y/3), B: 160, A: 255}
			if x > 150 && x < 250 && y > 100 && y < 200 {
				c = color.NRGBA{R: 240, G: 200, B: 20, A: 255}
			}
			img.SetNRGBA(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// sighting files a finished report with one file and matches the file to
// a new entry of series code.
func (b *bundle) sighting(t *testing.T, code string, data []byte) (int64, string) {
	t.Helper()
	ctx := context.Background()
	in := b.env.App.Intake
	sub, err := in.Submit(ctx, b.esp, haven.SourceESP, &haven.Report{Incident: haven.IncidentSummary{Type: haven.IncidentCSAM,
		DateTime: b.env.Clock.Now().Add(-time.Hour)}, Reported: []haven.Involved{{Person: &haven.Person{
		Emails: []haven.Email{{Value: "uploader-" + code + "@example.com"}}}}}})
	if err != nil {
		t.Fatal(err)
	}
	f, err := in.AddFile(ctx, b.esp, sub.Report.ID, bytes.NewReader(data), "pattern.png", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := in.Finish(ctx, b.esp, sub.Report.ID); err != nil {
		t.Fatal(err)
	}
	if err := b.env.App.Identifiers.IndexReport(ctx, sub.Report.ID); err != nil {
		t.Fatal(err)
	}
	e := &haven.HashEntry{BankID: b.bank.ID, Algo: haven.AlgoMD5, Value: bytes.Repeat([]byte{b.next}, 16), SeriesID: code,
		AddedAt: b.env.Clock.Now(), Enabled: true}
	b.next++
	b.write(t, func(tx *store.Tx) error {
		if _, err := tx.PutHashEntry(ctx, e); err != nil {
			return err
		}
		return tx.AddFileMatch(ctx, &haven.FileMatch{ReportID: sub.Report.ID, FileID: f.ID, EntryID: e.ID, Algo: haven.AlgoMD5,
			At: b.env.Clock.Now()})
	})
	return sub.Report.ID, f.ID
}

func (b *bundle) person(t *testing.T, login string, role haven.Role) haven.Actor {
	t.Helper()
	u := b.env.NewUser(t, login, role, "")
	return haven.Actor{UserID: u.ID, Role: role, SessionID: haven.NewID(), Addr: "192.0.2.20", AuthAt: b.env.Clock.Now()}
}

func (b *bundle) events(t *testing.T, typ string) []*haven.AuditEvent {
	t.Helper()
	var out []*haven.AuditEvent
	err := b.env.App.Store.View(context.Background(), func(tx *store.Tx) (err error) {
		out, err = tx.RecentAuditEvents(context.Background(), store.AuditFilter{Type: typ, Limit: 100})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestWorkboard(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(engine, func(t *testing.T) {
			b := setup(t, engine)
			ctx := context.Background()
			analyst := b.person(t, "vid@example.org", haven.RoleVictimID)
			admin := b.person(t, "admin@example.org", haven.RoleAdmin)
			intake := b.person(t, "intake@example.org", haven.RoleIntake)

			r1, f1 := b.sighting(t, "SER-1", Pattern(t, 1))
			b.env.Clock.Advance(time.Hour)
			rOld, _ := b.sighting(t, "SER-2", Pattern(t, 2))
			b.env.Clock.Advance(time.Hour)
			r2, f2 := b.sighting(t, "SER-1", Pattern(t, 3))

			if _, err := b.lab.Workboard(ctx, intake); !haven.IsKind(err, haven.KindForbidden) {
				t.Errorf("workboard for intake: got %v, want forbidden", err)
			}
			list, err := b.lab.Workboard(ctx, admin)
			if err != nil {
				t.Fatal(err)
			}
			if len(list) != 2 || list[0].Code != "SER-1" || list[0].Sightings != 2 || list[1].Code != "SER-2" {
				t.Fatalf("workboard: got %+v, want SER-1 (2 sightings) then SER-2", list)
			}
			_ = rOld

			// An identified series leaves the workboard.
			b.lab.SetIdentified(func(context.Context) (map[string]bool, error) { return map[string]bool{"SER-2": true}, nil })
			if list, _ = b.lab.Workboard(ctx, admin); len(list) != 1 || list[0].Code != "SER-1" {
				t.Errorf("workboard without identified series: got %+v", list)
			}
			b.lab.SetIdentified(nil)

			b.write(t, func(tx *store.Tx) error {
				return tx.PutReportLocation(ctx, &store.ReportLocation{ReportID: r2, Country: "US", Region: "US-CA", Confidence: "medium",
					Evidence: []string{"synthetic"}, ComputedAt: b.env.Clock.Now()})
			})
			v, err := b.lab.Series(ctx, analyst, "SER-1")
			if err != nil {
				t.Fatal(err)
			}
			if len(v.Sightings) != 2 || v.Sightings[0].ReportID != r2 || v.Sightings[1].ReportID != r1 {
				t.Fatalf("sightings: got %+v, want reports %d then %d", v.Sightings, r2, r1)
			}
			keys := map[string]string{}
			for _, c := range v.Sightings[0].Clues {
				keys[c.Key] = c.Value
			}
			if keys["location"] != "US / US-CA (medium confidence)" {
				t.Errorf("location clue: got %q", keys["location"])
			}
			for _, k := range []string{"esp", "incident", "received"} {
				if keys[k] == "" {
					t.Errorf("clue %q missing from %v", k, v.Sightings[0].Clues)
				}
			}
			// Both SER-1 reports name the same (synthetic) uploader: a
			// shared identifier, whose value only those who may search
			// identifiers see.
			var shared *lab.Clue
			for i, c := range v.Sightings[0].Clues {
				if strings.HasPrefix(c.Key, "identifier:") {
					shared = &v.Sightings[0].Clues[i]
				}
			}
			if shared == nil || !strings.Contains(shared.Value, "uploader-ser-1@example.com") || shared.Href == "" {
				t.Errorf("shared identifier clue for the analyst: got %+v in %v", shared, v.Sightings[0].Clues)
			}
			av, err := b.lab.Series(ctx, admin, "SER-1")
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range av.Sightings[0].Clues {
				if strings.Contains(c.Value, "@") || c.Href != "" {
					t.Errorf("admin without the identifiers permission sees clue %+v", c)
				}
			}
			if _, err := b.lab.Series(ctx, analyst, "SER-NONE"); !haven.IsKind(err, haven.KindNotFound) {
				t.Errorf("unknown series: got %v, want not found", err)
			}

			// Findings and leads: managers only, audited.
			if _, err := b.lab.AddFinding(ctx, admin, "SER-1", "x"); !haven.IsKind(err, haven.KindForbidden) {
				t.Errorf("finding by admin: got %v, want forbidden", err)
			}
			if _, err := b.lab.AddFinding(ctx, analyst, "SER-1", "  "); !haven.IsKind(err, haven.KindInvalid) {
				t.Errorf("empty finding: got %v, want invalid", err)
			}
			if _, err := b.lab.AddFinding(ctx, analyst, "SER-1", "Wallpaper with a synthetic stripe pattern"); err != nil {
				t.Fatal(err)
			}
			if _, err := b.lab.MarkLead(ctx, analyst, "SER-1", r2, f2, "esp", "ask the ESP for the uploader's history"); err != nil {
				t.Fatal(err)
			}
			if _, err := b.lab.MarkLead(ctx, analyst, "SER-2", r1, f1, "", "not of this series"); !haven.IsKind(err, haven.KindNotFound) {
				t.Errorf("lead on a file of another series: got %v, want not found", err)
			}
			v, err = b.lab.Series(ctx, analyst, "SER-1")
			if err != nil {
				t.Fatal(err)
			}
			if len(v.Findings) != 1 || len(v.Sightings[0].Leads) != 1 || v.Sightings[0].Leads[0].Clue != "esp" {
				t.Errorf("after writing: findings %d, leads on the newest sighting %+v", len(v.Findings), v.Sightings[0].Leads)
			}
			for _, typ := range []string{"workboard.list", "workboard.view", "workboard.finding", "workboard.lead"} {
				if len(b.events(t, typ)) == 0 {
					t.Errorf("no %s audit event", typ)
				}
			}
		})
	}
}

func TestLabSanitisePublishView(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(engine, func(t *testing.T) {
			b := setup(t, engine)
			ctx := context.Background()
			analyst := b.person(t, "vid@example.org", haven.RoleVictimID)
			ag := b.env.Agency(t, "Synthetic Task Force")
			leU := b.env.NewUser(t, "le@example.org", haven.RoleLE, ag.ID)
			le := haven.Actor{UserID: leU.ID, Role: haven.RoleLE, AgencyID: ag.ID, SessionID: haven.NewID(), AuthAt: b.env.Clock.Now()}
			r1, f1 := b.sighting(t, "SER-1", Pattern(t, 1))

			if _, err := b.lab.WorkImage(ctx, le, "SER-1", r1, f1); !haven.IsKind(err, haven.KindNotFound) {
				t.Errorf("work image for LE: got %v, want not found", err)
			}
			if _, err := b.lab.WorkImage(ctx, analyst, "SER-2", r1, f1); !haven.IsKind(err, haven.KindNotFound) {
				t.Errorf("work image under the wrong series: got %v, want not found", err)
			}
			b.env.Clock.Advance(6 * time.Minute)
			if _, err := b.lab.WorkImage(ctx, analyst, "SER-1", r1, f1); !haven.IsKind(err, haven.KindReauth) {
				t.Errorf("work image after 6 minutes: got %v, want a sign-in first", err)
			}
			analyst.AuthAt = b.env.Clock.Now()
			work, err := b.lab.WorkImage(ctx, analyst, "SER-1", r1, f1)
			if err != nil {
				t.Fatal(err)
			}
			wimg, err := png.Decode(bytes.NewReader(work))
			if err != nil {
				t.Fatal(err)
			}
			if wimg.Bounds().Dx() != 320 || wimg.Bounds().Dy() != 240 {
				t.Errorf("work image %v, want 320×240", wimg.Bounds())
			}

			if _, err := b.lab.Sanitise(ctx, analyst, "SER-1", r1, f1, nil); !haven.IsKind(err, haven.KindInvalid) {
				t.Errorf("no masks: got %v, want invalid", err)
			}
			mask := store.Mask{X: 100, Y: 60, W: 120, H: 100}
			lr, err := b.lab.Sanitise(ctx, analyst, "SER-1", r1, f1, []store.Mask{mask})
			if err != nil {
				t.Fatal(err)
			}

			// Not published: partners get not found, like a missing ID
			// and like anything that is not a lab rendition.
			for _, id := range []string{lr.ID, "missing", f1} {
				if _, _, err := b.lab.Image(ctx, le, id); !haven.IsKind(err, haven.KindNotFound) {
					t.Errorf("LE image %s: got %v, want not found", id, err)
				}
			}
			if items, err := b.lab.Published(ctx, le); err != nil || len(items) != 0 {
				t.Errorf("published before publishing: %v %v", items, err)
			}
			if err := b.lab.Publish(ctx, le, lr.ID); !haven.IsKind(err, haven.KindNotFound) {
				t.Errorf("publish by LE: got %v, want not found", err)
			}
			if err := b.lab.Publish(ctx, analyst, lr.ID); err != nil {
				t.Fatal(err)
			}
			items, err := b.lab.Published(ctx, le)
			if err != nil || len(items) != 1 || items[0].SeriesCode != "SER-1" {
				t.Fatalf("published: %+v %v", items, err)
			}
			data, _, err := b.lab.Image(ctx, le, lr.ID)
			if err != nil {
				t.Fatal(err)
			}
			checkMasked(t, data, mask)
			if n := len(b.events(t, "lab.view")); n < 4 {
				t.Errorf("lab.view events: got %d, want at least 4 (3 denied, 1 view)", n)
			}
			for _, typ := range []string{"lab.work_view", "lab.sanitise", "lab.publish", "lab.browse"} {
				if len(b.events(t, typ)) == 0 {
					t.Errorf("no %s audit event", typ)
				}
			}
		})
	}
}

// checkMasked decodes a PNG and checks that the pixels of mask are
// lab.MaskColour and that the pixels around it are not.
func checkMasked(t *testing.T, data []byte, mask store.Mask) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	isFill := func(x, y int) bool {
		r, g, bl, _ := img.At(x, y).RGBA()
		fr, fg, fb, _ := lab.MaskColour.RGBA()
		return r == fr && g == fg && bl == fb
	}
	for y := mask.Y; y < mask.Y+mask.H; y++ {
		for x := mask.X; x < mask.X+mask.W; x++ {
			if !isFill(x, y) {
				t.Fatalf("pixel (%d, %d) inside the mask is %v, want the fill colour", x, y, img.At(x, y))
			}
		}
	}
	for _, p := range []image.Point{{mask.X - 2, mask.Y + 5}, {mask.X + mask.W + 1, mask.Y + 5}, {mask.X + 5, mask.Y - 2},
		{mask.X + 5, mask.Y + mask.H + 1}, {0, 0}} {
		if isFill(p.X, p.Y) {
			t.Errorf("pixel %v outside the mask has the fill colour", p)
		}
	}
}

func TestParseAndCleanMasks(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    int
		invalid bool
	}{
		{"two", "1,2,3,4; 10,10,5,5", 2, false},
		{"empty", "", 0, true},
		{"garbage", "1,2,3", 0, true},
		{"negative", "-1,2,3,4", 0, true},
		{"zero size", "1,2,0,4", 0, true},
		{"outside", "500,500,5,5", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms, err := lab.ParseMasks(tt.in)
			if err == nil {
				ms, err = lab.CleanMasks(ms, 320, 240)
			}
			if tt.invalid != (err != nil) || len(ms) != tt.want {
				t.Errorf("got %v %v, want %d masks (invalid %v)", ms, err, tt.want, tt.invalid)
			}
		})
	}
	ms, err := lab.CleanMasks([]store.Mask{{X: 300, Y: 200, W: 100, H: 100}}, 320, 240)
	if err != nil || ms[0] != (store.Mask{X: 300, Y: 200, W: 20, H: 40}) {
		t.Errorf("clipping: got %v %v", ms, err)
	}
}

// FuzzParseMasks: the masks field comes from the browser; reading it
// never panics, and what it accepts is within bounds once cleaned.
func FuzzParseMasks(f *testing.F) {
	for _, s := range []string{"1,2,3,4", "1,2,3,4;5,6,7,8", "", ";;", "-1,0,0,0", "99999999999,1,1,1", "a,b,c,d", "1,2,3,4,5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ms, err := lab.ParseMasks(s)
		if err != nil {
			return
		}
		cleaned, err := lab.CleanMasks(ms, 320, 240)
		if err != nil {
			return
		}
		for _, m := range cleaned {
			if m.X < 0 || m.Y < 0 || m.W <= 0 || m.H <= 0 || m.X+m.W > 320 || m.Y+m.H > 240 {
				t.Fatalf("cleaned mask %+v outside 320×240", m)
			}
		}
	})
}

// TestWorkboardLeavesIdentifiedSeries: the service as the application
// wires it reads the victim-identification records, and a series whose
// status is identified leaves the workboard.
func TestWorkboardLeavesIdentifiedSeries(t *testing.T) {
	b := setup(t, "sqlite")
	ctx := context.Background()
	admin := b.person(t, "admin@example.org", haven.RoleAdmin)
	b.sighting(t, "SER-DONE", Pattern(t, 1))
	b.sighting(t, "SER-OPEN", Pattern(t, 2))
	now := b.env.Clock.Now()
	b.write(t, func(tx *store.Tx) error {
		return tx.CreateSeries(ctx, &store.Series{Code: "SER-DONE", Name: "Synthetic", Status: "identified", CreatedBy: admin.UserID,
			CreatedAt: now, UpdatedAt: now})
	})
	list, err := b.env.App.Lab.Workboard(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Code != "SER-OPEN" {
		t.Errorf("workboard: got %+v, want SER-OPEN only", list)
	}
}

// TestLabLegalGate: with the legal gate on, a file the ESP did not view
// cannot be opened in the lab until a legal authority is recorded.
func TestLabLegalGate(t *testing.T) {
	b := setup(t, "sqlite")
	ctx := context.Background()
	gated := lab.New(b.env.App.Store, b.env.App.Audit, b.env.App.Custody, b.env.Clock, nil, lab.Options{LegalGate: true})
	analyst := b.person(t, "vid@example.org", haven.RoleVictimID)
	id, fileID := b.sighting(t, "SER-G", Pattern(t, 1))
	no := false
	b.write(t, func(tx *store.Tx) error {
		return tx.SetReportFileDetails(ctx, id, fileID, &haven.FileDetails{ViewedByESP: &no}, b.env.Clock.Now())
	})
	if _, err := gated.WorkImage(ctx, analyst, "SER-G", id, fileID); err != lab.ErrGated {
		t.Errorf("gated work image: got %v, want ErrGated", err)
	}
	if _, err := gated.Sanitise(ctx, analyst, "SER-G", id, fileID, []store.Mask{{X: 1, Y: 1, W: 5, H: 5}}); err != lab.ErrGated {
		t.Errorf("gated sanitise: got %v, want ErrGated", err)
	}
	b.write(t, func(tx *store.Tx) error {
		return tx.AddLegalAuthority(ctx, &store.LegalAuthority{ID: haven.NewID(), ReportID: id, FileID: fileID, Kind: "warrant",
			Reference: "SYN-1", Issuer: "Synthetic Court", IssuedOn: b.env.Clock.Now(), RecordedBy: analyst.UserID,
			RecordedAt: b.env.Clock.Now()})
	})
	if _, err := gated.WorkImage(ctx, analyst, "SER-G", id, fileID); err != nil {
		t.Errorf("work image with an authority: %v", err)
	}
}
