package triage

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/haven-hotline/haven"
)

var received = time.Date(2026, 5, 4, 12, 0, 0, 0, time.UTC)

// base is a report with nothing remarkable: a CSAM report a day old with
// one file and a reported user with a screen name.
func base() (*haven.Report, []*haven.ReportFile) {
	r := &haven.Report{ID: 1, Source: haven.SourceESP, FinishedAt: received,
		Incident: haven.IncidentSummary{Type: haven.IncidentCSAM, DateTime: received.Add(-24 * time.Hour)},
		Reported: []haven.Involved{{Role: haven.RoleReported, ScreenName: "example_user_1", ESPService: "Example Chat"}}}
	return r, []*haven.ReportFile{{ID: "f1", ReportID: 1}}
}

func ptr[T any](v T) *T { return &v }

func fileDetails(files []*haven.ReportFile) *haven.FileDetails {
	if files[0].Details == nil {
		files[0].Details = &haven.FileDetails{}
	}
	return files[0].Details
}

func annotations(files []*haven.ReportFile) *haven.FileAnnotations {
	d := fileDetails(files)
	if d.Annotations == nil {
		d.Annotations = &haven.FileAnnotations{}
	}
	return d.Annotations
}

func reportAnnotations(r *haven.Report) *haven.ReportAnnotations {
	if r.Incident.Annotations == nil {
		r.Incident.Annotations = &haven.ReportAnnotations{}
	}
	return r.Incident.Annotations
}

// TestRuleTable: each signal, through a report that carries it, gives the
// expected level and names the rules that produced it.
func TestRuleTable(t *testing.T) {
	for _, tc := range []struct {
		name    string
		change  func(r *haven.Report, files *[]*haven.ReportFile, matches *[]MatchFact, linked *int)
		level   Level
		applied []string // rule IDs that applied
		shown   []string // rule IDs shown as overruled
	}{
		{"nothing remarkable", nil, P3, []string{"actionable"}, nil},
		{"escalation", func(r *haven.Report, _ *[]*haven.ReportFile, _ *[]MatchFact, _ *int) {
			r.Incident.Escalate = ptr("child says the meeting is tonight")
		}, P1, []string{"escalation", "actionable"}, nil},
		{"empty escalation still counts", func(r *haven.Report, _ *[]*haven.ReportFile, _ *[]MatchFact, _ *int) {
			r.Incident.Escalate = ptr("")
		}, P1, []string{"escalation", "actionable"}, nil},
		{"live streaming", func(_ *haven.Report, f *[]*haven.ReportFile, _ *[]MatchFact, _ *int) {
			annotations(*f).LiveStreaming = true
		}, P1, []string{"live-streaming", "actionable"}, nil},
		{"physical harm", func(_ *haven.Report, f *[]*haven.ReportFile, _ *[]MatchFact, _ *int) {
			annotations(*f).PhysicalHarm = true
		}, P1, []string{"physical-harm", "actionable"}, nil},
		{"infant", func(_ *haven.Report, f *[]*haven.ReportFile, _ *[]MatchFact, _ *int) {
			annotations(*f).Infant = true
		}, P1, []string{"infant", "actionable"}, nil},
		{"sadistic exploitation", func(r *haven.Report, _ *[]*haven.ReportFile, _ *[]MatchFact, _ *int) {
			reportAnnotations(r).SadisticOnlineExploitation = true
		}, P1, []string{"sadistic", "actionable"}, nil},
		{"sextortion", func(r *haven.Report, _ *[]*haven.ReportFile, _ *[]MatchFact, _ *int) {
			reportAnnotations(r).Sextortion = true
		}, P1, []string{"sextortion", "actionable"}, nil},
		{"recent enticement", func(r *haven.Report, _ *[]*haven.ReportFile, _ *[]MatchFact, _ *int) {
			r.Incident.Type = haven.IncidentEnticement
		}, P1, []string{"recent-enticement", "enticement", "actionable"}, nil},
		{"older enticement", func(r *haven.Report, _ *[]*haven.ReportFile, _ *[]MatchFact, _ *int) {
			r.Incident.Type = haven.IncidentEnticement
			r.Incident.DateTime = received.Add(-10 * 24 * time.Hour)
		}, P2, []string{"enticement", "actionable"}, nil},
		{"trafficking", func(r *haven.Report, _ *[]*haven.ReportFile, _ *[]MatchFact, _ *int) {
			r.Incident.Type = haven.IncidentSexTrafficking
		}, P2, []string{"trafficking", "actionable"}, nil},
		{"molestation", func(r *haven.Report, _ *[]*haven.ReportFile, _ *[]MatchFact, _ *int) {
			r.Incident.Type = haven.IncidentMolestation
		}, P2, []string{"molestation", "actionable"}, nil},
		{"self-production", func(_ *haven.Report, f *[]*haven.ReportFile, _ *[]MatchFact, _ *int) {
			annotations(*f).PossibleSelfProduction = true
		}, P2, []string{"self-production", "actionable"}, nil},
		{"minor to minor", func(r *haven.Report, _ *[]*haven.ReportFile, _ *[]MatchFact, _ *int) {
			reportAnnotations(r).MinorToMinorInteraction = true
		}, P2, []string{"minor-to-minor", "actionable"}, nil},
		{"young victim by age", func(r *haven.Report, _ *[]*haven.ReportFile, _ *[]MatchFact, _ *int) {
			r.Victims = []haven.Involved{{Role: haven.RoleVictim, Person: &haven.Person{Age: ptr(11)}}}
		}, P2, []string{"young-victim", "actionable"}, nil},
		{"young victim by date of birth", func(r *haven.Report, _ *[]*haven.ReportFile, _ *[]MatchFact, _ *int) {
			r.Victims = []haven.Involved{{Role: haven.RoleVictim, Person: &haven.Person{DateOfBirth: "2014-06-01"}}}
		}, P2, []string{"young-victim", "actionable"}, nil},
		{"older victim", func(r *haven.Report, _ *[]*haven.ReportFile, _ *[]MatchFact, _ *int) {
			r.Victims = []haven.Involved{{Role: haven.RoleVictim, Person: &haven.Person{Age: ptr(15)}}}
		}, P3, []string{"actionable"}, nil},
		{"unidentified series match", func(_ *haven.Report, _ *[]*haven.ReportFile, m *[]MatchFact, _ *int) {
			*m = append(*m, MatchFact{FileID: "f1", SeriesID: "series-7"})
		}, P2, []string{"unidentified-series", "actionable"}, nil},
		{"identified series match: a flag, not a raise", func(_ *haven.Report, _ *[]*haven.ReportFile, m *[]MatchFact, _ *int) {
			*m = append(*m, MatchFact{FileID: "f1", SeriesID: "series-8", SeriesIdentified: true})
		}, P3, []string{"identified-series", "actionable"}, nil},
		{"repeat subject", func(_ *haven.Report, _ *[]*haven.ReportFile, _ *[]MatchFact, linked *int) {
			*linked = 3
		}, P2, []string{"repeat-subject", "actionable"}, nil},
		{"prior CyberTipline reports cited", func(r *haven.Report, _ *[]*haven.ReportFile, _ *[]MatchFact, linked *int) {
			r.Reported[0].PriorCTReports = []int64{11, 12}
			*linked = 1
		}, P2, []string{"repeat-subject", "actionable"}, nil},
		{"prepubescent, recent, identifiers (ESP classification)", func(_ *haven.Report, f *[]*haven.ReportFile, _ *[]MatchFact, _ *int) {
			fileDetails(*f).IndustryClassification = "A1"
		}, P2, []string{"prepubescent-recent", "actionable"}, nil},
		{"prepubescent from a bank classification", func(_ *haven.Report, _ *[]*haven.ReportFile, m *[]MatchFact, _ *int) {
			*m = append(*m, MatchFact{FileID: "f1", Classification: haven.Classification{Scheme: "industry", Code: "A1"}})
		}, P2, []string{"prepubescent-recent", "actionable"}, nil},
		{"prepubescent but old", func(r *haven.Report, f *[]*haven.ReportFile, _ *[]MatchFact, _ *int) {
			fileDetails(*f).IndustryClassification = "A1"
			r.Incident.DateTime = received.Add(-60 * 24 * time.Hour)
		}, P3, []string{"actionable"}, nil},
		{"no identifiers", func(r *haven.Report, _ *[]*haven.ReportFile, _ *[]MatchFact, _ *int) {
			r.Reported = nil
		}, INFO, []string{"no-identifiers"}, nil},
		{"no identifiers but an IP in the file details", func(r *haven.Report, f *[]*haven.ReportFile, _ *[]MatchFact, _ *int) {
			r.Reported = nil
			fileDetails(*f).IPCapture = &haven.IPCapture{IPAddress: "198.51.100.7"}
		}, P3, []string{"actionable"}, nil},
		{"every file viral", func(_ *haven.Report, _ *[]*haven.ReportFile, m *[]MatchFact, _ *int) {
			*m = append(*m, MatchFact{FileID: "f1", Viral: true})
		}, INFO, []string{"viral"}, []string{"actionable"}},
		{"meme entry", func(_ *haven.Report, _ *[]*haven.ReportFile, m *[]MatchFact, _ *int) {
			*m = append(*m, MatchFact{FileID: "f1", Meme: true})
		}, INFO, []string{"viral"}, []string{"actionable"}},
		{"one of two files viral", func(_ *haven.Report, f *[]*haven.ReportFile, m *[]MatchFact, _ *int) {
			*f = append(*f, &haven.ReportFile{ID: "f2"})
			*m = append(*m, MatchFact{FileID: "f1", Viral: true})
		}, P3, []string{"actionable"}, nil},
		{"viral but escalated: the escalation wins", func(r *haven.Report, _ *[]*haven.ReportFile, m *[]MatchFact, _ *int) {
			*m = append(*m, MatchFact{FileID: "f1", Viral: true})
			r.Incident.Escalate = ptr("")
		}, P1, []string{"escalation", "actionable"}, []string{"viral"}},
		{"batched", func(r *haven.Report, _ *[]*haven.ReportFile, _ *[]MatchFact, _ *int) {
			r.BatchedReason = "VIRAL_POTENTIAL_MEME"
		}, INFO, []string{"batched-viral"}, []string{"actionable"}},
		{"spam", func(r *haven.Report, _ *[]*haven.ReportFile, _ *[]MatchFact, _ *int) {
			reportAnnotations(r).Spam = true
		}, INFO, []string{"spam"}, []string{"actionable"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, files := base()
			var matches []MatchFact
			linked := 0
			if tc.change != nil {
				tc.change(r, &files, &matches, &linked)
			}
			res := Evaluate(DefaultRules(), FactsOf(r, files, matches, linked))
			var applied, shown []string
			for _, reason := range res.Reasons {
				if reason.Applied {
					applied = append(applied, reason.RuleID)
				} else {
					shown = append(shown, reason.RuleID)
				}
			}
			if res.Level != tc.level || !slices.Equal(applied, tc.applied) || !slices.Equal(shown, tc.shown) {
				t.Errorf("got %s applied %v overruled %v; want %s applied %v overruled %v", res.Level, applied, shown, tc.level, tc.applied, tc.shown)
			}
		})
	}
}

// TestEscalationTextShown: the reporter's words come with the reason.
func TestEscalationTextShown(t *testing.T) {
	r, files := base()
	r.Incident.Escalate = ptr("meeting planned tonight")
	res := Evaluate(DefaultRules(), FactsOf(r, files, nil, 0))
	if res.Reasons[0].Detail != "escalateToHighPriority: meeting planned tonight" {
		t.Errorf("detail %q", res.Reasons[0].Detail)
	}
}

// TestOperators: every operator of every signal kind, on facts directly.
func TestOperators(t *testing.T) {
	f := &Facts{IncidentType: "Child Sex Trafficking", VictimAge: 12, FileAnnotations: []string{"infant"}, Escalate: true, Source: "esp"}
	for _, tc := range []struct {
		c    Condition
		want bool
	}{
		{Condition{"escalate", OpIs, "true"}, true},
		{Condition{"escalate", OpIs, "false"}, false},
		{Condition{"incident_type", OpEq, "child sex trafficking"}, true},
		{Condition{"incident_type", OpNe, "Child Sex Trafficking"}, false},
		{Condition{"source", OpEq, "esp"}, true},
		{Condition{"victim_age", OpEq, "12"}, true},
		{Condition{"victim_age", OpNe, "12"}, false},
		{Condition{"victim_age", OpLt, "12"}, false},
		{Condition{"victim_age", OpLe, "12"}, true},
		{Condition{"victim_age", OpGt, "11.5"}, true},
		{Condition{"victim_age", OpGe, "13"}, false},
		{Condition{"file_annotation", OpHas, "INFANT"}, true},
		{Condition{"file_annotation", OpHas, "viral"}, false},
	} {
		if got := f.holds(tc.c); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.c, got, tc.want)
		}
	}
}

func TestValidate(t *testing.T) {
	if err := ValidateRules(DefaultRules()); err != nil {
		t.Fatalf("the default rules: %v", err)
	}
	ok := Rule{ID: "x", Name: "X", Effect: Raise, Level: P2, Conditions: []Condition{{"escalate", OpIs, "true"}}}
	for name, change := range map[string]func(r *Rule){
		"no id":           func(r *Rule) { r.ID = "" },
		"id with space":   func(r *Rule) { r.ID = "a b" },
		"no name":         func(r *Rule) { r.Name = " " },
		"no condition":    func(r *Rule) { r.Conditions = nil },
		"unknown signal":  func(r *Rule) { r.Conditions[0].Signal = "mood" },
		"bool with =":     func(r *Rule) { r.Conditions[0].Op = OpEq },
		"bool value":      func(r *Rule) { r.Conditions[0].Value = "yes" },
		"number not":      func(r *Rule) { r.Conditions[0] = Condition{"victim_age", OpLt, "young"} },
		"set without has": func(r *Rule) { r.Conditions[0] = Condition{"file_annotation", OpEq, "infant"} },
		"text with <":     func(r *Rule) { r.Conditions[0] = Condition{"incident_type", OpLt, "x"} },
		"raise to INFO":   func(r *Rule) { r.Level = INFO },
		"unknown effect":  func(r *Rule) { r.Effect = "lower" },
	} {
		r := ok
		r.Conditions = slices.Clone(ok.Conditions)
		change(&r)
		if err := r.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if err := ValidateRules([]Rule{ok, ok}); err == nil {
		t.Error("two rules with one ID accepted")
	}
}

// BenchmarkEvaluate: computing the facts of a full report and evaluating
// the default table (target: under 1 ms).
func BenchmarkEvaluate(b *testing.B) {
	r, files := base()
	r.Incident.Escalate = ptr("urgent")
	r.Victims = []haven.Involved{{Role: haven.RoleVictim, Person: &haven.Person{DateOfBirth: "2014-06-01"}}}
	for i := range 20 {
		files = append(files, &haven.ReportFile{ID: string(rune('a' + i)), Details: &haven.FileDetails{IndustryClassification: "B2",
			Annotations: &haven.FileAnnotations{Viral: i%2 == 0}}})
	}
	matches := []MatchFact{{FileID: "a", Viral: true, Classification: haven.Classification{Scheme: "industry", Code: "A2"}}}
	rules := DefaultRules()
	for b.Loop() {
		Evaluate(rules, FactsOf(r, files, matches, 2))
	}
}

// TestRulesText: the default table survives the page's text form, and
// mistakes are reported with their line.
func TestRulesText(t *testing.T) {
	rules := DefaultRules()
	rules[0].Enabled = false
	got, err := ParseRules("# a comment\n\n" + FormatRules(rules))
	if err != nil {
		t.Fatal(err)
	}
	if FormatRules(got) != FormatRules(rules) || len(got) != len(rules) || got[0].Enabled {
		t.Errorf("round trip:\n%s\nwant\n%s", FormatRules(got), FormatRules(rules))
	}
	for text, want := range map[string]string{
		"a | b | raise P1 | on":                                                                  "line 1: write five fields",
		"a | b | lower | on | escalate is true":                                                  "line 1: the effect",
		"a | b | raise P1 | maybe | escalate is true":                                            "line 1: the fourth field",
		"\na | b | raise P1 | on | escalate":                                                     "line 2: a condition",
		"a | b | raise P1 | on | mood is true":                                                   "unknown signal",
		"a | b | raise P1 | on | escalate is true\na | c | informational | on | batched is true": "two rules are called a",
	} {
		if _, err := ParseRules(text); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", text, err, want)
		}
	}
}

// TestEverySignal: for each signal of the catalogue, a rule on it fires
// for a report that has the fact and not for the base report, with the
// fact computed from the report by FactsOf (not set by hand).
func TestEverySignal(t *testing.T) {
	cases := map[string]struct {
		cond   Condition
		change func(r *haven.Report, files *[]*haven.ReportFile, m *[]MatchFact, linked *int)
	}{
		"escalate": {Condition{"escalate", OpIs, "true"}, func(r *haven.Report, _ *[]*haven.ReportFile, _ *[]MatchFact, _ *int) {
			r.Incident.Escalate = ptr("now")
		}},
		"incident_type": {Condition{"incident_type", OpEq, string(haven.IncidentSexTrafficking)}, func(r *haven.Report, _ *[]*haven.ReportFile, _ *[]MatchFact, _ *int) {
			r.Incident.Type = haven.IncidentSexTrafficking
		}},
		"report_annotation": {Condition{"report_annotation", OpHas, "csam_solicitation"}, func(r *haven.Report, _ *[]*haven.ReportFile, _ *[]MatchFact, _ *int) {
			reportAnnotations(r).CSAMSolicitation = true
		}},
		"file_annotation": {Condition{"file_annotation", OpHas, "generative_ai"}, func(_ *haven.Report, f *[]*haven.ReportFile, _ *[]MatchFact, _ *int) {
			annotations(*f).GenerativeAI = true
		}},
		"industry_classification": {Condition{"industry_classification", OpHas, "B2"}, func(_ *haven.Report, f *[]*haven.ReportFile, _ *[]MatchFact, _ *int) {
			fileDetails(*f).IndustryClassification = "b2"
		}},
		"known_material": {Condition{"known_material", OpIs, "true"}, func(_ *haven.Report, _ *[]*haven.ReportFile, m *[]MatchFact, _ *int) {
			*m = append(*m, MatchFact{FileID: "f1"})
		}},
		"series_match": {Condition{"series_match", OpIs, "true"}, func(_ *haven.Report, _ *[]*haven.ReportFile, m *[]MatchFact, _ *int) {
			*m = append(*m, MatchFact{FileID: "f1", SeriesID: "s", SeriesIdentified: true})
		}},
		"unidentified_series": {Condition{"unidentified_series", OpIs, "true"}, func(_ *haven.Report, _ *[]*haven.ReportFile, m *[]MatchFact, _ *int) {
			*m = append(*m, MatchFact{FileID: "f1", SeriesID: "s"})
		}},
		"identified_series": {Condition{"identified_series", OpIs, "true"}, func(_ *haven.Report, _ *[]*haven.ReportFile, m *[]MatchFact, _ *int) {
			*m = append(*m, MatchFact{FileID: "f1", SeriesID: "s", SeriesIdentified: true})
		}},
		"all_files_viral": {Condition{"all_files_viral", OpIs, "true"}, func(_ *haven.Report, _ *[]*haven.ReportFile, m *[]MatchFact, _ *int) {
			*m = append(*m, MatchFact{FileID: "f1", Meme: true})
		}},
		"batched": {Condition{"batched", OpIs, "true"}, func(r *haven.Report, _ *[]*haven.ReportFile, _ *[]MatchFact, _ *int) {
			r.BatchedReason = "VIRAL_POTENTIAL_MEME"
		}},
		"hours_since_incident": {Condition{"hours_since_incident", OpLt, "2"}, func(r *haven.Report, _ *[]*haven.ReportFile, _ *[]MatchFact, _ *int) {
			r.Incident.DateTime = received.Add(-time.Hour)
		}},
		"victim_age": {Condition{"victim_age", OpEq, "9"}, func(r *haven.Report, _ *[]*haven.ReportFile, _ *[]MatchFact, _ *int) {
			r.Victims = []haven.Involved{{Role: haven.RoleVictim, Person: &haven.Person{Age: ptr(9)}}}
		}},
		"actionable_identifiers": {Condition{"actionable_identifiers", OpIs, "false"}, func(r *haven.Report, _ *[]*haven.ReportFile, _ *[]MatchFact, _ *int) { r.Reported = nil }},
		"prior_reports":          {Condition{"prior_reports", OpGe, "5"}, func(_ *haven.Report, _ *[]*haven.ReportFile, _ *[]MatchFact, linked *int) { *linked = 5 }},
		"files": {Condition{"files", OpEq, "2"}, func(_ *haven.Report, f *[]*haven.ReportFile, _ *[]MatchFact, _ *int) {
			*f = append(*f, &haven.ReportFile{ID: "f2"})
		}},
		"source": {Condition{"source", OpEq, "phone"}, func(r *haven.Report, _ *[]*haven.ReportFile, _ *[]MatchFact, _ *int) { r.Source = haven.SourcePhone }},
	}
	for _, sig := range Signals {
		tc, ok := cases[sig.Name]
		if !ok {
			t.Errorf("signal %s has no case", sig.Name)
			continue
		}
		rule := []Rule{{ID: "probe", Name: "probe", Effect: Raise, Level: P1, Enabled: true, Conditions: []Condition{tc.cond}}}
		if err := ValidateRules(rule); err != nil {
			t.Fatalf("%s: %v", sig.Name, err)
		}
		r, files := base()
		if got := Evaluate(rule, FactsOf(r, files, nil, 0)); got.Level == P1 {
			t.Errorf("%s: fired on the base report", sig.Name)
		}
		var m []MatchFact
		linked := 0
		tc.change(r, &files, &m, &linked)
		if got := Evaluate(rule, FactsOf(r, files, m, linked)); got.Level != P1 {
			t.Errorf("%s: did not fire on a report with the fact", sig.Name)
		}
	}
}
