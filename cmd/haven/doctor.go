package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/haven-hotline/haven/internal/config"
	"github.com/haven-hotline/haven/internal/doctor"
)

// doctorCmd is `haven doctor`: it checks the deployment the configuration
// describes, changes nothing, prints one line per check and exits 1 when
// any check failed.
func doctorCmd(ctx context.Context, e env, args []string) error {
	cfg, rest, err := config.Load("doctor", args, e.getenv, e.stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitError{code: 0}
	}
	if err != nil {
		return exitError{code: 1, msg: "  FAIL  configuration: the settings do not load:\n" + err.Error()}
	}
	if len(rest) > 0 {
		return exitError{code: 2, msg: "usage: haven doctor [configuration flags]"}
	}
	rep := doctor.Run(ctx, cfg)
	fmt.Fprintln(e.stdout, "Checking the Haven deployment described by this configuration:")
	for _, f := range rep.Findings {
		fmt.Fprintf(e.stdout, "  %-4s  %s: %s\n", f.Severity, f.Area, f.Message)
	}
	fails, warns := rep.Problems()
	switch {
	case fails > 0:
		var areas []string
		seen := map[string]bool{}
		for _, f := range rep.Findings {
			if f.Severity == doctor.Fail && !seen[f.Area] {
				seen[f.Area] = true
				areas = append(areas, f.Area)
			}
		}
		return exitError{code: 1, msg: fmt.Sprintf("%d problems must be fixed (%s); %d warnings.", fails, strings.Join(areas, ", "), warns)}
	case warns > 0:
		fmt.Fprintf(e.stdout, "No problem that stops Haven; %d warnings.\n", warns)
	default:
		fmt.Fprintln(e.stdout, "No problem found.")
	}
	return nil
}
