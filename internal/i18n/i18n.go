// Package i18n holds the message catalogs of Haven's public pages (the
// public report form first) and chooses a language for a visitor.
//
// Each language is one JSON file in messages/, a flat object from message
// key to text. Texts may hold fmt verbs (%d, %s); every catalog must have
// exactly the same keys, with the same verbs, and no empty text: the tests
// of this package hold every catalog to that. Staff pages are English only.
package i18n

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
)

//go:embed messages/*.json
var files embed.FS

// Default is the language used when a visitor asks for none that Haven
// has.
const Default = "en"

// NameKey is the key of each catalog's own name for its language, as its
// speakers write it ("English", "Español"), for the language switch.
const NameKey = "lang.name"

// Catalog is the messages of one language.
type Catalog struct {
	lang string
	msgs map[string]string
}

// Lang returns the catalog's language code ("en", "es").
func (c *Catalog) Lang() string { return c.lang }

// Name returns the language's name in that language.
func (c *Catalog) Name() string { return c.msgs[NameKey] }

// Has reports whether the catalog has key.
func (c *Catalog) Has(key string) bool {
	_, ok := c.msgs[key]
	return ok
}

// T returns the message of key, formatted with args when there are any. A
// key the catalog lacks comes out as [[key]], so that a forgotten message
// shows on the page and in tests rather than vanishing.
func (c *Catalog) T(key string, args ...any) string {
	m, ok := c.msgs[key]
	if !ok {
		return "[[" + key + "]]"
	}
	if len(args) == 0 {
		return m
	}
	return fmt.Sprintf(m, args...)
}

// Keys returns the catalog's keys, sorted.
func (c *Catalog) Keys() []string {
	keys := make([]string, 0, len(c.msgs))
	for k := range c.msgs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Bundle is the catalogs of every supported language.
type Bundle struct {
	byLang map[string]*Catalog
	langs  []string // sorted, Default first
}

// Load parses the embedded catalogs.
func Load() (*Bundle, error) { return load(files) }

func load(fsys fs.FS) (*Bundle, error) {
	names, err := fs.Glob(fsys, "messages/*.json")
	if err != nil {
		return nil, err
	}
	b := &Bundle{byLang: map[string]*Catalog{}}
	for _, name := range names {
		raw, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		lang := strings.TrimSuffix(path.Base(name), ".json")
		c := &Catalog{lang: lang, msgs: map[string]string{}}
		if err := json.Unmarshal(raw, &c.msgs); err != nil {
			return nil, fmt.Errorf("message catalog %s: %w", name, err)
		}
		if c.Name() == "" {
			return nil, fmt.Errorf("message catalog %s: no %q", name, NameKey)
		}
		b.byLang[lang] = c
		b.langs = append(b.langs, lang)
	}
	if b.byLang[Default] == nil {
		return nil, fmt.Errorf("no message catalog for the default language %q", Default)
	}
	sort.Slice(b.langs, func(i, j int) bool {
		if (b.langs[i] == Default) != (b.langs[j] == Default) {
			return b.langs[i] == Default
		}
		return b.langs[i] < b.langs[j]
	})
	return b, nil
}

// Languages returns the supported language codes, the default first.
func (b *Bundle) Languages() []string { return slices.Clone(b.langs) }

// Supported reports whether lang is a supported language code.
func (b *Bundle) Supported(lang string) bool {
	_, ok := b.byLang[lang]
	return ok
}

// Catalog returns the catalog of lang, or the default language's when lang
// is not supported.
func (b *Bundle) Catalog(lang string) *Catalog {
	if c, ok := b.byLang[lang]; ok {
		return c
	}
	return b.byLang[Default]
}

// Match returns the first supported language of an Accept-Language header,
// in the order of the visitor's preference (q values, then position), or
// Default. Only the primary subtag counts: es-MX and es-419 mean es.
func (b *Bundle) Match(acceptLanguage string) string {
	type pref struct {
		lang string
		q    float64
	}
	var prefs []pref
	for part := range strings.SplitSeq(acceptLanguage, ",") {
		tag, params, _ := strings.Cut(part, ";")
		tag = strings.ToLower(strings.TrimSpace(tag))
		if tag == "" || len(prefs) >= 32 {
			continue
		}
		q := 1.0
		for p := range strings.SplitSeq(params, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
			if ok && strings.TrimSpace(k) == "q" {
				f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
				if err != nil || f < 0 || f > 1 {
					f = 0
				}
				q = f
			}
		}
		if q <= 0 {
			continue
		}
		primary, _, _ := strings.Cut(tag, "-")
		prefs = append(prefs, pref{lang: primary, q: q})
	}
	sort.SliceStable(prefs, func(i, j int) bool { return prefs[i].q > prefs[j].q })
	for _, p := range prefs {
		if b.Supported(p.lang) {
			return p.lang
		}
	}
	return Default
}
