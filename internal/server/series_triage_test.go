package server_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/haventest"
	"github.com/haven-hotline/haven/internal/ispwsclient"
	"github.com/haven-hotline/haven/internal/store"
)

// TestSeriesMatchInTriage (issue 6): a CyberTipline file that matches an
// unidentified series raises the report's priority and shows the rule;
// one that matches an identified victim's series is only flagged.
func TestSeriesMatchInTriage(t *testing.T) {
	env := haventest.StartWith(t, "sqlite", haventest.Options{Workers: true})
	ctx := context.Background()
	sys := haven.SystemActor("test")
	ag, err := env.App.Accounts.CreateAgency(ctx, sys, haven.Agency{Name: "Example County ICAC Task Force", Kind: haven.AgencyICAC})
	if err != nil {
		t.Fatal(err)
	}
	for _, code := range []string{"SERIES-TEST-KNOWN", "SERIES-TEST-OPEN"} {
		if _, err := env.App.VictimID.SaveSeries(ctx, sys, store.Series{Code: code, Name: "Synthetic " + code}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := env.App.VictimID.SaveVictim(ctx, sys, store.Victim{ID: "V-TEST-1", Identified: true, AgencyID: ag.ID,
		OfficerName: "Officer Example", OfficerEmail: "officer@example.org", IdentifiedOn: env.Clock.Now().Add(-24 * time.Hour),
		Series: []string{"SERIES-TEST-KNOWN"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.App.VictimID.SaveVictim(ctx, sys, store.Victim{ID: "V-TEST-2", Series: []string{"SERIES-TEST-OPEN"}}); err != nil {
		t.Fatal(err)
	}
	bank, err := env.App.Hashes.CreateBank(ctx, sys, haven.HashBank{Name: "Series bank", Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{"SERIES-TEST-KNOWN": []byte("synthetic file of the identified series"),
		"SERIES-TEST-OPEN": []byte("synthetic file of the unidentified series")}
	for code, b := range files {
		sum := md5.Sum(b)
		if _, err := env.App.Hashes.AddEntry(ctx, sys, haven.HashEntry{BankID: bank.ID, Algo: haven.AlgoMD5, Value: sum[:], SeriesID: code}); err != nil {
			t.Fatal(err)
		}
	}
	esp := env.NewUser(t, "Example Chat", haven.RoleESP, "")
	c := &ispwsclient.Client{BaseURL: env.HTTP.URL + "/ispws", Username: esp.Login, Password: esp.Password}
	file := func(b []byte) int64 {
		sub, err := c.Submit(ctx, []byte(minimalReport))
		if err != nil || sub.Code != 0 {
			t.Fatalf("submit: %v %+v", err, sub)
		}
		if up, err := c.Upload(ctx, sub.ReportID, "file.bin", bytes.NewReader(b)); err != nil || up.Code != 0 {
			t.Fatalf("upload: %v %+v", err, up)
		}
		if fin, err := c.Finish(ctx, sub.ReportID, false); err != nil || fin.Code != 0 {
			t.Fatalf("finish: %v %+v", err, fin)
		}
		return sub.ReportID
	}
	known, open := file(files["SERIES-TEST-KNOWN"]), file(files["SERIES-TEST-OPEN"])
	// Wait for the match to have been evaluated (the rule shows).
	wait := func(id int64, rule string) string {
		deadline := time.Now().Add(30 * time.Second)
		for {
			it := waitTriaged(t, env, id)
			for _, r := range it.Reasons {
				if r.RuleID == rule && r.Applied {
					return it.Priority
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("report %d: rule %s never fired: %+v", id, rule, it.Reasons)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	if p := wait(open, "unidentified-series"); p != "P2" {
		t.Errorf("unidentified series: priority %s, want P2", p)
	}
	if p := wait(known, "identified-series"); p != "INFO" && p != "P3" {
		t.Errorf("identified series: priority %s, want it unraised", p)
	}
	ana := env.NewUser(t, "analyst@example.org", haven.RoleIntake, "")
	web := env.Client(t)
	web.Login(ana)
	if page := web.Get(fmt.Sprintf("/app/reports/%d", known)); !strings.Contains(page.Body, "A file matches the series of an identified victim") ||
		strings.Contains(page.Body, "not yet identified") {
		t.Error("the identified series is not shown as a flag on the report page")
	}
	if page := web.Get(fmt.Sprintf("/app/reports/%d", open)); !strings.Contains(page.Body, "A file matches the series of a child not yet identified") {
		t.Error("the unidentified series is not shown on the report page")
	}
}
