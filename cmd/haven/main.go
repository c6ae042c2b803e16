// Command haven runs Haven, the platform for child-protection hotlines and
// clearinghouses, and administers it from the server's command line.
//
//	haven serve                 start the server (embedded defaults: SQLite and local encrypted evidence in ./haven-data)
//	haven migrate               apply database migrations and exit
//	haven user create|list|disable|enable|unlock|reset-mfa|link
//	haven agency create|list
//	haven esp create|rotate
//	haven token create
//	haven audit verify
//	haven keys rotate|retire
//	haven backup|restore        encrypted backup; restore with the --verify drill
//	haven doctor                check a deployment's configuration
//	haven demo                  load a synthetic demonstration dataset
//	haven hash [--dihedral] F…  print PDQ hashes
//	haven version
//
// Every command that touches data reads the same HAVEN_* variables and
// flags as serve. Run "haven help" for details.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/haven-hotline/haven"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	if err != nil {
		var ex exitError
		if errors.As(err, &ex) {
			if ex.msg != "" {
				fmt.Fprintln(os.Stderr, ex.msg)
			}
			os.Exit(ex.code)
		}
		fmt.Fprintln(os.Stderr, "haven:", haven.ErrorMessageOrError(err))
		os.Exit(1)
	}
}

// exitError ends the program with a specific code.
type exitError struct {
	code int
	msg  string
}

func (e exitError) Error() string { return e.msg }

// env bundles what every command receives.
type env struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

const usage = `Haven — the platform for child-protection hotlines and clearinghouses.

Usage: haven COMMAND [ARGS] [FLAGS]

Commands:
  serve                       start the server
  migrate                     apply database migrations and exit
  user create --email E --role R [--agency NAME] [--name N] [--json]
                              create an account and print its one-time enrolment link
  user list [--json]          list accounts
  user disable|enable|unlock|reset-mfa|link EMAIL
                              change an account (link: new enrolment link, i.e. password reset)
  agency create NAME [--kind K] [--jurisdiction J] [--json]
  agency list [--json]
  esp create NAME [--json]    create an ESP API account; prints its password once
  esp rotate USERNAME [--json]
                              issue a new password for an ESP account
  token create --user LOGIN [--name N] [--json]
                              create a JSON-API bearer token
  audit verify                check the audit chain; exit 1 naming the first bad event
  keys rotate [--retire]      add a new master key, re-wrap every key with it
  keys retire                 drop old master keys once nothing uses them
  backup --to FOLDER          consistent, encrypted backup of the database and evidence (safe while serving)
  restore --from FOLDER [--verify] [--tombstones NEWER_BACKUP]
                              restore a backup into an empty location; --verify runs the drill
  doctor                      check this deployment's configuration and report problems in plain words
  demo                        load a synthetic demonstration dataset
  hash [--dihedral] FILE...   print PDQ hashes as hash,quality,file (the reference tool's format)
  version                     print the version

Roles: admin, auditor, supervisor, intake_analyst, victim_id_analyst, offender_analyst,
casework_specialist, support_coordinator, le_user (needs --agency).

Every command accepts the configuration flags (run "haven serve --help"), or the
same settings as HAVEN_* environment variables: HAVEN_ADDR, HAVEN_DATA_DIR,
HAVEN_DATABASE_URL, HAVEN_EVIDENCE_URL, HAVEN_MASTER_KEY_FILE, HAVEN_BASE_URL…
`

// run is the whole program, testable without a process.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	e := env{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitError{code: 2}
	}
	cmd, rest := args[0], args[1:]
	sub := func() (string, []string) {
		if len(rest) == 0 {
			return "", nil
		}
		return rest[0], rest[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, e, rest)
	case "migrate":
		return migrate(ctx, e, rest)
	case "user":
		s, r := sub()
		return userCmd(ctx, e, s, r)
	case "agency":
		s, r := sub()
		return agencyCmd(ctx, e, s, r)
	case "esp":
		s, r := sub()
		return espCmd(ctx, e, s, r)
	case "token":
		s, r := sub()
		return tokenCmd(ctx, e, s, r)
	case "audit":
		s, r := sub()
		return auditCmd(ctx, e, s, r)
	case "keys":
		s, r := sub()
		return keysCmd(ctx, e, s, r)
	case "demo":
		return demo(ctx, e, rest)
	case "backup":
		return backupCmd(ctx, e, rest)
	case "restore":
		return restoreCmd(ctx, e, rest)
	case "doctor":
		return doctorCmd(ctx, e, rest)
	case "hash":
		return hashCmd(ctx, e, rest)
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, "haven", version())
		return nil
	case "help", "--help", "-h":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprintf(stderr, "haven: unknown command %q\n\n%s", cmd, usage)
	return exitError{code: 2}
}
