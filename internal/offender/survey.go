package offender

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/audit"
	"github.com/haven-hotline/haven/internal/store"
)

// Survey methods.
const (
	SurveyEntered  = "entered"  // an analyst entered the jurisdiction's own count
	SurveyComputed = "computed" // counted from the imported records
)

// Survey is one survey date's counts.
type Survey struct {
	Date   time.Time
	Counts []*store.SurveyCount
	Total  int
}

// EnterSurveyCount records a jurisdiction's count for a survey date (the
// registry's own figure, as analysts collect it twice a year).
func (s *Service) EnterSurveyCount(ctx context.Context, a haven.Actor, date time.Time, jurisdiction string, count int) error {
	if err := s.require(a, haven.PermSurveys); err != nil {
		return err
	}
	jurisdiction, err := haven.CleanText("jurisdiction", jurisdiction, 20, true)
	if err != nil {
		return err
	}
	if count < 0 || count > 10_000_000 {
		return haven.Invalidf("count", "give a count between 0 and 10,000,000")
	}
	if date.IsZero() || date.After(s.clock.Now()) {
		return haven.Invalidf("date", "give the survey date, not in the future")
	}
	date = time.Date(date.Year(), date.Month(), date.Day(), 0, 0, 0, 0, time.UTC)
	return s.store.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.PutSurveyCount(ctx, &store.SurveyCount{SurveyDate: date, Jurisdiction: jurisdiction, Count: count,
			Method: SurveyEntered, RecordedBy: a.UserID, RecordedAt: s.clock.Now()}); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "offender.survey_enter", ObjectType: "offender_survey",
			ObjectID: date.Format("2006-01-02"), Details: map[string]string{"jurisdiction": jurisdiction, "count": strconv.Itoa(count)}})
	})
}

// ComputeSurvey records, for a survey date, each jurisdiction's count of
// registered offenders in Haven's records (every status but deceased).
// Counts entered by analysts for that date are kept.
func (s *Service) ComputeSurvey(ctx context.Context, a haven.Actor, date time.Time) (int, error) {
	if err := s.require(a, haven.PermSurveys); err != nil {
		return 0, err
	}
	if date.IsZero() || date.After(s.clock.Now()) {
		return 0, haven.Invalidf("date", "give the survey date, not in the future")
	}
	date = time.Date(date.Year(), date.Month(), date.Day(), 0, 0, 0, 0, time.UTC)
	n := 0
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		counts, err := tx.CountOffendersByJurisdiction(ctx)
		if err != nil {
			return err
		}
		existing, err := tx.SurveyCounts(ctx)
		if err != nil {
			return err
		}
		entered := map[string]bool{}
		for _, c := range existing {
			if c.SurveyDate.Equal(date) && c.Method == SurveyEntered {
				entered[c.Jurisdiction] = true
			}
		}
		for j, c := range counts {
			if entered[j] {
				continue
			}
			if err := tx.PutSurveyCount(ctx, &store.SurveyCount{SurveyDate: date, Jurisdiction: j, Count: c, Method: SurveyComputed,
				RecordedBy: a.UserID, RecordedAt: s.clock.Now()}); err != nil {
				return err
			}
			n++
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "offender.survey_compute", ObjectType: "offender_survey",
			ObjectID: date.Format("2006-01-02"), Details: map[string]string{"jurisdictions": strconv.Itoa(n)}})
	})
	return n, err
}

func group(cs []*store.SurveyCount) []*Survey {
	var out []*Survey
	for _, c := range cs {
		if len(out) == 0 || !out[len(out)-1].Date.Equal(c.SurveyDate) {
			out = append(out, &Survey{Date: c.SurveyDate})
		}
		sv := out[len(out)-1]
		sv.Counts = append(sv.Counts, c)
		sv.Total += c.Count
	}
	for _, sv := range out {
		slices.SortFunc(sv.Counts, func(a, b *store.SurveyCount) int { return strings.Compare(a.Jurisdiction, b.Jurisdiction) })
	}
	return out
}

// Surveys lists every survey, newest first, for analysts.
func (s *Service) Surveys(ctx context.Context, a haven.Actor) ([]*Survey, error) {
	if !a.Can(haven.PermSurveys) && !a.Can(haven.PermOffenderRead) {
		return nil, haven.ErrForbidden
	}
	var out []*Survey
	err := s.store.View(ctx, func(tx *store.Tx) error {
		cs, err := tx.SurveyCounts(ctx)
		out = group(cs)
		return err
	})
	return out, err
}

// PublicCounts returns the latest survey: counts per jurisdiction, the
// national total and the date. It is public data (aggregate counts only)
// and needs no actor; nil when no survey exists.
func (s *Service) PublicCounts(ctx context.Context) (*Survey, error) {
	var out *Survey
	err := s.store.View(ctx, func(tx *store.Tx) error {
		cs, err := tx.SurveyCounts(ctx)
		if err != nil {
			return err
		}
		if g := group(cs); len(g) > 0 {
			out = g[0]
		}
		return nil
	})
	return out, err
}

// publicCount is one row of the public downloads.
type publicCount struct {
	Jurisdiction string `json:"jurisdiction"`
	Count        int    `json:"registered_offenders"`
}

// WriteCountsCSV writes the public counts as CSV: one line per
// jurisdiction, then the national total.
func WriteCountsCSV(w io.Writer, sv *Survey) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"survey_date", "jurisdiction", "registered_offenders"})
	if sv != nil {
		d := sv.Date.Format("2006-01-02")
		for _, c := range sv.Counts {
			_ = cw.Write([]string{d, c.Jurisdiction, strconv.Itoa(c.Count)})
		}
		_ = cw.Write([]string{d, "TOTAL", strconv.Itoa(sv.Total)})
	}
	cw.Flush()
	return cw.Error()
}

// WriteCountsJSON writes the public counts as JSON.
func WriteCountsJSON(w io.Writer, sv *Survey) error {
	out := struct {
		SurveyDate string        `json:"survey_date,omitempty"`
		Counts     []publicCount `json:"counts"`
		Total      int           `json:"national_total"`
	}{Counts: []publicCount{}}
	if sv != nil {
		out.SurveyDate, out.Total = sv.Date.Format("2006-01-02"), sv.Total
		for _, c := range sv.Counts {
			out.Counts = append(out.Counts, publicCount{Jurisdiction: c.Jurisdiction, Count: c.Count})
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
