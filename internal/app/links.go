package app

import (
	"context"
	"errors"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/geo"
	"github.com/haven-hotline/haven/internal/identifiers"
	"github.com/haven-hotline/haven/internal/store"
	"github.com/haven-hotline/haven/internal/triage"
)

// linker gives triage the identifier links of a report.
type linker struct {
	ids   *identifiers.Service
	store *store.Store
}

// personKinds are the identifiers that point at a person or an account:
// sharing one links two reports to the same subject.
var personKinds = []string{"email", "phone", "screen_name", "esp_user", "ip", "device"}

// maxLinkFanout leaves out identifiers seen in more reports than this (a
// shared proxy address, a support e-mail): they link nothing useful.
const maxLinkFanout = 1000

func (l linker) IndexReport(ctx context.Context, reportID int64) error {
	return l.ids.IndexReport(ctx, reportID)
}

func (l linker) LinkedReports(ctx context.Context, reportID int64) (int, error) {
	var n int
	err := l.store.View(ctx, func(tx *store.Tx) (err error) {
		n, err = tx.LinkedReportCount(ctx, reportID, personKinds, maxLinkFanout)
		return err
	})
	return n, err
}

// locator gives triage a report's country (an analyst's correction wins).
type locator struct{ geo *geo.Service }

func (l locator) LocateCountry(ctx context.Context, reportID int64) (string, error) {
	loc, err := l.geo.Locate(ctx, reportID)
	if err != nil || loc == nil {
		return "", err
	}
	country, _ := loc.Effective()
	return country, nil
}

var (
	_ triage.Linker  = linker{}
	_ triage.Locator = locator{}
)

// markReferred is the referral hook: the report leaves the queue as
// referred, in the referral's transaction.
func (a *App) markReferred(ctx context.Context, tx *store.Tx, actor haven.Actor, reportID int64) error {
	err := a.Triage.MarkReferredTx(ctx, tx, actor, reportID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}
