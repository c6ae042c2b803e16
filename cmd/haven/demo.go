package main

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/account"
	"github.com/haven-hotline/haven/internal/custody"
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
		fmt.Fprintf(e.stdout, "  %-26s %-36s %s\n", u.Login, u.Role.Label(), link)
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
	return nil
}
