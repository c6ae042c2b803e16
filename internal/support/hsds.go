package support

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/store"
)

// The provider directory in the Open Referral Human Services Data
// Specification, version 3 (HSDS 3). A document is one JSON object:
//
//	{"hsds_version": "3.0", "generated_at": "…",
//	 "organizations": [organization…], "services": [service…]}
//
// Each element of organizations validates against HSDS organization.json
// and each element of services against service.json. A service is one
// provider; its locations are in service_at_locations[].location, its
// languages in languages, its areas served in service_areas, its fee terms
// in cost_options (and fees_description), its licence in licenses. What
// HSDS has no field for (the clinician, the structured licence with the
// date it was verified, specialities, modes, fee terms as keys, capacity)
// is carried in the extension member "x-haven" of the service (HSDS
// schemas allow extra members). A document from another HSDS publisher,
// without the extension, imports with what its standard fields say.
// docs/decisions/0016 records the mapping.

// HSDSVersion is the HSDS version written.
const HSDSVersion = "3.0"

// HSDSDocument is an HSDS 3 provider directory.
type HSDSDocument struct {
	Version       string             `json:"hsds_version"`
	GeneratedAt   string             `json:"generated_at,omitempty"`
	Organizations []HSDSOrganization `json:"organizations"`
	Services      []HSDSService      `json:"services"`
}

// HSDSOrganization is an HSDS organization.
type HSDSOrganization struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Email       string `json:"email,omitempty"`
	Website     string `json:"website,omitempty"`
}

// HSDSService is an HSDS service with the members Haven uses.
type HSDSService struct {
	ID                 string                  `json:"id"`
	OrganizationID     string                  `json:"organization_id,omitempty"`
	Name               string                  `json:"name"`
	Description        string                  `json:"description,omitempty"`
	Email              string                  `json:"email,omitempty"`
	Status             string                  `json:"status"`
	FeesDescription    string                  `json:"fees_description,omitempty"`
	Licenses           string                  `json:"licenses,omitempty"`
	LastModified       string                  `json:"last_modified,omitempty"`
	Phones             []HSDSPhone             `json:"phones,omitempty"`
	ServiceAreas       []HSDSServiceArea       `json:"service_areas,omitempty"`
	Languages          []HSDSLanguage          `json:"languages,omitempty"`
	CostOptions        []HSDSCostOption        `json:"cost_options,omitempty"`
	ServiceAtLocations []HSDSServiceAtLocation `json:"service_at_locations,omitempty"`
	Organization       *HSDSOrganization       `json:"organization,omitempty"`
	Haven              *HSDSHavenExtension     `json:"x-haven,omitempty"`
}

// HSDSHavenExtension is Haven's extension of an HSDS service.
type HSDSHavenExtension struct {
	Clinician    string       `json:"clinician,omitempty"`
	Licence      *HSDSLicence `json:"licence,omitempty"`
	Specialities []string     `json:"specialities,omitempty"`
	Modes        []string     `json:"modes,omitempty"`
	FeeTerms     []string     `json:"fee_terms,omitempty"`
	Capacity     int          `json:"capacity"`
	Status       string       `json:"status,omitempty"`
}

// HSDSLicence is a clinician's licence.
type HSDSLicence struct {
	Type       string `json:"type,omitempty"`
	Number     string `json:"number,omitempty"`
	State      string `json:"state,omitempty"`
	VerifiedOn string `json:"verified_on,omitempty"` // yyyy-mm-dd
}

// HSDSPhone is an HSDS phone.
type HSDSPhone struct {
	ID        string `json:"id"`
	ServiceID string `json:"service_id,omitempty"`
	Number    string `json:"number"`
}

// HSDSServiceArea is an HSDS service_area.
type HSDSServiceArea struct {
	ID        string `json:"id"`
	ServiceID string `json:"service_id,omitempty"`
	Name      string `json:"name,omitempty"`
}

// HSDSLanguage is an HSDS language.
type HSDSLanguage struct {
	ID        string `json:"id"`
	ServiceID string `json:"service_id,omitempty"`
	Name      string `json:"name,omitempty"`
	Code      string `json:"code,omitempty"`
}

// HSDSCostOption is an HSDS cost_option.
type HSDSCostOption struct {
	ID                string `json:"id"`
	ServiceID         string `json:"service_id,omitempty"`
	Option            string `json:"option,omitempty"`
	AmountDescription string `json:"amount_description,omitempty"`
}

// HSDSServiceAtLocation is an HSDS service_at_location with its location.
type HSDSServiceAtLocation struct {
	ID         string        `json:"id"`
	ServiceID  string        `json:"service_id,omitempty"`
	LocationID string        `json:"location_id,omitempty"`
	Location   *HSDSLocation `json:"location,omitempty"`
}

// HSDSLocation is an HSDS location.
type HSDSLocation struct {
	ID             string        `json:"id"`
	LocationType   string        `json:"location_type"`
	OrganizationID string        `json:"organization_id,omitempty"`
	Name           string        `json:"name,omitempty"`
	Addresses      []HSDSAddress `json:"addresses,omitempty"`
}

// HSDSAddress is an HSDS address.
type HSDSAddress struct {
	ID            string `json:"id"`
	LocationID    string `json:"location_id,omitempty"`
	Address1      string `json:"address_1"`
	City          string `json:"city"`
	StateProvince string `json:"state_province"`
	PostalCode    string `json:"postal_code"`
	Country       string `json:"country"`
	AddressType   string `json:"address_type"`
}

// hsdsSpace derives stable identifiers for the sub-records Haven does not
// keep (languages, areas, phones…), so that an export is deterministic.
var hsdsSpace = uuid.MustParse("8f1f0a52-7a36-4d4b-9d0e-2b6f3c1a9e11")

func subID(parent, kind string, i int) string {
	return uuid.NewSHA1(hsdsSpace, []byte(fmt.Sprintf("%s/%s/%d", parent, kind, i))).String()
}

var feeOption = map[string]string{FeeProBono: "Pro bono (free of charge)", FeeSlidingScale: "Sliding scale"}

// licenceText is the licence in words for HSDS's free-text licenses.
func licenceText(p *store.Provider) string {
	if p.LicenceType == "" && p.LicenceNumber == "" {
		return ""
	}
	s := strings.TrimSpace(p.LicenceType + " " + p.LicenceNumber)
	if p.LicenceState != "" {
		s += " (" + p.LicenceState + ")"
	}
	if !p.LicenceVerifiedOn.IsZero() {
		s += ", verified " + p.LicenceVerifiedOn.Format(time.DateOnly)
	}
	return s
}

// ToHSDS converts providers to an HSDS document.
func ToHSDS(ps []*store.Provider, now time.Time) *HSDSDocument {
	doc := &HSDSDocument{Version: HSDSVersion, Organizations: []HSDSOrganization{}, Services: []HSDSService{}}
	if !now.IsZero() {
		doc.GeneratedAt = now.UTC().Format(time.RFC3339)
	}
	seen := map[string]bool{}
	for _, p := range ps {
		if !seen[p.OrganizationID] {
			seen[p.OrganizationID] = true
			o := p.Organization
			doc.Organizations = append(doc.Organizations, HSDSOrganization{ID: p.OrganizationID, Name: o.Name,
				Description: o.Description, Email: o.Email, Website: o.Website})
		}
		sv := HSDSService{ID: p.ID, OrganizationID: p.OrganizationID, Name: p.Name, Description: p.Description, Email: p.Email,
			Status: p.Status, Licenses: licenceText(p)}
		if !p.UpdatedAt.IsZero() {
			sv.LastModified = p.UpdatedAt.UTC().Format(time.RFC3339)
		}
		if p.Phone != "" {
			sv.Phones = []HSDSPhone{{ID: subID(p.ID, "phone", 0), ServiceID: p.ID, Number: p.Phone}}
		}
		for i, a := range p.Areas {
			sv.ServiceAreas = append(sv.ServiceAreas, HSDSServiceArea{ID: subID(p.ID, "area", i), ServiceID: p.ID, Name: a})
		}
		for i, l := range p.Languages {
			sv.Languages = append(sv.Languages, HSDSLanguage{ID: subID(p.ID, "language", i), ServiceID: p.ID, Name: Languages[l], Code: l})
		}
		var fees []string
		for i, f := range p.FeeTerms {
			sv.CostOptions = append(sv.CostOptions, HSDSCostOption{ID: subID(p.ID, "cost", i), ServiceID: p.ID, Option: feeOption[f]})
			fees = append(fees, feeOption[f])
		}
		sv.FeesDescription = strings.Join(fees, "; ")
		for i, l := range p.Locations {
			loc := &HSDSLocation{ID: l.ID, LocationType: "physical", OrganizationID: p.OrganizationID, Name: l.Name}
			if l.Address1 != "" || l.City != "" || l.State != "" || l.PostalCode != "" || l.Country != "" {
				loc.Addresses = []HSDSAddress{{ID: subID(l.ID, "address", 0), LocationID: l.ID, Address1: l.Address1, City: l.City,
					StateProvince: l.State, PostalCode: l.PostalCode, Country: l.Country, AddressType: "physical"}}
			}
			sv.ServiceAtLocations = append(sv.ServiceAtLocations, HSDSServiceAtLocation{ID: subID(p.ID, "sal", i), ServiceID: p.ID,
				LocationID: l.ID, Location: loc})
		}
		ext := &HSDSHavenExtension{Clinician: p.Clinician, Specialities: p.Specialities, Modes: p.Modes, FeeTerms: p.FeeTerms,
			Capacity: p.Capacity, Status: p.Status}
		if p.LicenceType != "" || p.LicenceNumber != "" || p.LicenceState != "" || !p.LicenceVerifiedOn.IsZero() {
			ext.Licence = &HSDSLicence{Type: p.LicenceType, Number: p.LicenceNumber, State: p.LicenceState}
			if !p.LicenceVerifiedOn.IsZero() {
				ext.Licence.VerifiedOn = p.LicenceVerifiedOn.UTC().Format(time.DateOnly)
			}
		}
		sv.Haven = ext
		doc.Services = append(doc.Services, sv)
	}
	return doc
}

// EncodeHSDS writes providers as an indented HSDS document.
func EncodeHSDS(w io.Writer, ps []*store.Provider, now time.Time) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(ToHSDS(ps, now)); err != nil {
		return fmt.Errorf("encode hsds: %w", err)
	}
	return nil
}

// Limits bound an HSDS import.
type Limits struct {
	MaxBytes    int64
	MaxServices int
}

// DefaultLimits are the limits of an import from the web.
func DefaultLimits() Limits { return Limits{MaxBytes: 8 << 20, MaxServices: 5000} }

func invalidAt(i int, format string, args ...any) error {
	return haven.Invalidf("file", "service %d: %s", i+1, fmt.Sprintf(format, args...))
}

// DecodeHSDS reads an HSDS document into providers (with their
// organisations), without touching the store. It returns KindTooLarge
// past the limits and KindInvalid, naming the service, for a document
// Haven cannot take. Fields are checked again by the service before they
// are stored.
func DecodeHSDS(r io.Reader, lim Limits) ([]*store.Provider, error) {
	data, err := io.ReadAll(io.LimitReader(r, lim.MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read hsds: %w", err)
	}
	if int64(len(data)) > lim.MaxBytes {
		return nil, haven.Errorf(haven.KindTooLarge, "the file is larger than %d MiB", lim.MaxBytes>>20)
	}
	var doc HSDSDocument
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, &haven.Error{Kind: haven.KindInvalid, Field: "file", Message: "the file is not an HSDS JSON document", Err: err}
	}
	if len(doc.Services) > lim.MaxServices {
		return nil, haven.Errorf(haven.KindTooLarge, "the file has more than %d services", lim.MaxServices)
	}
	if len(doc.Services) == 0 {
		return nil, haven.Invalidf("file", "the document has no services")
	}
	orgs := map[string]HSDSOrganization{}
	for i, o := range doc.Organizations {
		if !haven.ValidID(o.ID) {
			return nil, haven.Invalidf("file", "organization %d: the id is not a UUID", i+1)
		}
		orgs[o.ID] = o
	}
	seen := map[string]bool{}
	out := make([]*store.Provider, 0, len(doc.Services))
	for i, sv := range doc.Services {
		if !haven.ValidID(sv.ID) {
			return nil, invalidAt(i, "the id is not a UUID")
		}
		if seen[sv.ID] {
			return nil, invalidAt(i, "the id is used twice")
		}
		seen[sv.ID] = true
		var org HSDSOrganization
		switch {
		case sv.Organization != nil:
			org = *sv.Organization
		case sv.OrganizationID != "":
			o, ok := orgs[sv.OrganizationID]
			if !ok {
				return nil, invalidAt(i, "its organization is not in the document")
			}
			org = o
		default:
			return nil, invalidAt(i, "it has no organization")
		}
		if !haven.ValidID(org.ID) {
			return nil, invalidAt(i, "its organization's id is not a UUID")
		}
		p, err := fromHSDS(sv, org)
		if err != nil {
			return nil, invalidAt(i, "%s", haven.ErrorMessage(err))
		}
		out = append(out, p)
	}
	return out, nil
}

// fromHSDS maps one service (and its organization) to a provider.
func fromHSDS(sv HSDSService, org HSDSOrganization) (*store.Provider, error) {
	p := &store.Provider{ID: sv.ID, OrganizationID: org.ID, Name: sv.Name, Description: sv.Description, Email: sv.Email,
		Organization: store.ProviderOrg{ID: org.ID, Name: org.Name, Description: org.Description, Email: org.Email, Website: org.Website}}
	switch sv.Status {
	case "active", "":
		p.Status = ProviderActive
	case "inactive", "defunct", "temporarily closed":
		p.Status = ProviderInactive
	default:
		return nil, haven.Invalidf("status", "unknown status")
	}
	if len(sv.Phones) > 0 {
		p.Phone = sv.Phones[0].Number
	}
	for _, a := range sv.ServiceAreas {
		if a.Name != "" {
			p.Areas = append(p.Areas, a.Name)
		}
	}
	for _, l := range sv.Languages {
		code := strings.ToLower(strings.TrimSpace(l.Code))
		if code == "" {
			code = LanguageCode(l.Name)
		}
		if code != "" && !slices.Contains(p.Languages, code) {
			p.Languages = append(p.Languages, code)
		}
	}
	for _, c := range sv.CostOptions {
		for k, v := range feeOption {
			if (c.Option == v || strings.EqualFold(strings.ReplaceAll(c.Option, " ", "_"), k)) && !slices.Contains(p.FeeTerms, k) {
				p.FeeTerms = append(p.FeeTerms, k)
			}
		}
	}
	slices.SortFunc(p.FeeTerms, func(a, b string) int { return slices.Index(FeeTerms, a) - slices.Index(FeeTerms, b) })
	if len(sv.ServiceAtLocations) > 50 {
		return nil, haven.Invalidf("locations", "more than 50 locations")
	}
	for _, sal := range sv.ServiceAtLocations {
		if sal.Location == nil {
			continue
		}
		l := sal.Location
		if l.LocationType == "virtual" {
			if !slices.Contains(p.Modes, ModeTelehealth) {
				p.Modes = append(p.Modes, ModeTelehealth)
			}
			continue
		}
		if !slices.Contains(p.Modes, ModeInPerson) {
			p.Modes = append(p.Modes, ModeInPerson)
		}
		if !haven.ValidID(l.ID) {
			return nil, haven.Invalidf("locations", "a location's id is not a UUID")
		}
		loc := store.ProviderLocation{ID: l.ID, Name: l.Name}
		if len(l.Addresses) > 0 {
			a := l.Addresses[0]
			loc.Address1, loc.City, loc.State, loc.PostalCode, loc.Country = a.Address1, a.City, a.StateProvince, a.PostalCode, a.Country
		}
		p.Locations = append(p.Locations, loc)
	}
	if ext := sv.Haven; ext != nil {
		p.Clinician, p.Specialities, p.Capacity = ext.Clinician, ext.Specialities, ext.Capacity
		if ext.Modes != nil {
			p.Modes = ext.Modes
		}
		if ext.FeeTerms != nil {
			p.FeeTerms = ext.FeeTerms
		}
		if ext.Status != "" {
			p.Status = ext.Status
		}
		if l := ext.Licence; l != nil {
			p.LicenceType, p.LicenceNumber, p.LicenceState = l.Type, l.Number, l.State
			if l.VerifiedOn != "" {
				t, ok := dateOnly(l.VerifiedOn)
				if !ok {
					return nil, haven.Invalidf("licence", "the licence's verified_on is not a yyyy-mm-dd date")
				}
				p.LicenceVerifiedOn = t
			}
		}
	} else if sv.Licenses != "" {
		p.LicenceType = sv.Licenses
	}
	return p, nil
}
