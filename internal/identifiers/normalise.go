package identifiers

import (
	"encoding/hex"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/haven-hotline/haven"
)

// Kind is the kind of an identifier.
type Kind string

// The kinds of identifier Haven links reports by.
const (
	KindEmail      Kind = "email"
	KindPhone      Kind = "phone"
	KindScreenName Kind = "screen_name" // "service:name"
	KindESPUser    Kind = "esp_user"    // "esp:<espID>:<userID>"
	KindIP         Kind = "ip"
	KindDevice     Kind = "device" // "type:value"
	KindURL        Kind = "url"
	KindMD5        Kind = "md5"
	KindSHA1       Kind = "sha1"
	KindSHA256     Kind = "sha256"
)

// Kinds lists every kind in display order.
var Kinds = []Kind{KindEmail, KindPhone, KindScreenName, KindESPUser, KindIP, KindDevice, KindURL, KindMD5, KindSHA1, KindSHA256}

var kindLabels = map[Kind]string{
	KindEmail:      "E-mail address",
	KindPhone:      "Phone number",
	KindScreenName: "Screen name",
	KindESPUser:    "ESP user ID",
	KindIP:         "IP address",
	KindDevice:     "Device ID",
	KindURL:        "URL",
	KindMD5:        "MD5",
	KindSHA1:       "SHA-1",
	KindSHA256:     "SHA-256",
}

// Valid reports whether k is one of the kinds.
func (k Kind) Valid() bool { _, ok := kindLabels[k]; return ok }

// Label returns a human-readable name for the kind.
func (k Kind) Label() string {
	if l, ok := kindLabels[k]; ok {
		return l
	}
	return string(k)
}

// The limits of what is accepted as an identifier at all.
const (
	maxValueLen = 2048 // URLs may be long; everything else is far shorter
	maxNameLen  = 256
)

// invalid returns a KindInvalid error with a safe message. It never
// contains the value: callers set Field when the value came from a form.
func invalid(msg string) *haven.Error { return &haven.Error{Kind: haven.KindInvalid, Message: msg} }

// clean trims a value and refuses what no identifier contains: invalid
// UTF-8, control characters, or more than max bytes.
func clean(raw string, max int) (string, error) {
	s := strings.TrimSpace(raw)
	switch {
	case s == "":
		return "", invalid("the value is empty")
	case len(s) > max:
		return "", invalid("the value is too long to be an identifier")
	case !utf8.ValidString(s):
		return "", invalid("the value is not valid text")
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return "", invalid("the value contains control characters")
		}
	}
	return s, nil
}

// NormaliseEmail returns the canonical form of an e-mail address: trimmed,
// without a mailto: prefix or angle brackets, lower-cased. For Gmail
// (gmail.com and googlemail.com, which are one mailbox namespace and ignore
// dots and "+tags" in the local part) the dots and the tag are dropped and
// the domain is gmail.com. Quoted local parts are refused.
func NormaliseEmail(raw string) (string, error) {
	s, err := clean(raw, 320)
	if err != nil {
		return "", err
	}
	if len(s) > 7 && strings.EqualFold(s[:7], "mailto:") {
		s = s[7:]
	}
	s = strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(s, "<"), ">"))
	if strings.ContainsAny(s, " \t,;<>()[]\\\"") {
		return "", invalid("an e-mail address cannot contain spaces, quotes or brackets")
	}
	at := strings.IndexByte(s, '@')
	if at <= 0 || at != strings.LastIndexByte(s, '@') || at == len(s)-1 {
		return "", invalid("an e-mail address has one @ with text on both sides")
	}
	local, domain := strings.ToLower(s[:at]), strings.ToLower(strings.TrimSuffix(s[at+1:], "."))
	if len(local) > 64 || strings.HasPrefix(local, ".") || strings.HasSuffix(local, ".") || strings.Contains(local, "..") ||
		strings.IndexFunc(local, func(r rune) bool { return r < 128 && !strings.ContainsRune(atext, r) }) >= 0 {
		return "", invalid("the part of the e-mail address before the @ is not valid")
	}
	if !validDomain(domain) {
		return "", invalid("the domain of the e-mail address is not valid")
	}
	if domain == "gmail.com" || domain == "googlemail.com" {
		local, _, _ = strings.Cut(local, "+")
		local = strings.ReplaceAll(local, ".", "")
		domain = "gmail.com"
		if local == "" {
			return "", invalid("the part of the e-mail address before the @ is not valid")
		}
	}
	out := local + "@" + domain
	if len(out) > 254 {
		return "", invalid("the e-mail address is too long")
	}
	return out, nil
}

// atext are the ASCII characters of an unquoted local part (RFC 5322
// section 3.2.3), with the dot; other Unicode letters are allowed too
// (RFC 6531).
const atext = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~."

// validDomain checks a lower-cased host name with at least two labels.
// Letters outside ASCII are allowed (internationalised names, kept in
// Unicode).
func validDomain(d string) bool {
	if len(d) > 253 || !strings.Contains(d, ".") {
		return false
	}
	for label := range strings.SplitSeq(d, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r == '-' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 127 && (unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r))) {
				return false
			}
		}
	}
	return true
}

// Phone is a phone number in E.164 form.
type Phone struct {
	// E164 is "+" and up to 15 digits: the country calling code and the
	// national number.
	E164 string
	// CallingCode is the country calling code ("1", "44", "353"), for
	// geolocation.
	CallingCode string
}

// phoneSeparators are the characters people put between digits.
const phoneSeparators = " -.()/\u00a0\u2010\u2011\u2012\u2013\u2014\u2015"

// NormalisePhone returns a phone number in E.164 form. raw may start with
// + or an international prefix (00, or 011 where the default calling code
// is 1) and contain the usual separators and an extension (ext, x, #),
// which is dropped. A national number takes callingCode (the report's
// countryCallingCode attribute, "+N" or "N") or else defaultCode, after its
// trunk prefix is removed (a leading 0 in most countries, 1 in the North
// American plan). Numbers of implausible length for their country calling
// code, letters and other characters are refused.
func NormalisePhone(raw, callingCode, defaultCode string) (Phone, error) {
	s, err := clean(raw, 64)
	if err != nil {
		return Phone{}, err
	}
	s = strings.ToLower(s)
	s = strings.TrimPrefix(s, "tel:")
	// An extension ends the number.
	for _, m := range []string{";ext=", "extension", "ext.", "ext", "#", "x"} {
		if i := strings.Index(s, m); i > 0 {
			s = s[:i]
		}
	}
	s = strings.TrimSpace(s)
	plus := strings.HasPrefix(s, "+")
	s = strings.TrimPrefix(s, "+")
	var digits strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits.WriteRune(r)
		case strings.ContainsRune(phoneSeparators, r):
		default:
			return Phone{}, invalid("a phone number has digits, an optional + and separators only")
		}
	}
	d := digits.String()
	defaultCode = strings.TrimPrefix(strings.TrimSpace(defaultCode), "+")
	if !validCode(defaultCode) {
		defaultCode = "1"
	}
	switch {
	case plus:
	case strings.HasPrefix(d, "00"):
		d = d[2:]
	case defaultCode == "1" && strings.HasPrefix(d, "011"):
		d = d[3:]
	default:
		cc := strings.TrimPrefix(strings.TrimSpace(callingCode), "+")
		if !validCode(cc) {
			cc = defaultCode
		}
		d = cc + nationalNumber(cc, d)
	}
	if len(d) < 7 || len(d) > 15 || d[0] == '0' {
		return Phone{}, invalid("a phone number has 7 to 15 digits with its country calling code")
	}
	cc := splitCallingCode(d)
	if !plausibleNational(cc, d[len(cc):]) {
		return Phone{}, invalid("the phone number has the wrong length for its country calling code")
	}
	return Phone{E164: "+" + d, CallingCode: cc}, nil
}

// validCode reports whether s looks like a country calling code.
func validCode(s string) bool {
	if len(s) < 1 || len(s) > 3 || s[0] == '0' {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// nationalNumber removes from a national number what is not part of it:
// the country calling code written in front of it by mistake, and the
// trunk prefix.
func nationalNumber(cc, d string) string {
	// A national number that already starts with its calling code and is
	// too long without removing it ("44 20 7946 0000" given with +44).
	if strings.HasPrefix(d, cc) && !plausibleNational(cc, d) && plausibleNational(cc, d[len(cc):]) {
		return d[len(cc):]
	}
	switch {
	case cc == "1" && len(d) == 11 && d[0] == '1':
		return d[1:]
	case cc == "7" && len(d) == 11 && d[0] == '8':
		return d[1:]
	case d != "" && d[0] == '0' && !keepsTrunkZero[cc]:
		return d[1:]
	}
	return d
}

// keepsTrunkZero lists the codes whose national numbers keep their leading
// 0 after the calling code (Italy and the numbers that follow its plan).
var keepsTrunkZero = map[string]bool{"39": true, "378": true, "379": true}

// splitCallingCode returns the country calling code at the start of an
// international number. Calling codes are a prefix code: the first digit
// (the zone) and, in some zones, the second tell how long the code is, so
// this works for codes this package has no details about.
func splitCallingCode(d string) string {
	if d == "" {
		return ""
	}
	n := 3
	switch d[0] {
	case '1', '7':
		n = 1
	case '2':
		if strings.HasPrefix(d, "20") || strings.HasPrefix(d, "27") {
			n = 2
		}
	case '3':
		if len(d) > 1 && strings.ContainsRune("0123469", rune(d[1])) {
			n = 2
		}
	case '4':
		if len(d) > 1 && d[1] != '2' {
			n = 2
		}
	case '5':
		if len(d) > 1 && d[1] >= '1' && d[1] <= '8' {
			n = 2
		}
	case '6':
		if len(d) > 1 && d[1] >= '0' && d[1] <= '6' {
			n = 2
		}
	case '8':
		if len(d) > 1 && strings.ContainsRune("1246", rune(d[1])) {
			n = 2
		}
	case '9':
		if len(d) > 1 && strings.ContainsRune("0123458", rune(d[1])) {
			n = 2
		}
	}
	return d[:min(n, len(d))]
}

// nationalLengths bounds the length of national (significant) numbers for
// common country calling codes. The ranges are generous on purpose: a
// wrong refusal loses a link, while a wrong acceptance only keeps an odd
// value. Codes not listed accept 4 to 14 digits.
var nationalLengths = map[string][2]int{
	"1": {10, 10}, "7": {10, 10}, "20": {8, 10}, "27": {9, 9}, "30": {10, 10}, "31": {9, 9}, "32": {8, 9},
	"33": {9, 9}, "34": {9, 9}, "36": {8, 9}, "39": {6, 11}, "40": {9, 9}, "41": {9, 9}, "43": {4, 13},
	"44": {9, 10}, "45": {8, 8}, "46": {7, 13}, "47": {8, 8}, "48": {9, 9}, "49": {6, 13}, "51": {8, 9},
	"52": {10, 10}, "54": {10, 11}, "55": {10, 11}, "56": {9, 9}, "57": {8, 10}, "58": {10, 10},
	"60": {7, 10}, "61": {9, 9}, "62": {7, 12}, "63": {8, 10}, "64": {8, 10}, "65": {8, 8}, "66": {8, 9},
	"81": {9, 10}, "82": {8, 10}, "84": {9, 10}, "86": {9, 11}, "90": {10, 10}, "91": {10, 10},
	"92": {9, 10}, "94": {9, 9}, "98": {10, 10}, "212": {9, 9}, "234": {8, 10}, "254": {9, 10},
	"351": {9, 9}, "353": {7, 9}, "358": {5, 12}, "380": {9, 9}, "420": {9, 9}, "852": {8, 8},
	"886": {8, 9}, "966": {8, 9}, "971": {8, 9}, "972": {8, 9},
}

// plausibleNational checks the length of a national number; for the North
// American plan also that the area code and exchange do not start with 0
// or 1.
func plausibleNational(cc, n string) bool {
	r, ok := nationalLengths[cc]
	if !ok {
		r = [2]int{4, 14}
	}
	if len(n) < r[0] || len(n) > r[1] {
		return false
	}
	if cc == "1" && (n[0] < '2' || n[3] < '2') {
		return false
	}
	return true
}

// NormaliseScreenName returns "service:name": the service lower-cased with
// its spaces collapsed ("unknown" when none is given), the name trimmed,
// without a leading @, lower-cased. Screen names are unique within a
// service regardless of case on the services that report most.
func NormaliseScreenName(service, name string) (string, error) {
	n, err := clean(name, maxNameLen)
	if err != nil {
		return "", err
	}
	n = strings.Join(strings.Fields(strings.ToLower(strings.TrimPrefix(n, "@"))), " ")
	if n == "" {
		return "", invalid("the screen name is empty")
	}
	return normaliseService(service) + ":" + n, nil
}

// normaliseService lower-cases a service or platform name and collapses
// its spaces; a colon, which separates the service from the name, becomes a
// space.
func normaliseService(s string) string {
	s = strings.ToLower(strings.ReplaceAll(s, ":", " "))
	s = strings.Join(strings.Fields(s), " ")
	s = strings.TrimPrefix(s, "www.")
	if s == "" || len(s) > maxNameLen || !utf8.ValidString(s) {
		return "unknown"
	}
	return s
}

// NormaliseESPUser returns "esp:<espID>:<userID>": the ESP (the reporting
// account, or the service named) lower-cased, and the user ID as the ESP
// gave it, trimmed (ESP user IDs may be case-sensitive).
func NormaliseESPUser(espID, userID string) (string, error) {
	u, err := clean(userID, maxNameLen)
	if err != nil {
		return "", err
	}
	e := normaliseService(espID)
	if e == "unknown" {
		return "", invalid("an ESP user ID needs the ESP it belongs to")
	}
	return "esp:" + e + ":" + u, nil
}

// NormaliseIP parses an IP address (optionally in brackets, with a port
// or a zone, which are dropped) and returns it in canonical form, an
// IPv4-mapped IPv6 address as IPv4. Addresses that say nothing about who
// used them — unspecified, loopback, private, link-local, multicast — are
// refused, since linking by them would join unrelated reports.
func NormaliseIP(raw string) (netip.Addr, error) {
	s, err := clean(raw, 100)
	if err != nil {
		return netip.Addr{}, err
	}
	a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]"))
	if err != nil {
		ap, perr := netip.ParseAddrPort(s)
		if perr != nil {
			return netip.Addr{}, invalid("the value is not an IP address")
		}
		a = ap.Addr()
	}
	a = a.WithZone("").Unmap()
	if !a.IsGlobalUnicast() || a.IsPrivate() {
		return netip.Addr{}, invalid("the IP address is not a public address: it cannot link reports")
	}
	return a, nil
}

// IPKey returns the 16-byte form of an address (IPv4 as IPv4-mapped IPv6),
// which sorts so that a network is a contiguous range.
func IPKey(a netip.Addr) []byte {
	b := a.As16()
	return b[:]
}

// PrefixRange returns the first and last 16-byte keys of a network.
func PrefixRange(p netip.Prefix) (lo, hi []byte) {
	p = p.Masked()
	bits := p.Bits()
	if p.Addr().Is4() {
		bits += 96
	}
	first := p.Addr().As16()
	last := first
	for i := bits; i < 128; i++ {
		last[i/8] |= 1 << (7 - i%8)
	}
	return first[:], last[:]
}

// ParsePrefix parses a network in CIDR notation for a search, refusing
// networks wider than /8 (IPv4) or /32 (IPv6), which would list too much.
func ParsePrefix(raw string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(strings.TrimSpace(raw))
	if err != nil {
		return netip.Prefix{}, invalid("the value is not a network such as 192.0.2.0/24")
	}
	if p.Addr().Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	if (p.Addr().Is4() && p.Bits() < 8) || (p.Addr().Is6() && p.Bits() < 32) {
		return netip.Prefix{}, invalid("the network is too wide: use at least /8 for IPv4 and /32 for IPv6")
	}
	return p.Masked(), nil
}

// NormaliseDevice returns "type:value": the type lower-cased with spaces,
// hyphens and underscores as one underscore ("unknown" when none is given);
// the value trimmed and lower-cased (device IDs are hexadecimal, decimal or
// UUIDs, none case-sensitive), IMEI and MEID as digits only, MAC addresses
// as lower-case pairs joined by colons. Values made only of zeros (an
// advertising ID the user switched off) are refused: they would link every
// such device.
func NormaliseDevice(typ, value string) (string, error) {
	v, err := clean(value, maxNameLen)
	if err != nil {
		return "", err
	}
	t := strings.Join(strings.FieldsFunc(strings.ToLower(typ), func(r rune) bool {
		return r == ' ' || r == '-' || r == '_' || r == ':' || unicode.IsSpace(r)
	}), "_")
	if t == "" || len(t) > 64 {
		t = "unknown"
	}
	v = strings.ToLower(v)
	switch t {
	case "imei", "meid", "imeisv":
		v = keep(v, func(r rune) bool { return r >= '0' && r <= '9' || t == "meid" && r >= 'a' && r <= 'f' })
		if len(v) < 14 || len(v) > 16 {
			return "", invalid("an IMEI or MEID has 14 to 16 digits")
		}
	case "mac", "mac_address":
		h := keep(v, func(r rune) bool { return r >= '0' && r <= '9' || r >= 'a' && r <= 'f' })
		if len(h) != 12 || len(keep(v, func(r rune) bool { return !strings.ContainsRune(":-. ", r) })) != 12 {
			return "", invalid("a MAC address has 12 hexadecimal digits")
		}
		var b strings.Builder
		for i := 0; i < 12; i += 2 {
			if i > 0 {
				b.WriteByte(':')
			}
			b.WriteString(h[i : i+2])
		}
		v = b.String()
	}
	if strings.Trim(v, "0-:. {}") == "" {
		return "", invalid("the device ID is empty or only zeros")
	}
	return t + ":" + v, nil
}

// keep returns the runes of s for which f is true.
func keep(s string, f func(rune) bool) string {
	return strings.Map(func(r rune) rune {
		if f(r) {
			return r
		}
		return -1
	}, s)
}

// defaultPorts are dropped from URLs.
var defaultPorts = map[string]string{"http": "80", "https": "443", "ftp": "21", "ws": "80", "wss": "443"}

// NormaliseURL returns the canonical form of a URL: scheme and host
// lower-cased, the host's trailing dot, the default port, any user name and
// password, and the fragment dropped; percent-encoding normalised
// (unreserved characters decoded, other escapes in upper case); dot
// segments removed; no trailing slash except for the root path; an empty
// query dropped. A URL without a scheme ("example.org/page") is read as
// http. Only URLs with a host are accepted.
func NormaliseURL(raw string) (string, error) {
	s, err := clean(raw, maxValueLen)
	if err != nil {
		return "", err
	}
	if strings.ContainsAny(s, " \t") {
		return "", invalid("a URL cannot contain spaces")
	}
	if !strings.Contains(s, "://") {
		if strings.Contains(s, "@") {
			return "", invalid("the value is not a URL with a host")
		}
		s = "http://" + strings.TrimPrefix(s, "//")
	}
	u, err := url.Parse(escapeLonePercent(s))
	if err != nil || u.Host == "" || u.Opaque != "" {
		return "", invalid("the value is not a URL with a host")
	}
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	host = strings.TrimSuffix(host, ".")
	if a, err := netip.ParseAddr(host); err == nil {
		host = a.WithZone("").Unmap().String()
		if a.Is6() && !a.Is4In6() {
			host = "[" + host + "]"
		}
	} else if !validHost(host) {
		return "", invalid("the value is not a URL with a host")
	}
	if port = strings.TrimLeft(port, "0"); port == defaultPorts[scheme] {
		port = ""
	}
	var b strings.Builder
	b.WriteString(scheme)
	b.WriteString("://")
	b.WriteString(host)
	if port != "" {
		b.WriteString(":")
		b.WriteString(port)
	}
	p := strings.TrimRight(removeDotSegments(normalisePercent(u.EscapedPath())), "/")
	if p == "" {
		p = "/"
	}
	b.WriteString(p)
	if q := normalisePercent(u.RawQuery); q != "" {
		b.WriteString("?")
		b.WriteString(q)
	}
	// Escaping can make the canonical form longer than what was given.
	if b.Len() > maxValueLen {
		return "", invalid("the URL is too long to be an identifier")
	}
	return b.String(), nil
}

// validHost checks a lower-cased host name of a URL: at least two
// labels of letters, digits, hyphens and underscores (which some hosts
// use).
func validHost(h string) bool {
	if len(h) > 253 || !strings.Contains(h, ".") {
		return false
	}
	for label := range strings.SplitSeq(h, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for _, r := range label {
			if !(r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 127 && (unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r))) {
				return false
			}
		}
	}
	return true
}

// unreserved reports whether c may appear in a URL without escaping and
// means the same escaped or not (RFC 3986 section 2.3).
func unreserved(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
}

// normalisePercent decodes escaped unreserved characters and upper-cases
// the hexadecimal digits of the other escapes (RFC 3986 section 6.2.2).
// A "%" not followed by two hexadecimal digits is escaped itself.
func normalisePercent(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		if i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			v, _ := hex.DecodeString(s[i+1 : i+3])
			if unreserved(v[0]) {
				b.WriteByte(v[0])
			} else {
				b.WriteByte('%')
				b.WriteString(strings.ToUpper(s[i+1 : i+3]))
			}
			i += 2
			continue
		}
		b.WriteString("%25")
	}
	return b.String()
}

// escapeLonePercent escapes each "%" not followed by two hexadecimal
// digits, which browsers send as is and url.Parse refuses.
func escapeLonePercent(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && !(i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2])) {
			b.WriteString("%25")
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

// removeDotSegments removes "." and ".." segments from a path (RFC 3986
// section 5.2.4), keeping empty segments, which servers may tell apart.
func removeDotSegments(p string) string {
	if !strings.Contains(p, ".") {
		return p
	}
	var out []string
	segs := strings.Split(p, "/")
	for i, seg := range segs {
		last := i == len(segs)-1
		switch seg {
		case ".":
			if last {
				out = append(out, "")
			}
		case "..":
			if len(out) > 1 {
				out = out[:len(out)-1]
			}
			if last {
				out = append(out, "")
			}
		default:
			out = append(out, seg)
		}
	}
	r := strings.Join(out, "/")
	if strings.HasPrefix(p, "/") && !strings.HasPrefix(r, "/") {
		r = "/" + r
	}
	return r
}

// hashLengths are the lengths in bytes of the file hash kinds.
var hashLengths = map[Kind]int{KindMD5: 16, KindSHA1: 20, KindSHA256: 32}

// NormaliseHash returns a file hash of the given kind as lower-case
// hexadecimal, refusing values of the wrong length or that are not
// hexadecimal. A "0x" prefix, spaces and colons between bytes are allowed.
func NormaliseHash(kind Kind, raw string) (string, error) {
	n, ok := hashLengths[kind]
	if !ok {
		return "", invalid("not a kind of file hash")
	}
	s, err := clean(raw, 200)
	if err != nil {
		return "", err
	}
	s = strings.TrimPrefix(strings.ToLower(s), "0x")
	s = strings.Map(func(r rune) rune {
		if r == ' ' || r == ':' {
			return -1
		}
		return r
	}, s)
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != n {
		return "", invalid("the hash must have " + strconv.Itoa(2*n) + " hexadecimal characters")
	}
	if strings.Trim(s, "0") == "" {
		return "", invalid("the hash is all zeros")
	}
	return s, nil
}

// hashKind maps the free-text hash type names ESPs use to a kind.
func hashKind(name string) (Kind, bool) {
	switch strings.ToLower(strings.NewReplacer("-", "", "_", "", " ", "").Replace(strings.TrimSpace(name))) {
	case "md5":
		return KindMD5, true
	case "sha1":
		return KindSHA1, true
	case "sha256", "sha2256":
		return KindSHA256, true
	}
	return "", false
}
