package support

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/haven-hotline/haven/internal/store"
)

// Case types a family or a volunteer lived.
const (
	CaseMissing           = "missing"
	CaseRecovered         = "recovered"
	CaseSexuallyExploited = "sexually_exploited"
)

// CaseTypes lists the case types in display order.
var CaseTypes = []string{CaseMissing, CaseRecovered, CaseSexuallyExploited}

// Relations of a volunteer to the child.
var Relations = []string{"parent", "sibling", "extended_family"}

// Availability slots of volunteers and families' preferences.
var Availability = []string{"weekday_daytime", "weekday_evening", "weekend"}

// Needs a family may name.
var Needs = []string{"emotional_support", "law_enforcement_navigation", "media", "reunification", "court", "self_care"}

// Reason keys: each names one rule of the score. Proposal.Reasons holds
// their texts, Proposal.Keys the keys.
const (
	ReasonSameExperience    = "same_experience"
	ReasonRelatedExperience = "related_experience"
	ReasonLanguage          = "language"
	ReasonSameTimeZone      = "same_time_zone"
	ReasonNearTimeZone      = "near_time_zone"
	ReasonSameRegion        = "same_region"
	ReasonRelation          = "preferred_relation"
	ReasonAvailability      = "availability"
	ReasonCapacity          = "capacity"
)

// Exclusion keys: why a volunteer was not proposed.
const (
	ExcludedInactive   = "inactive"
	ExcludedUntrained  = "untrained"
	ExcludedPaused     = "paused"
	ExcludedFull       = "at_capacity"
	ExcludedLanguage   = "language"
	ExcludedExperience = "experience"
	ExcludedRecent     = "recent_experience"
	ExcludedPrevious   = "previous_volunteer"
)

// Rules is the matching policy as data: which lived experiences may
// support which families, the weight of each reason and the hard limits.
// DefaultRules is the policy in force; docs/decisions/0016 explains it.
type Rules struct {
	// Experience maps a family's case type to the volunteer experiences
	// accepted for it; the first is the same experience, the others are
	// related. A volunteer with none of them is never proposed.
	Experience map[string][]string
	// Weights are the points of each reason.
	Weights map[string]int
	// CapacityPointsMax caps the capacity reason: Weights[capacity] points
	// per free place, up to this many places.
	CapacityPointsMax int
	// NearTimeZoneHours is how far apart (in hours of UTC offset) time
	// zones may be to count as near.
	NearTimeZoneHours int
	// MinYearsSince is how long ago a volunteer's own case must be, for
	// their wellbeing: volunteers with a more recent experience are not
	// proposed.
	MinYearsSince int
	// Limit is how many proposals to return (0: all).
	Limit int
}

// DefaultRules returns the matching policy in force.
func DefaultRules() Rules {
	return Rules{
		Experience: map[string][]string{
			// A family whose child is missing is best supported by someone
			// who lived the same; a parent whose child came home went
			// through the search too.
			CaseMissing:   {CaseMissing, CaseRecovered},
			CaseRecovered: {CaseRecovered, CaseMissing},
			// Sexual exploitation is only ever matched with the same lived
			// experience.
			CaseSexuallyExploited: {CaseSexuallyExploited},
		},
		Weights: map[string]int{
			ReasonSameExperience:    40,
			ReasonRelatedExperience: 20,
			ReasonLanguage:          20,
			ReasonSameTimeZone:      15,
			ReasonNearTimeZone:      8,
			ReasonSameRegion:        10,
			ReasonRelation:          10,
			ReasonAvailability:      10,
			ReasonCapacity:          2,
		},
		CapacityPointsMax: 3,
		NearTimeZoneHours: 3,
		MinYearsSince:     1,
		Limit:             10,
	}
}

// Family is what matching needs to know of a family's request.
type Family struct {
	CaseType           string
	Language           string
	Region             string
	TimeZone           string
	PreferRelation     string
	PreferAvailability []string
	// Exclude are volunteers the family asked not to have again.
	Exclude []string
}

// FamilyOf returns the matching view of a support request.
func FamilyOf(r *store.SupportRequest, exclude []string) Family {
	return Family{CaseType: r.CaseType, Language: r.Language, Region: r.Region, TimeZone: r.TimeZone,
		PreferRelation: r.PreferRelation, PreferAvailability: r.PreferAvailability, Exclude: exclude}
}

// Proposal is a volunteer proposed for a family, with the score and the
// reasons that make it up.
type Proposal struct {
	Volunteer *store.Volunteer
	Score     int
	Keys      []string // reason keys, in rule order
	Reasons   []string // the reasons in words
	Free      int      // free places
}

// Result is the outcome of matching: the proposals, best first, and how
// many volunteers each hard rule left out.
type Result struct {
	Proposals  []Proposal
	Considered int
	Excluded   map[string]int
}

// PausedAt reports whether one of the volunteer's pauses covers t.
func PausedAt(v *store.Volunteer, t time.Time) bool {
	for _, p := range v.Pauses {
		if !t.Before(p.From) && (p.To.IsZero() || t.Before(p.To)) {
			return true
		}
	}
	return false
}

// offsets caches UTC offsets of time-zone names for one matching run.
type offsets struct {
	at time.Time
	m  map[string]int
}

// of returns the offset in seconds and whether the zone is known.
func (o *offsets) of(name string) (int, bool) {
	if name == "" {
		return 0, false
	}
	if off, ok := o.m[name]; ok {
		return off, off != unknownOffset
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		o.m[name] = unknownOffset
		return 0, false
	}
	_, off := o.at.In(loc).Zone()
	o.m[name] = off
	return off, true
}

const unknownOffset = -1 << 31

// Match ranks the volunteers for a family at time now. The hard rules
// (active, trained, not paused, below capacity, speaks the family's
// language, an accepted lived experience at least MinYearsSince ago, not
// excluded by the family) filter; the weights of the reasons that apply
// make the score. Ties go to the volunteer with more free places, then by
// ID, so the result is deterministic.
func Match(f Family, vols []*store.Volunteer, now time.Time, rules Rules) Result {
	res := Result{Considered: len(vols), Excluded: map[string]int{}}
	accepted := rules.Experience[f.CaseType]
	tz := &offsets{at: now, m: map[string]int{}}
	famOff, famKnown := tz.of(f.TimeZone)
	recentCutoff := now.AddDate(-rules.MinYearsSince, 0, 0)
	for _, v := range vols {
		switch {
		case !v.Active:
			res.Excluded[ExcludedInactive]++
			continue
		case v.TrainedOn.IsZero() || v.TrainedOn.After(now):
			res.Excluded[ExcludedUntrained]++
			continue
		case PausedAt(v, now):
			res.Excluded[ExcludedPaused]++
			continue
		case v.Load >= v.Capacity:
			res.Excluded[ExcludedFull]++
			continue
		case slices.Contains(f.Exclude, v.ID):
			res.Excluded[ExcludedPrevious]++
			continue
		case !slices.Contains(v.Languages, f.Language):
			res.Excluded[ExcludedLanguage]++
			continue
		}
		exp := ""
		for i, c := range accepted {
			if slices.Contains(v.Experiences, c) {
				exp = ReasonRelatedExperience
				if i == 0 {
					exp = ReasonSameExperience
				}
				break
			}
		}
		if exp == "" {
			res.Excluded[ExcludedExperience]++
			continue
		}
		if !v.ExperienceSince.IsZero() && v.ExperienceSince.After(recentCutoff) {
			res.Excluded[ExcludedRecent]++
			continue
		}
		p := Proposal{Volunteer: v, Free: v.Capacity - v.Load, Keys: make([]string, 0, 8)}
		add := func(key string) {
			p.Keys = append(p.Keys, key)
			p.Score += rules.Weights[key]
		}
		add(exp)
		add(ReasonLanguage)
		if famKnown {
			if v.TimeZone == f.TimeZone {
				add(ReasonSameTimeZone)
			} else if off, ok := tz.of(v.TimeZone); ok && abs(off-famOff) <= rules.NearTimeZoneHours*3600 {
				add(ReasonNearTimeZone)
			}
		}
		if f.Region != "" && strings.EqualFold(v.Region, f.Region) {
			add(ReasonSameRegion)
		}
		if f.PreferRelation != "" && v.Relation == f.PreferRelation {
			add(ReasonRelation)
		}
		if overlaps(v.Availability, f.PreferAvailability) {
			add(ReasonAvailability)
		}
		p.Keys = append(p.Keys, ReasonCapacity)
		p.Score += min(p.Free, rules.CapacityPointsMax) * rules.Weights[ReasonCapacity]
		res.Proposals = append(res.Proposals, p)
	}
	slices.SortFunc(res.Proposals, func(a, b Proposal) int {
		return cmp.Or(cmp.Compare(b.Score, a.Score), cmp.Compare(b.Free, a.Free), cmp.Compare(a.Volunteer.ID, b.Volunteer.ID))
	})
	if rules.Limit > 0 && len(res.Proposals) > rules.Limit {
		res.Proposals = res.Proposals[:rules.Limit]
	}
	// The reasons in words, only for the proposals returned.
	for i := range res.Proposals {
		p := &res.Proposals[i]
		p.Reasons = make([]string, len(p.Keys))
		for j, k := range p.Keys {
			p.Reasons[j] = reasonText(k, f, p, rules)
		}
	}
	return res
}

// reasonText is a reason in words.
func reasonText(key string, f Family, p *Proposal, rules Rules) string {
	switch key {
	case ReasonSameExperience:
		return "same lived experience (" + Label(f.CaseType) + ")"
	case ReasonRelatedExperience:
		return "related lived experience (" + Label(related(f, p.Volunteer, rules)) + ")"
	case ReasonLanguage:
		return "speaks the family's language (" + LanguageName(f.Language) + ")"
	case ReasonSameTimeZone:
		return "same time zone"
	case ReasonNearTimeZone:
		return "time zone within " + itoa(rules.NearTimeZoneHours) + " h"
	case ReasonSameRegion:
		return "same region"
	case ReasonRelation:
		return "is a " + Label(p.Volunteer.Relation) + ", as the family asked"
	case ReasonAvailability:
		return "available when the family asked"
	case ReasonCapacity:
		return "room for " + itoa(p.Free) + " more " + plural(p.Free, "family", "families")
	}
	return Label(key)
}

// related returns the accepted experience a volunteer has for a family.
func related(f Family, v *store.Volunteer, rules Rules) string {
	for _, c := range rules.Experience[f.CaseType] {
		if slices.Contains(v.Experiences, c) {
			return c
		}
	}
	return ""
}

func overlaps(a, b []string) bool {
	for _, x := range a {
		if slices.Contains(b, x) {
			return true
		}
	}
	return false
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
