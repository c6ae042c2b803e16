// Package geotest writes small GeoLite2-City-style databases of the
// documentation networks for tests (mmdbwriter refuses those networks
// unless told to include reserved ones).
package geotest

import (
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// WriteDB writes the test database and returns its path:
//
//	192.0.2.0/24    US, subdivision CA (California)
//	198.51.100.0/24 GB, subdivision ENG (England)
//	203.0.113.0/24  US, no subdivision
//	2001:db8::/32   DE, subdivision BY (Bavaria)
func WriteDB(t testing.TB) string {
	t.Helper()
	tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: "GeoLite2-City", IncludeReservedNetworks: true, RecordSize: 24})
	if err != nil {
		t.Fatal(err)
	}
	city := func(country, sub, name string) mmdbtype.Map {
		m := mmdbtype.Map{"country": mmdbtype.Map{"iso_code": mmdbtype.String(country)}}
		if sub != "" {
			m["subdivisions"] = mmdbtype.Slice{mmdbtype.Map{"iso_code": mmdbtype.String(sub), "names": mmdbtype.Map{"en": mmdbtype.String(name)}}}
		}
		return m
	}
	for cidr, rec := range map[string]mmdbtype.Map{
		"192.0.2.0/24":    city("US", "CA", "California"),
		"198.51.100.0/24": city("GB", "ENG", "England"),
		"203.0.113.0/24":  city("US", "", ""),
		"2001:db8::/32":   city("DE", "BY", "Bavaria"),
	} {
		_, n, err := net.ParseCIDR(cidr)
		if err != nil {
			t.Fatal(err)
		}
		if err := tree.Insert(n, rec); err != nil {
			t.Fatalf("insert %s: %v", cidr, err)
		}
	}
	path := filepath.Join(t.TempDir(), "GeoLite2-City-test.mmdb")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tree.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}
