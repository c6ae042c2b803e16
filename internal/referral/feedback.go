package referral

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"time"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/audit"
	"github.com/haven-hotline/haven/internal/store"
)

// ESP feedback: what came of an online service's reports, aggregated and
// anonymous. The suppression rule (docs/decisions/0011):
//
//  1. Only months in which the ESP filed at least MinCount reports are
//     shown; a month with fewer is omitted entirely, and no totals across
//     months are given, so an omitted month cannot be recovered by
//     subtraction.
//  2. In a shown month, a count from 1 to MinCount-1 is given as "<5";
//     0 and counts of MinCount or more are exact.
//  3. The ESP knows how many reports it filed in a month, so referred and
//     informational add up to a known number: when one of them is
//     suppressed, the other is withheld (left out) too.
//  4. Outcomes are counted per live referral (its current outcome) in the
//     month the report was received; codes with no referral are left out.
//
// Nothing in the feedback names a report or an agency.

// MinCount is the smallest count shown exactly (other than zero).
const MinCount = 5

// FeedbackMonths is how many months, the current one included, the
// feedback covers.
const FeedbackMonths = 24

// Count is a count that may be suppressed. It encodes as a JSON integer,
// or as the string "<5" when suppressed.
type Count struct {
	N          int
	Suppressed bool
}

// MarshalJSON implements json.Marshaler.
func (c Count) MarshalJSON() ([]byte, error) {
	if c.Suppressed {
		return json.Marshal("<" + strconv.Itoa(MinCount))
	}
	return json.Marshal(c.N)
}

// String returns the count as shown.
func (c Count) String() string {
	if c.Suppressed {
		return "<" + strconv.Itoa(MinCount)
	}
	return strconv.Itoa(c.N)
}

func count(n int) Count { return Count{N: n, Suppressed: n > 0 && n < MinCount} }

// FeedbackMonth is one month of an ESP's feedback.
type FeedbackMonth struct {
	Month   string `json:"month"` // YYYY-MM, of the reports' receipt
	Reports int    `json:"reports"`
	// Referred counts reports referred to at least one agency;
	// Informational the other filed reports (including those still in
	// triage). Either is nil when withheld (rule 3).
	Referred      *Count           `json:"referred,omitempty"`
	Informational *Count           `json:"informational,omitempty"`
	Outcomes      map[string]Count `json:"outcomes"`
}

// Feedback is an ESP's aggregated, anonymous feedback.
type Feedback struct {
	GeneratedAt time.Time `json:"generatedAt"`
	// From is the first day of the earliest month covered.
	From     time.Time       `json:"from"`
	MinCount int             `json:"minCount"`
	Months   []FeedbackMonth `json:"months"`
}

// ESPFeedback returns the feedback of the actor's own reports (an ESP
// account); the read is audited.
func (s *Service) ESPFeedback(ctx context.Context, a haven.Actor) (*Feedback, error) {
	if err := s.require(a, haven.PermFeedback); err != nil {
		return nil, err
	}
	now := s.clock.Now().UTC()
	from := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -(FeedbackMonths - 1), 0)
	var reports []store.FeedbackReport
	var outcomes []store.FeedbackOutcome
	err := s.store.InTx(ctx, func(tx *store.Tx) (err error) {
		if reports, outcomes, err = tx.SubmitterFeedback(ctx, a.UserID, from); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "feedback.read", ObjectType: "esp", ObjectID: a.UserID})
	})
	if err != nil {
		return nil, err
	}
	f := aggregate(reports, outcomes)
	f.GeneratedAt, f.From = now, from
	return f, nil
}

// aggregate counts and suppresses.
func aggregate(reports []store.FeedbackReport, outcomes []store.FeedbackOutcome) *Feedback {
	type tally struct {
		reports, referred int
		outcomes          map[string]int
	}
	months := map[string]*tally{}
	get := func(t time.Time) *tally {
		k := t.UTC().Format("2006-01")
		if months[k] == nil {
			months[k] = &tally{outcomes: map[string]int{}}
		}
		return months[k]
	}
	for _, r := range reports {
		m := get(r.OpenedAt)
		m.reports++
		if r.Referred {
			m.referred++
		}
	}
	for _, o := range outcomes {
		get(o.OpenedAt).outcomes[o.Code]++
	}
	keys := make([]string, 0, len(months))
	for k := range months {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	slices.Reverse(keys)
	f := &Feedback{MinCount: MinCount, Months: []FeedbackMonth{}}
	for _, k := range keys {
		m := months[k]
		if m.reports < MinCount {
			continue // rule 1
		}
		fm := FeedbackMonth{Month: k, Reports: m.reports, Outcomes: map[string]Count{}}
		ref, inf := count(m.referred), count(m.reports-m.referred)
		switch {
		case ref.Suppressed && inf.Suppressed:
			fm.Referred, fm.Informational = &ref, &inf
		case ref.Suppressed:
			fm.Referred = &ref // rule 3: informational withheld
		case inf.Suppressed:
			fm.Informational = &inf
		default:
			fm.Referred, fm.Informational = &ref, &inf
		}
		for code, n := range m.outcomes {
			if n > 0 {
				fm.Outcomes[code] = count(n)
			}
		}
		f.Months = append(f.Months, fm)
	}
	return f
}
