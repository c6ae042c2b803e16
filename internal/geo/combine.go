package geo

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/haven-hotline/haven/internal/identifiers"
)

// Source is a kind of location evidence.
type Source int

// The sources, from the weakest.
const (
	SourcePhone   Source = iota + 1 // a phone number's country calling code
	SourceIP                        // an IP address in the GeoIP database
	SourceESP                       // the ESP's estimate of a user's location
	SourceAddress                   // a postal address in the report
)

var sourceNames = map[Source]string{SourcePhone: "phone calling code", SourceIP: "IP address", SourceESP: "ESP estimate", SourceAddress: "address"}

// String names the source.
func (s Source) String() string { return sourceNames[s] }

// Clue is one piece of location evidence.
type Clue struct {
	Source  Source
	Role    identifiers.Role // whose location it is
	Country string
	Region  string
	// Verified marks an ESP estimate the ESP says it verified.
	Verified bool
	// Shared marks a calling code used by several countries.
	Shared   bool
	Evidence string
}

// weight is how much a clue counts: an address or a verified ESP location
// 3, an ESP estimate or an IP address 2, a calling code 1.
func (c Clue) weight() int {
	switch c.Source {
	case SourceAddress:
		return 3
	case SourceESP:
		if c.Verified {
			return 3
		}
		return 2
	case SourceIP:
		return 2
	}
	return 1
}

// Combine turns clues into a location by this rule:
//
//  1. Each country scores the sum, over the kinds of source that point to
//     it, of the heaviest clue of that kind (an address or a verified ESP
//     location 3, an ESP estimate or an IP address 2, a calling code 1).
//     Ten IP addresses of one user in one country are one kind of
//     evidence, not ten.
//  2. The country with the highest score wins; on a tie, the one whose
//     best clue concerns the subject that decides jurisdiction first (the
//     reported user, the incident, a file's uploader, the child, the
//     recipient), then the heavier clue.
//  3. The most specific wins: the region is that of the heaviest clue in
//     the winning country that gives one (an address before an ESP
//     estimate before an IP address; on a tie, by subject as above).
//  4. Confidence is high when at least two kinds of source agree and none
//     points elsewhere; medium when one kind of source other than a
//     calling code stands alone, or when the winner outscores every other
//     country together at least two to one; low otherwise: calling codes
//     alone (say only where a number was issued; the North American +1 not
//     even which country) or evidence split between countries. Two clues
//     in the winning country that name different regions lower high to
//     medium.
//
// notes are added to the evidence as they are.
func Combine(clues []Clue, notes []string) Location {
	var loc Location
	for _, c := range clues {
		if c.Evidence != "" {
			loc.Evidence = append(loc.Evidence, c.Evidence)
		}
	}
	loc.Evidence = append(loc.Evidence, notes...)
	if len(clues) == 0 {
		loc.Confidence = Low
		loc.Evidence = append(loc.Evidence, "No address, ESP estimate, located IP address or known calling code in the report gives a location.")
		return loc
	}
	type tally struct {
		country string
		best    map[Source]int // heaviest clue per kind of source
		score   int
		top     Clue // the clue that breaks ties
	}
	tallies := map[string]*tally{}
	for _, c := range clues {
		t := tallies[c.Country]
		if t == nil {
			t = &tally{country: c.Country, best: map[Source]int{}, top: c}
			tallies[c.Country] = t
		}
		t.best[c.Source] = max(t.best[c.Source], c.weight())
		if better(c, t.top) {
			t.top = c
		}
	}
	var ts []*tally
	for _, t := range tallies {
		for _, w := range t.best {
			t.score += w
		}
		ts = append(ts, t)
	}
	slices.SortFunc(ts, func(a, b *tally) int {
		if a.score != b.score {
			return cmp.Compare(b.score, a.score)
		}
		if better(a.top, b.top) {
			return -1
		}
		if better(b.top, a.top) {
			return 1
		}
		return strings.Compare(a.country, b.country)
	})
	win := ts[0]
	loc.Country = win.country
	dissent := 0
	for _, t := range ts[1:] {
		dissent += t.score
	}

	// The most specific wins.
	var regional []Clue
	for _, c := range clues {
		if c.Country == win.country && c.Region != "" {
			regional = append(regional, c)
		}
	}
	slices.SortStableFunc(regional, func(a, b Clue) int {
		if better(a, b) {
			return -1
		}
		if better(b, a) {
			return 1
		}
		return 0
	})
	regionsDiffer := false
	if len(regional) > 0 {
		loc.Region = regional[0].Region
		for _, c := range regional[1:] {
			regionsDiffer = regionsDiffer || c.Region != loc.Region
		}
	}

	kinds := make([]Source, 0, len(win.best))
	for s := range win.best {
		kinds = append(kinds, s)
	}
	slices.Sort(kinds)
	onlyPhones := len(kinds) == 1 && kinds[0] == SourcePhone
	switch {
	case onlyPhones:
		loc.Confidence = Low
	case len(kinds) >= 2 && dissent == 0:
		loc.Confidence = High
	case dissent == 0 || win.score >= 2*dissent:
		loc.Confidence = Medium
	default:
		loc.Confidence = Low
	}
	if loc.Confidence == High && regionsDiffer {
		loc.Confidence = Medium
	}

	names := make([]string, len(kinds))
	for i, s := range kinds {
		names[i] = s.String()
	}
	rule := fmt.Sprintf("Result: %s, %s confidence. ", place(loc.Country, loc.Region), loc.Confidence)
	if len(kinds) == 1 {
		rule += fmt.Sprintf("One kind of source (%s) points to %s", names[0], loc.Country)
	} else {
		rule += fmt.Sprintf("%d kinds of source (%s) agree on %s", len(kinds), strings.Join(names, ", "), loc.Country)
	}
	if dissent == 0 {
		rule += "; none points elsewhere."
	} else {
		var others []string
		for _, t := range ts[1:] {
			others = append(others, t.country)
		}
		rule += fmt.Sprintf("; other evidence points to %s (score %d against %d).", strings.Join(others, ", "), dissent, win.score)
	}
	if onlyPhones {
		rule += " Calling codes alone say only where a number was issued."
	}
	if regionsDiffer {
		rule += " The sources name different regions; the most specific source's is shown."
	}
	loc.Evidence = append(loc.Evidence, rule)
	return loc
}

// better reports whether clue a should be preferred to b: heavier first,
// then by the subject that decides jurisdiction first, then by the more
// specific kind of source.
func better(a, b Clue) bool {
	if a.weight() != b.weight() {
		return a.weight() > b.weight()
	}
	if ra, rb := subjectRank(a.Role), subjectRank(b.Role); ra != rb {
		return ra < rb
	}
	return a.Source > b.Source
}
