package i18n

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

// TestCatalogsMatch: every catalog has exactly the keys of the default
// one, no empty text, and the same fmt verbs in the same order.
func TestCatalogsMatch(t *testing.T) {
	b, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := b.Languages(), []string{"en", "es"}; !slices.Equal(got, want) {
		t.Fatalf("languages %v, want %v", got, want)
	}
	verbs := regexp.MustCompile(`%[-+# 0]*[0-9]*(\.[0-9]+)?[a-zA-Z%]`)
	def := b.Catalog(Default)
	for _, lang := range b.Languages() {
		c := b.Catalog(lang)
		if c.Lang() != lang {
			t.Errorf("catalog of %s says it is %s", lang, c.Lang())
		}
		for _, k := range c.Keys() {
			if strings.TrimSpace(c.msgs[k]) == "" {
				t.Errorf("%s: %q is empty", lang, k)
			}
			if !def.Has(k) {
				t.Errorf("%s has %q, which %s lacks", lang, k, Default)
			}
		}
		for _, k := range def.Keys() {
			if !c.Has(k) {
				t.Errorf("%s lacks %q", lang, k)
				continue
			}
			if got, want := verbs.FindAllString(c.msgs[k], -1), verbs.FindAllString(def.msgs[k], -1); !slices.Equal(got, want) {
				t.Errorf("%s %q has verbs %v, %s has %v", lang, k, got, Default, want)
			}
		}
	}
}

func TestMatch(t *testing.T) {
	b, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ header, want string }{
		{"", "en"},
		{"es", "es"},
		{"es-MX,es;q=0.9,en;q=0.8", "es"},
		{"ES-419", "es"},
		{"fr-FR,fr;q=0.9,es;q=0.8,en;q=0.7", "es"},
		{"fr-FR,fr;q=0.9,en;q=0.8,es;q=0.7", "en"},
		{"en;q=0.5,es;q=0.9", "es"},
		{"es;q=0,en", "en"},
		{"de, *;q=0.1", "en"},
		{"es;q=bogus,en;q=0.2", "en"},
		{";;;,,,", "en"},
	} {
		if got := b.Match(tc.header); got != tc.want {
			t.Errorf("Match(%q) = %q, want %q", tc.header, got, tc.want)
		}
	}
}

func TestT(t *testing.T) {
	b, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	es := b.Catalog("es")
	if got := es.T("progress", 2, 6); got != "Paso 2 de 6" {
		t.Errorf("T(progress, 2, 6) = %q", got)
	}
	if got := es.T("no.such.key"); got != "[[no.such.key]]" {
		t.Errorf("missing key gives %q, want it marked", got)
	}
	if got := b.Catalog("xx").Lang(); got != Default {
		t.Errorf("unsupported language falls back to %q, want %q", got, Default)
	}
	if b.Supported("xx") || !b.Supported("es") {
		t.Error("Supported is wrong")
	}
}

func TestLoadRejectsBrokenCatalogs(t *testing.T) {
	for name, fsys := range map[string]fstest.MapFS{
		"bad json":   {"messages/en.json": {Data: []byte(`{"lang.name": `)}},
		"no name":    {"messages/en.json": {Data: []byte(`{"a": "b"}`)}},
		"no default": {"messages/es.json": {Data: []byte(`{"lang.name": "Español"}`)}},
	} {
		if _, err := load(fsys); err == nil {
			t.Errorf("%s: loaded without an error", name)
		}
	}
}
