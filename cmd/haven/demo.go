package main

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net"
	"net/http"
	"time"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/account"
	"github.com/haven-hotline/haven/internal/app"
	"github.com/haven-hotline/haven/internal/custody"
	"github.com/haven-hotline/haven/internal/cybertip"
	"github.com/haven-hotline/haven/internal/ispwsclient"
	"github.com/haven-hotline/haven/internal/offender"
	"github.com/haven-hotline/haven/internal/server"
)

// demoAgencies, demoUsers: an obviously fictional hotline. Later programs
// add their own synthetic records to the demonstration.
var demoAgencies = []haven.Agency{
	{Name: "Example State ICAC Task Force", Kind: haven.AgencyICAC, Jurisdiction: "US-EX"},
	{Name: "Example County Sheriff's Office", Kind: haven.AgencyLocal, Jurisdiction: "US-EX"},
	{Name: "Demo National Contact Point", Kind: haven.AgencyInternational, Jurisdiction: "XX"},
}

var demoUsers = []struct {
	login, name string
	role        haven.Role
	agency      string
}{
	{"supervisor@example.org", "Sam Supervisor (demo)", haven.RoleSupervisor, ""},
	{"analyst@example.org", "Alex Analyst (demo)", haven.RoleIntake, ""},
	{"victimid@example.org", "Vic Identifier (demo)", haven.RoleVictimID, ""},
	{"offenders@example.org", "Olly Tracker (demo)", haven.RoleOffender, ""},
	{"casework@example.org", "Casey Worker (demo)", haven.RoleCasework, ""},
	{"support@example.org", "Sunny Support (demo)", haven.RoleSupport, ""},
	{"auditor@example.org", "Audrey Auditor (demo)", haven.RoleAuditor, ""},
	{"officer@example.org", "Officer Example (demo)", haven.RoleLE, "Example State ICAC Task Force"},
	{"deputy@example.org", "Deputy Example (demo)", haven.RoleLE, "Example County Sheriff's Office"},
}

// pattern draws a benign synthetic image: colour bands and a checkerboard.
func pattern(seed int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 256, 192))
	for y := range 192 {
		for x := range 256 {
			c := color.RGBA{uint8(x + seed*40), uint8(y + seed*70), uint8((x ^ y) + seed*15), 255}
			if ((x/32)+(y/32)+seed)%2 == 0 {
				c.R, c.G = c.G, c.R
			}
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	return b.Bytes()
}

func demo(ctx context.Context, e env, args []string) error {
	cfg, _, err := load(e, "demo", args)
	if err != nil {
		return err
	}
	a, err := open(ctx, e, cfg, false)
	if err != nil {
		return err
	}
	defer a.Close()
	if _, err := a.Accounts.AgencyByName(ctx, cli, demoAgencies[0].Name); err == nil {
		fmt.Fprintln(e.stdout, "The demonstration dataset is already loaded.")
		return nil
	}
	ids := map[string]string{}
	for _, ag := range demoAgencies {
		created, err := a.Accounts.CreateAgency(ctx, cli, ag)
		if err != nil {
			return fmt.Errorf("demo agency %s: %w", ag.Name, err)
		}
		ids[ag.Name] = created.ID
	}
	fmt.Fprintln(e.stdout, "Loaded a synthetic demonstration dataset (fictional people and agencies).")
	fmt.Fprintln(e.stdout, "\nOne-time enrolment links (each sets a password, then a second factor):")
	for _, du := range demoUsers {
		u, link, err := a.Accounts.CreateUser(ctx, cli, account.NewUser{Login: du.login, DisplayName: du.name,
			Role: du.role, AgencyID: ids[du.agency]})
		if err != nil {
			return fmt.Errorf("demo user %s: %w", du.login, err)
		}
		fmt.Fprintf(e.stdout, "  %-24s %-42s %s\n", u.Login, u.Role.Label(), link)
	}
	creds, err := a.Accounts.CreateESP(ctx, cli, "Example Photo Sharing (demo)")
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "\nESP API account: username %s password %s\n", creds.Username, creds.Password)
	n := 0
	for i := range 3 {
		_, err := a.Custody.Acquire(ctx, cli, bytes.NewReader(pattern(i)), custody.Source{Kind: "demo",
			Filename: fmt.Sprintf("synthetic-pattern-%d.png", i+1), ContentType: "image/png", ContextType: "demo", ContextID: "1"})
		if err != nil {
			return err
		}
		n++
	}
	fmt.Fprintf(e.stdout, "\nStored %d synthetic pattern images in the encrypted evidence vault.\n", n)
	if err := demoOffenders(ctx, e, a); err != nil {
		return fmt.Errorf("demo registry imports: %w", err)
	}
	sent, err := demoReports(ctx, a, creds)
	if err != nil {
		return fmt.Errorf("demo reports: %w", err)
	}
	fmt.Fprintf(e.stdout, "Submitted %d synthetic reports through the ESP API as %s.\n", sent, creds.Username)
	return nil
}

// demoOffenders imports the two synthetic registry exports shipped with
// Haven, each with its saved column mapping; the imports are applied by a
// job as soon as a server runs.
func demoOffenders(ctx context.Context, e env, a *app.App) error {
	analyst := haven.Actor{Role: haven.RoleOffender, System: true, Addr: "local:demo"}
	samples, err := offender.Samples()
	if err != nil {
		return err
	}
	for _, s := range samples {
		if _, err := a.Offenders.SaveMapping(ctx, analyst, s.Mapping); err != nil {
			return err
		}
		im, pv, err := a.Offenders.StartImport(ctx, analyst, s.Mapping.Source, s.Filename, s.Body)
		if err != nil {
			return err
		}
		if err := a.Offenders.ApplyImport(ctx, analyst, im.ID); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "Queued the synthetic registry export %s (%s): %d new records, %d rows rejected with reasons.\n",
			s.Filename, s.Mapping.Name, pv.New, pv.Rejected)
	}
	return nil
}

// demoReports starts the real server on a loopback port for the length of
// the demonstration and submits synthetic reports through the ESP API, as
// an online service would.
func demoReports(ctx context.Context, a *app.App, creds *account.ESPCredentials) (int, error) {
	srv, err := server.New(a)
	if err != nil {
		return 0, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	defer hs.Close()
	c := &ispwsclient.Client{BaseURL: "http://" + ln.Addr().String() + a.Config.ISPWSPrefix, Username: creds.Username, Password: creds.Password}
	now := a.Clock.Now()
	yes := true
	sent := 0
	for i, d := range demoReportSpecs {
		r := &haven.Report{
			Incident: haven.IncidentSummary{Type: d.typ, Platform: "Example Photo Sharing", DateTime: now.Add(-time.Duration(i+2) * time.Hour)},
			Internet: []haven.InternetDetail{{Kind: haven.InternetWebPage, URLs: []string{fmt.Sprintf("https://example.com/p/demo-%d", i+1)}}},
			Reporter: haven.Reporter{ReportingPerson: haven.Person{FirstName: "Trust", LastName: "Safety Team",
				Emails: []haven.Email{{Value: "trust-safety@example.com"}}}},
			Reported: []haven.Involved{{Role: haven.RoleReported, ESPIdentifier: fmt.Sprintf("demo-user-%d", 100+i),
				ScreenName: d.user, IPCaptures: []haven.IPCapture{{IPAddress: fmt.Sprintf("203.0.113.%d", 10+i),
					EventName: "Upload", DateTime: now.Add(-time.Duration(i+3) * time.Hour)}}}},
			AdditionalInfo: "Synthetic demonstration report.",
		}
		if d.urgent != "" {
			r.Incident.Escalate = &d.urgent
		}
		if d.victimAge > 0 {
			age := d.victimAge
			r.Victims = []haven.Involved{{Role: haven.RoleVictim, Person: &haven.Person{Age: &age}, ScreenName: "demo_minor_account"}}
		}
		var doc bytes.Buffer
		if err := cybertip.EncodeReport(&doc, r); err != nil {
			return sent, err
		}
		res, err := c.Submit(ctx, doc.Bytes())
		if err != nil || res.Code != 0 {
			return sent, fmt.Errorf("submit: %v %s", err, res.Description)
		}
		for j := range d.files {
			up, err := c.Upload(ctx, res.ReportID, fmt.Sprintf("synthetic-%d-%d.png", i+1, j+1), bytes.NewReader(pattern(10+i*3+j)))
			if err != nil || up.Code != 0 {
				return sent, fmt.Errorf("upload: %v %s", err, up.Description)
			}
			var fd bytes.Buffer
			if err := cybertip.EncodeFileDetails(&fd, res.ReportID, up.FileID, &haven.FileDetails{
				FileName: fmt.Sprintf("synthetic-%d-%d.png", i+1, j+1), ViewedByESP: &yes, PubliclyAvailable: &yes}); err != nil {
				return sent, err
			}
			if fi, err := c.FileInfo(ctx, fd.Bytes()); err != nil || fi.Code != 0 {
				return sent, fmt.Errorf("fileinfo: %v %s", err, fi.Description)
			}
		}
		if res, err := c.Finish(ctx, res.ReportID, false); err != nil || res.Code != 0 {
			return sent, fmt.Errorf("finish: %v %s", err, res.Description)
		}
		sent++
	}
	return sent, nil
}

var demoReportSpecs = []struct {
	typ       haven.IncidentType
	user      string
	urgent    string
	victimAge int
	files     int
}{
	{haven.IncidentCSAM, "demo_uploader_1", "", 0, 2},
	{haven.IncidentEnticement, "demo_contact_2", "The user arranged to meet a minor this weekend (synthetic).", 14, 0},
	{haven.IncidentCSAM, "demo_uploader_3", "", 0, 1},
	{haven.IncidentUnsolicitedObscene, "demo_sender_4", "", 12, 1},
	{haven.IncidentMisleadingDomain, "demo_domain_5", "", 0, 0},
}
