package triage

import (
	"slices"
	"strings"
	"time"

	"github.com/haven-hotline/haven"
)

// MatchFact is what triage needs of one hash match of a report file.
type MatchFact struct {
	FileID         string
	Classification haven.Classification
	SeriesID       string
	// SeriesIdentified is set when every victim of the series is
	// identified (victim identification says so).
	SeriesIdentified bool
	Viral, Meme      bool
}

// FactsOf computes the signals of a report from the report itself (with
// its files), the positive hash matches of its files, and the number of
// other reports linked to it by a shared identifier.
func FactsOf(r *haven.Report, files []*haven.ReportFile, matches []MatchFact, linked int) *Facts {
	f := &Facts{IncidentType: string(r.Incident.Type), Batched: r.BatchedReason != "", Files: len(files),
		Source: string(r.Source), VictimAge: -1, PriorReports: linked}
	if e := r.Incident.Escalate; e != nil {
		f.Escalate, f.EscalateText = true, strings.TrimSpace(*e)
	}
	if a := r.Incident.Annotations; a != nil {
		for name, on := range map[string]bool{"sextortion": a.Sextortion, "csam_solicitation": a.CSAMSolicitation,
			"minor_to_minor": a.MinorToMinorInteraction, "spam": a.Spam, "sadistic_online_exploitation": a.SadisticOnlineExploitation} {
			if on {
				f.ReportAnnotations = append(f.ReportAnnotations, name)
			}
		}
	}
	received := r.FinishedAt
	if received.IsZero() {
		received = r.OpenedAt
	}
	f.HoursSinceIncident = 1e9
	if !r.Incident.DateTime.IsZero() && !received.IsZero() {
		f.HoursSinceIncident = max(0, received.Sub(r.Incident.DateTime).Hours())
	}
	addSet := func(set *[]string, v string) {
		if v != "" && !slices.Contains(*set, v) {
			*set = append(*set, v)
		}
	}
	for _, file := range files {
		d := file.Details
		if d == nil {
			continue
		}
		if d.PotentialMeme != nil && *d.PotentialMeme {
			addSet(&f.FileAnnotations, "potential_meme")
		}
		if a := d.Annotations; a != nil {
			for name, on := range map[string]bool{"anime": a.AnimeDrawingVirtualHentai, "potential_meme": a.PotentialMeme,
				"viral": a.Viral, "self_production": a.PossibleSelfProduction, "physical_harm": a.PhysicalHarm,
				"violence_gore": a.ViolenceGore, "bestiality": a.Bestiality, "live_streaming": a.LiveStreaming,
				"infant": a.Infant, "generative_ai": a.GenerativeAI} {
				if on {
					addSet(&f.FileAnnotations, name)
				}
			}
		}
		addSet(&f.Classifications, strings.ToUpper(d.IndustryClassification))
		if (d.IPCapture != nil && d.IPCapture.IPAddress != "") || len(d.DeviceIDs) > 0 {
			f.ActionableIdentifiers = true
		}
	}
	viralFiles := map[string]bool{}
	for _, m := range matches {
		f.KnownMaterial = true
		if m.SeriesID != "" {
			f.SeriesMatch = true
			if m.SeriesIdentified {
				f.IdentifiedSeries = true
			} else {
				f.UnidentifiedSeries = true
			}
		}
		if m.Classification.Scheme == "industry" {
			addSet(&f.Classifications, strings.ToUpper(m.Classification.Code))
		}
		if m.Viral || m.Meme {
			viralFiles[m.FileID] = true
		}
	}
	f.AllFilesViral = len(files) > 0 && !slices.ContainsFunc(files, func(x *haven.ReportFile) bool { return !viralFiles[x.ID] })
	slices.Sort(f.ReportAnnotations)
	slices.Sort(f.FileAnnotations)
	slices.Sort(f.Classifications)

	for _, p := range r.Reported {
		if actionable(&p) {
			f.ActionableIdentifiers = true
		}
		f.PriorReports += len(p.PriorCTReports)
	}
	for _, d := range r.Internet {
		if len(d.IPCaptures) > 0 || len(d.Emails) > 0 || len(d.URLs) > 0 || d.Phone != nil {
			f.ActionableIdentifiers = true
		}
	}
	for _, v := range r.Victims {
		if v.Person == nil {
			continue
		}
		if age, ok := ageOf(v.Person, r.Incident.DateTime); ok && (f.VictimAge < 0 || age < f.VictimAge) {
			f.VictimAge = age
		}
	}
	return f
}

// actionable reports whether a reported person or user carries an
// identifier police can act on.
func actionable(p *haven.Involved) bool {
	if p.ScreenName != "" || p.ESPIdentifier != "" || len(p.IPCaptures) > 0 || len(p.DeviceIDs) > 0 || len(p.ProfileURLs) > 0 {
		return true
	}
	if pp := p.Person; pp != nil && (len(pp.Emails) > 0 || len(pp.Phones) > 0 || len(pp.Addresses) > 0) {
		return true
	}
	for _, a := range p.AssociatedAccounts {
		if len(a.Emails) > 0 || len(a.Phones) > 0 || len(a.IPCaptures) > 0 || a.ESPIdentifier != "" || a.ScreenName != "" {
			return true
		}
	}
	return false
}

// ageOf is a person's age in years: the stated age, else computed from the
// date of birth at the incident (or today when the incident has no date).
func ageOf(p *haven.Person, at time.Time) (int, bool) {
	if p.Age != nil && *p.Age >= 0 {
		return *p.Age, true
	}
	dob, err := time.Parse(time.DateOnly, p.DateOfBirth)
	if err != nil {
		return 0, false
	}
	if at.IsZero() {
		at = time.Now()
	}
	years := at.Year() - dob.Year()
	if at.YearDay() < dob.YearDay() {
		years--
	}
	return years, years >= 0
}
