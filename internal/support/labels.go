package support

import (
	"strconv"
	"strings"
)

var labels = map[string]string{
	CaseMissing:                  "missing",
	CaseRecovered:                "recovered",
	CaseSexuallyExploited:        "sexually exploited",
	"parent":                     "parent",
	"sibling":                    "sibling",
	"extended_family":            "extended family member",
	"weekday_daytime":            "weekday daytime",
	"weekday_evening":            "weekday evenings",
	"weekend":                    "weekends",
	"emotional_support":          "emotional support",
	"law_enforcement_navigation": "working with law enforcement",
	"media":                      "dealing with the media",
	"reunification":              "reunification",
	"court":                      "court proceedings",
	"self_care":                  "self-care",
	ModeInPerson:                 "in person",
	ModeTelehealth:               "telehealth",
	FeeProBono:                   "pro bono",
	FeeSlidingScale:              "sliding scale",
	RefReferred:                  "referred",
	RefContacted:                 "contacted",
	RefFirstSession:              "first session held",
	RefDeclined:                  "declined",
	RefNoCapacity:                "no capacity",
	RefEnded:                     "care ended",
	StatusOpen:                   "open",
	StatusMatched:                "matched",
	StatusClosed:                 "closed",
	MatchActive:                  "active",
	MatchReplaced:                "replaced at the family's request",
	MatchEnded:                   "ended",
	ContactIntroduction:          "introduction",
	ContactFollowUp:              "follow-up",
}

// Label returns the words for a stored key (case type, relation, mode…),
// or the key itself.
func Label(key string) string {
	if l, ok := labels[key]; ok {
		return l
	}
	return strings.ReplaceAll(key, "_", " ")
}

// Languages maps the ISO 639-1 codes offered in forms to their English
// names; other well-formed codes are accepted and shown as codes.
var Languages = map[string]string{
	"ar": "Arabic", "de": "German", "en": "English", "es": "Spanish", "fr": "French", "ht": "Haitian Creole",
	"ko": "Korean", "pt": "Portuguese", "ru": "Russian", "tl": "Tagalog", "vi": "Vietnamese", "zh": "Chinese",
}

// LanguageName returns the English name of a language code, or the code.
func LanguageName(code string) string {
	if n, ok := Languages[code]; ok {
		return n
	}
	return code
}

// LanguageCode returns the code of an English language name (any case),
// or "" when unknown.
func LanguageCode(name string) string {
	for c, n := range Languages {
		if strings.EqualFold(n, name) {
			return c
		}
	}
	return ""
}

func itoa(n int) string { return strconv.Itoa(n) }
