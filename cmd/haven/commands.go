package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/account"
	"github.com/haven-hotline/haven/internal/app"
	"github.com/haven-hotline/haven/internal/audit"
	"github.com/haven-hotline/haven/internal/config"
	"github.com/haven-hotline/haven/internal/custody"
	"github.com/haven-hotline/haven/internal/evidence"
	"github.com/haven-hotline/haven/internal/keys"
	"github.com/haven-hotline/haven/internal/secret"
	"github.com/haven-hotline/haven/internal/server"
	"github.com/haven-hotline/haven/internal/store"
)

// version is set at build time with -ldflags "-X main.buildVersion=…".
var buildVersion = ""

func version() string {
	if buildVersion != "" {
		return buildVersion
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		v := bi.Main.Version
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v += " (" + s.Value[:12] + ")"
			}
		}
		if v != "" {
			return v
		}
	}
	return "devel"
}

func newLogger(e env, level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: l}))
}

// load reads the configuration of a command.
func load(e env, name string, args []string, extra ...func(*flag.FlagSet)) (config.Config, []string, error) {
	cfg, rest, err := config.Load(name, args, e.getenv, e.stderr, extra...)
	if errors.Is(err, flag.ErrHelp) {
		return cfg, nil, exitError{code: 0}
	}
	if err != nil {
		return cfg, nil, exitError{code: 2, msg: "haven " + name + ": " + err.Error()}
	}
	return cfg, rest, nil
}

// open assembles the app for a command.
func open(ctx context.Context, e env, cfg config.Config, workers bool) (*app.App, error) {
	a, err := app.Open(ctx, cfg, newLogger(e, cfg.LogLevel), app.Options{Workers: workers})
	if err != nil {
		return nil, err
	}
	return a, nil
}

var cli = haven.SystemActor("cli")

func printJSON(e env, v any) error {
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func serve(ctx context.Context, e env, args []string) error {
	cfg, rest, err := load(e, "serve", args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return exitError{code: 2, msg: "haven serve: unexpected argument " + rest[0]}
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	defer ln.Close()
	if cfg.BaseURL == "http://"+cfg.Addr {
		cfg.BaseURL = "http://" + ln.Addr().String()
	}
	cfg.Addr = ln.Addr().String()
	a, err := open(ctx, e, cfg, true)
	if err != nil {
		return err
	}
	defer a.Close()
	srv, err := server.New(a)
	if err != nil {
		return err
	}
	if a.MasterKeyCreated {
		fmt.Fprintf(e.stderr, "\n%s\n  WARNING: a new master key was generated at %s.\n"+
			"  It encrypts every piece of evidence. Back it up apart from the data.\n"+
			"  In production, supply your own key (HAVEN_MASTER_KEY_FILE or HAVEN_MASTER_KEY).\n%s\n\n",
			strings.Repeat("!", 78), cfg.MasterKeyFile, strings.Repeat("!", 78))
	}
	link, err := a.Accounts.EnsureFirstAdmin(ctx)
	if err != nil {
		return err
	}
	if link != "" {
		fmt.Fprintf(e.stdout, "\n%s\n  No administrator has enrolled yet. Open this one-time link to set up the\n"+
			"  first administrator (it works once, for 72 hours; a restart makes a new one):\n\n  %s\n%s\n\n",
			strings.Repeat("=", 78), link, strings.Repeat("=", 78))
	}
	if err := a.Jobs.Start(ctx); err != nil {
		return err
	}
	// Other instances change the banks too: follow their changes.
	go a.Hashes.Run(ctx, time.Second)
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		_ = a.Jobs.Stop(stopCtx)
	}()
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		MaxHeaderBytes: 64 << 10, ErrorLog: slog.NewLogLogger(a.Log.Handler(), slog.LevelWarn)}
	fmt.Fprintf(e.stdout, "Haven %s is listening on http://%s (database: %s)\n", version(), cfg.Addr, a.Store.Dialect().Name())
	a.Log.Info("listening", "addr", cfg.Addr, "database", a.Store.Dialect().Name())
	err = server.ListenAndServe(ctx, hs, ln)
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

func migrate(ctx context.Context, e env, args []string) error {
	cfg, _, err := load(e, "migrate", args)
	if err != nil {
		return err
	}
	a, err := open(ctx, e, cfg, false)
	if err != nil {
		return err
	}
	defer a.Close()
	fmt.Fprintln(e.stdout, "The database is up to date.")
	return nil
}

func findAgency(ctx context.Context, a *app.App, ref string) (*haven.Agency, error) {
	if haven.ValidID(ref) {
		if ag, err := a.Accounts.Agency(ctx, cli, ref); err == nil {
			return ag, nil
		}
	}
	ag, err := a.Accounts.AgencyByName(ctx, cli, ref)
	if err != nil {
		return nil, fmt.Errorf("no agency named %q (see haven agency list)", ref)
	}
	return ag, nil
}

func userCmd(ctx context.Context, e env, sub string, args []string) error {
	var email, role, agencyRef, name string
	var asJSON bool
	cfg, rest, err := load(e, "user "+sub, args, func(fs *flag.FlagSet) {
		fs.StringVar(&email, "email", "", "e-mail address (login)")
		fs.StringVar(&role, "role", "", "role")
		fs.StringVar(&agencyRef, "agency", "", "agency name or ID (law-enforcement users)")
		fs.StringVar(&name, "name", "", "display name")
		fs.BoolVar(&asJSON, "json", false, "print JSON")
	})
	if err != nil {
		return err
	}
	switch sub {
	case "create", "list", "disable", "enable", "unlock", "reset-mfa", "link":
	default:
		return exitError{code: 2, msg: "usage: haven user create|list|disable|enable|unlock|reset-mfa|link"}
	}
	a, err := open(ctx, e, cfg, false)
	if err != nil {
		return err
	}
	defer a.Close()
	switch sub {
	case "create":
		if email == "" || role == "" {
			return exitError{code: 2, msg: "usage: haven user create --email E --role R [--agency NAME] [--name N] [--json]"}
		}
		agencyID := ""
		if agencyRef != "" {
			ag, err := findAgency(ctx, a, agencyRef)
			if err != nil {
				return err
			}
			agencyID = ag.ID
		}
		u, link, err := a.Accounts.CreateUser(ctx, cli, account.NewUser{Login: email, DisplayName: name, Role: haven.Role(role), AgencyID: agencyID})
		if err != nil {
			return err
		}
		if asJSON {
			return printJSON(e, map[string]string{"id": u.ID, "login": u.Login, "role": string(u.Role), "enrolment_link": link})
		}
		fmt.Fprintf(e.stdout, "Created %s (%s).\nOne-time enrolment link (72 hours):\n%s\n", u.Login, u.Role.Label(), link)
		return nil
	case "list":
		users, err := a.Accounts.Users(ctx, cli, store.UserFilter{})
		if err != nil {
			return err
		}
		if asJSON {
			out := []map[string]any{}
			for _, u := range users {
				out = append(out, map[string]any{"id": u.ID, "login": u.Login, "role": u.Role, "agency_id": u.AgencyID,
					"disabled": u.Disabled, "locked": u.Locked(), "mfa": u.TOTPEnabled})
			}
			return printJSON(e, out)
		}
		tw := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "LOGIN\tROLE\tSTATE\tID")
		for _, u := range users {
			state := "active"
			switch {
			case u.Disabled:
				state = "disabled"
			case u.Locked():
				state = "locked"
			case u.PasswordHash == "":
				state = "not enrolled"
			case !u.TOTPEnabled && u.Role.Interactive():
				state = "no second factor"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", u.Login, u.Role, state, u.ID)
		}
		return tw.Flush()
	}
	if len(rest) != 1 {
		return exitError{code: 2, msg: "usage: haven user " + sub + " EMAIL"}
	}
	u, err := a.Accounts.UserByLogin(ctx, cli, rest[0])
	if err != nil {
		return fmt.Errorf("no account %q", rest[0])
	}
	var link string
	switch sub {
	case "disable":
		err = a.Accounts.SetDisabled(ctx, cli, u.ID, true)
	case "enable":
		err = a.Accounts.SetDisabled(ctx, cli, u.ID, false)
	case "unlock":
		err = a.Accounts.Unlock(ctx, cli, u.ID)
	case "reset-mfa":
		err = a.Accounts.ResetMFA(ctx, cli, u.ID)
	case "link":
		link, err = a.Accounts.NewEnrolmentLink(ctx, cli, u.ID)
	}
	if err != nil {
		return err
	}
	if asJSON {
		return printJSON(e, map[string]string{"id": u.ID, "login": u.Login, "done": sub, "enrolment_link": link})
	}
	fmt.Fprintf(e.stdout, "%s: %s done.\n", u.Login, sub)
	if link != "" {
		fmt.Fprintf(e.stdout, "One-time enrolment link (72 hours):\n%s\n", link)
	}
	return nil
}

func agencyCmd(ctx context.Context, e env, sub string, args []string) error {
	var kind, jurisdiction string
	var asJSON bool
	cfg, rest, err := load(e, "agency "+sub, args, func(fs *flag.FlagSet) {
		fs.StringVar(&kind, "kind", "local", "local, icac, federal, international or partner")
		fs.StringVar(&jurisdiction, "jurisdiction", "", "jurisdiction, e.g. US-CA")
		fs.BoolVar(&asJSON, "json", false, "print JSON")
	})
	if err != nil {
		return err
	}
	if sub != "create" && sub != "list" {
		return exitError{code: 2, msg: "usage: haven agency create NAME | haven agency list"}
	}
	if sub == "create" && len(rest) != 1 {
		return exitError{code: 2, msg: "usage: haven agency create NAME [--kind K] [--jurisdiction J] [--json] (quote a name with spaces)"}
	}
	a, err := open(ctx, e, cfg, false)
	if err != nil {
		return err
	}
	defer a.Close()
	if sub == "create" {
		ag, err := a.Accounts.CreateAgency(ctx, cli, haven.Agency{Name: rest[0], Kind: haven.AgencyKind(kind), Jurisdiction: jurisdiction})
		if err != nil {
			return err
		}
		if asJSON {
			return printJSON(e, map[string]string{"id": ag.ID, "name": ag.Name})
		}
		fmt.Fprintf(e.stdout, "Created agency %s (%s).\n", ag.Name, ag.ID)
		return nil
	}
	ags, err := a.Accounts.Agencies(ctx, cli)
	if err != nil {
		return err
	}
	if asJSON {
		out := []map[string]string{}
		for _, ag := range ags {
			out = append(out, map[string]string{"id": ag.ID, "name": ag.Name, "kind": string(ag.Kind), "jurisdiction": ag.Jurisdiction})
		}
		return printJSON(e, out)
	}
	tw := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tKIND\tJURISDICTION\tID")
	for _, ag := range ags {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", ag.Name, ag.Kind, ag.Jurisdiction, ag.ID)
	}
	return tw.Flush()
}

func espCmd(ctx context.Context, e env, sub string, args []string) error {
	var asJSON bool
	cfg, rest, err := load(e, "esp "+sub, args, func(fs *flag.FlagSet) {
		fs.BoolVar(&asJSON, "json", false, "print JSON")
	})
	if err != nil {
		return err
	}
	if (sub != "create" && sub != "rotate") || len(rest) != 1 {
		return exitError{code: 2, msg: "usage: haven esp create NAME [--json] | haven esp rotate USERNAME [--json]"}
	}
	a, err := open(ctx, e, cfg, false)
	if err != nil {
		return err
	}
	defer a.Close()
	var creds *account.ESPCredentials
	if sub == "create" {
		creds, err = a.Accounts.CreateESP(ctx, cli, rest[0])
	} else {
		var u *haven.User
		if u, err = a.Accounts.UserByLogin(ctx, cli, rest[0]); err != nil {
			return fmt.Errorf("no ESP account %q", rest[0])
		}
		creds, err = a.Accounts.RotateESP(ctx, cli, u.ID)
	}
	if err != nil {
		return err
	}
	if asJSON {
		return printJSON(e, map[string]string{"username": creds.Username, "password": creds.Password})
	}
	fmt.Fprintf(e.stdout, "ESP API credentials (the password is shown only now):\n  username: %s\n  password: %s\n", creds.Username, creds.Password)
	return nil
}

func tokenCmd(ctx context.Context, e env, sub string, args []string) error {
	var user, name string
	var asJSON bool
	cfg, _, err := load(e, "token "+sub, args, func(fs *flag.FlagSet) {
		fs.StringVar(&user, "user", "", "login of the account")
		fs.StringVar(&name, "name", "cli", "a name for the token")
		fs.BoolVar(&asJSON, "json", false, "print JSON")
	})
	if err != nil {
		return err
	}
	if sub != "create" || user == "" {
		return exitError{code: 2, msg: "usage: haven token create --user LOGIN [--name N] [--json]"}
	}
	a, err := open(ctx, e, cfg, false)
	if err != nil {
		return err
	}
	defer a.Close()
	u, err := a.Accounts.UserByLogin(ctx, cli, user)
	if err != nil {
		return fmt.Errorf("no account %q", user)
	}
	tok, err := a.Accounts.CreateAPIToken(ctx, cli, u.ID, name)
	if err != nil {
		return err
	}
	if asJSON {
		return printJSON(e, map[string]string{"token": tok, "user": u.Login})
	}
	fmt.Fprintf(e.stdout, "Bearer token for %s (shown only now):\n%s\n", u.Login, tok)
	return nil
}

func auditCmd(ctx context.Context, e env, sub string, args []string) error {
	cfg, _, err := load(e, "audit "+sub, args)
	if err != nil {
		return err
	}
	if sub != "verify" {
		return exitError{code: 2, msg: "usage: haven audit verify"}
	}
	a, err := open(ctx, e, cfg, false)
	if err != nil {
		return err
	}
	defer a.Close()
	res, err := a.Audit.Verify(ctx, a.Store)
	if err != nil {
		return err
	}
	outcome := haven.OutcomeSuccess
	if res.Problem != nil {
		outcome = haven.OutcomeFailure
	}
	_ = a.Store.InTx(ctx, func(tx *store.Tx) error {
		return a.Audit.Record(ctx, tx, cli, audit.Entry{Type: "audit.verify", ObjectType: "audit", Outcome: outcome,
			Details: map[string]string{"events": fmt.Sprint(res.Events)}})
	})
	if res.Problem != nil {
		return exitError{code: 1, msg: fmt.Sprintf("audit chain BROKEN: first bad %s (%d events read)", res.Problem, res.Events)}
	}
	fmt.Fprintf(e.stdout, "audit chain intact: %d events in %d chains\n", res.Events, res.Chains)
	return nil
}

func keysCmd(ctx context.Context, e env, sub string, args []string) error {
	var retire bool
	cfg, _, err := load(e, "keys "+sub, args, func(fs *flag.FlagSet) {
		fs.BoolVar(&retire, "retire", false, "retire the old keys right after re-wrapping")
	})
	if err != nil {
		return err
	}
	if sub != "rotate" && sub != "retire" {
		return exitError{code: 2, msg: "usage: haven keys rotate [--retire] | haven keys retire"}
	}
	if cfg.MasterKey != "" {
		return exitError{code: 2, msg: "haven keys: the master key comes from HAVEN_MASTER_KEY; rotate it with a key file (HAVEN_MASTER_KEY_FILE) so Haven can write the new keyset"}
	}
	a, err := open(ctx, e, cfg, false)
	if err != nil {
		return err
	}
	defer a.Close()
	if sub == "rotate" {
		if err := rotateKeys(ctx, e, a); err != nil {
			return err
		}
		if !retire {
			fmt.Fprintln(e.stdout, "The old key stays in the keyset until `haven keys retire` (restart running servers first, so they wrap new evidence with the new key).")
			return nil
		}
		m, err := keys.LoadFile(cfg.MasterKeyFile)
		if err != nil {
			return err
		}
		a.Master = m
	}
	return retireKeys(ctx, e, a)
}

func rotateKeys(ctx context.Context, e env, a *app.App) error {
	next, err := a.Master.Rotate()
	if err != nil {
		return err
	}
	// Write the keyset with both keys first: if anything below fails, the
	// file still opens everything, old and new.
	if err := keys.WriteFile(a.Config.MasterKeyFile, next); err != nil {
		return err
	}
	cs := custody.New(a.Store, evidence.NewVault(a.Backend, next), a.Audit, a.Clock, a.Log, a.Config.MaxUploadBytes)
	n, err := cs.Rewrap(ctx, cli)
	if err != nil {
		return err
	}
	err = a.Store.InTx(ctx, func(tx *store.Tx) error {
		if err := secret.Rewrap(ctx, tx, next, next); err != nil {
			return err
		}
		return a.Audit.Record(ctx, tx, cli, audit.Entry{Type: "keys.rotate", ObjectType: "master_key",
			ObjectID: fmt.Sprint(next.PrimaryKeyID()), Details: map[string]string{"items_rewrapped": fmt.Sprint(n)}})
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "New master key %d is primary; re-wrapped %d evidence keys and the application secrets.\n", next.PrimaryKeyID(), n)
	return nil
}

func retireKeys(ctx context.Context, e env, a *app.App) error {
	only, err := a.Master.Retire()
	if err != nil {
		return err
	}
	if len(a.Master.KeyIDs()) == 1 {
		fmt.Fprintln(e.stdout, "Only one master key is in the keyset: nothing to retire.")
		return nil
	}
	n, err := a.Custody.CheckKeys(ctx, only)
	if err != nil {
		return fmt.Errorf("%w: run `haven keys rotate` again (a server may have wrapped new evidence with the old key), then retire", err)
	}
	err = a.Store.View(ctx, func(tx *store.Tx) error { return secret.Check(ctx, tx, only) })
	if err != nil {
		return fmt.Errorf("%w: run `haven keys rotate` again, then retire", err)
	}
	if err := keys.WriteFile(a.Config.MasterKeyFile, only); err != nil {
		return err
	}
	err = a.Store.InTx(ctx, func(tx *store.Tx) error {
		return a.Audit.Record(ctx, tx, cli, audit.Entry{Type: "keys.retire", ObjectType: "master_key",
			ObjectID: fmt.Sprint(only.PrimaryKeyID()), Details: map[string]string{"items_checked": fmt.Sprint(n)}})
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Retired the old master keys; %d evidence keys checked against key %d.\n", n, only.PrimaryKeyID())
	return nil
}
