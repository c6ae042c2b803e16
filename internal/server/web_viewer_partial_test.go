package server

import (
	"bytes"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/store"
	"github.com/haven-hotline/haven/internal/viewer"
)

// TestViewerLinkPartial renders the report page's file_view_link partial
// in each state a file can be in.
func TestViewerLinkPartial(t *testing.T) {
	p, err := parsePages()
	if err != nil {
		t.Fatal(err)
	}
	tmpl := p.tmpl["report"]
	if tmpl == nil {
		t.Fatal("no report template")
	}
	href := "/app/reports/7/files/0123456789abcdef0123456789abcdef/view"
	for _, tc := range []struct {
		name string
		link *viewer.Link
		want []string
	}{
		{"nil", nil, nil},
		{"viewable", &viewer.Link{Href: href, State: viewer.StateViewable}, []string{`href="` + href + `"`, "View safely"}},
		{"pending", &viewer.Link{Href: href, State: viewer.StateViewable, Pending: 1}, []string{"possible match"}},
		{"known", &viewer.Link{Href: href, State: viewer.StateKnown, Known: &viewer.Classification{Bank: "Series bank",
			Scheme: "industry", Code: "A1"}}, []string{"Classified automatically from Series bank: industry A1"}},
		{"gated", &viewer.Link{Href: href, State: viewer.StateGated}, []string{"Legal gate", "Needs a legal authority"}},
		{"opened", &viewer.Link{Href: href, State: viewer.StateViewable, GateOpen: true}, []string{"legal authority recorded"}},
	} {
		var b bytes.Buffer
		if err := tmpl.ExecuteTemplate(&b, "file_view_link", tc.link); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		out := b.String()
		if tc.link == nil && strings.TrimSpace(out) != "" {
			t.Errorf("nil link rendered %q", out)
		}
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: %q lacks %q", tc.name, out, w)
			}
		}
	}
}

// TestViewerPageStates renders the viewer page in every state, so that
// each branch of the template runs.
func TestViewerPageStates(t *testing.T) {
	p, err := parsePages()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)
	f := &haven.ReportFile{ID: "0123456789abcdef0123456789abcdef", ReportID: 7, Size: 1234}
	base := "/app/reports/7/files/" + f.ID
	meter := viewer.ComputeMeter(nil, now, viewer.Options{})
	due := &viewer.Meter{Now: now, Budget: time.Hour, Left: time.Hour, BreakAfter: time.Hour, BreakLength: 10 * time.Minute,
		BreakUntil: now.Add(4 * time.Minute)}
	grant := &store.RevealGrant{ID: "grant-1", Reason: "classify", ExpiresAt: now.Add(10 * time.Minute)}
	for _, tc := range []struct {
		name string
		data *viewerData
		want []string
		not  []string
	}{
		{"viewable", &viewerData{CanReveal: true, View: &viewer.FileView{File: f, Base: base, State: viewer.StateViewable, Meter: meter,
			Rendition: &store.Rendition{Kind: store.RenditionImage, Width: 320, Height: 240},
			Pending:   []viewer.Classification{{Bank: "Series", Algo: haven.AlgoPDQ, Distance: 12}}}},
			[]string{base + "/rendition", base + "/reveal", "awaiting an analyst", "0 s of revealed media"}, []string{base + "/original"}},
		{"no rendition yet", &viewerData{CanReveal: true, View: &viewer.FileView{File: f, Base: base, State: viewer.StateViewable,
			Problem: "could not be made"}}, []string{"could not be made"}, nil},
		{"revealed video", &viewerData{CanReveal: true, GrantSeconds: 600, View: &viewer.FileView{File: f, Base: base,
			State: viewer.StateViewable, Grant: grant, Meter: meter, Rendition: &store.Rendition{Kind: store.RenditionVideo, Frames: 8}}},
			[]string{"<video", `preload="none"`, "muted", `data-grant="grant-1"`, `data-ttl="600"`, `<script src="/static/viewer.`}, []string{"autoplay"}},
		{"break due", &viewerData{CanReveal: true, Refusal: &viewer.Refusal{Why: "break", Meter: due}, View: &viewer.FileView{File: f,
			Base: base, State: viewer.StateViewable, Meter: due, Rendition: &store.Rendition{Kind: store.RenditionImage}}},
			[]string{"Time for a break", "4 min", "A break is due"}, []string{base + "/reveal"}},
		{"budget spent", &viewerData{CanReveal: true, Refusal: &viewer.Refusal{Why: "budget", Until: now.Add(15 * time.Hour)},
			View: &viewer.FileView{File: f, Base: base, State: viewer.StateViewable}}, []string{"reached today", "2026-05-05 00:00"}, nil},
		{"known", &viewerData{View: &viewer.FileView{File: f, Base: base, State: viewer.StateKnown,
			Known: []viewer.Classification{{Bank: "Known bank", Scheme: "industry", Code: "A1", Algo: haven.AlgoSHA256}}}},
			[]string{"Classified automatically", "Known bank", "industry A1"}, []string{base + "/rendition", base + "/reveal"}},
		{"gated, supervisor", &viewerData{CanAuthority: true, Kinds: viewer.AuthorityKinds, Today: "2026-05-04",
			View: &viewer.FileView{File: f, Base: base, State: viewer.StateGated, Gated: true}},
			[]string{"Held by the legal gate", "/legal-authority", "warrant", "issued_on", "bad kind"}, []string{base + "/rendition"}},
		{"gated, analyst", &viewerData{View: &viewer.FileView{File: f, Base: base, State: viewer.StateGated, Gated: true}},
			[]string{"A supervisor records the authority"}, []string{"/legal-authority"}},
		{"destroyed", &viewerData{View: &viewer.FileView{File: f, Base: base, State: viewer.StateDestroyed}},
			[]string{"Nothing of it can be shown"}, []string{base + "/rendition"}},
		{"unreadable", &viewerData{View: &viewer.FileView{File: f, Base: base, State: viewer.StateUnreadable,
			Rendition: &store.Rendition{Kind: store.RenditionNone, Note: "Not a picture."}}}, []string{"Not a picture."}, []string{base + "/reveal"}},
	} {
		pg := &page{Title: "File", CSRF: "token", Fields: map[string]string{"kind": "bad kind"}, Form: url.Values{}, Data: tc.data}
		var b bytes.Buffer
		if err := p.tmpl["viewer"].ExecuteTemplate(&b, "layout.html", pg); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		out := b.String()
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: page lacks %q", tc.name, w)
			}
		}
		for _, n := range tc.not {
			if strings.Contains(out, n) {
				t.Errorf("%s: page has %q", tc.name, n)
			}
		}
	}
}
