// Package triage decides which report a hotline looks at first and keeps
// the analysts' queues: an explainable priority computed from a rule table
// that administrators can read and change (versioned, audited), analysts'
// overrides, claim/release/assignment, notes, statuses with reasons, SLA
// clocks with alerts, and the bundling of viral duplicates into incidents.
package triage

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Level is a priority level (PRODUCT.md): P1 a child may be in imminent
// danger; P2 ongoing or recent contact abuse, enticement, trafficking,
// self-produced imagery of an identifiable child; P3 distribution or
// possession with actionable identifiers; INFO informational.
type Level string

// The priority levels, most urgent first.
const (
	P1   Level = "P1"
	P2   Level = "P2"
	P3   Level = "P3"
	INFO Level = "INFO"
)

// Levels lists the levels, most urgent first.
var Levels = []Level{P1, P2, P3, INFO}

// Rank orders levels: 1 for P1 … 4 for INFO, 0 for an unknown level.
func (l Level) Rank() int { return slices.Index(Levels, l) + 1 }

// Valid reports whether l is a level.
func (l Level) Valid() bool { return l.Rank() > 0 }

// Effect is what a rule does when its conditions hold.
type Effect string

// The effects. Raise sets the priority to at least the rule's level (the
// most urgent raising rule wins). Informational lowers the report to INFO,
// but only when no rule raised it to P1 or P2: a serious signal always
// says otherwise. (A P3 rule explains the ordinary level; it does not
// keep a viral report out of INFO.)
const (
	Raise         Effect = "raise"
	Informational Effect = "informational"
	// Flag changes nothing: it shows a fact next to the priority (a file
	// of an identified victim's series, say) for the analyst to weigh.
	Flag Effect = "flag"
)

// Op compares a signal with a rule's value.
type Op string

// The operators. "is" compares a boolean signal with "true" or "false";
// "=" and "!=" compare text; "<", "<=", ">", ">=" compare numbers; "has"
// asks whether a set signal contains the value.
const (
	OpIs  Op = "is"
	OpEq  Op = "="
	OpNe  Op = "!="
	OpLt  Op = "<"
	OpLe  Op = "<="
	OpGt  Op = ">"
	OpGe  Op = ">="
	OpHas Op = "has"
)

// Condition is one test of a rule: Signal Op Value.
type Condition struct {
	Signal string `json:"signal"`
	Op     Op     `json:"op"`
	Value  string `json:"value"`
}

// String writes the condition as the rules page shows it.
func (c Condition) String() string { return c.Signal + " " + string(c.Op) + " " + c.Value }

// Rule is one row of the rule table: when every condition holds, the
// effect applies. Rules are data: administrators change them through the
// rules page; each change makes a new version of the table.
type Rule struct {
	ID          string      `json:"id"`   // short stable name, e.g. "escalation"
	Name        string      `json:"name"` // what an analyst reads next to the priority
	Conditions  []Condition `json:"conditions"`
	Effect      Effect      `json:"effect"`
	Level       Level       `json:"level,omitempty"` // for Raise
	Enabled     bool        `json:"enabled"`
	Description string      `json:"description,omitempty"`
}

// SignalKind is the type of a signal's value.
type SignalKind string

// The kinds of signals.
const (
	KindBool   SignalKind = "bool"
	KindText   SignalKind = "text"
	KindNumber SignalKind = "number"
	KindSet    SignalKind = "set"
)

// Signal describes one fact rules can test.
type Signal struct {
	Name        string
	Kind        SignalKind
	Description string
}

// Signals is the catalogue of facts a rule can test; Facts computes them.
var Signals = []Signal{
	{"escalate", KindBool, "the reporter set escalateToHighPriority (its text is shown with the reason)"},
	{"incident_type", KindText, "the incident type, as the schema string"},
	{"report_annotation", KindSet, "report annotations: sextortion, csam_solicitation, minor_to_minor, spam, sadistic_online_exploitation"},
	{"file_annotation", KindSet, "file annotations on any file: anime, potential_meme, viral, self_production, physical_harm, violence_gore, bestiality, live_streaming, infant, generative_ai"},
	{"industry_classification", KindSet, "industry classifications of the files (A1, A2, B1, B2), from the ESP or from a matched bank entry"},
	{"known_material", KindBool, "at least one file matched a positive hash-bank entry"},
	{"series_match", KindBool, "a file matched an entry linked to a series (victim identification)"},
	{"unidentified_series", KindBool, "a file matched a series whose child is not (or not fully) identified: a child who may still be abused"},
	{"identified_series", KindBool, "a file matched a series whose victims are all identified"},
	{"all_files_viral", KindBool, "the report has files and every one matched a viral or potential-meme entry"},
	{"batched", KindBool, "the report is a batched report (many otherwise individual reports)"},
	{"hours_since_incident", KindNumber, "hours between the incident and the report's arrival (unknown: a very large number)"},
	{"victim_age", KindNumber, "the youngest known victim age in years (unknown: -1)"},
	{"actionable_identifiers", KindBool, "the reported person has an identifier police can act on: IP address, email, phone, screen name, ESP user ID or address"},
	{"prior_reports", KindNumber, "other reports linked by a shared identifier, plus prior CyberTipline reports the ESP cited"},
	{"files", KindNumber, "the number of files"},
	{"source", KindText, "how the report arrived: esp, api, public, phone"},
}

func signal(name string) (Signal, bool) {
	for _, s := range Signals {
		if s.Name == name {
			return s, true
		}
	}
	return Signal{}, false
}

// Validate checks a rule against the signal catalogue.
func (r *Rule) Validate() error {
	r.ID, r.Name = strings.TrimSpace(r.ID), strings.TrimSpace(r.Name)
	if r.ID == "" || len(r.ID) > 64 || strings.ContainsAny(r.ID, " \t\n") {
		return fmt.Errorf("a rule needs a short identifier without spaces")
	}
	if r.Name == "" || len(r.Name) > 200 {
		return fmt.Errorf("rule %s: the name explains the rule to analysts: give one of at most 200 characters", r.ID)
	}
	if len(r.Conditions) == 0 {
		return fmt.Errorf("rule %s: give at least one condition", r.ID)
	}
	switch r.Effect {
	case Raise:
		if !r.Level.Valid() || r.Level == INFO {
			return fmt.Errorf("rule %s: a raising rule sets P1, P2 or P3", r.ID)
		}
	case Informational:
		r.Level = INFO
	case Flag:
		r.Level = ""
	default:
		return fmt.Errorf("rule %s: the effect is %q, %q or %q", r.ID, Raise, Informational, Flag)
	}
	for _, c := range r.Conditions {
		s, ok := signal(c.Signal)
		if !ok {
			return fmt.Errorf("rule %s: unknown signal %q", r.ID, c.Signal)
		}
		switch s.Kind {
		case KindBool:
			if c.Op != OpIs || (c.Value != "true" && c.Value != "false") {
				return fmt.Errorf("rule %s: %s is true or false: write \"%s is true\"", r.ID, c.Signal, c.Signal)
			}
		case KindText:
			if c.Op != OpEq && c.Op != OpNe {
				return fmt.Errorf("rule %s: compare %s with = or !=", r.ID, c.Signal)
			}
		case KindNumber:
			if !slices.Contains([]Op{OpEq, OpNe, OpLt, OpLe, OpGt, OpGe}, c.Op) {
				return fmt.Errorf("rule %s: compare %s with =, !=, <, <=, > or >=", r.ID, c.Signal)
			}
			if _, err := strconv.ParseFloat(c.Value, 64); err != nil {
				return fmt.Errorf("rule %s: %s is a number", r.ID, c.Signal)
			}
		case KindSet:
			if c.Op != OpHas || c.Value == "" {
				return fmt.Errorf("rule %s: write \"%s has <value>\"", r.ID, c.Signal)
			}
		}
	}
	return nil
}

// ValidateRules checks a whole table: each rule, and unique identifiers.
func ValidateRules(rules []Rule) error {
	seen := map[string]bool{}
	for i := range rules {
		if err := rules[i].Validate(); err != nil {
			return err
		}
		if seen[rules[i].ID] {
			return fmt.Errorf("two rules are called %s", rules[i].ID)
		}
		seen[rules[i].ID] = true
	}
	return nil
}

// Facts are the signals of one report, as Evaluate reads them.
type Facts struct {
	Escalate              bool
	EscalateText          string
	IncidentType          string
	ReportAnnotations     []string
	FileAnnotations       []string
	Classifications       []string
	KnownMaterial         bool
	SeriesMatch           bool
	UnidentifiedSeries    bool
	IdentifiedSeries      bool
	AllFilesViral         bool
	Batched               bool
	HoursSinceIncident    float64
	VictimAge             int // -1 when unknown
	ActionableIdentifiers bool
	PriorReports          int
	Files                 int
	Source                string
}

func (f *Facts) value(name string) (b bool, text string, num float64, set []string) {
	switch name {
	case "escalate":
		b = f.Escalate
	case "incident_type":
		text = f.IncidentType
	case "report_annotation":
		set = f.ReportAnnotations
	case "file_annotation":
		set = f.FileAnnotations
	case "industry_classification":
		set = f.Classifications
	case "known_material":
		b = f.KnownMaterial
	case "series_match":
		b = f.SeriesMatch
	case "unidentified_series":
		b = f.UnidentifiedSeries
	case "identified_series":
		b = f.IdentifiedSeries
	case "all_files_viral":
		b = f.AllFilesViral
	case "batched":
		b = f.Batched
	case "hours_since_incident":
		num = f.HoursSinceIncident
	case "victim_age":
		num = float64(f.VictimAge)
	case "actionable_identifiers":
		b = f.ActionableIdentifiers
	case "prior_reports":
		num = float64(f.PriorReports)
	case "files":
		num = float64(f.Files)
	case "source":
		text = f.Source
	}
	return
}

// holds reports whether the facts satisfy a condition. Conditions were
// validated, so parse errors cannot happen here.
func (f *Facts) holds(c Condition) bool {
	s, _ := signal(c.Signal)
	b, text, num, set := f.value(c.Signal)
	switch s.Kind {
	case KindBool:
		return b == (c.Value == "true")
	case KindText:
		eq := strings.EqualFold(text, c.Value)
		return eq == (c.Op == OpEq)
	case KindNumber:
		v, _ := strconv.ParseFloat(c.Value, 64)
		switch c.Op {
		case OpEq:
			return num == v
		case OpNe:
			return num != v
		case OpLt:
			return num < v
		case OpLe:
			return num <= v
		case OpGt:
			return num > v
		case OpGe:
			return num >= v
		}
	case KindSet:
		return slices.ContainsFunc(set, func(x string) bool { return strings.EqualFold(x, c.Value) })
	}
	return false
}

// Reason is a rule that fired, as shown next to the priority.
type Reason struct {
	RuleID string `json:"rule"`
	Name   string `json:"name"`
	Effect Effect `json:"effect"`
	Level  Level  `json:"level"`
	// Detail adds what the report said, e.g. the escalation text.
	Detail string `json:"detail,omitempty"`
	// Applied is false for an informational rule that a raising rule
	// overruled: it is shown, struck through, so the decision is clear.
	Applied bool `json:"applied"`
}

// Result is a computed priority and the rules that produced it.
type Result struct {
	Level   Level
	Reasons []Reason
}

// DefaultLevel is the priority of a report no rule speaks about: it has
// arrived, someone must look.
const DefaultLevel = P3

// Evaluate applies the enabled rules to the facts.
func Evaluate(rules []Rule, f *Facts) Result {
	res := Result{Level: DefaultLevel}
	raised := false
	for _, r := range rules {
		if !r.Enabled || len(r.Conditions) == 0 {
			continue
		}
		all := true
		for _, c := range r.Conditions {
			if !f.holds(c) {
				all = false
				break
			}
		}
		if !all {
			continue
		}
		reason := Reason{RuleID: r.ID, Name: r.Name, Effect: r.Effect, Level: r.Level, Applied: true}
		if slices.ContainsFunc(r.Conditions, func(c Condition) bool { return c.Signal == "escalate" }) && f.EscalateText != "" {
			reason.Detail = "escalateToHighPriority: " + f.EscalateText
		}
		if r.Effect == Raise {
			if !raised || r.Level.Rank() < res.Level.Rank() {
				res.Level = r.Level
			}
			raised = true
		}
		res.Reasons = append(res.Reasons, reason)
	}
	serious := raised && res.Level.Rank() <= P2.Rank()
	informational := false
	for i := range res.Reasons {
		r := &res.Reasons[i]
		switch {
		case r.Effect == Informational && serious:
			r.Applied = false
		case r.Effect == Informational:
			informational = true
		}
	}
	if informational {
		res.Level = INFO
		for i := range res.Reasons {
			if res.Reasons[i].Effect == Raise {
				res.Reasons[i].Applied = false // a P3 rule, overruled
			}
		}
	}
	if len(res.Reasons) == 0 {
		res.Reasons = []Reason{{RuleID: "default", Name: "No rule applies: every report is reviewed", Level: DefaultLevel, Applied: true}}
	}
	return res
}

// DefaultRules is the rule table a new installation starts with (version
// 1). It follows PRODUCT.md's definitions of the levels.
func DefaultRules() []Rule {
	c := func(signal string, op Op, value string) Condition {
		return Condition{Signal: signal, Op: op, Value: value}
	}
	return []Rule{
		{ID: "escalation", Name: "The reporter asked for urgent handling", Effect: Raise, Level: P1, Enabled: true,
			Conditions: []Condition{c("escalate", OpIs, "true")}},
		{ID: "live-streaming", Name: "Live-streamed abuse: a child may be harmed now", Effect: Raise, Level: P1, Enabled: true,
			Conditions: []Condition{c("file_annotation", OpHas, "live_streaming")}},
		{ID: "physical-harm", Name: "Physical harm shown", Effect: Raise, Level: P1, Enabled: true,
			Conditions: []Condition{c("file_annotation", OpHas, "physical_harm")}},
		{ID: "infant", Name: "An infant or toddler is shown", Effect: Raise, Level: P1, Enabled: true,
			Conditions: []Condition{c("file_annotation", OpHas, "infant")}},
		{ID: "sadistic", Name: "Sadistic online exploitation", Effect: Raise, Level: P1, Enabled: true,
			Conditions: []Condition{c("report_annotation", OpHas, "sadistic_online_exploitation")}},
		{ID: "sextortion", Name: "Sextortion: a child is being coerced", Effect: Raise, Level: P1, Enabled: true,
			Conditions: []Condition{c("report_annotation", OpHas, "sextortion")}},
		{ID: "recent-enticement", Name: "Enticement within the last 72 hours", Effect: Raise, Level: P1, Enabled: true,
			Conditions: []Condition{c("incident_type", OpEq, "Online Enticement of Children for Sexual Acts"), c("hours_since_incident", OpLe, "72")}},
		{ID: "enticement", Name: "Online enticement of a child", Effect: Raise, Level: P2, Enabled: true,
			Conditions: []Condition{c("incident_type", OpEq, "Online Enticement of Children for Sexual Acts")}},
		{ID: "trafficking", Name: "Child sex trafficking", Effect: Raise, Level: P2, Enabled: true,
			Conditions: []Condition{c("incident_type", OpEq, "Child Sex Trafficking")}},
		{ID: "molestation", Name: "Contact abuse reported", Effect: Raise, Level: P2, Enabled: true,
			Conditions: []Condition{c("incident_type", OpEq, "Child Sexual Molestation")}},
		{ID: "self-production", Name: "Possibly self-produced imagery of a child", Effect: Raise, Level: P2, Enabled: true,
			Conditions: []Condition{c("file_annotation", OpHas, "self_production")}},
		{ID: "minor-to-minor", Name: "Minor-to-minor interaction", Effect: Raise, Level: P2, Enabled: true,
			Conditions: []Condition{c("report_annotation", OpHas, "minor_to_minor")}},
		{ID: "young-victim", Name: "A victim under 13 is known", Effect: Raise, Level: P2, Enabled: true,
			Conditions: []Condition{c("victim_age", OpGe, "0"), c("victim_age", OpLt, "13")}},
		{ID: "unidentified-series", Name: "A file matches the series of a child not yet identified", Effect: Raise, Level: P2, Enabled: true,
			Conditions: []Condition{c("unidentified_series", OpIs, "true")}},
		{ID: "identified-series", Name: "A file matches the series of an identified victim", Effect: Flag, Enabled: true,
			Conditions: []Condition{c("identified_series", OpIs, "true")}},
		{ID: "repeat-subject", Name: "The same identifiers appear in 3 or more other reports", Effect: Raise, Level: P2, Enabled: true,
			Conditions: []Condition{c("prior_reports", OpGe, "3"), c("actionable_identifiers", OpIs, "true")}},
		{ID: "prepubescent-recent", Name: "Prepubescent sex-act imagery uploaded within 30 days, with identifiers", Effect: Raise, Level: P2, Enabled: true,
			Conditions: []Condition{c("industry_classification", OpHas, "A1"), c("hours_since_incident", OpLe, "720"), c("actionable_identifiers", OpIs, "true")}},
		{ID: "actionable", Name: "Distribution or possession with identifiers police can act on", Effect: Raise, Level: P3, Enabled: true,
			Conditions: []Condition{c("actionable_identifiers", OpIs, "true")}},
		{ID: "viral", Name: "Every file is known viral or meme material", Effect: Informational, Enabled: true,
			Conditions: []Condition{c("all_files_viral", OpIs, "true")}},
		{ID: "batched-viral", Name: "A batched report of viral material", Effect: Informational, Enabled: true,
			Conditions: []Condition{c("batched", OpIs, "true")}},
		{ID: "no-identifiers", Name: "No identifier police could act on", Effect: Informational, Enabled: true,
			Conditions: []Condition{c("actionable_identifiers", OpIs, "false"), c("escalate", OpIs, "false")}},
		{ID: "spam", Name: "The ESP marked the report as spam", Effect: Informational, Enabled: true,
			Conditions: []Condition{c("report_annotation", OpHas, "spam")}},
	}
}
