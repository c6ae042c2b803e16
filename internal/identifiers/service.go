package identifiers

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/audit"
	"github.com/haven-hotline/haven/internal/store"
)

// Options configure the Service.
type Options struct {
	// DefaultCallingCode is the country calling code of national phone
	// numbers that do not give theirs ("1" when empty).
	DefaultCallingCode string
}

// Service indexes reports' identifiers and answers questions about them.
type Service struct {
	store       *store.Store
	audit       *audit.Log
	clock       haven.Clock
	log         *slog.Logger
	defaultCode string
}

// New returns the service.
func New(s *store.Store, a *audit.Log, clock haven.Clock, log *slog.Logger, opts Options) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	code := strings.TrimPrefix(strings.TrimSpace(opts.DefaultCallingCode), "+")
	if !validCode(code) {
		code = "1"
	}
	return &Service{store: s, audit: a, clock: clock, log: log, defaultCode: code}
}

// DefaultCallingCode returns the calling code given to national phone
// numbers.
func (s *Service) DefaultCallingCode() string { return s.defaultCode }

// Limits of the answers.
const (
	// RelatedLimit caps the related reports listed for a report.
	RelatedLimit = 20
	// relatedEntities caps the entities of a report that are followed
	// to other reports (the least common first).
	relatedEntities = 50
	// TimelineLimit is the page size of an entity's timeline.
	TimelineLimit = 50
	// searchLimit caps the entities of a network search.
	searchLimit = 100
)

func reportRef(id int64) string { return strconv.FormatInt(id, 10) }

// linksOf turns an extraction into store links of a report.
func linksOf(reportID int64, receivedAt time.Time, ids []Identifier) []*store.EntityLink {
	links := make([]*store.EntityLink, 0, len(ids))
	for _, id := range ids {
		l := &store.EntityLink{ReportID: reportID, ReportAt: receivedAt, Kind: string(id.Kind), Value: id.Value, Role: string(id.Role),
			SeenFirst: id.SeenFirst, SeenLast: id.SeenLast, Sightings: id.Sightings}
		if id.Kind == KindIP {
			if a, err := netip.ParseAddr(id.Value); err == nil {
				l.IP = IPKey(a)
			}
		}
		links = append(links, l)
	}
	return links
}

// IndexReport extracts the identifiers of a report and its files and
// links the report to their entities, replacing the links it had: indexing
// a report again after it changed (a file's details arrived) is safe and
// exact. The indexing is audited with counts only.
func (s *Service) IndexReport(ctx context.Context, reportID int64) error {
	var ex Extraction
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		r, err := tx.Report(ctx, reportID, true)
		if err != nil {
			return err
		}
		ex = Extract(r, s.defaultCode)
		if err := tx.ReplaceReportEntities(ctx, []int64{reportID}, linksOf(reportID, r.OpenedAt, ex.Identifiers)); err != nil {
			return err
		}
		details := map[string]string{"identifiers": strconv.Itoa(len(ex.Identifiers)), "refused": strconv.Itoa(len(ex.Refused))}
		for k, n := range countKinds(ex) {
			details["kind."+string(k)] = strconv.Itoa(n)
		}
		return s.audit.Record(ctx, tx, haven.SystemActor("identifiers"), audit.Entry{Type: "identifier.index",
			ObjectType: "report", ObjectID: reportRef(reportID), Details: details})
	})
	if err != nil {
		return fmt.Errorf("index identifiers of report %d: %w", reportID, err)
	}
	if len(ex.Refused) > 0 {
		// Counts only: the refused values themselves never reach the log.
		s.log.Info("report identifiers refused", "report", reportID, "refused", len(ex.Refused), "kinds", refusedKinds(ex.Refused))
	}
	s.log.Debug("indexed report identifiers", "report", reportID, "identifiers", len(ex.Identifiers))
	return nil
}

func countKinds(ex Extraction) map[Kind]int {
	m := map[Kind]int{}
	for _, id := range ex.Identifiers {
		m[id.Kind]++
	}
	return m
}

func refusedKinds(rs []Refusal) string {
	m := map[Kind]int{}
	for _, r := range rs {
		m[r.Kind]++
	}
	var parts []string
	for _, k := range Kinds {
		if m[k] > 0 {
			parts = append(parts, string(k)+"="+strconv.Itoa(m[k]))
		}
	}
	return strings.Join(parts, ",")
}

// Entity is an identifier as Haven keeps it.
type Entity struct {
	ID        int64
	Kind      Kind
	Value     string
	FirstSeen time.Time
	LastSeen  time.Time
	Reports   int64 // how many reports mention it
}

func entityOf(e *store.Entity) Entity {
	return Entity{ID: e.ID, Kind: Kind(e.Kind), Value: e.Value, FirstSeen: e.FirstSeen, LastSeen: e.LastSeen, Reports: e.Reports}
}

// Link is an identifier of a report, with its entity.
type Link struct {
	EntityID  int64
	Kind      Kind
	Value     string
	Role      Role
	SeenFirst time.Time
	SeenLast  time.Time
	Sightings int
	Reports   int64 // how many reports mention the entity, this one included
}

// Shared is an entity a related report shares with the report, and the
// roles it has in the related report.
type Shared struct {
	EntityID int64
	Kind     Kind
	Value    string
	Roles    []Role
}

// RelatedReport is another report that shares entities with a report.
type RelatedReport struct {
	ReportID   int64
	ReceivedAt time.Time
	Shared     []Shared
}

// Related is a report's identifiers and the other reports sharing them.
type Related struct {
	ReportID    int64
	Identifiers []Link
	// Reports are the related reports, newest first, at most
	// RelatedLimit.
	Reports []RelatedReport
	// More is set when more reports are related than listed.
	More bool
}

// Related returns the identifiers of a report and the other reports that
// share any of them, newest first, with the entities they share. Entities
// mentioned by many reports are followed last, and at most
// RelatedLimit reports are listed. The read is audited. It needs
// haven.PermIdentifiers (haven.ErrForbidden).
func (s *Service) Related(ctx context.Context, a haven.Actor, reportID int64) (*Related, error) {
	if !a.Can(haven.PermIdentifiers) {
		return nil, haven.ErrForbidden
	}
	out := &Related{ReportID: reportID}
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		links, err := tx.ReportEntities(ctx, reportID)
		if err != nil {
			return err
		}
		entities := map[int64]*store.EntityLink{}
		for _, l := range links {
			out.Identifiers = append(out.Identifiers, Link{EntityID: l.EntityID, Kind: Kind(l.Kind), Value: l.Value, Role: Role(l.Role),
				SeenFirst: l.SeenFirst, SeenLast: l.SeenLast, Sightings: l.Sightings, Reports: l.Reports})
			entities[l.EntityID] = l
		}
		sortLinks(out.Identifiers)
		follow := make([]*store.EntityLink, 0, len(entities))
		for _, l := range entities {
			if l.Reports > 1 {
				follow = append(follow, l)
			}
		}
		slices.SortFunc(follow, func(x, y *store.EntityLink) int {
			return cmp.Or(cmp.Compare(x.Reports, y.Reports), cmp.Compare(x.EntityID, y.EntityID))
		})
		if len(follow) > relatedEntities {
			follow = follow[:relatedEntities]
		}
		byReport := map[int64]*RelatedReport{}
		for _, e := range follow {
			others, err := newestReports(ctx, tx, e.EntityID, reportID, RelatedLimit+1)
			if err != nil {
				return err
			}
			for _, o := range others {
				rr := byReport[o.ReportID]
				if rr == nil {
					rr = &RelatedReport{ReportID: o.ReportID, ReceivedAt: o.ReportAt}
					byReport[o.ReportID] = rr
				}
				if n := len(rr.Shared); n > 0 && rr.Shared[n-1].EntityID == e.EntityID {
					rr.Shared[n-1].Roles = append(rr.Shared[n-1].Roles, Role(o.Role))
					continue
				}
				rr.Shared = append(rr.Shared, Shared{EntityID: e.EntityID, Kind: Kind(e.Kind), Value: e.Value, Roles: []Role{Role(o.Role)}})
			}
		}
		for _, rr := range byReport {
			slices.SortFunc(rr.Shared, func(x, y Shared) int {
				return cmp.Or(cmp.Compare(slices.Index(Kinds, x.Kind), slices.Index(Kinds, y.Kind)), strings.Compare(x.Value, y.Value))
			})
			out.Reports = append(out.Reports, *rr)
		}
		slices.SortFunc(out.Reports, func(x, y RelatedReport) int {
			return cmp.Or(y.ReceivedAt.Compare(x.ReceivedAt), cmp.Compare(y.ReportID, x.ReportID))
		})
		if len(out.Reports) > RelatedLimit {
			out.Reports, out.More = out.Reports[:RelatedLimit], true
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "identifier.related", ObjectType: "report", ObjectID: reportRef(reportID),
			Details: map[string]string{"identifiers": strconv.Itoa(len(out.Identifiers)), "related": strconv.Itoa(len(out.Reports))}})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// newestReports returns the links of an entity to the n newest reports
// other than except, all roles of each report included.
func newestReports(ctx context.Context, tx *store.Tx, entityID, except int64, n int) ([]*store.EntityLink, error) {
	page := max(2*n, 4*len(Roles))
	var out []*store.EntityLink
	var after *store.LinkCursor
	reports := 0
	var last int64
	for {
		links, err := tx.EntityReports(ctx, entityID, except, after, page+len(Roles))
		if err != nil {
			return nil, err
		}
		links, more := wholeReports(links, page)
		for _, l := range links {
			if l.ReportID != last {
				if reports == n {
					return out, nil
				}
				reports++
				last = l.ReportID
			}
			out = append(out, l)
		}
		if !more {
			return out, nil
		}
		end := links[len(links)-1]
		after = &store.LinkCursor{ReportAt: end.ReportAt, ReportID: end.ReportID}
	}
}

// wholeReports cuts links (newest report first) to at most n rows without
// splitting the rows of one report (one per role), and reports whether
// rows were cut. n must be at least the number of roles.
func wholeReports(links []*store.EntityLink, n int) ([]*store.EntityLink, bool) {
	if len(links) <= n {
		return links, false
	}
	cut := n
	for cut > 0 && links[cut].ReportID == links[cut-1].ReportID {
		cut--
	}
	if cut == 0 {
		cut = n
	}
	return links[:cut], true
}

// sortLinks orders a report's identifiers by role, kind and value.
func sortLinks(ls []Link) {
	slices.SortFunc(ls, func(x, y Link) int {
		return cmp.Or(cmp.Compare(slices.Index(Roles, x.Role), slices.Index(Roles, y.Role)),
			cmp.Compare(slices.Index(Kinds, x.Kind), slices.Index(Kinds, y.Kind)), strings.Compare(x.Value, y.Value))
	})
}

// Cursor is a position in an entity's timeline: the sightings in reports
// older than it follow.
type Cursor struct {
	ReceivedAt time.Time
	ReportID   int64
}

// String encodes the cursor for a URL.
func (c Cursor) String() string {
	return strconv.FormatInt(c.ReceivedAt.UnixMilli(), 10) + "-" + strconv.FormatInt(c.ReportID, 10)
}

// ParseCursor decodes a cursor made by Cursor.String.
func ParseCursor(s string) (*Cursor, error) {
	ms, id, ok := strings.Cut(s, "-")
	m, err1 := strconv.ParseInt(ms, 10, 64)
	r, err2 := strconv.ParseInt(id, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		return nil, haven.Invalidf("after", "the page position is not valid")
	}
	return &Cursor{ReceivedAt: time.UnixMilli(m).UTC(), ReportID: r}, nil
}

// Sighting is one report's mention of an entity.
type Sighting struct {
	ReportID   int64
	ReceivedAt time.Time
	Role       Role
	SeenFirst  time.Time
	SeenLast   time.Time
	Sightings  int
}

// EntityView is an entity and a page of its timeline, newest report first.
type EntityView struct {
	Entity   Entity
	Timeline []Sighting
	// Next is the position of the next page, nil on the last.
	Next *Cursor
}

// Entity returns an entity and a page of its timeline across reports
// (TimelineLimit sightings, newest report first, after the cursor when
// one is given). The read is audited with the entity's ID. It needs
// haven.PermIdentifiers (haven.ErrForbidden); an unknown entity is
// haven.ErrNotFound.
func (s *Service) Entity(ctx context.Context, a haven.Actor, entityID int64, after *Cursor) (*EntityView, error) {
	if !a.Can(haven.PermIdentifiers) {
		return nil, haven.ErrForbidden
	}
	var v EntityView
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		e, err := tx.Entity(ctx, entityID)
		if err != nil {
			return err
		}
		v.Entity = entityOf(e)
		var cur *store.LinkCursor
		if after != nil {
			cur = &store.LinkCursor{ReportAt: after.ReceivedAt, ReportID: after.ReportID}
		}
		links, err := tx.EntityReports(ctx, entityID, 0, cur, TimelineLimit+len(Roles))
		if err != nil {
			return err
		}
		links, more := wholeReports(links, TimelineLimit)
		if more {
			last := links[len(links)-1]
			v.Next = &Cursor{ReceivedAt: last.ReportAt, ReportID: last.ReportID}
		}
		for _, l := range links {
			v.Timeline = append(v.Timeline, Sighting{ReportID: l.ReportID, ReceivedAt: l.ReportAt, Role: Role(l.Role),
				SeenFirst: l.SeenFirst, SeenLast: l.SeenLast, Sightings: l.Sightings})
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "identifier.entity_read", ObjectType: "entity",
			ObjectID: strconv.FormatInt(entityID, 10), Details: map[string]string{"kind": e.Kind, "reports": strconv.FormatInt(e.Reports, 10)}})
	})
	if err != nil {
		return nil, err
	}
	return &v, nil
}

// SearchResult is what a search found.
type SearchResult struct {
	// Kinds are the kinds the query was read as: the one asked for, or
	// those it could be when none was.
	Kinds []Kind
	// Network is the canonical network of an IP range search.
	Network string
	// Entities found, at most 100 for a network.
	Entities []Entity
	// Truncated is set when a network holds more entities than listed.
	Truncated bool
}

// candidate is one reading of a search query.
type candidate struct {
	kind  Kind
	value string
	net   netip.Prefix // for a network search
}

// Search finds the entities of a typed identifier: the query is normalised
// the same way as reports' identifiers, then matched exactly on its
// canonical form; an IP network in CIDR notation (kind ip or none) lists
// the addresses in it. Without a kind, the query is read as every kind it
// can be. Invalid queries are haven.KindInvalid (field "q" or "kind"). The
// search is audited with a keyed pseudonym of the query, never the query
// itself. It needs haven.PermIdentifiers (haven.ErrForbidden).
func (s *Service) Search(ctx context.Context, a haven.Actor, kind Kind, raw string) (*SearchResult, error) {
	if !a.Can(haven.PermIdentifiers) {
		return nil, haven.ErrForbidden
	}
	cands, err := s.readQuery(kind, raw)
	if err != nil {
		return nil, err
	}
	res := &SearchResult{}
	err = s.store.InTx(ctx, func(tx *store.Tx) error {
		var pseudonyms, found []string
		for _, c := range cands {
			if !slices.Contains(res.Kinds, c.kind) {
				res.Kinds = append(res.Kinds, c.kind)
			}
			if c.net.IsValid() {
				res.Network = c.net.String()
				pseudonyms = append(pseudonyms, s.audit.Pseudonym("ip-network:"+res.Network))
				lo, hi := PrefixRange(c.net)
				es, err := tx.EntitiesInIPRange(ctx, lo, hi, searchLimit+1)
				if err != nil {
					return err
				}
				if len(es) > searchLimit {
					es, res.Truncated = es[:searchLimit], true
				}
				for _, e := range es {
					res.Entities = append(res.Entities, entityOf(e))
				}
				continue
			}
			pseudonyms = append(pseudonyms, s.audit.Pseudonym(string(c.kind)+":"+c.value))
			e, err := tx.EntityByKey(ctx, string(c.kind), c.value)
			if haven.IsKind(err, haven.KindNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			res.Entities = append(res.Entities, entityOf(e))
		}
		for i, e := range res.Entities {
			if i == 20 {
				break
			}
			found = append(found, strconv.FormatInt(e.ID, 10))
		}
		kinds := make([]string, len(res.Kinds))
		for i, k := range res.Kinds {
			kinds[i] = string(k)
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "identifier.search", ObjectType: "entities",
			Details: map[string]string{"kinds": strings.Join(kinds, ","), "query": strings.Join(pseudonyms, ","),
				"results": strconv.Itoa(len(res.Entities)), "entities": strings.Join(found, ",")}})
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// readQuery normalises a search query as the kind given, or as every kind
// it can be read as.
func (s *Service) readQuery(kind Kind, raw string) ([]candidate, error) {
	q := strings.TrimSpace(raw)
	if q == "" {
		return nil, haven.Invalidf("q", "type an identifier to search for")
	}
	if kind != "" && !kind.Valid() {
		return nil, haven.Invalidf("kind", "choose a kind of identifier from the list")
	}
	if kind != "" {
		c, err := s.readAs(kind, q)
		if err != nil {
			return nil, haven.Invalidf("q", "%s", haven.ErrorMessage(err))
		}
		return []candidate{c}, nil
	}
	var out []candidate
	for _, k := range guessKinds(q) {
		if c, err := s.readAs(k, q); err == nil {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return nil, haven.Invalidf("q", "Haven cannot tell what kind of identifier this is: choose its kind (a screen name is written service:name)")
	}
	return out, nil
}

// guessKinds lists the kinds a query could be, from its shape.
func guessKinds(q string) []Kind {
	var ks []Kind
	isHex := strings.Trim(strings.ToLower(q), "0123456789abcdef") == ""
	phoneLike := strings.Trim(q, "+0123456789"+phoneSeparators) == ""
	switch {
	case strings.HasPrefix(strings.ToLower(q), "esp:"):
		return []Kind{KindESPUser}
	case strings.Contains(q, "://"), strings.HasPrefix(strings.ToLower(q), "www."):
		return []Kind{KindURL}
	}
	if addr, _, _ := strings.Cut(q, "/"); !strings.Contains(q, "@") {
		if _, err := netip.ParseAddr(strings.Trim(addr, "[]")); err == nil {
			ks = append(ks, KindIP)
		}
	}
	if strings.Contains(q, "@") {
		ks = append(ks, KindEmail)
	}
	if isHex {
		switch len(q) {
		case 32:
			ks = append(ks, KindMD5)
		case 40:
			ks = append(ks, KindSHA1)
		case 64:
			ks = append(ks, KindSHA256)
		}
	}
	if phoneLike {
		ks = append(ks, KindPhone)
	}
	if strings.Contains(q, ":") && !slices.Contains(ks, KindIP) {
		ks = append(ks, KindScreenName, KindDevice)
	}
	if strings.Contains(q, ".") && !strings.Contains(q, "@") && len(ks) == 0 {
		ks = append(ks, KindURL)
	}
	return ks
}

// readAs normalises a query as one kind.
func (s *Service) readAs(kind Kind, q string) (candidate, error) {
	c := candidate{kind: kind}
	var err error
	switch kind {
	case KindEmail:
		c.value, err = NormaliseEmail(q)
	case KindPhone:
		var p Phone
		p, err = NormalisePhone(q, "", s.defaultCode)
		c.value = p.E164
	case KindScreenName:
		service, name, ok := strings.Cut(q, ":")
		if !ok {
			return c, invalid("write a screen name with its service, as service:name")
		}
		c.value, err = NormaliseScreenName(service, name)
	case KindESPUser:
		rest := q
		if len(rest) > 4 && strings.EqualFold(rest[:4], "esp:") {
			rest = rest[4:]
		}
		esp, user, ok := strings.Cut(rest, ":")
		if !ok {
			return c, invalid("write an ESP user ID as esp:ESP:USER")
		}
		c.value, err = NormaliseESPUser(esp, user)
	case KindIP:
		if strings.Contains(q, "/") {
			c.net, err = ParsePrefix(q)
			return c, err
		}
		var ip netip.Addr
		ip, err = NormaliseIP(q)
		c.value = ip.String()
	case KindDevice:
		typ, value, ok := strings.Cut(q, ":")
		if !ok {
			return c, invalid("write a device ID with its type, as type:value (imei:…, idfa:…)")
		}
		c.value, err = NormaliseDevice(typ, value)
	case KindURL:
		c.value, err = NormaliseURL(q)
	case KindMD5, KindSHA1, KindSHA256:
		c.value, err = NormaliseHash(kind, q)
	default:
		return c, invalid("not a kind of identifier")
	}
	return c, err
}
