// Package geo places a report in a country and region, the first step of
// finding the agencies with jurisdiction. It reads the report's evidence —
// addresses of the people involved and of the incident, the ESP's
// estimate of a user's location, IP addresses looked up in a MaxMind-format
// database supplied by the operator (GeoLite2 City or compatible), and the
// country calling codes of phone numbers — combines it by a written rule
// (see Combine), and keeps the result with every piece of evidence
// explained, so that an analyst can check it and correct it with a reason.
//
// No identifying value is written into the evidence: it names where each
// clue came from (which person, which event and when), never the address,
// number or IP address itself.
package geo

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/oschwald/maxminddb-golang/v2"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/audit"
	"github.com/haven-hotline/haven/internal/identifiers"
	"github.com/haven-hotline/haven/internal/store"
)

// Confidence says how far the evidence supports a location.
type Confidence string

// The confidence levels (see Combine for how they are given).
const (
	High   Confidence = "high"
	Medium Confidence = "medium"
	Low    Confidence = "low"
)

// Location is where the evidence of a report places it.
type Location struct {
	// Country is an ISO 3166-1 alpha-2 code, "" when no evidence gives
	// one.
	Country string
	// Region is an ISO 3166-2 code ("US-CA") where one is known, else a
	// region name as the evidence gives it, or "".
	Region     string
	Confidence Confidence
	// Evidence explains each source and the rule applied, in words an
	// analyst can check against the report.
	Evidence []string
}

// Correction is an analyst's correction of a report's location.
type Correction struct {
	Country string
	Region  string
	By      string // user ID
	At      time.Time
	Reason  string
}

// ReportLocation is a report's stored location.
type ReportLocation struct {
	ReportID   int64
	Computed   Location
	ComputedAt time.Time // zero when it was never computed
	Corrected  *Correction
}

// Effective returns the location to act on: the correction when there is
// one, else the computed location.
func (l *ReportLocation) Effective() (country, region string) {
	if l.Corrected != nil {
		return l.Corrected.Country, l.Corrected.Region
	}
	return l.Computed.Country, l.Computed.Region
}

// Options configure the Service.
type Options struct {
	// DatabasePath is the MaxMind-format database of IP locations; empty
	// turns IP geolocation off (and the evidence says so).
	DatabasePath string
	// DefaultCallingCode is the country calling code of national phone
	// numbers ("1" when empty).
	DefaultCallingCode string
}

// Service computes, stores and corrects reports' locations.
type Service struct {
	store       *store.Store
	audit       *audit.Log
	clock       haven.Clock
	log         *slog.Logger
	db          *maxminddb.Reader
	dbName      string
	defaultCode string
}

// New returns the service, opening the IP database when one is
// configured. Close releases it.
func New(s *store.Store, a *audit.Log, clock haven.Clock, log *slog.Logger, opts Options) (*Service, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	svc := &Service{store: s, audit: a, clock: clock, log: log, defaultCode: opts.DefaultCallingCode}
	if svc.defaultCode == "" {
		svc.defaultCode = "1"
	}
	if opts.DatabasePath != "" {
		db, err := maxminddb.Open(opts.DatabasePath)
		if err != nil {
			return nil, fmt.Errorf("open GeoIP database %s: %w", opts.DatabasePath, err)
		}
		svc.db = db
		svc.dbName = db.Metadata.DatabaseType
		if svc.dbName == "" {
			svc.dbName = "the GeoIP database"
		}
		log.Info("GeoIP database opened", "type", db.Metadata.DatabaseType, "built", db.Metadata.BuildTime().UTC().Format(time.DateOnly))
	}
	return svc, nil
}

// Close releases the IP database.
func (s *Service) Close() error {
	if s.db == nil {
		return nil
	}
	return s.db.Close()
}

// IPLookup reports whether IP geolocation is on.
func (s *Service) IPLookup() bool { return s.db != nil }

// cityRecord is what Haven reads from a GeoLite2 City record.
type cityRecord struct {
	Country struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"country"`
	Subdivisions []struct {
		ISOCode string            `maxminddb:"iso_code"`
		Names   map[string]string `maxminddb:"names"`
	} `maxminddb:"subdivisions"`
}

// lookup returns the country and region of an address, ok false when the
// database does not hold it.
func (s *Service) lookup(a netip.Addr) (country, region string, ok bool, err error) {
	var rec cityRecord
	res := s.db.Lookup(a)
	if err := res.Err(); err != nil {
		return "", "", false, err
	}
	if !res.Found() {
		return "", "", false, nil
	}
	if err := res.Decode(&rec); err != nil {
		return "", "", false, err
	}
	country = strings.ToUpper(rec.Country.ISOCode)
	if !ValidCountry(country) {
		return "", "", false, nil
	}
	if len(rec.Subdivisions) > 0 {
		if c := strings.ToUpper(rec.Subdivisions[0].ISOCode); validSubdivision(c) {
			region = country + "-" + c
		} else {
			region = rec.Subdivisions[0].Names["en"]
		}
	}
	return country, region, true, nil
}

// subjects name the people and things of a report in evidence, in the
// order their evidence is preferred when sources tie: the reported user's
// location decides jurisdiction before the child's.
var subjects = []struct {
	role  identifiers.Role
	label string
}{
	{identifiers.RoleReported, "the reported user"},
	{identifiers.RoleIncident, "the incident"},
	{identifiers.RoleFile, "the uploader of a file"},
	{identifiers.RoleVictim, "the child victim"},
	{identifiers.RoleRecipient, "the intended recipient"},
}

func subjectLabel(r identifiers.Role) string {
	for _, s := range subjects {
		if s.role == r {
			return s.label
		}
	}
	return string(r)
}

func subjectRank(r identifiers.Role) int {
	for i, s := range subjects {
		if s.role == r {
			return i
		}
	}
	return len(subjects)
}

// maxIPLines caps the evidence lines of single IP addresses; the rest
// are summed up per country.
const maxIPLines = 10

// Compute places a report from its evidence. The reporter's own details
// are not used: an ESP's are the company's, and a member of the public may
// report from anywhere.
func (s *Service) Compute(r *haven.Report) Location {
	var cs []Clue
	var notes []string
	add := func(role identifiers.Role, people []haven.Involved) {
		for _, p := range people {
			if p.Person != nil {
				for _, a := range p.Person.Addresses {
					cs = append(cs, addressClue(role, a)...)
				}
			}
			for _, aa := range p.AssociatedAccounts {
				for _, a := range aa.Addresses {
					cs = append(cs, addressClue(role, a)...)
				}
			}
			if e := p.EstimatedLocation; e != nil {
				cs = append(cs, espClue(role, e)...)
			}
		}
	}
	add(identifiers.RoleReported, r.Reported)
	for _, in := range r.Internet {
		for _, a := range in.Addresses {
			cs = append(cs, addressClue(identifiers.RoleIncident, a)...)
		}
	}
	add(identifiers.RoleVictim, r.Victims)
	add(identifiers.RoleRecipient, r.Recipients)

	ex := identifiers.Extract(r, s.defaultCode)
	ipsOff, ipsMissing, ipLines := 0, 0, 0
	moreIPs := map[string]int{}
	for _, id := range ex.Identifiers {
		if id.Role == identifiers.RoleReporter {
			continue
		}
		switch id.Kind {
		case identifiers.KindIP:
			if s.db == nil {
				ipsOff++
				continue
			}
			a, err := netip.ParseAddr(id.Value)
			if err != nil {
				continue
			}
			country, region, ok, err := s.lookup(a)
			if err != nil {
				s.log.Warn("GeoIP lookup failed", "err", err) // the error never holds the address
				ipsMissing++
				continue
			}
			if !ok {
				ipsMissing++
				continue
			}
			c := Clue{Source: SourceIP, Role: id.Role, Country: country, Region: region}
			if ipLines < maxIPLines {
				ipLines++
				c.Evidence = fmt.Sprintf("IP address of %s%s in %s: %s", subjectLabel(id.Role), when(id), s.dbName, place(country, region))
			} else {
				moreIPs[place(country, region)]++
			}
			cs = append(cs, c)
		case identifiers.KindPhone:
			if c, ok := phoneClue(id); ok {
				cs = append(cs, c)
			}
		}
	}
	for p, n := range moreIPs {
		notes = append(notes, fmt.Sprintf("%d more IP addresses in %s: %s", n, s.dbName, p))
	}
	if ipsOff > 0 {
		notes = append(notes, fmt.Sprintf("IP geolocation is off (no GeoIP database is configured: HAVEN_GEOIP_DB): %d IP addresses not located", ipsOff))
	}
	if ipsMissing > 0 {
		notes = append(notes, fmt.Sprintf("%d IP addresses not found in %s", ipsMissing, s.dbName))
	}
	return Combine(cs, notes)
}

// when describes the time of an identifier's sightings for evidence.
func when(id identifiers.Identifier) string {
	var parts []string
	if id.Event != "" {
		parts = append(parts, id.Event)
	}
	if !id.SeenFirst.IsZero() {
		parts = append(parts, id.SeenFirst.UTC().Format("2006-01-02 15:04 UTC"))
	}
	if id.Sightings > 1 {
		parts = append(parts, "seen "+strconv.Itoa(id.Sightings)+" times")
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// place writes a country and region for evidence.
func place(country, region string) string {
	switch {
	case region == "":
		return country
	case strings.HasPrefix(region, country+"-"):
		return region
	default:
		return country + ", " + region
	}
}

func addressClue(role identifiers.Role, a haven.Address) []Clue {
	country := CountryCode(a.Country)
	if country == "" && a.Country == "" && usStates[strings.ToUpper(strings.TrimSpace(a.State))] != "" {
		country = "US" // the State field holds US state codes only
	}
	if country == "" {
		return nil
	}
	region := ""
	if country == "US" && a.State != "" {
		region = RegionCode("US", a.State)
	} else if a.NonUSAState != "" {
		region = RegionCode(country, a.NonUSAState)
	} else if a.State != "" {
		region = RegionCode(country, a.State)
	}
	kind := "Address"
	if a.Type != "" {
		kind = a.Type + " address"
	}
	return []Clue{{Source: SourceAddress, Role: role, Country: country, Region: region,
		Evidence: fmt.Sprintf("%s of %s: %s", kind, subjectLabel(role), place(country, region))}}
}

func espClue(role identifiers.Role, e *haven.EstimatedLocation) []Clue {
	country := CountryCode(e.CountryCode)
	if country == "" {
		return nil
	}
	region := RegionCode(country, e.Region)
	c := Clue{Source: SourceESP, Role: role, Country: country, Region: region}
	verified := ""
	if e.Verified != nil && *e.Verified {
		c.Verified, verified = true, " (verified by the ESP)"
	}
	stamp := ""
	if !e.Timestamp.IsZero() {
		stamp = ", " + e.Timestamp.UTC().Format(time.DateOnly)
	}
	c.Evidence = fmt.Sprintf("ESP's estimated location of %s%s%s: %s", subjectLabel(role), verified, stamp, place(country, region))
	return []Clue{c}
}

func phoneClue(id identifiers.Identifier) (Clue, bool) {
	countries := CallingCodeCountries(id.CallingCode)
	if len(countries) == 0 {
		return Clue{}, false
	}
	c := Clue{Source: SourcePhone, Role: id.Role, Country: countries[0], Shared: len(countries) > 1}
	c.Evidence = fmt.Sprintf("Country calling code +%s of a phone number of %s: %s", id.CallingCode, subjectLabel(id.Role), countries[0])
	if c.Shared {
		c.Evidence += fmt.Sprintf(" (the code is shared with %s, so it is weak evidence)", strings.Join(countries[1:], ", "))
	}
	return c, true
}

func reportRef(id int64) string { return strconv.FormatInt(id, 10) }

func fromStore(l *store.ReportLocation) *ReportLocation {
	out := &ReportLocation{ReportID: l.ReportID, ComputedAt: l.ComputedAt,
		Computed: Location{Country: l.Country, Region: l.Region, Confidence: Confidence(l.Confidence), Evidence: l.Evidence}}
	if !l.CorrectedAt.IsZero() {
		out.Corrected = &Correction{Country: l.CorrectedCountry, Region: l.CorrectedRegion, By: l.CorrectedBy, At: l.CorrectedAt,
			Reason: l.CorrectionReason}
	}
	return out
}

// Locate computes a report's location and stores it, keeping any
// correction; locating again gives the same result for the same report
// and database. It is audited with the location found (a country and
// region, never the evidence's sources).
func (s *Service) Locate(ctx context.Context, reportID int64) (*ReportLocation, error) {
	var out *ReportLocation
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		r, err := tx.Report(ctx, reportID, true)
		if err != nil {
			return err
		}
		loc := s.Compute(r)
		row := &store.ReportLocation{ReportID: reportID, Country: loc.Country, Region: loc.Region, Confidence: string(loc.Confidence),
			Evidence: loc.Evidence, ComputedAt: s.clock.Now()}
		if err := tx.PutReportLocation(ctx, row); err != nil {
			return err
		}
		if row, err = tx.ReportLocation(ctx, reportID); err != nil {
			return err
		}
		out = fromStore(row)
		return s.audit.Record(ctx, tx, haven.SystemActor("geo"), audit.Entry{Type: "geo.locate", ObjectType: "report",
			ObjectID: reportRef(reportID), Details: map[string]string{"country": loc.Country, "region": loc.Region,
				"confidence": string(loc.Confidence), "evidence": strconv.Itoa(len(loc.Evidence))}})
	})
	if err != nil {
		return nil, fmt.Errorf("locate report %d: %w", reportID, err)
	}
	return out, nil
}

// Location returns a report's stored location to those who may read
// reports (haven.ErrForbidden otherwise); haven.ErrNotFound when it was
// never located or corrected.
func (s *Service) Location(ctx context.Context, a haven.Actor, reportID int64) (*ReportLocation, error) {
	if !a.Can(haven.PermReportRead) {
		return nil, haven.ErrForbidden
	}
	var out *ReportLocation
	err := s.store.View(ctx, func(tx *store.Tx) error {
		row, err := tx.ReportLocation(ctx, reportID)
		if err != nil {
			return err
		}
		out = fromStore(row)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Correct records an analyst's correction of a report's location:
// country is an ISO 3166-1 alpha-2 code, region an ISO 3166-2 code of that
// country (or "CA" for "US-CA"), a region name, or empty; reason is
// required. It needs haven.PermGeoCorrect (haven.ErrForbidden) and is
// audited with the old and new places. Invalid input is haven.KindInvalid
// naming the field (country, region, reason).
func (s *Service) Correct(ctx context.Context, a haven.Actor, reportID int64, country, region, reason string) error {
	if !a.Can(haven.PermGeoCorrect) {
		return haven.ErrForbidden
	}
	country = strings.ToUpper(strings.TrimSpace(country))
	if !ValidCountry(country) {
		return haven.Invalidf("country", "give the country as its two-letter ISO code, such as US or GB")
	}
	region = strings.Join(strings.Fields(region), " ")
	if !validRegionName(region) {
		return haven.Invalidf("region", "the region is too long or contains control characters")
	}
	region = RegionCode(country, region)
	if cc, _, ok := strings.Cut(region, "-"); ok && len(cc) == 2 && ValidCountry(strings.ToUpper(cc)) && strings.ToUpper(cc) != country && len(region) <= 6 {
		return haven.Invalidf("region", "the region code belongs to another country than %s", country)
	}
	if subdivisions[country] != nil && region != "" && !strings.HasPrefix(region, country+"-") {
		return haven.Invalidf("region", "give a region of %s as its ISO code or its name", country)
	}
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return haven.Invalidf("reason", "say why the location is corrected")
	}
	if len(reason) > 2000 {
		return haven.Invalidf("reason", "keep the reason under 2,000 characters")
	}
	return s.store.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Report(ctx, reportID, true); err != nil {
			return err
		}
		prev := &store.ReportLocation{}
		if cur, err := tx.ReportLocation(ctx, reportID); err == nil {
			prev = cur
		} else if !haven.IsKind(err, haven.KindNotFound) {
			return err
		}
		err := tx.CorrectReportLocation(ctx, &store.ReportLocation{ReportID: reportID, CorrectedCountry: country, CorrectedRegion: region,
			CorrectedBy: a.UserID, CorrectedAt: s.clock.Now(), CorrectionReason: reason})
		if err != nil {
			return err
		}
		prevCountry, prevRegion := prev.Country, prev.Region
		if !prev.CorrectedAt.IsZero() {
			prevCountry, prevRegion = prev.CorrectedCountry, prev.CorrectedRegion
		}
		// The reason is kept with the location, not in the audit event:
		// analysts may quote the report in it.
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "geo.correct", ObjectType: "report", ObjectID: reportRef(reportID),
			Details: map[string]string{"country": country, "region": region, "previous_country": prevCountry, "previous_region": prevRegion}})
	})
}
