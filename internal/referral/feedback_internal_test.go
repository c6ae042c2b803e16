package referral

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/haven-hotline/haven/internal/store"
)

// TestAggregateSuppression checks each rule of the ESP feedback's
// small-count suppression on hand-made material.
func TestAggregateSuppression(t *testing.T) {
	month := func(m time.Month) time.Time { return time.Date(2026, m, 10, 12, 0, 0, 0, time.UTC) }
	reports := func(m time.Month, filed, referred int) []store.FeedbackReport {
		var out []store.FeedbackReport
		for i := range filed {
			out = append(out, store.FeedbackReport{OpenedAt: month(m), Referred: i < referred})
		}
		return out
	}
	outcomes := func(m time.Month, code string, n int) []store.FeedbackOutcome {
		var out []store.FeedbackOutcome
		for range n {
			out = append(out, store.FeedbackOutcome{OpenedAt: month(m), Code: code})
		}
		return out
	}
	tests := []struct {
		name     string
		reports  []store.FeedbackReport
		outcomes []store.FeedbackOutcome
		want     string
	}{
		{"nothing", nil, nil, `[]`},
		{"a month under the threshold is left out", reports(3, 4, 4), outcomes(3, "arrest", 4), `[]`},
		{"exact counts", reports(3, 12, 6), append(outcomes(3, "arrest", 5), outcomes(3, "not_actionable", 0)...),
			`[{"month":"2026-03","reports":12,"referred":6,"informational":6,"outcomes":{"arrest":5}}]`},
		{"zero is exact", reports(3, 5, 0), nil,
			`[{"month":"2026-03","reports":5,"referred":0,"informational":5,"outcomes":{}}]`},
		{"small referred withholds informational", reports(3, 9, 1), outcomes(3, "child_safeguarded", 1),
			`[{"month":"2026-03","reports":9,"referred":"<5","outcomes":{"child_safeguarded":"<5"}}]`},
		{"small informational withholds referred", reports(3, 9, 8), outcomes(3, "arrest", 8),
			`[{"month":"2026-03","reports":9,"informational":"<5","outcomes":{"arrest":8}}]`},
		{"both small", reports(3, 6, 3), nil,
			`[{"month":"2026-03","reports":6,"referred":"<5","informational":"<5","outcomes":{}}]`},
		{"newest month first", append(reports(2, 5, 0), reports(4, 5, 5)...), nil,
			`[{"month":"2026-04","reports":5,"referred":5,"informational":0,"outcomes":{}},` +
				`{"month":"2026-02","reports":5,"referred":0,"informational":5,"outcomes":{}}]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := aggregate(tt.reports, tt.outcomes)
			buf, err := json.Marshal(f.Months)
			if err != nil {
				t.Fatal(err)
			}
			var got, want any
			_ = json.Unmarshal(buf, &got)
			if err := json.Unmarshal([]byte(tt.want), &want); err != nil {
				t.Fatal(err)
			}
			g, _ := json.Marshal(got)
			w, _ := json.Marshal(want)
			if string(g) != string(w) {
				t.Errorf("got %s\nwant %s", g, w)
			}
		})
	}
}
