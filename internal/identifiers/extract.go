package identifiers

import (
	"encoding/hex"
	"strings"
	"time"

	"github.com/haven-hotline/haven"
)

// Role says where in a report an identifier was found.
type Role string

// The places of a report identifiers come from.
const (
	RoleReported  Role = "reported"  // a person or user reported, and their associated accounts
	RoleRecipient Role = "recipient" // an intended recipient
	RoleVictim    Role = "victim"    // a child victim
	RoleReporter  Role = "reporter"  // the person who reported (public and phone reports only)
	RoleFile      Role = "file"      // a file: its hashes, the uploader's IP address and device IDs
	RoleIncident  Role = "incident"  // the incident's internet details: pages, e-mails, phones, IPs
)

// Roles lists the roles in display order.
var Roles = []Role{RoleReported, RoleRecipient, RoleVictim, RoleReporter, RoleFile, RoleIncident}

var roleLabels = map[Role]string{
	RoleReported:  "Reported person or user",
	RoleRecipient: "Intended recipient",
	RoleVictim:    "Child victim",
	RoleReporter:  "Reporter",
	RoleFile:      "File",
	RoleIncident:  "Incident details",
}

// Valid reports whether r is one of the roles.
func (r Role) Valid() bool { _, ok := roleLabels[r]; return ok }

// Label returns a human-readable name for the role.
func (r Role) Label() string {
	if l, ok := roleLabels[r]; ok {
		return l
	}
	return string(r)
}

// Identifier is one identifier found in a report, in canonical form, with
// where and when the report says it was seen. The same kind, value and
// role found several times in a report is one Identifier with Sightings
// counting them.
type Identifier struct {
	Kind  Kind
	Value string // canonical form
	Role  Role
	// SeenFirst and SeenLast are the earliest and latest times the report
	// gives for the identifier (IP captures, device events, a file's
	// upload to the ESP); zero when it gives none.
	SeenFirst time.Time
	SeenLast  time.Time
	Sightings int
	// Event is the event name of the earliest dated sighting ("Login",
	// "Upload"), for IP addresses and device IDs.
	Event string
	// CallingCode is the country calling code of a phone number.
	CallingCode string
}

// Refusal is a value of a report that could not be normalised. It names
// the kind and role, never the value.
type Refusal struct {
	Kind   Kind
	Role   Role
	Reason string
}

// Extraction is what Extract found.
type Extraction struct {
	Identifiers []Identifier
	Refused     []Refusal
}

// Extract finds and normalises the identifiers of a report and its files.
// defaultCode is the country calling code of national phone numbers that
// do not give theirs.
//
// The reporter's contact details are taken from public and phone reports
// only: on ESP reports they are the ESP's own staff, and would link every
// report of that ESP.
func Extract(r *haven.Report, defaultCode string) Extraction {
	x := &extractor{r: r, defaultCode: defaultCode, index: map[idKey]int{}}
	for _, in := range r.Internet {
		x.internet(in)
	}
	if r.Source == haven.SourcePublic || r.Source == haven.SourcePhone {
		x.person(RoleReporter, &r.Reporter.ReportingPerson)
		if r.Reporter.ContactPerson != nil {
			x.person(RoleReporter, r.Reporter.ContactPerson)
		}
	}
	for _, p := range r.Reported {
		x.involved(RoleReported, p)
	}
	for _, p := range r.Recipients {
		x.involved(RoleRecipient, p)
	}
	for _, p := range r.Victims {
		x.involved(RoleVictim, p)
	}
	for _, f := range r.Files {
		x.file(f)
	}
	return x.out
}

type idKey struct {
	kind  Kind
	value string
	role  Role
}

type extractor struct {
	r           *haven.Report
	defaultCode string
	out         Extraction
	index       map[idKey]int // position in out.Identifiers
}

// add records an identifier, merging it with an earlier sighting of the
// same kind, value and role.
func (x *extractor) add(id Identifier) {
	k := idKey{id.Kind, id.Value, id.Role}
	i, ok := x.index[k]
	if !ok {
		id.Sightings = 1
		x.index[k] = len(x.out.Identifiers)
		x.out.Identifiers = append(x.out.Identifiers, id)
		return
	}
	cur := &x.out.Identifiers[i]
	cur.Sightings++
	if !id.SeenFirst.IsZero() && (cur.SeenFirst.IsZero() || id.SeenFirst.Before(cur.SeenFirst)) {
		cur.SeenFirst, cur.Event = id.SeenFirst, id.Event
	}
	if !id.SeenLast.IsZero() && id.SeenLast.After(cur.SeenLast) {
		cur.SeenLast = id.SeenLast
	}
	if cur.Event == "" {
		cur.Event = id.Event
	}
}

func (x *extractor) refuse(kind Kind, role Role, err error) {
	x.out.Refused = append(x.out.Refused, Refusal{Kind: kind, Role: role, Reason: haven.ErrorMessage(err)})
}

// value adds a normalised value, or records its refusal. Empty values are
// absent, not refused.
func (x *extractor) value(kind Kind, role Role, raw string, at time.Time, event string, norm func(string) (string, error)) {
	if strings.TrimSpace(raw) == "" {
		return
	}
	v, err := norm(raw)
	if err != nil {
		x.refuse(kind, role, err)
		return
	}
	x.add(Identifier{Kind: kind, Value: v, Role: role, SeenFirst: at, SeenLast: at, Event: event})
}

func (x *extractor) email(role Role, e haven.Email) {
	x.value(KindEmail, role, e.Value, time.Time{}, "", NormaliseEmail)
}

func (x *extractor) phone(role Role, p haven.Phone) {
	if strings.TrimSpace(p.Value) == "" {
		return
	}
	ph, err := NormalisePhone(p.Value, p.CountryCallingCode, x.defaultCode)
	if err != nil {
		x.refuse(KindPhone, role, err)
		return
	}
	x.add(Identifier{Kind: KindPhone, Value: ph.E164, Role: role, CallingCode: ph.CallingCode})
}

func (x *extractor) url(role Role, u string) {
	x.value(KindURL, role, u, time.Time{}, "", NormaliseURL)
}

func (x *extractor) ip(role Role, c haven.IPCapture) {
	x.value(KindIP, role, c.IPAddress, c.DateTime, c.EventName, func(s string) (string, error) {
		a, err := NormaliseIP(s)
		if err != nil {
			return "", err
		}
		return a.String(), nil
	})
}

func (x *extractor) device(role Role, d haven.DeviceID) {
	x.value(KindDevice, role, d.IDValue, d.DateTime, d.EventName, func(s string) (string, error) { return NormaliseDevice(d.IDType, s) })
}

func (x *extractor) screenName(role Role, service, name string) {
	x.value(KindScreenName, role, name, time.Time{}, "", func(s string) (string, error) { return NormaliseScreenName(service, s) })
}

// espUser adds an ESP user ID. On reports from ESPs the ID belongs to the
// reporting ESP's account (its IDs are unique within it, whatever it calls
// its services); on other reports to the service named.
func (x *extractor) espUser(role Role, service, id string) {
	esp := service
	if (x.r.Source == haven.SourceESP || x.r.Source == haven.SourceAPI) && x.r.SubmitterID != "" {
		esp = x.r.SubmitterID
	}
	x.value(KindESPUser, role, id, time.Time{}, "", func(s string) (string, error) { return NormaliseESPUser(esp, s) })
}

func (x *extractor) hash(kind Kind, raw string, at time.Time) {
	x.value(kind, RoleFile, raw, at, "", func(s string) (string, error) { return NormaliseHash(kind, s) })
}

func (x *extractor) person(role Role, p *haven.Person) {
	for _, e := range p.Emails {
		x.email(role, e)
	}
	for _, ph := range p.Phones {
		x.phone(role, ph)
	}
}

func (x *extractor) internet(in haven.InternetDetail) {
	for _, u := range in.URLs {
		x.url(RoleIncident, u)
	}
	for _, e := range in.Emails {
		x.email(RoleIncident, e)
	}
	if in.Phone != nil {
		x.phone(RoleIncident, *in.Phone)
	}
	for _, c := range in.IPCaptures {
		x.ip(RoleIncident, c)
	}
}

func (x *extractor) involved(role Role, p haven.Involved) {
	if p.Person != nil {
		x.person(role, p.Person)
	}
	service := firstOf(p.ESPService, x.r.Incident.Platform)
	x.screenName(role, service, p.ScreenName)
	x.espUser(role, p.ESPService, p.ESPIdentifier)
	for _, u := range p.ProfileURLs {
		x.url(role, u)
	}
	for _, c := range p.IPCaptures {
		x.ip(role, c)
	}
	for _, d := range p.DeviceIDs {
		x.device(role, d)
	}
	for _, a := range p.AssociatedAccounts {
		for _, e := range a.Emails {
			x.email(role, e)
		}
		for _, ph := range a.Phones {
			x.phone(role, ph)
		}
		x.screenName(role, firstOf(a.ESPService, a.Platform, service), a.ScreenName)
		x.espUser(role, firstOf(a.ESPService, a.Platform), a.ESPIdentifier)
		for _, u := range a.ProfileURLs {
			x.url(role, u)
		}
		for _, c := range a.IPCaptures {
			x.ip(role, c)
		}
		for _, d := range a.DeviceIDs {
			x.device(role, d)
		}
	}
}

func (x *extractor) file(f *haven.ReportFile) {
	var at time.Time
	if f.Details != nil {
		at = f.Details.UploadedToESP
	}
	for _, h := range []struct {
		kind Kind
		b    []byte
	}{{KindMD5, f.MD5}, {KindSHA1, f.SHA1}, {KindSHA256, f.SHA256}} {
		if len(h.b) > 0 {
			x.hash(h.kind, hex.EncodeToString(h.b), at)
		}
	}
	d := f.Details
	if d == nil {
		return
	}
	for _, h := range d.OriginalHashes {
		if kind, ok := hashKind(h.Type); ok {
			x.hash(kind, h.Value, at)
		}
	}
	for _, set := range d.Details {
		if !strings.EqualFold(strings.TrimSpace(set.Type), "HASH") {
			continue
		}
		for _, p := range set.Pairs {
			if kind, ok := hashKind(p.Name); ok {
				x.hash(kind, p.Value, at)
			}
		}
	}
	if d.IPCapture != nil {
		x.ip(RoleFile, *d.IPCapture)
	}
	for _, dev := range d.DeviceIDs {
		x.device(RoleFile, dev)
	}
}

func firstOf(s ...string) string {
	for _, v := range s {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}
