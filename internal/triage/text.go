package triage

import (
	"fmt"
	"strings"
)

// FormatRules writes a rule table in the text form the rules page edits:
// one rule per line, five fields separated by " | ":
//
//	id | name | effect | on/off | condition; condition; …
//
// where effect is "raise P1" (P2, P3), "informational" or "flag", and a condition
// is "signal op value", e.g. "victim_age < 13" or "file_annotation has
// infant". Lines starting with # are comments.
func FormatRules(rules []Rule) string {
	var b strings.Builder
	for _, r := range rules {
		effect := string(r.Effect)
		if r.Effect == Raise {
			effect += " " + string(r.Level)
		}
		state := "on"
		if !r.Enabled {
			state = "off"
		}
		conds := make([]string, len(r.Conditions))
		for i, c := range r.Conditions {
			conds[i] = c.String()
		}
		fmt.Fprintf(&b, "%s | %s | %s | %s | %s\n", r.ID, r.Name, effect, state, strings.Join(conds, "; "))
	}
	return b.String()
}

// ParseRules reads the text form of FormatRules and validates the table.
// Errors name the line.
func ParseRules(text string) ([]Rule, error) {
	var rules []Rule
	for n, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fail := func(format string, args ...any) error {
			return fmt.Errorf("line %d: %s", n+1, fmt.Sprintf(format, args...))
		}
		f := strings.Split(line, "|")
		if len(f) != 5 {
			return nil, fail("write five fields separated by |: id | name | effect | on or off | conditions")
		}
		for i := range f {
			f[i] = strings.TrimSpace(f[i])
		}
		r := Rule{ID: f[0], Name: f[1]}
		switch eff := strings.Fields(f[2]); {
		case len(eff) == 2 && eff[0] == string(Raise):
			r.Effect, r.Level = Raise, Level(strings.ToUpper(eff[1]))
		case len(eff) == 1 && eff[0] == string(Informational):
			r.Effect = Informational
		case len(eff) == 1 && eff[0] == string(Flag):
			r.Effect = Flag
		default:
			return nil, fail("the effect is \"raise P1\", \"raise P2\", \"raise P3\", \"informational\" or \"flag\"")
		}
		switch f[3] {
		case "on":
			r.Enabled = true
		case "off":
		default:
			return nil, fail("the fourth field is on or off")
		}
		for _, c := range strings.Split(f[4], ";") {
			c = strings.TrimSpace(c)
			if c == "" {
				continue
			}
			parts := strings.Fields(c)
			if len(parts) < 3 {
				return nil, fail("a condition is \"signal op value\", e.g. \"victim_age < 13\"")
			}
			r.Conditions = append(r.Conditions, Condition{Signal: parts[0], Op: Op(parts[1]), Value: strings.Join(parts[2:], " ")})
		}
		if err := r.Validate(); err != nil {
			return nil, fail("%s", err.Error())
		}
		rules = append(rules, r)
	}
	if err := ValidateRules(rules); err != nil {
		return nil, err
	}
	return rules, nil
}
