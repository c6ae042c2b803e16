package referral

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/language"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/audit"
	"github.com/haven-hotline/haven/internal/store"
)

// Options adjust the service.
type Options struct {
	// AfterRefer, when set, runs inside the transaction of every referral
	// that refers a report to at least one new agency (for example to
	// set the report's queue status). An error rolls the referral back.
	AfterRefer func(ctx context.Context, tx *store.Tx, a haven.Actor, reportID int64) error
}

// Service is the referral service.
type Service struct {
	store *store.Store
	audit *audit.Log
	clock haven.Clock
	log   *slog.Logger
	opts  Options
}

// New returns the service.
func New(s *store.Store, log *audit.Log, clock haven.Clock, logger *slog.Logger, opts Options) *Service {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Service{store: s, audit: log, clock: clock, log: logger, opts: opts}
}

// SetAfterRefer sets Options.AfterRefer, for wiring done after New.
func (s *Service) SetAfterRefer(fn func(ctx context.Context, tx *store.Tx, a haven.Actor, reportID int64) error) {
	s.opts.AfterRefer = fn
}

func (s *Service) require(a haven.Actor, p haven.Permission) error {
	return a.Require(p, s.clock.Now(), haven.ReauthWindow)
}

func reportRef(id int64) string { return strconv.FormatInt(id, 10) }

// deny records a refused action in a transaction of its own (the action's
// rolled back or never began) and returns err.
func (s *Service) deny(ctx context.Context, a haven.Actor, typ string, reportID int64, err error) error {
	werr := s.store.InTx(ctx, func(tx *store.Tx) error {
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: typ, ObjectType: "report", ObjectID: reportRef(reportID),
			Outcome: haven.OutcomeDenied, Details: map[string]string{"reason": haven.ErrorKind(err).String()}})
	})
	if werr != nil {
		return fmt.Errorf("record denial: %w", werr)
	}
	return err
}

// text limits of what people type.
const (
	maxNote    = 5000
	maxMessage = 10000
	maxLabel   = 200
)

// cleanText trims s and checks its length.
func cleanText(field, s string, max int, required bool, what string) (string, error) {
	s = strings.TrimSpace(s)
	if required && s == "" {
		return "", haven.Invalidf(field, "write %s", what)
	}
	if utf8.RuneCountInString(s) > max {
		return "", haven.Invalidf(field, "the text is longer than %d characters", max)
	}
	if !utf8.ValidString(s) {
		return "", haven.Invalidf(field, "the text is not valid UTF-8")
	}
	return s, nil
}

// ParseCountry checks and normalises an ISO 3166-1 alpha-2 country code
// ("us" → "US").
func ParseCountry(s string) (string, error) {
	c := strings.ToUpper(strings.TrimSpace(s))
	if len(c) != 2 || c[0] < 'A' || c[0] > 'Z' || c[1] < 'A' || c[1] > 'Z' {
		return "", haven.Invalidf("country", "give the country as its two-letter ISO 3166 code, such as US or FR")
	}
	r, err := language.ParseRegion(c)
	if err != nil || !r.IsCountry() || r.String() != c {
		return "", haven.Invalidf("country", "%s is not an ISO 3166 country code", c)
	}
	return c, nil
}

// ParseRegion checks and normalises an ISO 3166-2 subdivision code of a
// country: "US-CA", or "CA" which is read as a subdivision of country.
// An empty region stays empty.
func ParseRegion(country, s string) (string, error) {
	r := strings.ToUpper(strings.TrimSpace(s))
	if r == "" {
		return "", nil
	}
	if !strings.Contains(r, "-") {
		r = country + "-" + r
	}
	prefix, code, _ := strings.Cut(r, "-")
	if prefix != country {
		return "", haven.Invalidf("region", "the region %s is not in the country %s", r, country)
	}
	if len(code) < 1 || len(code) > 3 || strings.IndexFunc(code, func(c rune) bool {
		return (c < 'A' || c > 'Z') && (c < '0' || c > '9')
	}) >= 0 {
		return "", haven.Invalidf("region", "give the region as its ISO 3166-2 code, such as US-CA")
	}
	return r, nil
}

// ParsePlace normalises a country and region pair; both may be empty
// (an unknown place).
func ParsePlace(country, region string) (string, string, error) {
	if strings.TrimSpace(country) == "" {
		if strings.TrimSpace(region) != "" {
			c, _, _ := strings.Cut(strings.TrimSpace(region), "-")
			country = c
		} else {
			return "", "", nil
		}
	}
	c, err := ParseCountry(country)
	if err != nil {
		return "", "", err
	}
	r, err := ParseRegion(c, region)
	if err != nil {
		return "", "", err
	}
	return c, r, nil
}

// ParseAreas reads a list of areas as an administrator types it: codes
// separated by spaces, commas or new lines, each a country ("FR") or a
// subdivision ("US-CA"). Duplicates are dropped.
func ParseAreas(text string) ([]store.AgencyArea, error) {
	var out []store.AgencyArea
	seen := map[store.AgencyArea]bool{}
	for _, tok := range strings.FieldsFunc(text, func(r rune) bool {
		return r == ',' || r == ';' || r == ' ' || r == '\n' || r == '\r' || r == '\t'
	}) {
		country, _, _ := strings.Cut(tok, "-")
		region := ""
		if strings.Contains(tok, "-") {
			region = tok
		}
		c, r, err := ParsePlace(country, region)
		if err != nil {
			return nil, haven.Invalidf("areas", "%s", haven.ErrorMessage(err))
		}
		a := store.AgencyArea{Country: c, Region: r}
		if !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	if len(out) > 500 {
		return nil, haven.Invalidf("areas", "an agency may cover at most 500 areas")
	}
	return out, nil
}

// FormatArea writes an area as its code: "US" or "US-CA".
func FormatArea(a store.AgencyArea) string {
	if a.Region != "" {
		return a.Region
	}
	return a.Country
}

// SetAreas replaces the areas an agency covers.
func (s *Service) SetAreas(ctx context.Context, a haven.Actor, agencyID string, areas []store.AgencyArea) error {
	if err := s.require(a, haven.PermJurisdiction); err != nil {
		return err
	}
	clean := make([]store.AgencyArea, 0, len(areas))
	var codes []string
	for _, ar := range areas {
		c, r, err := ParsePlace(ar.Country, ar.Region)
		if err != nil {
			return haven.Invalidf("areas", "%s", haven.ErrorMessage(err))
		}
		if c == "" {
			return haven.Invalidf("areas", "each area needs a country")
		}
		x := store.AgencyArea{AgencyID: agencyID, Country: c, Region: r}
		if !slices.Contains(clean, x) {
			clean = append(clean, x)
			codes = append(codes, FormatArea(x))
		}
	}
	return s.store.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Agency(ctx, agencyID); err != nil {
			if haven.IsKind(err, haven.KindNotFound) {
				return haven.Invalidf("agency", "no such agency")
			}
			return err
		}
		if err := tx.SetAgencyAreas(ctx, agencyID, clean); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "agency.areas", ObjectType: "agency", ObjectID: agencyID,
			Details: map[string]string{"areas": strings.Join(codes, " ")}})
	})
}

// Areas lists the areas an agency covers.
func (s *Service) Areas(ctx context.Context, a haven.Actor, agencyID string) ([]store.AgencyArea, error) {
	if err := s.require(a, haven.PermViewAgencies); err != nil {
		return nil, err
	}
	var out []store.AgencyArea
	err := s.store.View(ctx, func(tx *store.Tx) (err error) {
		out, err = tx.AgencyAreas(ctx, agencyID)
		return err
	})
	return out, err
}

// AgencyAreas is an agency with the areas it covers.
type AgencyAreas struct {
	Agency *haven.Agency
	Areas  []store.AgencyArea
}

// Codes returns the areas as codes separated by spaces.
func (x AgencyAreas) Codes() string {
	codes := make([]string, len(x.Areas))
	for i, a := range x.Areas {
		codes[i] = FormatArea(a)
	}
	return strings.Join(codes, " ")
}

// Directory lists every agency with its areas, by agency name.
func (s *Service) Directory(ctx context.Context, a haven.Actor) ([]AgencyAreas, error) {
	if err := s.require(a, haven.PermViewAgencies); err != nil {
		return nil, err
	}
	var out []AgencyAreas
	err := s.store.View(ctx, func(tx *store.Tx) error {
		ags, err := tx.Agencies(ctx)
		if err != nil {
			return err
		}
		areas, err := tx.AllAgencyAreas(ctx)
		if err != nil {
			return err
		}
		by := map[string][]store.AgencyArea{}
		for _, ar := range areas {
			by[ar.AgencyID] = append(by[ar.AgencyID], ar)
		}
		for _, ag := range ags {
			out = append(out, AgencyAreas{Agency: ag, Areas: by[ag.ID]})
		}
		return nil
	})
	return out, err
}

// Rules lists the jurisdiction rules in the order they apply.
func (s *Service) Rules(ctx context.Context, a haven.Actor) ([]*store.JurisdictionRule, error) {
	if err := s.require(a, haven.PermViewAgencies); err != nil {
		return nil, err
	}
	var out []*store.JurisdictionRule
	err := s.store.View(ctx, func(tx *store.Tx) (err error) {
		out, err = tx.JurisdictionRules(ctx)
		return err
	})
	return out, err
}

// validateRule checks and normalises a rule before it is stored.
func validateRule(r *store.JurisdictionRule) error {
	var err error
	if r.Label, err = cleanText("label", r.Label, maxLabel, false, ""); err != nil {
		return err
	}
	if r.Country, r.Region, err = ParsePlace(r.Country, r.Region); err != nil {
		return err
	}
	r.AgencyID = strings.TrimSpace(r.AgencyID)
	switch {
	case r.AgencyID != "" && r.AgencyKind != "":
		return haven.Invalidf("agency", "choose either one agency or a kind of agency, not both")
	case r.AgencyID == "" && r.AgencyKind == "":
		return haven.Invalidf("agency", "choose the agency, or the kind of agency covering the place, that the rule suggests")
	case r.AgencyKind != "" && !slices.Contains(haven.AgencyKinds, r.AgencyKind):
		return haven.Invalidf("kind", "unknown agency kind %q", r.AgencyKind)
	}
	return nil
}

// AddRule adds a jurisdiction rule after the existing ones.
func (s *Service) AddRule(ctx context.Context, a haven.Actor, in store.JurisdictionRule) (*store.JurisdictionRule, error) {
	if err := s.require(a, haven.PermJurisdiction); err != nil {
		return nil, err
	}
	r := in
	if err := validateRule(&r); err != nil {
		return nil, err
	}
	r.ID, r.CreatedBy, r.CreatedAt = haven.NewID(), a.UserID, s.clock.Now()
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		if r.AgencyID != "" {
			if _, err := tx.Agency(ctx, r.AgencyID); err != nil {
				if haven.IsKind(err, haven.KindNotFound) {
					return haven.Invalidf("agency", "no such agency")
				}
				return err
			}
		}
		rules, err := tx.JurisdictionRules(ctx)
		if err != nil {
			return err
		}
		r.Position = 10
		if len(rules) > 0 {
			r.Position = rules[len(rules)-1].Position + 10
		}
		if err := tx.CreateJurisdictionRule(ctx, &r); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "jurisdiction.rule_add", ObjectType: "jurisdiction_rule", ObjectID: r.ID,
			Details: map[string]string{"country": r.Country, "region": r.Region, "kind": string(r.AgencyKind),
				"agency": r.AgencyID, "fallback": strconv.FormatBool(r.Fallback)}})
	})
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// MoveRule moves a rule one place earlier (delta < 0) or later (delta > 0)
// in the order.
func (s *Service) MoveRule(ctx context.Context, a haven.Actor, id string, delta int) error {
	if err := s.require(a, haven.PermJurisdiction); err != nil {
		return err
	}
	return s.store.InTx(ctx, func(tx *store.Tx) error {
		rules, err := tx.JurisdictionRules(ctx)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(rules, func(r *store.JurisdictionRule) bool { return r.ID == id })
		if i < 0 {
			return haven.ErrNotFound
		}
		j := min(max(i+delta, 0), len(rules)-1)
		if i == j {
			return nil
		}
		r := rules[i]
		rules = slices.Delete(rules, i, i+1)
		rules = slices.Insert(rules, j, r)
		for k, r := range rules {
			if r.Position != (k+1)*10 {
				if err := tx.SetJurisdictionRulePosition(ctx, r.ID, (k+1)*10); err != nil {
					return err
				}
			}
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "jurisdiction.rule_move", ObjectType: "jurisdiction_rule", ObjectID: id,
			Details: map[string]string{"from": strconv.Itoa(i + 1), "to": strconv.Itoa(j + 1)}})
	})
}

// DeleteRule removes a rule.
func (s *Service) DeleteRule(ctx context.Context, a haven.Actor, id string) error {
	if err := s.require(a, haven.PermJurisdiction); err != nil {
		return err
	}
	return s.store.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.DeleteJurisdictionRule(ctx, id); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "jurisdiction.rule_delete", ObjectType: "jurisdiction_rule", ObjectID: id})
	})
}

// Suggestion is an agency the jurisdiction rules suggest for a place, with
// the rule that chose it and why.
type Suggestion struct {
	Agency *haven.Agency
	Rule   *store.JurisdictionRule
	// RuleNumber is the rule's place in the order, from 1.
	RuleNumber int
	// Area is the covering area, for rules that choose by kind.
	Area   *store.AgencyArea
	Reason string
}

// Suggest returns the agencies the jurisdiction rules suggest for a place
// (country and region may be empty when unknown), in order, each once,
// with the rule that chose it.
func (s *Service) Suggest(ctx context.Context, a haven.Actor, country, region string) ([]Suggestion, error) {
	if err := s.require(a, haven.PermViewAgencies); err != nil {
		return nil, err
	}
	country, region, err := ParsePlace(country, region)
	if err != nil {
		return nil, err
	}
	var out []Suggestion
	err = s.store.View(ctx, func(tx *store.Tx) (err error) {
		out, err = suggestTx(ctx, tx, country, region)
		return err
	})
	return out, err
}

func suggestTx(ctx context.Context, tx *store.Tx, country, region string) ([]Suggestion, error) {
	rules, err := tx.JurisdictionRules(ctx)
	if err != nil {
		return nil, err
	}
	var covering []store.AgencyArea
	if country != "" {
		if covering, err = tx.AreasCovering(ctx, country, region); err != nil {
			return nil, err
		}
	}
	ags, err := tx.Agencies(ctx)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]*haven.Agency, len(ags))
	for _, ag := range ags {
		byID[ag.ID] = ag
	}
	return suggest(rules, covering, byID, country, region), nil
}

// ruleApplies reports whether a rule's place matches the report's.
func ruleApplies(r *store.JurisdictionRule, country, region string) bool {
	if r.Country != "" && r.Country != country {
		return false
	}
	return r.Region == "" || r.Region == region
}

// suggest applies the rules in order. covering lists the areas that cover
// the place, region-level ones first.
func suggest(rules []*store.JurisdictionRule, covering []store.AgencyArea, agencies map[string]*haven.Agency, country, region string) []Suggestion {
	var out []Suggestion
	chosen := map[string]bool{}
	for i, r := range rules {
		if !ruleApplies(r, country, region) || (r.Fallback && len(out) > 0) {
			continue
		}
		add := func(ag *haven.Agency, area *store.AgencyArea, reason string) {
			if ag == nil || chosen[ag.ID] {
				return
			}
			chosen[ag.ID] = true
			out = append(out, Suggestion{Agency: ag, Rule: r, RuleNumber: i + 1, Area: area, Reason: reason})
		}
		name := r.Label
		if name == "" {
			name = "rule " + strconv.Itoa(i+1)
		}
		if r.AgencyID != "" {
			why := "named by rule " + strconv.Itoa(i+1)
			if r.Fallback {
				why = "no earlier rule chose an agency: fallback rule " + strconv.Itoa(i+1)
			}
			add(agencies[r.AgencyID], nil, fmt.Sprintf("%s (%s)", name, why))
			continue
		}
		for k := range covering {
			ar := covering[k]
			ag := agencies[ar.AgencyID]
			if ag == nil || ag.Kind != r.AgencyKind {
				continue
			}
			add(ag, &ar, fmt.Sprintf("%s (%s agency covering %s, rule %d)", name, r.AgencyKind, FormatArea(ar), i+1))
		}
	}
	return out
}
