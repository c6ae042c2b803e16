package support_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/haven-hotline/haven/internal/store"
	"github.com/haven-hotline/haven/internal/support"
)

var now = time.Date(2026, 11, 27, 15, 0, 0, 0, time.UTC)

var (
	rosterZones   = []string{"America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles", "America/Anchorage", "Pacific/Honolulu", "Europe/London"}
	rosterRegions = []string{"Northeast", "Midwest", "South", "West"}
	rosterLangs   = []string{"es", "fr", "vi", "zh", "pt"}
)

// roster generates n synthetic volunteers from a fixed seed: the same
// roster every run, with every hard rule exercised (inactive, untrained,
// trained in the future, paused now, paused before or later, full,
// recent experience…).
func roster(n int, seed uint64) []*store.Volunteer {
	rng := rand.New(rand.NewPCG(seed, 8))
	pick := func(l []string) string { return l[rng.IntN(len(l))] }
	some := func(l []string, p float64) []string {
		var out []string
		for _, v := range l {
			if rng.Float64() < p {
				out = append(out, v)
			}
		}
		return out
	}
	vols := make([]*store.Volunteer, n)
	for i := range vols {
		v := &store.Volunteer{
			ID:           fmt.Sprintf("00000000-0000-4000-8000-%012d", i),
			Name:         fmt.Sprintf("Example Volunteer %05d", i),
			Relation:     pick(support.Relations),
			Experiences:  some(support.CaseTypes, 0.45),
			Region:       pick(rosterRegions),
			TimeZone:     pick(rosterZones),
			Availability: some(support.Availability, 0.5),
			Capacity:     rng.IntN(5),
			Active:       rng.Float64() < 0.95,
		}
		if len(v.Experiences) == 0 {
			v.Experiences = []string{pick(support.CaseTypes)}
		}
		v.ExperienceSince = now.AddDate(0, -rng.IntN(120), -rng.IntN(28))
		if rng.Float64() < 0.8 {
			v.Languages = append(v.Languages, "en")
		}
		v.Languages = append(v.Languages, some(rosterLangs, 0.25)...)
		if len(v.Languages) == 0 {
			v.Languages = []string{pick(rosterLangs)}
		}
		switch x := rng.Float64(); {
		case x < 0.05: // never trained
		case x < 0.07:
			v.TrainedOn = now.Add(24 * time.Hour) // a course not finished yet
		default:
			v.TrainedOn = now.AddDate(0, -1-rng.IntN(60), 0)
		}
		if v.Capacity > 0 {
			v.Load = rng.IntN(v.Capacity + 1)
		}
		switch x := rng.Float64(); {
		case x < 0.10: // paused now, until a date
			v.Pauses = []store.VolunteerPause{{From: now.AddDate(0, 0, -3), To: now.AddDate(0, 1, 0)}}
		case x < 0.15: // paused now, open-ended
			v.Pauses = []store.VolunteerPause{{From: now.AddDate(0, -2, 0)}}
		case x < 0.22: // a pause that ended
			v.Pauses = []store.VolunteerPause{{From: now.AddDate(0, -3, 0), To: now.AddDate(0, -1, 0)}}
		case x < 0.27: // a pause that starts later
			v.Pauses = []store.VolunteerPause{{From: now.AddDate(0, 0, 5), To: now.AddDate(0, 1, 0)}}
		case x < 0.29: // a pause ending exactly now: over
			v.Pauses = []store.VolunteerPause{{From: now.AddDate(0, -1, 0), To: now}}
		}
		vols[i] = v
	}
	return vols
}

// The test's own statement of the policy of docs/decisions/0016, written
// independently of match.go.
func sameExperience(f support.Family, v *store.Volunteer) bool {
	return slices.Contains(v.Experiences, f.CaseType)
}

func acceptedExperience(f support.Family, v *store.Volunteer) bool {
	if sameExperience(f, v) {
		return true
	}
	switch f.CaseType {
	case support.CaseMissing:
		return slices.Contains(v.Experiences, support.CaseRecovered)
	case support.CaseRecovered:
		return slices.Contains(v.Experiences, support.CaseMissing)
	}
	return false // sexual exploitation: the same experience only
}

func pausedNow(v *store.Volunteer) bool {
	for _, p := range v.Pauses {
		started := p.From.Equal(now) || p.From.Before(now)
		notEnded := p.To.IsZero() || p.To.After(now)
		if started && notEnded {
			return true
		}
	}
	return false
}

// eligible is the brute-force filter: every hard rule, one by one.
func eligible(f support.Family, v *store.Volunteer) bool {
	if !v.Active || v.TrainedOn.IsZero() || v.TrainedOn.After(now) || pausedNow(v) {
		return false
	}
	if v.Load >= v.Capacity || slices.Contains(f.Exclude, v.ID) {
		return false
	}
	if !slices.Contains(v.Languages, f.Language) || !acceptedExperience(f, v) {
		return false
	}
	return !v.ExperienceSince.After(now.AddDate(-1, 0, 0))
}

func offset(t *testing.T, zone string) int {
	t.Helper()
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	_, off := now.In(loc).Zone()
	return off
}

// wantKeys is the test's computation of the reasons a proposal must give.
func wantKeys(t *testing.T, f support.Family, v *store.Volunteer) []string {
	var keys []string
	if sameExperience(f, v) {
		keys = append(keys, support.ReasonSameExperience)
	} else {
		keys = append(keys, support.ReasonRelatedExperience)
	}
	keys = append(keys, support.ReasonLanguage)
	if f.TimeZone != "" {
		d := offset(t, v.TimeZone) - offset(t, f.TimeZone)
		switch {
		case v.TimeZone == f.TimeZone:
			keys = append(keys, support.ReasonSameTimeZone)
		case d >= -3*3600 && d <= 3*3600:
			keys = append(keys, support.ReasonNearTimeZone)
		}
	}
	if f.Region != "" && strings.EqualFold(f.Region, v.Region) {
		keys = append(keys, support.ReasonSameRegion)
	}
	if f.PreferRelation != "" && f.PreferRelation == v.Relation {
		keys = append(keys, support.ReasonRelation)
	}
	for _, a := range f.PreferAvailability {
		if slices.Contains(v.Availability, a) {
			keys = append(keys, support.ReasonAvailability)
			break
		}
	}
	return append(keys, support.ReasonCapacity)
}

var families = map[string]support.Family{
	"missing, English, Chicago": {CaseType: support.CaseMissing, Language: "en", TimeZone: "America/Chicago", Region: "Midwest",
		PreferRelation: "parent", PreferAvailability: []string{"weekday_evening"}},
	"recovered, Spanish, Los Angeles": {CaseType: support.CaseRecovered, Language: "es", TimeZone: "America/Los_Angeles", Region: "West"},
	"exploited, English, New York": {CaseType: support.CaseSexuallyExploited, Language: "en", TimeZone: "America/New_York",
		PreferAvailability: []string{"weekend"}},
	"exploited, Vietnamese, no zone": {CaseType: support.CaseSexuallyExploited, Language: "vi"},
	"missing, French, London":        {CaseType: support.CaseMissing, Language: "fr", TimeZone: "Europe/London", PreferRelation: "sibling"},
}

// TestMatchRoster checks matching on a synthetic roster of 200 volunteers
// against the brute-force filter: exactly the eligible volunteers are
// proposed, ranked by score with the reasons that make the score, and
// never a paused, full, untrained volunteer, one without the family's
// language or an accepted experience.
func TestMatchRoster(t *testing.T) {
	t.Parallel()
	vols := roster(200, 1)
	rules := support.DefaultRules()
	rules.Limit = 0
	for name, f := range families {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			res := support.Match(f, vols, now, rules)
			var want []string
			for _, v := range vols {
				if eligible(f, v) {
					want = append(want, v.ID)
				}
			}
			var got []string
			for _, p := range res.Proposals {
				got = append(got, p.Volunteer.ID)
			}
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Fatalf("proposed %d volunteers %v, want the %d eligible %v", len(got), got, len(want), want)
			}
			if len(want) < 3 {
				t.Fatalf("only %d eligible volunteers: the roster does not exercise the ranking", len(want))
			}
			excluded := 0
			for _, n := range res.Excluded {
				excluded += n
			}
			if res.Considered != 200 || excluded+len(res.Proposals) != 200 {
				t.Errorf("considered %d, excluded %d, proposed %d: want 200 = excluded + proposed", res.Considered, excluded, len(res.Proposals))
			}
			for i, p := range res.Proposals {
				v := p.Volunteer
				if pausedNow(v) || v.Load >= v.Capacity || !slices.Contains(v.Languages, f.Language) || !acceptedExperience(f, v) {
					t.Errorf("proposal %d (%s) breaks a hard rule", i, v.ID)
				}
				if k := wantKeys(t, f, v); !slices.Equal(p.Keys, k) {
					t.Errorf("proposal %s: reasons %v, want %v", v.ID, p.Keys, k)
				}
				if len(p.Reasons) != len(p.Keys) {
					t.Errorf("proposal %s: %d reason texts for %d reasons", v.ID, len(p.Reasons), len(p.Keys))
				}
				score := 0
				for _, k := range p.Keys {
					if k == support.ReasonCapacity {
						score += min(v.Capacity-v.Load, rules.CapacityPointsMax) * rules.Weights[k]
					} else {
						score += rules.Weights[k]
					}
				}
				if p.Score != score {
					t.Errorf("proposal %s: score %d, want %d (the sum of its reasons)", v.ID, p.Score, score)
				}
				if p.Free != v.Capacity-v.Load {
					t.Errorf("proposal %s: free %d, want %d", v.ID, p.Free, v.Capacity-v.Load)
				}
				if i > 0 {
					q := res.Proposals[i-1]
					if q.Score < p.Score || (q.Score == p.Score && (q.Free < p.Free || (q.Free == p.Free && q.Volunteer.ID > v.ID))) {
						t.Errorf("proposals %d and %d are out of order: (%d, %d, %s) before (%d, %d, %s)", i-1, i,
							q.Score, q.Free, q.Volunteer.ID, p.Score, p.Free, v.ID)
					}
				}
			}
			// The default limit returns the head of the same ranking.
			top := support.Match(f, vols, now, support.DefaultRules())
			if len(top.Proposals) != min(10, len(res.Proposals)) {
				t.Fatalf("got %d proposals with the default limit", len(top.Proposals))
			}
			for i := range top.Proposals {
				if top.Proposals[i].Volunteer.ID != res.Proposals[i].Volunteer.ID {
					t.Errorf("limited proposal %d is %s, want %s", i, top.Proposals[i].Volunteer.ID, res.Proposals[i].Volunteer.ID)
				}
			}
		})
	}
}

// TestMatchExcludesPreviousVolunteers checks that a family that asked
// for a different volunteer is never proposed the previous ones.
func TestMatchExcludesPreviousVolunteers(t *testing.T) {
	t.Parallel()
	vols := roster(200, 2)
	rules := support.DefaultRules()
	rules.Limit = 0
	f := families["missing, English, Chicago"]
	first := support.Match(f, vols, now, rules)
	if len(first.Proposals) < 3 {
		t.Fatalf("got %d proposals", len(first.Proposals))
	}
	f.Exclude = []string{first.Proposals[0].Volunteer.ID, first.Proposals[1].Volunteer.ID}
	again := support.Match(f, vols, now, rules)
	if len(again.Proposals) != len(first.Proposals)-2 {
		t.Errorf("got %d proposals after excluding 2 of %d", len(again.Proposals), len(first.Proposals))
	}
	for _, p := range again.Proposals {
		if slices.Contains(f.Exclude, p.Volunteer.ID) {
			t.Errorf("excluded volunteer %s proposed again", p.Volunteer.ID)
		}
	}
	if again.Excluded[support.ExcludedPrevious] != 2 {
		t.Errorf("got %d excluded as previous, want 2", again.Excluded[support.ExcludedPrevious])
	}
}

// TestMatchRanking is a small hand-made case read as a coordinator would:
// the volunteer with the same experience, in the family's time zone,
// comes before one with a related experience far away, whatever their
// order in the roster; reasons are given in words.
func TestMatchRanking(t *testing.T) {
	t.Parallel()
	base := func(id string) *store.Volunteer {
		return &store.Volunteer{ID: id, Name: "Example Volunteer " + id[len(id)-1:], Relation: "parent", Languages: []string{"es", "en"},
			TimeZone: "America/Chicago", Capacity: 2, Active: true, TrainedOn: now.AddDate(-1, 0, 0), ExperienceSince: now.AddDate(-5, 0, 0)}
	}
	related := base("00000000-0000-4000-8000-000000000001")
	related.Experiences, related.TimeZone = []string{support.CaseRecovered}, "Europe/London"
	same := base("00000000-0000-4000-8000-000000000002")
	same.Experiences = []string{support.CaseMissing}
	recent := base("00000000-0000-4000-8000-000000000003")
	recent.Experiences, recent.ExperienceSince = []string{support.CaseMissing}, now.AddDate(0, -6, 0)
	f := support.Family{CaseType: support.CaseMissing, Language: "es", TimeZone: "America/Chicago"}
	res := support.Match(f, []*store.Volunteer{related, same, recent}, now, support.DefaultRules())
	if len(res.Proposals) != 2 || res.Proposals[0].Volunteer != same || res.Proposals[1].Volunteer != related {
		t.Fatalf("got %+v, want the same-experience volunteer first, then the related one", res.Proposals)
	}
	want := []string{"same lived experience (missing)", "speaks the family's language (Spanish)", "same time zone", "room for 2 more families"}
	if !slices.Equal(res.Proposals[0].Reasons, want) {
		t.Errorf("got reasons %q, want %q", res.Proposals[0].Reasons, want)
	}
	if res.Excluded[support.ExcludedRecent] != 1 {
		t.Errorf("got exclusions %v, want the volunteer with a recent experience left out", res.Excluded)
	}
}

// BenchmarkMatch10000 matches one family against 10,000 volunteers (the
// target is under 50 ms an operation).
func BenchmarkMatch10000(b *testing.B) {
	vols := roster(10000, 3)
	f := families["missing, English, Chicago"]
	rules := support.DefaultRules()
	for b.Loop() {
		res := support.Match(f, vols, now, rules)
		if len(res.Proposals) == 0 {
			b.Fatal("no proposals")
		}
	}
}
