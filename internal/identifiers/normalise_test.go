package identifiers

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"

	"github.com/haven-hotline/haven"
)

// norm is one normaliser case: the input, the canonical form wanted, or
// "" when the input must be refused.
type norm struct {
	name, in, want string
}

func runNorm(t *testing.T, cases []norm, f func(string) (string, error)) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := f(c.in)
			if c.want == "" {
				if err == nil {
					t.Fatalf("got %q, want a refusal", got)
				}
				if !haven.IsKind(err, haven.KindInvalid) {
					t.Errorf("got error kind %v, want invalid", haven.ErrorKind(err))
				}
				if strings.TrimSpace(c.in) != "" && strings.Contains(err.Error(), strings.TrimSpace(c.in)) {
					t.Errorf("the error %q repeats the value", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v, want %q", err, c.want)
			}
			if got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
			// Canonical forms are fixed points.
			if again, err := f(got); err != nil || again != got {
				t.Errorf("normalising the canonical form again gave %q, %v", again, err)
			}
		})
	}
}

func TestNormaliseEmail(t *testing.T) {
	runNorm(t, []norm{
		{"plain", "person@example.org", "person@example.org"},
		{"case and spaces", "  Person.One@EXAMPLE.ORG ", "person.one@example.org"},
		{"mailto and brackets", "mailto:<Person@Example.org>", "person@example.org"},
		{"trailing dot of the domain", "person@example.org.", "person@example.org"},
		{"tag kept elsewhere", "person+tag@example.org", "person+tag@example.org"},
		{"dots kept elsewhere", "p.e.r.son@example.com", "p.e.r.son@example.com"},
		{"gmail dots and tag", "P.Erson+Haven.Test@Gmail.com", "person@gmail.com"},
		{"googlemail is gmail", "person@googlemail.com", "person@gmail.com"},
		{"unicode domain", "person@exämple.org", "person@exämple.org"},
		{"no at", "person.example.org", ""},
		{"two ats", "a@b@example.org", ""},
		{"nothing before the at", "@example.org", ""},
		{"nothing after the at", "person@", ""},
		{"no dot in the domain", "person@localhost", ""},
		{"space inside", "per son@example.org", ""},
		{"quoted local part", `"per son"@example.org`, ""},
		{"double dot", "per..son@example.org", ""},
		{"leading dot", ".person@example.org", ""},
		{"bad domain label", "person@-example.org", ""},
		{"gmail tag only", "+tag@gmail.com", ""},
		{"control character", "person\x00@example.org", ""},
		{"empty", "   ", ""},
		{"too long", strings.Repeat("a", 65) + "@example.org", ""},
	}, NormaliseEmail)
}

func TestNormalisePhone(t *testing.T) {
	cases := []struct {
		name, in, cc, def string
		want, code        string
	}{
		{"E.164", "+12025550143", "", "1", "+12025550143", "1"},
		{"NANP formatted", "+1 (202) 555-0143", "", "1", "+12025550143", "1"},
		{"NANP national", "(202) 555-0143", "", "1", "+12025550143", "1"},
		{"NANP with trunk 1", "1-202-555-0143", "", "1", "+12025550143", "1"},
		{"NANP dots", "202.555.0143", "", "1", "+12025550143", "1"},
		{"NANP international prefix", "011 44 20 7946 0018", "", "1", "+442079460018", "44"},
		{"00 prefix", "0044 20 7946 0018", "", "44", "+442079460018", "44"},
		{"extension dropped", "+1 202 555 0143 ext. 12", "", "1", "+12025550143", "1"},
		{"x extension dropped", "202-555-0143 x99", "", "1", "+12025550143", "1"},
		{"tel URI", "tel:+1-202-555-0143", "", "1", "+12025550143", "1"},
		{"calling code attribute", "020 7946 0018", "+44", "1", "+442079460018", "44"},
		{"calling code attribute, number with it", "44 20 7946 0018", "+44", "1", "+442079460018", "44"},
		{"default code from config", "020 7946 0018", "", "44", "+442079460018", "44"},
		{"default code with plus", "020 7946 0018", "", "+44", "+442079460018", "44"},
		{"Italy keeps its zero", "06 1234 5678", "39", "1", "+390612345678", "39"},
		{"Ireland three-digit code", "+353 1 555 0100", "", "1", "+35315550100", "353"},
		{"unknown code accepted", "+999 1234 5678", "", "1", "+99912345678", "999"},
		{"no default falls back to 1", "202 555 0143", "", "", "+12025550143", "1"},
		{"letters", "1-800-FLOWERS", "", "1", "", ""},
		{"too short", "555-0143", "", "1", "", ""},
		{"too long", "+1 202 555 0143 0143 0143", "", "1", "", ""},
		{"NANP area code starting with 1", "+1 102 555 0143", "", "1", "", ""},
		{"NANP exchange starting with 0", "+1 202 055 0143", "", "1", "", ""},
		{"UK too short", "+44 20 7946", "", "1", "", ""},
		{"plus in the middle", "202+5550143", "", "1", "", ""},
		{"empty", "", "", "1", "", ""},
		{"only separators", "() - .", "", "1", "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := NormalisePhone(c.in, c.cc, c.def)
			if c.want == "" {
				if err == nil {
					t.Fatalf("got %+v, want a refusal", got)
				}
				if !haven.IsKind(err, haven.KindInvalid) {
					t.Errorf("got error kind %v, want invalid", haven.ErrorKind(err))
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v, want %s", err, c.want)
			}
			if got.E164 != c.want || got.CallingCode != c.code {
				t.Errorf("got %+v, want %s with code %s", got, c.want, c.code)
			}
			if again, err := NormalisePhone(got.E164, "", "7"); err != nil || again != got {
				t.Errorf("normalising the E.164 form again gave %+v, %v", again, err)
			}
		})
	}
}

func TestSplitCallingCode(t *testing.T) {
	for in, want := range map[string]string{
		"12025550143": "1", "74951234567": "7", "201234567890": "20", "27123456789": "27", "2341234567": "234",
		"3312345678": "33", "35312345678": "353", "4212345678": "421", "4412345678": "44", "5012345678": "501",
		"5512345678": "55", "6112345678": "61", "6712345678": "671", "8112345678": "81", "8521234567": "852",
		"9112345678": "91", "9661234567": "966", "9981234567": "998",
	} {
		if got := splitCallingCode(in); got != want {
			t.Errorf("splitCallingCode(%s): got %s, want %s", in, got, want)
		}
	}
}

func TestNormaliseScreenName(t *testing.T) {
	runNorm(t, []norm{
		{"service and name", "Example Chat:Some_User", "example chat:some_user"},
		{"at sign", "example chat:@Some_User", "example chat:some_user"},
		{"inner spaces collapsed", "example   chat:some   user", "example chat:some user"},
		{"no service", ":some_user", "unknown:some_user"},
		{"name with colon", "svc:a:b", "svc:a:b"},
		{"empty name", "svc:  ", ""},
		{"only at", "svc:@", ""},
		{"control", "svc:a\x07b", ""},
	}, func(s string) (string, error) {
		svc, name, _ := strings.Cut(s, ":")
		return NormaliseScreenName(svc, name)
	})
	if got, _ := NormaliseScreenName("www.Example:Chat", "x"); got != "example chat:x" {
		t.Errorf("service with www and a colon: got %q", got)
	}
}

func TestNormaliseESPUser(t *testing.T) {
	runNorm(t, []norm{
		{"plain", "esp-1:User123", "esp:esp-1:User123"},
		{"ESP lower-cased, user kept", "ESP-1: AbC ", "esp:esp-1:AbC"},
		{"no ESP", ":user", ""},
		{"no user", "esp-1:", ""},
	}, func(s string) (string, error) {
		esp, user, _ := strings.Cut(strings.TrimPrefix(s, "esp:"), ":")
		return NormaliseESPUser(esp, user)
	})
}

func TestNormaliseIP(t *testing.T) {
	runNorm(t, []norm{
		{"IPv4", "192.0.2.7", "192.0.2.7"},
		{"IPv4 with spaces", " 198.51.100.20 ", "198.51.100.20"},
		{"IPv4 with port", "203.0.113.5:8443", "203.0.113.5"},
		{"IPv4-mapped", "::ffff:192.0.2.7", "192.0.2.7"},
		{"IPv6 compressed", "2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1"},
		{"IPv6 brackets", "[2001:db8::1]", "2001:db8::1"},
		{"IPv6 brackets and port", "[2001:db8::1]:443", "2001:db8::1"},
		{"IPv6 zone dropped", "2001:db8::1%eth0", "2001:db8::1"},
		{"private", "10.1.2.3", ""},
		{"private 192.168", "192.168.1.1", ""},
		{"loopback", "127.0.0.1", ""},
		{"unspecified", "0.0.0.0", ""},
		{"link-local", "169.254.1.1", ""},
		{"IPv6 loopback", "::1", ""},
		{"IPv6 unique local", "fd00::1", ""},
		{"multicast", "224.0.0.1", ""},
		{"not an address", "192.0.2", ""},
		{"leading zeros", "192.000.002.007", ""},
		{"host name", "example.org", ""},
	}, func(s string) (string, error) {
		a, err := NormaliseIP(s)
		if err != nil {
			return "", err
		}
		return a.String(), nil
	})
}

func TestPrefixRange(t *testing.T) {
	for _, c := range []struct{ in, lo, hi string }{
		{"192.0.2.0/24", "192.0.2.0", "192.0.2.255"},
		{"192.0.2.77/24", "192.0.2.0", "192.0.2.255"},
		{"198.51.100.0/31", "198.51.100.0", "198.51.100.1"},
		{"2001:db8::/32", "2001:db8::", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"},
		{"::ffff:192.0.2.0/120", "192.0.2.0", "192.0.2.255"},
	} {
		p, err := ParsePrefix(c.in)
		if err != nil {
			t.Errorf("ParsePrefix(%s): %v", c.in, err)
			continue
		}
		lo, hi := PrefixRange(p)
		if !bytes.Equal(lo, IPKey(netip.MustParseAddr(c.lo))) || !bytes.Equal(hi, IPKey(netip.MustParseAddr(c.hi))) {
			t.Errorf("PrefixRange(%s): got %x–%x", c.in, lo, hi)
		}
	}
	for _, bad := range []string{"10.0.0.0/4", "2001::/16", "192.0.2.0", "192.0.2.0/33", "nonsense"} {
		if _, err := ParsePrefix(bad); err == nil {
			t.Errorf("ParsePrefix(%s) accepted it", bad)
		}
	}
}

func TestNormaliseDevice(t *testing.T) {
	runNorm(t, []norm{
		{"IMEI with separators", "IMEI:35-209900-176148-1", "imei:352099001761481"},
		{"type words", "Android ID:9774D56D682E549C", "android_id:9774d56d682e549c"},
		{"type underscores and hyphens", "android-id:9774d56d682e549c", "android_id:9774d56d682e549c"},
		{"IDFA upper case", "idfa:6D92078A-8246-4BA4-AE5B-76104861E7DC", "idfa:6d92078a-8246-4ba4-ae5b-76104861e7dc"},
		{"MAC with hyphens", "MAC:00-1A-2B-3C-4D-5E", "mac:00:1a:2b:3c:4d:5e"},
		{"no type", ":abc123", "unknown:abc123"},
		{"zeroed IDFA", "idfa:00000000-0000-0000-0000-000000000000", ""},
		{"zeroed IMEI", "imei:000000000000000", ""},
		{"IMEI too short", "imei:1234", ""},
		{"MAC too long", "mac:00:1a:2b:3c:4d:5e:6f", ""},
		{"MAC not hex", "mac:zz:1a:2b:3c:4d:5e", ""},
		{"empty value", "idfa: ", ""},
	}, func(s string) (string, error) {
		typ, v, _ := strings.Cut(s, ":")
		return NormaliseDevice(typ, v)
	})
}

func TestNormaliseURL(t *testing.T) {
	runNorm(t, []norm{
		{"already canonical", "https://example.org/a/b?x=1", "https://example.org/a/b?x=1"},
		{"scheme and host case", "HTTPS://Example.ORG/Path", "https://example.org/Path"},
		{"default port", "https://example.org:443/a", "https://example.org/a"},
		{"http default port", "http://example.org:80/", "http://example.org/"},
		{"other port kept", "http://example.org:8080/a", "http://example.org:8080/a"},
		{"fragment dropped", "https://example.org/a#section", "https://example.org/a"},
		{"trailing slash dropped", "https://example.org/a/", "https://example.org/a"},
		{"root slash added", "https://example.org", "https://example.org/"},
		{"unreserved decoded", "https://example.org/%7Euser/%41b", "https://example.org/~user/Ab"},
		{"escapes upper-cased", "https://example.org/a%2fb?q=%e2%9c%93", "https://example.org/a%2Fb?q=%E2%9C%93"},
		{"unicode path escaped", "https://example.org/ü", "https://example.org/%C3%BC"},
		{"dot segments", "https://example.org/a/./b/../c", "https://example.org/a/c"},
		{"user info dropped", "https://user:secret@example.org/a", "https://example.org/a"},
		{"no scheme", "example.org/page", "http://example.org/page"},
		{"host trailing dot", "https://example.org./a", "https://example.org/a"},
		{"empty query dropped", "https://example.org/a?", "https://example.org/a"},
		{"IPv6 host", "http://[2001:DB8::1]:80/a", "http://[2001:db8::1]/a"},
		{"IPv4 host", "http://192.0.2.7/a", "http://192.0.2.7/a"},
		{"lone percent", "https://example.org/100%", "https://example.org/100%25"},
		{"no host", "https:///path", ""},
		{"mail address", "person@example.org", ""},
		{"space", "https://example.org/a b", ""},
		{"single label host", "http://intranet/a", ""},
		{"opaque", "mailto:person@example.org", ""},
		{"too long once escaped", "https://example.org/" + strings.Repeat("ü", 500), ""},
	}, NormaliseURL)
}

func TestNormaliseHash(t *testing.T) {
	md5 := "d41d8cd98f00b204e9800998ecf8427e"
	runNorm(t, []norm{
		{"lower", md5, md5},
		{"upper", strings.ToUpper(md5), md5},
		{"0x and spaces", "0x" + md5[:8] + " " + md5[8:], md5},
		{"wrong length", md5[:30], ""},
		{"not hex", "z" + md5[1:], ""},
		{"zeros", strings.Repeat("0", 32), ""},
	}, func(s string) (string, error) { return NormaliseHash(KindMD5, s) })
	if _, err := NormaliseHash(KindSHA1, md5); err == nil {
		t.Error("an MD5 was accepted as SHA-1")
	}
	sha256 := strings.Repeat("ab", 32)
	if got, err := NormaliseHash(KindSHA256, strings.ToUpper(sha256)); err != nil || got != sha256 {
		t.Errorf("SHA-256: got %q, %v", got, err)
	}
	if _, err := NormaliseHash(KindEmail, md5); err == nil {
		t.Error("NormaliseHash accepted a kind that is not a hash")
	}
}

// The normalisers read values from ESPs and the public: they must never
// panic, must return canonical forms that are fixed points, and must not
// repeat the value in their errors.

func fuzzFixedPoint(f *testing.F, seeds []string, norm func(string) (string, error)) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, err := norm(in)
		if err != nil {
			if !haven.IsKind(err, haven.KindInvalid) {
				t.Fatalf("error of kind %v: %v", haven.ErrorKind(err), err)
			}
			// A value made of letters and spaces may be a word of the
			// message itself.
			v := strings.TrimSpace(in)
			if len(v) > 3 && strings.Trim(strings.ToLower(v), "abcdefghijklmnopqrstuvwxyz -") != "" && strings.Contains(err.Error(), v) {
				t.Fatalf("the error repeats the value: %v", err)
			}
			return
		}
		again, err := norm(out)
		if err != nil || again != out {
			t.Fatalf("not a fixed point: %q → %q → %q, %v", in, out, again, err)
		}
	})
}

func FuzzNormaliseEmail(f *testing.F) {
	fuzzFixedPoint(f, []string{"person@example.org", "P.Erson+x@gmail.com", "mailto:<a@b.example>", "a@@b", "@", "\xff@example.org"}, NormaliseEmail)
}

func FuzzNormalisePhone(f *testing.F) {
	fuzzFixedPoint(f, []string{"+1 (202) 555-0143", "011 44 20 7946 0018", "020 7946 0018", "tel:+353-1-555-0100 ext 4", "+", "00"},
		func(s string) (string, error) {
			p, err := NormalisePhone(s, "", "44")
			return p.E164, err
		})
}

func FuzzNormaliseURL(f *testing.F) {
	fuzzFixedPoint(f, []string{"HTTPS://Example.ORG:443/a/./b/../%7e?x#y", "example.org", "http://[2001:db8::1]/", "https://example.org/%zz", "//x.y/z"}, NormaliseURL)
}

func FuzzNormaliseIP(f *testing.F) {
	fuzzFixedPoint(f, []string{"192.0.2.7", "[2001:db8::1]:443", "::ffff:198.51.100.1", "2001:db8::1%eth0", "1.2.3"}, func(s string) (string, error) {
		a, err := NormaliseIP(s)
		if err != nil {
			return "", err
		}
		return a.String(), nil
	})
}

func FuzzNormaliseDevice(f *testing.F) {
	fuzzFixedPoint(f, []string{"imei:35-209900-176148-1", "mac:00-1A-2B-3C-4D-5E", "Android ID:ABC", ":x"}, func(s string) (string, error) {
		typ, v, _ := strings.Cut(s, ":")
		return NormaliseDevice(typ, v)
	})
}

func FuzzNormaliseScreenName(f *testing.F) {
	fuzzFixedPoint(f, []string{"Example Chat:@User", "svc:a:b", ":x"}, func(s string) (string, error) {
		svc, name, _ := strings.Cut(s, ":")
		return NormaliseScreenName(svc, name)
	})
}

func FuzzNormaliseHash(f *testing.F) {
	fuzzFixedPoint(f, []string{"d41d8cd98f00b204e9800998ecf8427e", "0xDA39A3EE5E6B4B0D3255BFEF95601890AFD80709", strings.Repeat("0", 64)}, func(s string) (string, error) {
		for _, k := range []Kind{KindMD5, KindSHA1, KindSHA256} {
			if v, err := NormaliseHash(k, s); err == nil {
				return v, nil
			}
		}
		return NormaliseHash(KindMD5, s)
	})
}
