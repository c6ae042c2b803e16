package server

// The public report form (/report) and the follow-up form
// (/report/followup): for anyone, without an account or JavaScript, in
// English and Spanish.
//
// The report form is six pages. Nothing is stored until the last one: each
// page posts its answers together with the earlier ones, which travel in
// hidden fields. The first page embeds its own signed time, which the last
// page checks (a person takes more than a few seconds; a signature that
// does not verify or is hours old is refused), together with a honeypot
// field and a per-address rate limit.

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/i18n"
	"github.com/haven-hotline/haven/internal/intake"
	"github.com/haven-hotline/haven/internal/store"
)

// Limits of the public form.
const (
	// PublicMinFillTime is the least time a person takes from the first page of
	// the report form to sending it; a faster submission is refused.
	PublicMinFillTime = 5 * time.Second
	// PublicFormMaxAge is how long the signed start of a report form stays
	// valid.
	PublicFormMaxAge = 6 * time.Hour

	pfSteps           = 6
	pfMaxURLs         = 20
	pfMaxURLLen       = 2083
	pfMaxUsernames    = 20
	pfMaxNameLen      = 100
	pfMaxShortLen     = 100
	pfMaxDescLen      = 2000
	pfMaxEmailLen     = 254
	pfMaxPhoneLen     = 30
	pfMaxFollowupLen  = 5000
	pfMaxSecretLen    = 100
	pfMaxReportDigits = 18

	// pfEscalateText is Incident.Escalate when the reporter ticks the
	// urgent box.
	pfEscalateText = "Public reporter says a child is in immediate danger."
	// pfFutureSlack allows for the reporter's time zone, which the form
	// does not know: local times up to UTC+14 are not "in the future".
	pfFutureSlack = 14 * time.Hour
	// pfHoneypot is the field people leave empty because they never
	// see it.
	pfHoneypot = "website"
)

// Rate limits per client address (an IPv4 address, or the /64 of an IPv6
// address): token buckets refilled at a steady rate.
var (
	pfReportLimit   = pfRate{every: 2 * time.Minute, burst: 5} // 5 per 10 minutes, 5 at once
	pfFollowupLimit = pfRate{every: time.Minute, burst: 10}    // 10 per 10 minutes, 10 at once
)

// publicForm is the state of the public form of one Server: the key that
// signs the form's start time, the message catalogs and the limiters.
type publicForm struct {
	key       []byte
	bundle    *i18n.Bundle
	reports   *pfLimiter
	followups *pfLimiter
	// selfReports and selfCases limit the self-report page's new cases
	// and the actions on a case (see web_selfreport.go).
	selfReports *pfLimiter
	selfCases   *pfLimiter
}

// newPublicForm makes the public form's state. key signs the form's
// start time: an application secret, so that a form started on one
// instance is accepted by another.
func newPublicForm(key []byte) (*publicForm, error) {
	b, err := i18n.Load()
	if err != nil {
		return nil, err
	}
	pf := &publicForm{key: key, bundle: b, reports: newPFLimiter(pfReportLimit), followups: newPFLimiter(pfFollowupLimit),
		selfReports: newPFLimiter(pfReportLimit), selfCases: newPFLimiter(pfFollowupLimit)}
	pf.reports.name, pf.followups.name, pf.selfReports.name, pf.selfCases.name = "report", "followup", "self-report", "self-report-case"
	return pf, nil
}

// sharedLimits moves the public pages' rate limits into the database,
// shared by every instance. A bucket's key is an HMAC of the limiter's
// name and the client key under the public form's key: the table never
// holds an address.
func (pf *publicForm) sharedLimits(st *store.Store) {
	take := func(name, key string, now time.Time, r pfRate) (ok bool, wait time.Duration, err error) {
		mac := hmac.New(sha256.New, pf.key)
		mac.Write([]byte(name + "\x00" + key))
		k := hex.EncodeToString(mac.Sum(nil))
		err = st.InTx(context.Background(), func(tx *store.Tx) error {
			ok, wait, err = tx.TakeRateToken(context.Background(), k, now, r.every, r.burst)
			return err
		})
		return ok, wait, err
	}
	for _, l := range []*pfLimiter{pf.reports, pf.followups, pf.selfReports, pf.selfCases} {
		l.shared = take
	}
}

func (s *Server) publicForm() (*publicForm, error) { return s.public, nil }

// --- Signed start time ---

// stamp returns the signed start time of a form: milliseconds since the
// epoch and an HMAC of them.
func (pf *publicForm) stamp(t time.Time) string {
	ms := strconv.FormatInt(t.UnixMilli(), 10)
	return ms + "." + pf.mac(ms)
}

func (pf *publicForm) mac(ms string) string {
	m := hmac.New(sha256.New, pf.key)
	m.Write([]byte("haven public report form started at " + ms))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

var errPFStamp = errors.New("form start time missing, forged or expired")

// started verifies a stamp and returns the time it carries; a stamp from
// the future or older than PublicFormMaxAge is refused.
func (pf *publicForm) started(stamp string, now time.Time) (time.Time, error) {
	ms, sig, ok := strings.Cut(stamp, ".")
	if !ok || len(ms) > 20 || !hmac.Equal([]byte(sig), []byte(pf.mac(ms))) {
		return time.Time{}, errPFStamp
	}
	n, err := strconv.ParseInt(ms, 10, 64)
	if err != nil {
		return time.Time{}, errPFStamp
	}
	t := time.UnixMilli(n).UTC()
	if t.After(now) || now.Sub(t) > PublicFormMaxAge {
		return time.Time{}, errPFStamp
	}
	return t, nil
}

// --- Rate limiting ---

type pfRate struct {
	every time.Duration // one more attempt allowed per interval…
	burst int           // …up to this many at once
}

// pfLimiter is a token bucket per client key. With a shared backend
// (every server does: see sharedLimits) the buckets live in the database,
// so several instances behind a load balancer admit the configured rate
// between them, not each; the in-memory buckets serve when the database
// cannot answer (the request itself will then likely fail anyway).
type pfLimiter struct {
	pfRate
	name      string
	shared    func(name, key string, now time.Time, r pfRate) (bool, time.Duration, error)
	mu        sync.Mutex
	buckets   map[string]*pfBucket
	lastSweep time.Time
}

type pfBucket struct {
	tokens float64
	at     time.Time
}

// pfMaxBuckets bounds the limiter's memory. NOTE: when that many different
// clients were seen within one refill period, the limiter forgets them all
// and starts again: an attacker who controls that many addresses gains
// little, and real reporters are never locked out by a full table.
const pfMaxBuckets = 100_000

func newPFLimiter(l pfRate) *pfLimiter { return &pfLimiter{pfRate: l, buckets: map[string]*pfBucket{}} }

// allow takes one attempt for key at now. When none is left it returns
// false and how long until the next one.
func (l *pfLimiter) allow(key string, now time.Time) (bool, time.Duration) {
	if l.shared != nil {
		if ok, wait, err := l.shared(l.name, key, now, l.pfRate); err == nil {
			return ok, wait
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	full := float64(l.burst)
	if now.Sub(l.lastSweep) >= l.every {
		// A bucket that would be full again is the same as none.
		for k, b := range l.buckets {
			if b.level(now, l.every, full) >= full {
				delete(l.buckets, k)
			}
		}
		l.lastSweep = now
	}
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= pfMaxBuckets {
			clear(l.buckets)
		}
		b = &pfBucket{tokens: full, at: now}
		l.buckets[key] = b
	}
	b.tokens, b.at = b.level(now, l.every, full), now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := time.Duration((1 - b.tokens) * float64(l.every))
	return false, wait
}

func (b *pfBucket) level(now time.Time, every time.Duration, full float64) float64 {
	t := b.tokens
	if now.After(b.at) {
		t += float64(now.Sub(b.at)) / float64(every)
	}
	return min(t, full)
}

// pfLimitKey is the key of a client address for rate limiting: an IPv4
// address as is, an IPv6 address by its /64 (one home or device network
// usually holds a whole /64, so limiting single IPv6 addresses would limit
// nothing, while a wider prefix would block whole providers).
func pfLimitKey(addr string) string {
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return addr
	}
	ip = ip.Unmap().WithZone("")
	if ip.Is4() {
		return ip.String()
	}
	p, err := ip.Prefix(64)
	if err != nil {
		return ip.String()
	}
	return p.String()
}

// pfRetryAfter sets Retry-After and returns the wait in whole minutes, for
// the page.
func pfRetryAfter(w http.ResponseWriter, wait time.Duration) int {
	secs := int((wait + time.Second - 1) / time.Second)
	w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
	return max((secs+59)/60, 1)
}

// --- Fields ---

type pfKind int

const (
	pfText pfKind = iota
	pfArea
	pfEmail
	pfTel
	pfNumber
	pfDate
	pfTime
	pfFlag // checkbox, radio: written by hand in the template
)

// pfField is one answer of the report form.
type pfField struct {
	name         string
	step         int
	kind         pfKind
	max          int // in characters
	autocomplete string
	rows         int
}

// pfFields lists the answers of the report form in page order; the
// error summary follows it.
var pfFields = []pfField{
	{name: "type", step: 1, kind: pfFlag, max: 100},
	{name: "urgent", step: 1, kind: pfFlag, max: 10},
	{name: "details", step: 1, kind: pfArea, max: pfMaxDescLen, rows: 5},
	{name: "urls", step: 2, kind: pfArea, max: pfMaxURLs * (pfMaxURLLen + 2), rows: 4},
	{name: "platform", step: 2, kind: pfText, max: pfMaxShortLen},
	{name: "usernames", step: 2, kind: pfArea, max: pfMaxUsernames * (pfMaxShortLen + 2), rows: 3},
	{name: "child_name", step: 3, kind: pfText, max: pfMaxNameLen},
	{name: "child_age", step: 3, kind: pfNumber, max: 3},
	{name: "child_desc", step: 3, kind: pfArea, max: pfMaxDescLen, rows: 3},
	{name: "person_first", step: 3, kind: pfText, max: pfMaxNameLen},
	{name: "person_last", step: 3, kind: pfText, max: pfMaxNameLen},
	{name: "person_username", step: 3, kind: pfText, max: pfMaxShortLen},
	{name: "person_age", step: 3, kind: pfNumber, max: 3},
	{name: "person_desc", step: 3, kind: pfArea, max: pfMaxDescLen, rows: 3},
	{name: "date", step: 4, kind: pfDate, max: 10},
	{name: "time", step: 4, kind: pfTime, max: 8},
	{name: "when_unknown", step: 4, kind: pfFlag, max: 10},
	{name: "when_desc", step: 4, kind: pfArea, max: pfMaxDescLen, rows: 3},
	{name: "first_name", step: 5, kind: pfText, max: pfMaxNameLen, autocomplete: "given-name"},
	{name: "last_name", step: 5, kind: pfText, max: pfMaxNameLen, autocomplete: "family-name"},
	{name: "email", step: 5, kind: pfEmail, max: pfMaxEmailLen, autocomplete: "email"},
	{name: "phone", step: 5, kind: pfTel, max: pfMaxPhoneLen, autocomplete: "tel"},
	// The honeypot is on every page and carried like an answer.
	{name: pfHoneypot, step: 0, kind: pfFlag, max: 1000},
}

func pfFieldByName(name string) (pfField, bool) {
	for _, f := range pfFields {
		if f.name == name {
			return f, true
		}
	}
	return pfField{}, false
}

// pfAnswers are the report form's answers, cleaned, by field name.
type pfAnswers map[string]string

// pfReadAnswers takes every answer from a posted form.
func pfReadAnswers(form url.Values) pfAnswers {
	a := pfAnswers{}
	for _, f := range pfFields {
		a[f.name] = pfClean(form.Get(f.name), f.kind == pfArea)
	}
	return a
}

// pfClean makes typed text safe to keep: valid UTF-8, no control characters
// (a NUL would fail a PostgreSQL insert), line breaks only where a field
// has lines, trimmed.
func pfClean(s string, multiline bool) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\n' && multiline:
			return r
		case r == '\r' && multiline:
			return -1
		case r == '\t' || r == '\n' || r == '\r':
			return ' '
		case unicode.IsControl(r):
			return -1
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}

// pfLines splits a multi-line answer into its non-empty, trimmed lines.
func pfLines(s string) []string {
	var out []string
	for l := range strings.SplitSeq(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// pfProblems are error messages by field name.
type pfProblems map[string]string

func (p pfProblems) add(field, msg string) {
	if _, ok := p[field]; !ok {
		p[field] = msg
	}
}

// pfValidate checks the answers of one page of the report form.
func pfValidate(step int, a pfAnswers, c *i18n.Catalog, now time.Time) pfProblems {
	p := pfProblems{}
	// Lengths first: every field, however it arrived (ages are checked
	// as numbers below).
	for _, f := range pfFields {
		if f.step == step && f.kind != pfFlag && f.kind != pfNumber && utf8.RuneCountInString(a[f.name]) > f.max {
			p.add(f.name, c.T("err.toolong", f.max))
		}
	}
	switch step {
	case 1:
		if a["type"] == "" {
			p.add("type", c.T("err.type.required"))
		} else if !haven.IncidentType(a["type"]).Valid() {
			p.add("type", c.T("err.type.invalid"))
		}
	case 2:
		if len(pfLines(a["urls"])) > pfMaxURLs {
			p.add("urls", c.T("err.urls.count", pfMaxURLs))
		}
		// Problems name the line as the person sees it, blank lines
		// included.
		for i, u := range strings.Split(a["urls"], "\n") {
			switch u = strings.TrimSpace(u); {
			case u == "":
			case utf8.RuneCountInString(u) > pfMaxURLLen:
				p.add("urls", c.T("err.urls.long", i+1, pfMaxURLLen))
			case !pfWebURL(u):
				p.add("urls", c.T("err.urls.invalid", i+1))
			}
		}
		if len(pfLines(a["usernames"])) > pfMaxUsernames {
			p.add("usernames", c.T("err.usernames.count", pfMaxUsernames))
		}
		for i, n := range strings.Split(a["usernames"], "\n") {
			if utf8.RuneCountInString(strings.TrimSpace(n)) > pfMaxShortLen {
				p.add("usernames", c.T("err.usernames.long", i+1, pfMaxShortLen))
			}
		}
	case 3:
		if _, ok := pfAge(a["child_age"], 0, 17); !ok {
			p.add("child_age", c.T("err.child_age"))
		}
		if _, ok := pfAge(a["person_age"], 0, 120); !ok {
			p.add("person_age", c.T("err.person_age"))
		}
	case 4:
		unknown := a["when_unknown"] == "yes"
		switch {
		case unknown && (a["date"] != "" || a["time"] != ""):
			p.add("date", c.T("err.date.conflict"))
		case !unknown && a["date"] == "":
			p.add("date", c.T("err.date.required"))
		case !unknown:
			t, field, ok := pfIncidentTime(a["date"], a["time"])
			switch {
			case !ok && field == "time":
				p.add("time", c.T("err.time.invalid"))
			case !ok:
				p.add("date", c.T("err.date.invalid"))
			case t.After(now.Add(pfFutureSlack)):
				p.add("date", c.T("err.date.future"))
			}
		}
	case 5:
		if e := a["email"]; e != "" && !pfEmailOK(e) {
			p.add("email", c.T("err.email"))
		}
		if ph := a["phone"]; ph != "" && !pfPhoneOK(ph) {
			p.add("phone", c.T("err.phone"))
		}
	}
	return p
}

// pfWebURL reports whether s is an absolute http or https URL with a host.
func pfWebURL(s string) bool {
	if strings.ContainsAny(s, " \t") {
		return false
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return false
	}
	scheme := strings.ToLower(u.Scheme)
	return scheme == "http" || scheme == "https"
}

// pfAge parses an optional age; ok is false for a value that is given but
// not a whole number from lo to hi.
func pfAge(s string, lo, hi int) (*int, bool) {
	if s == "" {
		return nil, true
	}
	if len(s) > 3 {
		return nil, false
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi || strings.ContainsAny(s, "+-") {
		return nil, false
	}
	return &n, true
}

// pfIncidentTime reads the date (YYYY-MM-DD, as date inputs send it) and the
// optional time (HH:MM). The reporter's time zone is not known: the time
// is kept as given, in UTC, and the description says so.
func pfIncidentTime(date, clock string) (t time.Time, field string, ok bool) {
	d, err := time.Parse(time.DateOnly, date)
	if err != nil || d.Year() < 1900 {
		return time.Time{}, "date", false
	}
	if clock == "" {
		return d, "", true
	}
	for _, layout := range []string{"15:04", "15:04:05"} {
		if c, err := time.Parse(layout, clock); err == nil {
			return d.Add(time.Duration(c.Hour())*time.Hour + time.Duration(c.Minute())*time.Minute + time.Duration(c.Second())*time.Second), "", true
		}
	}
	return time.Time{}, "time", false
}

func pfEmailOK(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s && a.Name == "" && strings.Contains(s[strings.LastIndexByte(s, '@')+1:], ".")
}

func pfPhoneOK(s string) bool {
	digits := 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case strings.ContainsRune("+-(). /", r):
		default:
			return false
		}
	}
	return digits >= 5 && digits <= 20
}

// report builds the report from answers that passed pfValidate.
func (a pfAnswers) report(lang string, now time.Time) *haven.Report {
	r := &haven.Report{Language: lang}
	r.Incident.Type = haven.IncidentType(a["type"])
	r.Incident.Platform = a["platform"]
	if a["urgent"] == "yes" {
		text := pfEscalateText
		r.Incident.Escalate = &text
	}
	var when []string
	if t, _, ok := pfIncidentTime(a["date"], a["time"]); ok && a["when_unknown"] != "yes" {
		r.Incident.DateTime = t
		if a["time"] == "" {
			when = append(when, "Date given by the reporter, time of day not given.")
		} else {
			when = append(when, "Date and time given by the reporter; time zone not known.")
		}
	} else {
		r.Incident.DateTime = now
		when = append(when, "unknown: the reporter does not know when it happened; the time of the report is used.")
	}
	if d := a["when_desc"]; d != "" {
		when = append(when, "In the reporter's words: "+d)
	}
	r.Incident.DateTimeDescription = strings.Join(when, " ")

	if urls := pfLines(a["urls"]); len(urls) > 0 {
		d := haven.InternetDetail{Kind: haven.InternetWebPage, URLs: urls}
		if a["platform"] != "" {
			d.AdditionalInfo = "Platform or app: " + a["platform"]
		}
		r.Internet = []haven.InternetDetail{d}
	}
	if a["child_name"] != "" || a["child_age"] != "" || a["child_desc"] != "" {
		v := haven.Involved{Role: haven.RoleVictim, Person: &haven.Person{FirstName: a["child_name"]}}
		v.Person.Age, _ = pfAge(a["child_age"], 0, 17)
		if a["child_desc"] != "" {
			v.AdditionalInfo = []string{a["child_desc"]}
		}
		r.Victims = []haven.Involved{v}
	}
	if a["person_first"] != "" || a["person_last"] != "" || a["person_username"] != "" || a["person_age"] != "" || a["person_desc"] != "" {
		p := haven.Involved{Role: haven.RoleReported, ScreenName: a["person_username"]}
		if a["person_username"] != "" {
			p.ESPService = a["platform"]
		}
		if a["person_first"] != "" || a["person_last"] != "" || a["person_age"] != "" {
			p.Person = &haven.Person{FirstName: a["person_first"], LastName: a["person_last"]}
			p.Person.Age, _ = pfAge(a["person_age"], 0, 120)
		}
		if a["person_desc"] != "" {
			p.AdditionalInfo = []string{a["person_desc"]}
		}
		r.Reported = []haven.Involved{p}
	}
	you := haven.Person{FirstName: a["first_name"], LastName: a["last_name"]}
	if a["email"] != "" {
		you.Emails = []haven.Email{{Value: a["email"]}}
	}
	if a["phone"] != "" {
		you.Phones = []haven.Phone{{Value: a["phone"]}}
	}
	r.Reporter.ReportingPerson = you

	var info []string
	if a["details"] != "" {
		info = append(info, a["details"])
	}
	if names := pfLines(a["usernames"]); len(names) > 0 {
		info = append(info, "Usernames or screen names involved (from the reporter): "+strings.Join(names, ", "))
	}
	r.AdditionalInfo = strings.Join(info, "\n\n")
	return r
}

// --- What the templates get ---

// pfView is the Data of every page of public_form.html.
type pfView struct {
	c    *i18n.Catalog
	Lang string
	// Kind picks the page: step, receipt, followup, followup-done, problem.
	Kind  string
	title string

	// LangLinks switch language by link, on pages with nothing to lose;
	// SwitchTo by a button inside a form that carries the answers.
	LangLinks []pfLangOption
	SwitchTo  []pfLangOption

	// The report form.
	Step           int
	Steps          int
	Token          string
	ReturnToReview bool
	a              pfAnswers
	Hidden         []pfHidden
	// Problem is a message for the form as a whole, at the top of the
	// summary; errs are by field.
	Problem string
	errs    pfProblems
	// Limited is the message of a refusal by the rate limiter.
	Limited string

	Receipt *pfReceipt
	Review  []pfReviewSection

	// The follow-up form.
	FollowupNumber string

	maxDate string // the latest date the date input offers
}

type pfLangOption struct{ Code, Name, Href string }

type pfHidden struct{ Name, Value string }

type pfReceipt struct {
	Number int64
	Secret string
	Urgent bool
}

type pfReviewSection struct {
	Step  int
	Title string
	Rows  []pfReviewRow
}

type pfReviewRow struct {
	Label string
	Lines []string // empty: not given
}

// pfStepInfo is one entry of the step indicator.
type pfStepInfo struct {
	Title         string
	Current, Done bool
}

// pfTypeOption is one incident type radio button.
type pfTypeOption struct {
	ID, Value, Label, Explain string
	Checked                   bool
}

// pfProblemLink is one line of the error summary.
type pfProblemLink struct{ ID, Message string }

// pfFieldView is what the pf-input template needs to draw one input.
type pfFieldView struct {
	Name, ID, Value, Label, Hint, Error, ErrorPrefix string
	Type, InputMode, Autocomplete, DescribedBy, Max  string
	MaxLength, Rows                                  int
	Multi                                            bool
}

// T returns a message of the view's language.
func (v *pfView) T(key string, args ...any) string { return v.c.T(key, args...) }

// Home and FooterKey fill the public layout (_public_layout.html).
func (v *pfView) Home() string { return "/report" }

// FooterKey is the message of the page's footer.
func (v *pfView) FooterKey() string { return "page.footer" }

// V returns an answer.
func (v *pfView) V(name string) string { return v.a[name] }

// Err returns the problem with a field.
func (v *pfView) Err(name string) string { return v.errs[name] }

// StepTitle is the heading of the current step.
func (v *pfView) StepTitle() string { return v.T(fmt.Sprintf("step%d.title", v.Step)) }

// StepList is the step indicator.
func (v *pfView) StepList() []pfStepInfo {
	out := make([]pfStepInfo, pfSteps)
	for i := range out {
		out[i] = pfStepInfo{Title: v.T(fmt.Sprintf("step%d.short", i+1)), Current: i+1 == v.Step, Done: i+1 < v.Step}
	}
	return out
}

// Errors is the error summary, in page order.
func (v *pfView) Errors() []pfProblemLink {
	var out []pfProblemLink
	for _, name := range []string{"type", "urgent", "details", "urls", "platform", "usernames", "child_name", "child_age",
		"child_desc", "person_first", "person_last", "person_username", "person_age", "person_desc", "date", "time",
		"when_unknown", "when_desc", "first_name", "last_name", "email", "phone", pfHoneypot, "number", "secret", "text"} {
		if m := v.errs[name]; m != "" {
			out = append(out, pfProblemLink{ID: "f-" + name, Message: m})
		}
	}
	return out
}

// HasErrors reports whether the summary has anything to show.
func (v *pfView) HasErrors() bool { return v.Problem != "" || len(v.errs) > 0 }

// Types are the incident type choices, in the schema's order.
func (v *pfView) Types() []pfTypeOption {
	out := make([]pfTypeOption, len(haven.IncidentTypes))
	for i, t := range haven.IncidentTypes {
		id := "f-type"
		if i > 0 {
			id = fmt.Sprintf("f-type-%d", i+1)
		}
		k := pfTypeKey(t)
		out[i] = pfTypeOption{ID: id, Value: string(t), Label: v.T("type." + k + ".label"), Explain: v.T("type." + k + ".explain"),
			Checked: v.a["type"] == string(t)}
	}
	return out
}

// pfTypeKey is the catalog key part of an incident type.
func pfTypeKey(t haven.IncidentType) string {
	switch t {
	case haven.IncidentCSAM:
		return "csam"
	case haven.IncidentSexTrafficking:
		return "trafficking"
	case haven.IncidentSexTourism:
		return "tourism"
	case haven.IncidentMolestation:
		return "molestation"
	case haven.IncidentMisleadingDomain:
		return "domain"
	case haven.IncidentMisleadingWords:
		return "words"
	case haven.IncidentEnticement:
		return "enticement"
	case haven.IncidentUnsolicitedObscene:
		return "obscene"
	}
	return "unknown"
}

// Field describes one input for the pf-input template.
func (v *pfView) Field(name string) pfFieldView {
	f, _ := pfFieldByName(name)
	prefix := "f."
	if name == "number" || name == "secret" || name == "text" { // the follow-up form
		prefix = "fu."
	}
	fv := pfFieldView{Name: name, ID: "f-" + name, Value: v.a[name], Label: v.T(prefix + name + ".label"),
		Error: v.errs[name], ErrorPrefix: v.T("err.prefix"), MaxLength: f.max, Rows: f.rows, Autocomplete: "off", Type: "text"}
	if f.autocomplete != "" {
		fv.Autocomplete = f.autocomplete
	}
	if v.c.Has(prefix + name + ".hint") {
		fv.Hint = v.T(prefix + name + ".hint")
	}
	switch f.kind {
	case pfArea:
		fv.Multi = true
	case pfEmail:
		fv.Type = "email"
	case pfTel:
		fv.Type = "tel"
	case pfNumber:
		fv.InputMode = "numeric"
	case pfDate:
		fv.Type = "date"
		fv.Max = v.maxDate
	case pfTime:
		fv.Type = "time"
	}
	switch name {
	case "number":
		fv.InputMode, fv.MaxLength = "numeric", pfMaxReportDigits+2
	case "secret":
		fv.MaxLength = pfMaxSecretLen
	case "text":
		fv.Multi, fv.Rows, fv.MaxLength = true, 8, pfMaxFollowupLen
	}
	var ids []string
	if fv.Hint != "" {
		ids = append(ids, fv.ID+"-hint")
	}
	if fv.Error != "" {
		ids = append(ids, fv.ID+"-error")
	}
	fv.DescribedBy = strings.Join(ids, " ")
	return fv
}

// --- Handlers ---

// pfNewView starts the view of a page in the visitor's language: the
// lang field or parameter when it names a supported language, else the
// first supported one of Accept-Language.
func (s *Server) pfNewView(r *request, pf *publicForm, asked string) *pfView {
	lang := asked
	if !pf.bundle.Supported(lang) {
		lang = pf.bundle.Match(r.Header.Get("Accept-Language"))
	}
	v := &pfView{errs: pfProblems{}, a: pfAnswers{}, Steps: pfSteps}
	v.setLang(pf, lang)
	v.maxDate = s.app.Clock.Now().Add(pfFutureSlack).Format(time.DateOnly)
	return v
}

func (v *pfView) setLang(pf *publicForm, lang string) {
	v.c = pf.bundle.Catalog(lang)
	v.Lang = v.c.Lang()
	v.SwitchTo = nil
	for _, l := range pf.bundle.Languages() {
		if l != v.Lang {
			v.SwitchTo = append(v.SwitchTo, pfLangOption{Code: l, Name: pf.bundle.Catalog(l).Name()})
		}
	}
}

// links turns the language switch into links to path.
func (v *pfView) links(path string) {
	for _, o := range v.SwitchTo {
		o.Href = path + "?lang=" + o.Code
		v.LangLinks = append(v.LangLinks, o)
	}
	v.SwitchTo = nil
}

func (s *Server) pfRender(w http.ResponseWriter, r *request, status int, v *pfView) error {
	if v.title == "" {
		v.title = v.T("title.report")
	}
	return s.render(w, status, "public_form", s.newPage(r, v.title, v))
}

// pfFail answers an error of a public page with a public page in the
// visitor's language (the generic error page is the staff one). Internal
// errors are logged with their chain, as fail does.
func (s *Server) pfFail(w http.ResponseWriter, r *request, v *pfView, err error) error {
	status := statusOf(err)
	if status >= 500 {
		s.log.Error("request failed", "request_id", r.id, "method", r.Method, "route", r.route.Path, "err", err)
	}
	v.Kind, v.title = "problem", v.T("problem.title")
	switch status {
	case http.StatusRequestEntityTooLarge:
		v.Problem = v.T("problem.toolarge")
	case http.StatusBadRequest:
		v.Problem = v.T("problem.invalid")
	case http.StatusForbidden:
		v.Problem = v.T("problem.forbidden")
	default:
		v.Problem = v.T("problem.internal")
	}
	v.links(r.URL.Path)
	return s.pfRender(w, r, status, v)
}

// pfShowStep renders a page of the report form with the answers of the other
// pages in hidden fields.
func (s *Server) pfShowStep(w http.ResponseWriter, r *request, status int, v *pfView, step int) error {
	v.Kind, v.Step = "step", step
	v.title = v.T("title.step", v.StepTitle(), step, pfSteps)
	v.Hidden = nil
	for _, f := range pfFields {
		if f.step != step && f.name != pfHoneypot && v.a[f.name] != "" {
			v.Hidden = append(v.Hidden, pfHidden{Name: f.name, Value: v.a[f.name]})
		}
	}
	if step == pfSteps {
		v.Review = v.review()
	}
	return s.pfRender(w, r, status, v)
}

// review lists every answer, by step.
func (v *pfView) review() []pfReviewSection {
	row := func(label string, values ...string) pfReviewRow {
		var ls []string
		for _, val := range values {
			ls = append(ls, pfLines(val)...)
		}
		return pfReviewRow{Label: label, Lines: ls}
	}
	a := v.a
	typ := ""
	if t := haven.IncidentType(a["type"]); t.Valid() {
		typ = v.T("type." + pfTypeKey(t) + ".label")
	}
	urgent := v.T("review.no")
	if a["urgent"] == "yes" {
		urgent = v.T("review.yes")
	}
	when := a["date"]
	if a["time"] != "" {
		when += " " + a["time"]
	}
	if a["when_unknown"] == "yes" {
		when = v.T("f.when_unknown.label")
	}
	sec := func(step int, rows ...pfReviewRow) pfReviewSection {
		return pfReviewSection{Step: step, Title: v.T(fmt.Sprintf("step%d.title", step)), Rows: rows}
	}
	return []pfReviewSection{
		sec(1, row(v.T("review.type"), typ), row(v.T("review.urgent"), urgent), row(v.T("f.details.label"), a["details"])),
		sec(2, row(v.T("f.urls.label"), a["urls"]), row(v.T("f.platform.label"), a["platform"]),
			row(v.T("f.usernames.label"), a["usernames"])),
		sec(3, row(v.T("f.child_name.label"), a["child_name"]), row(v.T("f.child_age.label"), a["child_age"]),
			row(v.T("f.child_desc.label"), a["child_desc"]),
			row(v.T("f.person_first.label"), a["person_first"]), row(v.T("f.person_last.label"), a["person_last"]),
			row(v.T("f.person_username.label"), a["person_username"]), row(v.T("f.person_age.label"), a["person_age"]),
			row(v.T("f.person_desc.label"), a["person_desc"])),
		sec(4, row(v.T("review.when"), when), row(v.T("f.when_desc.label"), a["when_desc"])),
		sec(5, row(v.T("f.first_name.label"), a["first_name"]), row(v.T("f.last_name.label"), a["last_name"]),
			row(v.T("f.email.label"), a["email"]), row(v.T("f.phone.label"), a["phone"])),
	}
}

// publicReportPage is the first page of the report form.
func (s *Server) publicReportPage(w http.ResponseWriter, r *request) error {
	pf, err := s.publicForm()
	if err != nil {
		return err
	}
	v := s.pfNewView(r, pf, r.URL.Query().Get("lang"))
	v.Token = pf.stamp(s.app.Clock.Now())
	v.links("/report")
	return s.pfShowStep(w, r, http.StatusOK, v, 1)
}

// publicReportSubmit moves between the pages of the report form and, from
// the last one, files the report.
func (s *Server) publicReportSubmit(w http.ResponseWriter, r *request) error {
	pf, err := s.publicForm()
	if err != nil {
		return err
	}
	if err := parseForm(r); err != nil {
		return s.pfFail(w, r, s.pfNewView(r, pf, ""), err)
	}
	form := r.PostForm
	v := s.pfNewView(r, pf, form.Get("lang"))
	v.a = pfReadAnswers(form)
	now := s.app.Clock.Now()
	v.Token = form.Get("started")
	if _, err := pf.started(v.Token, now); err != nil && form.Get("go") != "submit" {
		// A page without a valid start (forged, or left open for hours)
		// starts the clock again; the last page refuses it instead.
		v.Token = pf.stamp(now)
	}
	v.ReturnToReview = form.Get("ret") == "review"
	step, err := strconv.Atoi(form.Get("step"))
	if err != nil || step < 1 || step > pfSteps {
		step = 1
	}
	if lang := form.Get("switch"); lang != "" {
		if pf.bundle.Supported(lang) {
			v.setLang(pf, lang)
		}
		return s.pfShowStep(w, r, http.StatusOK, v, step)
	}
	switch action := form.Get("go"); {
	case action == "back":
		v.ReturnToReview = false
		return s.pfShowStep(w, r, http.StatusOK, v, max(step-1, 1))
	case strings.HasPrefix(action, "edit"):
		n, err := strconv.Atoi(strings.TrimPrefix(action, "edit"))
		if err != nil || n < 1 || n >= pfSteps {
			n = 1
		}
		v.ReturnToReview = true
		return s.pfShowStep(w, r, http.StatusOK, v, n)
	case action == "submit" && step == pfSteps:
		return s.pfFile(w, r, pf, v, now)
	}
	// Next.
	if p := pfValidate(step, v.a, v.c, now); len(p) > 0 {
		v.errs = p
		return s.pfShowStep(w, r, http.StatusBadRequest, v, step)
	}
	next := step + 1
	if v.ReturnToReview {
		next = pfSteps
	}
	if next == pfSteps {
		v.ReturnToReview = false
		for st := 1; st < pfSteps; st++ {
			if p := pfValidate(st, v.a, v.c, now); len(p) > 0 {
				v.errs = p
				return s.pfShowStep(w, r, http.StatusBadRequest, v, st)
			}
		}
	}
	return s.pfShowStep(w, r, http.StatusOK, v, min(next, pfSteps))
}

// pfFile files the report from the last page, after the rate
// limit, the honeypot and the time checks.
func (s *Server) pfFile(w http.ResponseWriter, r *request, pf *publicForm, v *pfView, now time.Time) error {
	if ok, wait := pf.reports.allow(pfLimitKey(r.client.Addr), now); !ok {
		v.Limited = v.T("limit.report", pfRetryAfter(w, wait))
		s.log.Info("public report refused", "request_id", r.id, "reason", "rate_limit")
		return s.pfShowStep(w, r, http.StatusTooManyRequests, v, pfSteps)
	}
	if v.a[pfHoneypot] != "" {
		s.log.Info("public report refused", "request_id", r.id, "reason", "honeypot")
		v.Problem = v.T("err.resubmit")
		v.errs.add(pfHoneypot, v.T("err.honeypot"))
		return s.pfShowStep(w, r, http.StatusBadRequest, v, pfSteps)
	}
	start, err := pf.started(v.Token, now)
	if err != nil || now.Sub(start) < PublicMinFillTime {
		reason := "too_fast"
		if err != nil {
			reason = "bad_stamp"
			v.Token = pf.stamp(now)
		}
		s.log.Info("public report refused", "request_id", r.id, "reason", reason)
		v.Problem = v.T("err.resubmit")
		return s.pfShowStep(w, r, http.StatusBadRequest, v, pfSteps)
	}
	for st := 1; st < pfSteps; st++ {
		if p := pfValidate(st, v.a, v.c, now); len(p) > 0 {
			v.errs = p
			return s.pfShowStep(w, r, http.StatusBadRequest, v, st)
		}
	}
	rep, secret, err := s.app.Intake.SubmitPublic(r.Context(), r.actor, v.a.report(v.Lang, now))
	if err != nil {
		if statusOf(err) >= 500 {
			return s.pfFail(w, r, v, err)
		}
		// The form checks more than intake does, so this is not expected.
		s.log.Warn("public report refused by intake", "request_id", r.id, "kind", haven.ErrorKind(err).String())
		v.Problem = v.T("err.resubmit")
		return s.pfShowStep(w, r, http.StatusBadRequest, v, pfSteps)
	}
	v.Kind, v.title = "receipt", v.T("receipt.title")
	v.Receipt = &pfReceipt{Number: rep.ID, Secret: secret, Urgent: rep.Incident.Escalate != nil}
	return s.pfRender(w, r, http.StatusOK, v)
}

// publicFollowupPage is the form to add information to a report.
func (s *Server) publicFollowupPage(w http.ResponseWriter, r *request) error {
	pf, err := s.publicForm()
	if err != nil {
		return err
	}
	v := s.pfNewView(r, pf, r.URL.Query().Get("lang"))
	v.Kind, v.title = "followup", v.T("fu.title")
	v.links("/report/followup")
	return s.pfRender(w, r, http.StatusOK, v)
}

// publicFollowupSubmit adds the information with the report's secret.
func (s *Server) publicFollowupSubmit(w http.ResponseWriter, r *request) error {
	pf, err := s.publicForm()
	if err != nil {
		return err
	}
	if err := parseForm(r); err != nil {
		return s.pfFail(w, r, s.pfNewView(r, pf, ""), err)
	}
	form := r.PostForm
	v := s.pfNewView(r, pf, form.Get("lang"))
	v.Kind, v.title = "followup", v.T("fu.title")
	number := strings.TrimPrefix(pfClean(form.Get("number"), false), "#")
	v.a = pfAnswers{"number": number, "secret": pfClean(form.Get("secret"), false), "text": pfClean(form.Get("text"), true)}
	if lang := form.Get("switch"); lang != "" {
		if pf.bundle.Supported(lang) {
			v.setLang(pf, lang)
			v.title = v.T("fu.title")
		}
		return s.pfRender(w, r, http.StatusOK, v)
	}
	now := s.app.Clock.Now()
	if ok, wait := pf.followups.allow(pfLimitKey(r.client.Addr), now); !ok {
		v.Limited = v.T("limit.followup", pfRetryAfter(w, wait))
		s.log.Info("public follow-up refused", "request_id", r.id, "reason", "rate_limit")
		return s.pfRender(w, r, http.StatusTooManyRequests, v)
	}
	id, err := strconv.ParseInt(number, 10, 64)
	switch {
	case number == "":
		v.errs.add("number", v.T("err.number.required"))
	case err != nil || id <= 0 || len(number) > pfMaxReportDigits:
		v.errs.add("number", v.T("err.number.invalid"))
	}
	if v.a["secret"] == "" {
		v.errs.add("secret", v.T("err.secret.required"))
	}
	text := v.a["text"]
	switch {
	case text == "":
		v.errs.add("text", v.T("err.text.required"))
	case utf8.RuneCountInString(text) > pfMaxFollowupLen || len(text) > 10000:
		v.errs.add("text", v.T("err.toolong", pfMaxFollowupLen))
	}
	if len(v.errs) == 0 && len(v.a["secret"]) > pfMaxSecretLen {
		v.errs.add("number", v.T("err.followup.denied"))
		v.errs.add("secret", v.T("err.followup.denied"))
	}
	if len(v.errs) > 0 {
		return s.pfRender(w, r, http.StatusBadRequest, v)
	}
	err = s.app.Intake.AddFollowup(r.Context(), r.actor, id, v.a["secret"], text, v.Lang)
	switch {
	case errors.Is(err, intake.ErrFollowupDenied):
		v.errs.add("number", v.T("err.followup.denied"))
		v.errs.add("secret", v.T("err.followup.denied"))
		return s.pfRender(w, r, http.StatusBadRequest, v)
	case haven.IsKind(err, haven.KindConflict):
		v.Problem = v.T("err.followup.full")
		return s.pfRender(w, r, http.StatusConflict, v)
	case haven.IsKind(err, haven.KindInvalid):
		v.errs.add("text", v.T("err.toolong", pfMaxFollowupLen))
		return s.pfRender(w, r, http.StatusBadRequest, v)
	case err != nil:
		return s.pfFail(w, r, v, err)
	}
	v.Kind, v.title, v.FollowupNumber = "followup-done", v.T("fudone.title"), number
	return s.pfRender(w, r, http.StatusOK, v)
}
