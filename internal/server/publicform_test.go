package server_test

// The public report form over plain HTTP, as a browser without JavaScript
// uses it: every page posts the answers of the earlier ones, carried in
// hidden fields. The people, addresses and links are made up.

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/haventest"
	"github.com/haven-hotline/haven/internal/server"
)

// pfBrowser is a client of the public form with a language preference and,
// optionally, a forwarded address (for the rate limit by address).
type pfBrowser struct {
	t      *testing.T
	env    *haventest.Env
	c      *haventest.Client
	accept string // Accept-Language
	addr   string // X-Forwarded-For, when the test trusts the proxy
}

func newPFBrowser(t *testing.T, env *haventest.Env, accept string) *pfBrowser {
	return &pfBrowser{t: t, env: env, c: env.Client(t), accept: accept}
}

func (b *pfBrowser) do(method, path string, form url.Values) *haventest.Response {
	b.t.Helper()
	var body *strings.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
	}
	req, err := http.NewRequest(method, b.env.HTTP.URL+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if b.accept != "" {
		req.Header.Set("Accept-Language", b.accept)
	}
	if b.addr != "" {
		req.Header.Set("X-Forwarded-For", b.addr)
	}
	r := b.c.Do(req)
	pfCheckPage(b.t, method+" "+path, r)
	return r
}

func (b *pfBrowser) get(path string) *haventest.Response { return b.do(http.MethodGet, path, nil) }
func (b *pfBrowser) post(path string, form url.Values) *haventest.Response {
	return b.do(http.MethodPost, path, form)
}

var (
	pfHiddenRE = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
	pfLangRE   = regexp.MustCompile(`<html lang="([a-z]+)">`)
	pfNumberRE = regexp.MustCompile(`id="receipt-number">([0-9]+)<`)
	pfSecretRE = regexp.MustCompile(`id="receipt-secret">([A-Z0-9-]+)<`)
)

// pfCheckPage holds every public page to what any page must be: never a
// server error, no message key missing from a catalog, a language.
func pfCheckPage(t *testing.T, what string, r *haventest.Response) {
	t.Helper()
	if r.StatusCode >= 500 {
		t.Fatalf("%s: status %d\n%s", what, r.StatusCode, r.Body)
	}
	if strings.Contains(r.Body, "[[") {
		i := strings.Index(r.Body, "[[")
		t.Errorf("%s: a message is missing from the catalog: %s", what, r.Body[i:min(len(r.Body), i+60)])
	}
	if strings.Contains(r.Header.Get("Content-Type"), "text/html") && !pfLangRE.MatchString(r.Body) {
		t.Errorf("%s: no <html lang>", what)
	}
}

// pfHidden returns the hidden fields of a page: what the next post carries.
func pfHidden(body string) url.Values {
	v := url.Values{}
	for _, m := range pfHiddenRE.FindAllStringSubmatch(body, -1) {
		v.Set(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	return v
}

func pfLang(body string) string {
	if m := pfLangRE.FindStringSubmatch(body); m != nil {
		return m[1]
	}
	return ""
}

// pfWantStep fails unless the page is the given step, in lang.
func pfWantStep(t *testing.T, r *haventest.Response, lang string, step int) {
	t.Helper()
	want := map[string]string{"en": "Step %d of 6", "es": "Paso %d de 6"}[lang]
	want = strings.Replace(want, "%d", strconv.Itoa(step), 1)
	if r.StatusCode != http.StatusOK || !strings.Contains(r.Body, want) || pfLang(r.Body) != lang {
		t.Fatalf("got status %d, language %q, want %q on a %s page:\n%s", r.StatusCode, pfLang(r.Body), want, lang, r.Body)
	}
}

// pfWantError fails unless the page shows msg next to the field and links
// to the field from the error summary.
func pfWantError(t *testing.T, r *haventest.Response, field, msg string) {
	t.Helper()
	next := regexp.MustCompile(`id="f-` + regexp.QuoteMeta(field) + `-error">(?:<span class="sr-only">[^<]*</span>)?([^<]*)<`)
	m := next.FindStringSubmatch(r.Body)
	if m == nil || !strings.Contains(html.UnescapeString(m[1]), msg) {
		t.Errorf("field %s: no error %q next to it (found %q)", field, msg, m)
	}
	summary := regexp.MustCompile(`role="alert"[\s\S]*<a href="#f-` + regexp.QuoteMeta(field) + `">([^<]*)</a>`)
	if m := summary.FindStringSubmatch(r.Body); m == nil || !strings.Contains(html.UnescapeString(m[1]), msg) {
		t.Errorf("field %s: no link with %q in the error summary", field, msg)
	}
	if !strings.Contains(r.Body, `id="f-`+field+`"`) {
		t.Errorf("the summary links to #f-%s, which is not on the page", field)
	}
}

// pfAnswers are the answers of steps 1 to 5.
type pfAnswers [5]url.Values

// walk fills in the form from a first page already loaded, page by page,
// and returns the review page and the form it carries.
func (b *pfBrowser) walk(first *haventest.Response, lang string, ans pfAnswers) (*haventest.Response, url.Values) {
	b.t.Helper()
	pfWantStep(b.t, first, lang, 1)
	r := first
	for step := 1; step <= 5; step++ {
		form := pfHidden(r.Body)
		if form.Get("step") != strconv.Itoa(step) || form.Get("lang") != lang || form.Get("started") == "" {
			b.t.Fatalf("step %d carries step=%q lang=%q started=%q", step, form.Get("step"), form.Get("lang"), form.Get("started"))
		}
		for k, vs := range ans[step-1] {
			form[k] = vs
		}
		form.Set("website", "")
		form.Set("go", "next")
		r = b.post("/report", form)
		pfWantStep(b.t, r, lang, step+1)
	}
	return r, pfHidden(r.Body)
}

// send presses "Send report" on the review page, after a person's pause.
func (b *pfBrowser) send(form url.Values) *haventest.Response {
	b.t.Helper()
	b.env.Clock.Advance(server.PublicMinFillTime + time.Second)
	form.Set("go", "submit")
	return b.post("/report", form)
}

// receipt reads the report number and secret from a receipt.
func pfReceipt(t *testing.T, r *haventest.Response) (int64, string) {
	t.Helper()
	n, s := pfNumberRE.FindStringSubmatch(r.Body), pfSecretRE.FindStringSubmatch(r.Body)
	if r.StatusCode != http.StatusOK || n == nil || s == nil {
		t.Fatalf("no receipt: status %d\n%s", r.StatusCode, r.Body)
	}
	id, err := strconv.ParseInt(n[1], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return id, s[1]
}

func pfStored(t *testing.T, env *haventest.Env, id int64) *haven.Report {
	t.Helper()
	rep, err := env.App.Intake.Get(context.Background(), haven.SystemActor("test"), id)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// englishAnswers are a complete report: anonymous, urgent, with a date.
func englishAnswers() pfAnswers {
	return pfAnswers{
		{"type": {string(haven.IncidentEnticement)}, "urgent": {"yes"}, "details": {"  An example account asked a fictional child for pictures.  "}},
		{"urls": {"https://example.com/fake-profile/1\r\n\r\nhttp://example.org/chat?room=42  "}, "platform": {"ExampleChat"},
			"usernames": {"example_user_01\r\nexample_child_99"}},
		{"child_name": {"Fictionalchild"}, "child_age": {"12"}, "child_desc": {"Made-up description for a test."},
			"person_first": {"Fictional"}, "person_last": {"Suspect"}, "person_username": {"example_user_01"}, "person_age": {"35"},
			"person_desc": {"Not a real person."}},
		{"date": {"2026-05-01"}, "time": {"21:30"}, "when_desc": {"Friday evening"}},
		{},
	}
}

// TestPublicReportEnglish files an anonymous report through every page in
// English, checks what was stored, then adds to it with the secret.
func TestPublicReportEnglish(t *testing.T) {
	env := haventest.Start(t, "sqlite")
	b := newPFBrowser(t, env, "en-US,en;q=0.9")
	first := b.get("/report")
	for _, want := range []string{`<a href="/report?lang=es" lang="es" hreflang="es">Español</a>`, "911 in the US",
		"Online Enticement of Children for Sexual Acts", `name="website"`, `tabindex="-1"`, "Leave this empty"} {
		if !strings.Contains(first.Body, want) {
			t.Errorf("step 1 lacks %q", want)
		}
	}
	if strings.Contains(first.Body, "<script") || strings.Contains(first.Body, "style=") {
		t.Error("the form uses script or inline style")
	}
	review, form := b.walk(first, "en", englishAnswers())
	for _, want := range []string{"Someone trying to get a child to do sexual things online", "https://example.com/fake-profile/1",
		"Fictionalchild", "2026-05-01 21:30", `value="edit2"`, "Send report"} {
		if !strings.Contains(review.Body, want) {
			t.Errorf("review lacks %q", want)
		}
	}

	// Change, from the review: back to step 2, then straight back to the
	// review.
	edit := url.Values{}
	for k, v := range form {
		edit[k] = v
	}
	edit.Set("go", "edit2")
	r := b.post("/report", edit)
	pfWantStep(t, r, "en", 2)
	if !strings.Contains(r.Body, "Save and go back to the summary") || !strings.Contains(r.Body, "http://example.org/chat?room=42</textarea>") {
		t.Fatalf("step 2 from the review does not offer the way back or lost the links:\n%s", r.Body)
	}
	edit = pfHidden(r.Body)
	edit.Set("urls", "https://example.com/fake-profile/1\nhttp://example.org/chat?room=42")
	edit.Set("platform", "ExampleChat")
	edit.Set("usernames", "example_user_01\nexample_child_99")
	edit.Set("go", "next")
	r = b.post("/report", edit)
	pfWantStep(t, r, "en", 6)
	// Back from the review goes to step 5.
	back := pfHidden(r.Body)
	back.Set("go", "back")
	pfWantStep(t, b.post("/report", back), "en", 5)

	receipt := b.send(pfHidden(r.Body))
	id, secret := pfReceipt(t, receipt)
	for _, want := range []string{"shown only this once", `href="/report/followup?lang=en"`, "call your local emergency number"} {
		if !strings.Contains(receipt.Body, want) {
			t.Errorf("receipt lacks %q", want)
		}
	}
	if ok, _ := regexp.MatchString(`^[A-Z2-9]{4}(-[A-Z2-9]{4}){4}$`, secret); !ok {
		t.Errorf("secret %q is not formatted as issued", secret)
	}

	rep := pfStored(t, env, id)
	if rep.Source != haven.SourcePublic || rep.Status != haven.ReportFinished || rep.Language != "en" {
		t.Errorf("stored source %q status %q language %q", rep.Source, rep.Status, rep.Language)
	}
	if rep.Incident.Type != haven.IncidentEnticement || rep.Incident.Escalate == nil || rep.Incident.Platform != "ExampleChat" {
		t.Errorf("stored incident %+v", rep.Incident)
	}
	if want := time.Date(2026, 5, 1, 21, 30, 0, 0, time.UTC); !rep.Incident.DateTime.Equal(want) ||
		!strings.Contains(rep.Incident.DateTimeDescription, "Friday evening") {
		t.Errorf("stored time %v %q, want %v", rep.Incident.DateTime, rep.Incident.DateTimeDescription, want)
	}
	if len(rep.Internet) != 1 || rep.Internet[0].Kind != haven.InternetWebPage ||
		strings.Join(rep.Internet[0].URLs, " ") != "https://example.com/fake-profile/1 http://example.org/chat?room=42" {
		t.Errorf("stored internet details %+v", rep.Internet)
	}
	if len(rep.Victims) != 1 || rep.Victims[0].Role != haven.RoleVictim || rep.Victims[0].Person == nil ||
		rep.Victims[0].Person.FirstName != "Fictionalchild" || rep.Victims[0].Person.Age == nil || *rep.Victims[0].Person.Age != 12 {
		t.Errorf("stored victims %+v", rep.Victims)
	}
	if len(rep.Reported) != 1 || rep.Reported[0].ScreenName != "example_user_01" || rep.Reported[0].ESPService != "ExampleChat" ||
		rep.Reported[0].Person == nil || rep.Reported[0].Person.LastName != "Suspect" {
		t.Errorf("stored reported person %+v", rep.Reported)
	}
	you := rep.Reporter.ReportingPerson
	if you.FirstName != "" || you.LastName != "" || len(you.Emails) != 0 || len(you.Phones) != 0 {
		t.Errorf("the reporter was anonymous, stored %+v", you)
	}
	if rep.AdditionalInfo == "" || !strings.HasPrefix(rep.AdditionalInfo, "An example account") || !strings.Contains(rep.AdditionalInfo, "example_child_99") {
		t.Errorf("stored additional information %q", rep.AdditionalInfo)
	}

	// Follow-up: the right secret, then a wrong secret and a wrong number,
	// which get the same answer.
	fu := newPFBrowser(t, env, "en")
	page := fu.get("/report/followup")
	if page.StatusCode != http.StatusOK || !strings.Contains(page.Body, `id="f-number"`) || !strings.Contains(page.Body, `id="f-secret"`) {
		t.Fatalf("follow-up page: %d\n%s", page.StatusCode, page.Body)
	}
	ok := fu.post("/report/followup", url.Values{"lang": {"en"}, "number": {strconv.FormatInt(id, 10)},
		"secret": {strings.ToLower(secret)}, "text": {"One more made-up detail."}})
	if ok.StatusCode != http.StatusOK || !strings.Contains(ok.Body, "We added what you wrote to report "+strconv.FormatInt(id, 10)) {
		t.Fatalf("follow-up with the secret: %d\n%s", ok.StatusCode, ok.Body)
	}
	fus, err := env.App.Intake.Followups(context.Background(), haven.SystemActor("test"), id)
	if err != nil || len(fus) != 1 || fus[0].Text != "One more made-up detail." || fus[0].Language != "en" {
		t.Errorf("stored follow-ups %+v, %v", fus, err)
	}
	const denied = "The report number and secret do not match. Check both and try again."
	wrongSecret := fu.post("/report/followup", url.Values{"lang": {"en"}, "number": {strconv.FormatInt(id, 10)},
		"secret": {"AAAA-BBBB-CCCC-DDDD-EEEE"}, "text": {"x"}})
	wrongNumber := fu.post("/report/followup", url.Values{"lang": {"en"}, "number": {strconv.FormatInt(id+1000, 10)},
		"secret": {secret}, "text": {"x"}})
	for name, r := range map[string]*haventest.Response{"wrong secret": wrongSecret, "wrong number": wrongNumber} {
		if r.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", name, r.StatusCode)
		}
		pfWantError(t, r, "number", denied)
		pfWantError(t, r, "secret", denied)
	}
	if wrongSecret.StatusCode != wrongNumber.StatusCode {
		t.Error("a wrong number and a wrong secret are told apart by the status")
	}

	if n := len(auditTypes(t, env, "report.submit")); n != 1 {
		t.Errorf("%d report.submit events, want 1", n)
	}
	var accepted, refused int
	for _, ev := range auditTypes(t, env, "report.followup") {
		switch {
		case ev.Outcome == haven.OutcomeDenied:
			refused++
		case ev.ObjectID == strconv.FormatInt(id, 10):
			accepted++
		}
	}
	if accepted != 1 || refused != 2 {
		t.Errorf("%d accepted and %d refused report.followup events, want 1 and 2", accepted, refused)
	}

	// Nothing the reporter typed reaches the logs.
	logs := env.Logs.String()
	for _, canary := range []string{"Fictionalchild", "example_user_01", "example.com/fake-profile", secret, "One more made-up detail"} {
		if strings.Contains(logs, canary) {
			t.Errorf("the logs hold %q", canary)
		}
	}
}

// TestPublicReportSpanish files a report in Spanish, chosen by
// Accept-Language, with contact details and an unknown date; then checks
// the ?lang switch and the in-form switch that keeps the answers.
func TestPublicReportSpanish(t *testing.T) {
	env := haventest.Start(t, "sqlite")
	b := newPFBrowser(t, env, "es-MX,es;q=0.9,en;q=0.5")
	first := b.get("/report")
	for _, want := range []string{"Paso 1 de 6", `<a href="/report?lang=en" lang="en" hreflang="en">English</a>`,
		"Un menor vendido o intercambiado para fines sexuales", `value="Child Sex Trafficking"`, "911 en EE. UU."} {
		if !strings.Contains(first.Body, want) {
			t.Errorf("Spanish step 1 lacks %q", want)
		}
	}
	ans := pfAnswers{
		{"type": {string(haven.IncidentSexTrafficking)}},
		{"urls": {"https://example.com/anuncio-ficticio"}},
		{"child_name": {"Niñaficticia"}, "child_age": {"15"}},
		{"when_unknown": {"yes"}, "when_desc": {"hace unas semanas"}},
		{"first_name": {"Rita"}, "last_name": {"Reportera Ejemplo"}, "email": {"rita@example.org"}, "phone": {"+1 555 0123"}},
	}
	review, form := b.walk(first, "es", ans)
	if !strings.Contains(review.Body, "Revisar y enviar") || !strings.Contains(review.Body, "No sé cuándo pasó") {
		t.Errorf("Spanish review:\n%s", review.Body)
	}
	submitted := env.Clock.Now()
	receipt := b.send(form)
	id, secret := pfReceipt(t, receipt)
	if !strings.Contains(receipt.Body, "Gracias. Su denuncia fue enviada.") || pfLang(receipt.Body) != "es" {
		t.Errorf("receipt is not in Spanish:\n%s", receipt.Body)
	}
	rep := pfStored(t, env, id)
	if rep.Language != "es" || rep.Incident.Type != haven.IncidentSexTrafficking || rep.Incident.Escalate != nil {
		t.Errorf("stored language %q type %q escalate %v", rep.Language, rep.Incident.Type, rep.Incident.Escalate)
	}
	if rep.Incident.DateTime.Before(submitted) || !strings.HasPrefix(rep.Incident.DateTimeDescription, "unknown") ||
		!strings.Contains(rep.Incident.DateTimeDescription, "hace unas semanas") {
		t.Errorf("unknown date stored as %v %q", rep.Incident.DateTime, rep.Incident.DateTimeDescription)
	}
	you := rep.Reporter.ReportingPerson
	if you.FirstName != "Rita" || len(you.Emails) != 1 || you.Emails[0].Value != "rita@example.org" ||
		len(you.Phones) != 1 || you.Phones[0].Value != "+1 555 0123" {
		t.Errorf("stored reporter %+v", you)
	}
	if len(rep.Victims) != 1 || rep.Victims[0].Person.FirstName != "Niñaficticia" || len(rep.Reported) != 0 {
		t.Errorf("stored victims %+v, reported %+v", rep.Victims, rep.Reported)
	}
	fu := newPFBrowser(t, env, "es")
	r := fu.post("/report/followup", url.Values{"lang": {"es"}, "number": {strconv.FormatInt(id, 10)}, "secret": {secret}, "text": {"Más detalles ficticios."}})
	if r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "Añadimos lo que escribió a la denuncia") {
		t.Errorf("Spanish follow-up: %d\n%s", r.StatusCode, r.Body)
	}
	r = fu.post("/report/followup", url.Values{"lang": {"es"}, "number": {strconv.FormatInt(id, 10)}, "secret": {"AAAA"}, "text": {"x"}})
	pfWantError(t, r, "secret", "El número de denuncia y la clave secreta no coinciden.")
	if strings.Contains(env.Logs.String(), "rita@example.org") || strings.Contains(env.Logs.String(), "Niñaficticia") {
		t.Error("the logs hold what the reporter typed")
	}

	// The switch: an English browser asks for Spanish with ?lang=es, and
	// the choice travels through the pages in a hidden field.
	en := newPFBrowser(t, env, "en")
	r = en.get("/report?lang=es")
	pfWantStep(t, r, "es", 1)
	form = pfHidden(r.Body)
	form.Set("type", string(haven.IncidentCSAM))
	form.Set("go", "next")
	r = en.post("/report", form)
	pfWantStep(t, r, "es", 2)
	// On a later page the switch is a button that keeps the answers.
	form = pfHidden(r.Body)
	if !strings.Contains(r.Body, `name="switch" value="en"`) {
		t.Fatalf("step 2 has no switch button:\n%s", r.Body)
	}
	form.Set("urls", "https://example.com/kept")
	form.Set("switch", "en")
	r = en.post("/report", form)
	pfWantStep(t, r, "en", 2)
	if !strings.Contains(r.Body, "https://example.com/kept</textarea>") || pfHidden(r.Body).Get("type") != string(haven.IncidentCSAM) {
		t.Errorf("switching language lost the answers:\n%s", r.Body)
	}
	// Followup page language by parameter.
	if r := en.get("/report/followup?lang=es"); !strings.Contains(r.Body, "Añadir información a una denuncia") {
		t.Errorf("follow-up page with ?lang=es is not in Spanish")
	}
}

// TestPublicReportValidation: problems are shown next to their fields and
// in the summary at the top, in the page's language, and no input makes
// the server fail.
func TestPublicReportValidation(t *testing.T) {
	env := haventest.Start(t, "sqlite")
	b := newPFBrowser(t, env, "en")
	start := pfHidden(b.get("/report").Body)
	post := func(step int, fields url.Values) *haventest.Response {
		t.Helper()
		f := url.Values{}
		for k, v := range start {
			f[k] = v
		}
		f.Set("step", strconv.Itoa(step))
		f.Set("go", "next")
		for k, v := range fields {
			f[k] = v
		}
		return b.post("/report", f)
	}
	for _, tc := range []struct {
		name   string
		step   int
		fields url.Values
		field  string
		msg    string
	}{
		{"no incident type", 1, url.Values{}, "type", "Choose what this is about."},
		{"unknown incident type", 1, url.Values{"type": {"Something Else"}}, "type", "Choose one of the options."},
		{"details too long", 1, url.Values{"type": {string(haven.IncidentCSAM)}, "details": {strings.Repeat("x", 2001)}}, "details", "at most 2000 characters"},
		{"bad URL", 2, url.Values{"urls": {"https://example.com/ok\nexample.com/no-scheme"}}, "urls", "line 2 must start with http:// or https://"},
		{"javascript URL", 2, url.Values{"urls": {"javascript:alert(1)"}}, "urls", "line 1 must start with http://"},
		{"URL too long", 2, url.Values{"urls": {"https://example.com/" + strings.Repeat("a", 2100)}}, "urls", "longer than 2083 characters"},
		{"too many URLs", 2, url.Values{"urls": {strings.Repeat("https://example.com/x\n", 21)}}, "urls", "at most 20 web addresses"},
		{"platform too long", 2, url.Values{"platform": {strings.Repeat("p", 101)}}, "platform", "at most 100 characters"},
		{"child too old", 3, url.Values{"child_age": {"30"}}, "child_age", "from 0 to 17"},
		{"age in words", 3, url.Values{"person_age": {"about forty"}}, "person_age", "as a number"},
		{"name too long", 3, url.Values{"person_first": {strings.Repeat("n", 101)}}, "person_first", "at most 100 characters"},
		{"future date", 4, url.Values{"date": {"2026-05-09"}}, "date", "The date is in the future."},
		{"no date", 4, url.Values{}, "date", "Enter the date it happened"},
		{"not a date", 4, url.Values{"date": {"31/12/2025"}}, "date", "Enter a real date"},
		{"date and unknown", 4, url.Values{"date": {"2026-01-01"}, "when_unknown": {"yes"}}, "date", "Clear one of them"},
		{"bad time", 4, url.Values{"date": {"2026-01-01"}, "time": {"25:99"}}, "time", "hours and minutes"},
		{"bad e-mail", 5, url.Values{"email": {"not an address"}}, "email", "like name@example.org"},
		{"bad phone", 5, url.Values{"phone": {"call me"}}, "phone", "digits"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := post(tc.step, tc.fields)
			if r.StatusCode != http.StatusBadRequest {
				t.Fatalf("status %d, want 400", r.StatusCode)
			}
			pfWantStep400(t, r, tc.step)
			pfWantError(t, r, tc.field, tc.msg)
			if !strings.Contains(r.Body, `aria-invalid="true"`) && tc.field != "type" {
				t.Errorf("the field is not marked invalid")
			}
		})
	}
	// In Spanish, the messages are Spanish.
	es := newPFBrowser(t, env, "es")
	f := pfHidden(es.get("/report").Body)
	f.Set("go", "next")
	r := es.post("/report", f)
	pfWantError(t, r, "type", "Elija de qué se trata.")
	if !strings.Contains(r.Body, "Hay un problema") {
		t.Error("the Spanish summary has an English title")
	}

	// A body over the server's limit gets 413, on a page in the
	// visitor's language.
	big := es.post("/report", url.Values{"details": {strings.Repeat("a", 5<<20)}})
	if big.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(big.Body, "demasiado grande") {
		t.Errorf("oversized body: status %d\n%s", big.StatusCode, big.Body)
	}

	// Strange input never makes the server fail.
	for name, form := range map[string]url.Values{
		"nothing":         {},
		"bad step":        {"step": {"99"}, "go": {"next"}},
		"negative step":   {"step": {"-1"}, "go": {"back"}},
		"bad edit":        {"step": {"6"}, "go": {"edit99"}},
		"unknown lang":    {"lang": {"xx"}, "switch": {"zz"}},
		"NUL and bad UTF": {"step": {"1"}, "go": {"next"}, "type": {"\x00\xff"}, "details": {"a\x00b\xc3\x28"}},
		"submit early":    {"step": {"2"}, "go": {"submit"}},
		"submit forged":   {"step": {"6"}, "go": {"submit"}, "started": {"1.abc"}, "type": {string(haven.IncidentCSAM)}},
		"huge date":       {"step": {"4"}, "go": {"next"}, "date": {"99999-99-99"}, "time": {"99:99:99"}},
	} {
		r := b.post("/report", form)
		if r.StatusCode >= 500 {
			t.Errorf("%s: status %d", name, r.StatusCode)
		}
	}
	for name, form := range map[string]url.Values{
		"nothing":      {},
		"letters":      {"number": {"abc"}, "secret": {"x"}, "text": {"y"}},
		"huge number":  {"number": {"99999999999999999999999"}, "secret": {"x"}, "text": {"y"}},
		"huge secret":  {"number": {"1"}, "secret": {strings.Repeat("S", 5000)}, "text": {"y"}},
		"huge text":    {"number": {"1"}, "secret": {"x"}, "text": {strings.Repeat("t", 6000)}},
		"NUL in text":  {"number": {"1"}, "secret": {"x"}, "text": {"\x00"}},
		"unknown lang": {"lang": {"xx"}},
	} {
		r := b.post("/report/followup", form)
		if r.StatusCode != http.StatusBadRequest {
			t.Errorf("follow-up %s: status %d, want 400", name, r.StatusCode)
		}
	}
	r = b.post("/report/followup", url.Values{"number": {"1"}, "secret": {"x"}, "text": {strings.Repeat("t", 5001)}})
	pfWantError(t, r, "text", "at most 5000 characters")
	r = b.post("/report/followup", url.Values{})
	pfWantError(t, r, "number", "Enter the report number")
	pfWantError(t, r, "secret", "Enter the secret")
	pfWantError(t, r, "text", "Write what you want to add")
	if n := len(auditTypes(t, env, "report.submit")); n != 0 {
		t.Errorf("%d reports were filed by invalid forms", n)
	}
}

func pfWantStep400(t *testing.T, r *haventest.Response, step int) {
	t.Helper()
	if !strings.Contains(r.Body, "Step "+strconv.Itoa(step)+" of 6") {
		t.Errorf("the error page is not step %d", step)
	}
}

// TestPublicReportRefusals: the honeypot, a submission faster than a person
// and a forged or stale start are refused politely, without a report.
func TestPublicReportRefusals(t *testing.T) {
	env := haventest.Start(t, "sqlite")
	b := newPFBrowser(t, env, "en")
	_, form := b.walk(b.get("/report"), "en", englishAnswers())
	const resubmit = "Please check your answers and press “Send report” again."

	// Honeypot.
	bot := url.Values{}
	for k, v := range form {
		bot[k] = v
	}
	bot.Set("website", "https://spam.example.com/")
	r := b.send(bot)
	if r.StatusCode != http.StatusBadRequest || !strings.Contains(r.Body, resubmit) {
		t.Errorf("honeypot: status %d\n%s", r.StatusCode, r.Body)
	}
	pfWantError(t, r, "website", "Leave this field empty.")

	// Too fast: no pause on the clock since the first page… the walk
	// did not move it, but send did: start again.
	b2 := newPFBrowser(t, env, "en")
	_, fast := b2.walk(b2.get("/report"), "en", englishAnswers())
	env.Clock.Advance(server.PublicMinFillTime - time.Second)
	fast.Set("go", "submit")
	r = b2.post("/report", fast)
	if r.StatusCode != http.StatusBadRequest || !strings.Contains(r.Body, resubmit) || !strings.Contains(r.Body, "Step 6 of 6") {
		t.Errorf("too fast: status %d\n%s", r.StatusCode, r.Body)
	}
	// The same form, a moment later, goes through.
	again := pfHidden(r.Body)
	if again.Get("started") != fast.Get("started") {
		t.Error("the refusal changed the start time")
	}
	id, _ := pfReceipt(t, b2.send(again))

	// A forged start and a start hours old are refused.
	forged := url.Values{}
	for k, v := range again {
		forged[k] = v
	}
	ms, _, _ := strings.Cut(again.Get("started"), ".")
	forged.Set("started", ms+".forgedsignature")
	if r := b2.send(forged); r.StatusCode != http.StatusBadRequest || !strings.Contains(r.Body, resubmit) {
		t.Errorf("forged start: status %d", r.StatusCode)
	}
	env.Clock.Advance(server.PublicFormMaxAge)
	stale := b2.send(again)
	if stale.StatusCode != http.StatusBadRequest || !strings.Contains(stale.Body, resubmit) {
		t.Errorf("stale start: status %d", stale.StatusCode)
	}
	// The refusal gives a fresh start, with which the person can send.
	if fresh := pfHidden(stale.Body).Get("started"); fresh == again.Get("started") || fresh == "" {
		t.Error("a stale start was not renewed")
	} else {
		pfReceipt(t, b2.send(pfHidden(stale.Body)))
	}

	if n := len(auditTypes(t, env, "report.submit")); n != 2 {
		t.Errorf("%d reports filed, want 2 (report %d and the renewed one)", n, id)
	}
	if strings.Contains(env.Logs.String(), "spam.example.com") {
		t.Error("the honeypot's content reached the logs")
	}
	if !strings.Contains(env.Logs.String(), "reason=honeypot") || !strings.Contains(env.Logs.String(), "reason=too_fast") {
		t.Error("the refusals are not logged")
	}
}

// TestPublicReportRateLimit: a client address may send a few reports, then
// gets 429 with Retry-After, with its answers kept; IPv6 clients are
// counted by /64, IPv4 clients one by one. Follow-up attempts have their
// own, looser limit.
func TestPublicReportRateLimit(t *testing.T) {
	env := haventest.Start(t, "sqlite")
	env.App.Config.TrustProxy = true // set before any request: the addresses come from X-Forwarded-For

	b := newPFBrowser(t, env, "en")
	b.addr = "2001:db8:1:2::10"
	_, form := b.walk(b.get("/report"), "en", englishAnswers())
	for range 5 {
		pfReceipt(t, b.send(form))
	}
	r := b.send(form)
	if r.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("sixth report: status %d, want 429", r.StatusCode)
	}
	retry, err := strconv.Atoi(r.Header.Get("Retry-After"))
	if err != nil || retry < 1 || retry > 600 {
		t.Errorf("Retry-After %q", r.Header.Get("Retry-After"))
	}
	if !strings.Contains(r.Body, "Please wait 2 minute(s)") || pfHidden(r.Body).Get("type") != form.Get("type") {
		t.Errorf("the 429 page does not say when, or lost the answers:\n%s", r.Body)
	}
	// Same /64, another address: limited too. Another /64 and IPv4
	// clients are not.
	b.addr = "2001:db8:1:2:ffff::1"
	if r := b.send(form); r.StatusCode != http.StatusTooManyRequests {
		t.Errorf("same /64: status %d, want 429", r.StatusCode)
	}
	for _, addr := range []string{"2001:db8:1:3::10", "192.0.2.10", "192.0.2.11"} {
		b.addr = addr
		pfReceipt(t, b.send(form))
	}
	// After the wait, one more.
	env.Clock.Advance(time.Duration(retry) * time.Second)
	b.addr = "2001:db8:1:2::10"
	pfReceipt(t, b.send(form))

	// Follow-ups: 10 attempts, then 429.
	fu := newPFBrowser(t, env, "es")
	fu.addr = "198.51.100.7"
	for i := range 10 {
		if r := fu.post("/report/followup", url.Values{"number": {"1"}, "secret": {"WRONG"}, "text": {"x"}}); r.StatusCode != http.StatusBadRequest {
			t.Fatalf("follow-up attempt %d: status %d", i+1, r.StatusCode)
		}
	}
	r = fu.post("/report/followup", url.Values{"number": {"1"}, "secret": {"WRONG"}, "text": {"x"}})
	if r.StatusCode != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" || !strings.Contains(r.Body, "Espere 1 minuto(s)") {
		t.Errorf("eleventh follow-up: status %d, Retry-After %q\n%s", r.StatusCode, r.Header.Get("Retry-After"), r.Body)
	}
}
