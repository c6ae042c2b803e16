package offender

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/audit"
	"github.com/haven-hotline/haven/internal/identifiers"
	"github.com/haven-hotline/haven/internal/store"
)

// VerificationMonths is how often an offender of a tier must appear to
// verify their registration under SORNA (34 U.S.C. 20918): tier I every
// year, tier II every six months, tier III every three months. An unknown
// tier takes the strictest interval, so that no one is overlooked.
func VerificationMonths(tier int) int {
	switch tier {
	case 1:
		return 12
	case 2:
		return 6
	}
	return 3
}

// Compliance is an offender's assessed compliance.
type Compliance struct {
	Status string    // compliant, noncompliant, absconded, or a status outside the schedule
	Due    time.Time // the next verification's due date; zero outside the schedule
	// Overdue is true when the status was computed from a missed
	// verification rather than set by the registry.
	Overdue bool
	Reason  string
}

// Noncompliant reports whether the offender needs locating.
func (c Compliance) Noncompliant() bool {
	return c.Status == StatusNoncompliant || c.Status == StatusAbsconded
}

// Assess computes an offender's compliance at now: the registry's status
// where it says noncompliant, absconded, incarcerated, deceased or moved
// out; otherwise noncompliant once the verification due by tier has
// passed (counted from the last verification, or else the registration).
func Assess(o *store.Offender, now time.Time) Compliance {
	switch o.Status {
	case StatusIncarcerated, StatusDeceased, StatusMovedOut:
		return Compliance{Status: o.Status, Reason: "not in the verification schedule: " + o.Status}
	}
	from := o.LastVerified
	if from.IsZero() {
		from = o.RegisteredOn
	}
	c := Compliance{Status: o.Status}
	months := VerificationMonths(o.Tier)
	if !from.IsZero() {
		c.Due = from.AddDate(0, months, 0)
	}
	switch {
	case o.Status == StatusNoncompliant || o.Status == StatusAbsconded:
		c.Reason = "status set by the registry: " + o.Status
	case from.IsZero():
		c.Status, c.Overdue = StatusNoncompliant, true
		c.Reason = "no registration or verification date is known"
	case now.After(c.Due):
		c.Status, c.Overdue = StatusNoncompliant, true
		c.Reason = "verification due " + c.Due.Format("2006-01-02") + " (tier " + tierName(o.Tier) + ": every " +
			strconv.Itoa(months) + " months) was missed"
	default:
		c.Status = StatusCompliant
		c.Reason = "next verification due " + c.Due.Format("2006-01-02")
	}
	return c
}

// tierName writes a tier as SORNA does.
func tierName(t int) string {
	switch t {
	case 1:
		return "I"
	case 2:
		return "II"
	case 3:
		return "III"
	}
	return "unknown"
}

// TierName writes a tier as SORNA does (I, II, III, or "unknown").
func TierName(t int) string { return tierName(t) }

// NoncompliantEntry is an offender on the noncompliance list.
type NoncompliantEntry struct {
	Offender   *store.Offender
	Compliance Compliance
}

// JurisdictionList is one jurisdiction's noncompliant offenders.
type JurisdictionList struct {
	Jurisdiction string
	Entries      []NoncompliantEntry
}

// NoncompliantList lists the noncompliant and absconded offenders of
// each jurisdiction (or of one, when jurisdiction is set), most overdue
// first. The read is audited.
func (s *Service) NoncompliantList(ctx context.Context, a haven.Actor, jurisdiction string) ([]JurisdictionList, error) {
	if err := s.require(a, haven.PermOffenderRead); err != nil {
		return nil, s.deny(ctx, a, "offender.noncompliant_list", "offender", "", err)
	}
	now := s.clock.Now()
	byJ := map[string][]NoncompliantEntry{}
	total := 0
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		all, err := tx.Offenders(ctx, store.OffenderFilter{Jurisdiction: jurisdiction, Limit: 100000})
		if err != nil {
			return err
		}
		for _, o := range all {
			if c := Assess(o, now); c.Noncompliant() {
				byJ[o.Jurisdiction] = append(byJ[o.Jurisdiction], NoncompliantEntry{Offender: o, Compliance: c})
				total++
			}
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "offender.noncompliant_list", ObjectType: "offender",
			Details: map[string]string{"jurisdiction": jurisdiction, "results": strconv.Itoa(total)}})
	})
	if err != nil {
		return nil, err
	}
	out := make([]JurisdictionList, 0, len(byJ))
	for j, es := range byJ {
		slices.SortFunc(es, func(x, y NoncompliantEntry) int {
			if c := x.Compliance.Due.Compare(y.Compliance.Due); c != 0 {
				return c
			}
			return strings.Compare(x.Offender.Name, y.Offender.Name)
		})
		out = append(out, JurisdictionList{Jurisdiction: j, Entries: es})
	}
	slices.SortFunc(out, func(x, y JurisdictionList) int { return strings.Compare(x.Jurisdiction, y.Jurisdiction) })
	return out, nil
}

// normalise returns the linkage key of an identifier fact ("" for kinds
// that are not identifiers), with the rules of internal/identifiers so
// that an offender's phone number meets the same number in a tip.
func normalise(kind, value, defaultCode string) (string, error) {
	switch kind {
	case FactPhone:
		p, err := identifiers.NormalisePhone(value, "", defaultCode)
		return p.E164, err
	case FactEmail:
		return identifiers.NormaliseEmail(value)
	case FactInternet:
		if service, name, ok := strings.Cut(value, ":"); ok {
			return identifiers.NormaliseScreenName(service, name)
		}
		return strings.ToLower(strings.TrimSpace(value)), nil
	case FactVehicle:
		return normPlate(value), nil
	}
	return "", nil
}

// normPlate is a licence plate in upper case without separators.
func normPlate(v string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(v) {
		if (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// identifierKind maps a fact kind to the identifier kind of tips.
func identifierKind(factKind string) identifiers.Kind {
	switch factKind {
	case FactPhone:
		return identifiers.KindPhone
	case FactEmail:
		return identifiers.KindEmail
	case FactInternet:
		return identifiers.KindScreenName
	}
	return ""
}
