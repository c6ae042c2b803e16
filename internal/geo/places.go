package geo

import (
	"strings"
	"unicode"
)

// countryCodes are the ISO 3166-1 alpha-2 codes of every country and
// territory.
var countryCodes = func() map[string]bool {
	m := map[string]bool{}
	for c := range strings.FieldsSeq(`AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO
		BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET
		FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS
		IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP
		MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO
		RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ
		UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW`) {
		m[c] = true
	}
	return m
}()

// ValidCountry reports whether c is an ISO 3166-1 alpha-2 code (upper
// case).
func ValidCountry(c string) bool { return countryCodes[c] }

// countryNames maps the names and alpha-3 codes people write in address
// fields to alpha-2 codes, for the countries that report most. Keys are
// lower case without dots.
var countryNames = map[string]string{
	"united states": "US", "united states of america": "US", "usa": "US", "america": "US",
	"canada": "CA", "can": "CA",
	"united kingdom": "GB", "uk": "GB", "great britain": "GB", "gbr": "GB", "england": "GB", "scotland": "GB", "wales": "GB",
	"northern ireland": "GB", "ireland": "IE", "irl": "IE", "germany": "DE", "deutschland": "DE", "deu": "DE",
	"france": "FR", "fra": "FR", "spain": "ES", "españa": "ES", "esp": "ES", "italy": "IT", "italia": "IT", "ita": "IT",
	"netherlands": "NL", "the netherlands": "NL", "holland": "NL", "nld": "NL", "belgium": "BE", "bel": "BE",
	"australia": "AU", "aus": "AU", "new zealand": "NZ", "nzl": "NZ", "mexico": "MX", "méxico": "MX", "mex": "MX",
	"brazil": "BR", "brasil": "BR", "bra": "BR", "india": "IN", "ind": "IN", "philippines": "PH", "phl": "PH",
	"japan": "JP", "jpn": "JP", "china": "CN", "chn": "CN", "south africa": "ZA", "zaf": "ZA", "nigeria": "NG", "nga": "NG",
	"kenya": "KE", "ken": "KE", "sweden": "SE", "swe": "SE", "norway": "NO", "nor": "NO", "denmark": "DK", "dnk": "DK",
	"finland": "FI", "fin": "FI", "poland": "PL", "pol": "PL", "portugal": "PT", "prt": "PT", "switzerland": "CH", "che": "CH",
	"austria": "AT", "aut": "AT", "russia": "RU", "russian federation": "RU", "rus": "RU", "ukraine": "UA", "ukr": "UA",
	"turkey": "TR", "türkiye": "TR", "turkiye": "TR", "tur": "TR", "indonesia": "ID", "idn": "ID", "thailand": "TH", "tha": "TH",
	"vietnam": "VN", "viet nam": "VN", "vnm": "VN", "pakistan": "PK", "pak": "PK", "bangladesh": "BD", "bgd": "BD",
	"colombia": "CO", "col": "CO", "argentina": "AR", "arg": "AR", "chile": "CL", "chl": "CL", "peru": "PE", "per": "PE",
	"puerto rico": "PR", "pri": "PR", "singapore": "SG", "sgp": "SG", "malaysia": "MY", "mys": "MY",
	"south korea": "KR", "korea": "KR", "republic of korea": "KR", "kor": "KR",
}

// CountryCode reads a country as written in a report (an alpha-2 or
// alpha-3 code, or a common name) and returns its alpha-2 code, or "".
func CountryCode(s string) string {
	s = strings.TrimSpace(s)
	if up := strings.ToUpper(s); len(up) == 2 && countryCodes[up] {
		return up
	}
	key := strings.Join(strings.Fields(strings.ToLower(strings.ReplaceAll(s, ".", ""))), " ")
	if key == "us" {
		return "US"
	}
	return countryNames[key]
}

// usStates are the ISO 3166-2:US codes (without "US-"): the states, the
// District of Columbia and the outlying areas.
var usStates = map[string]string{
	"AL": "alabama", "AK": "alaska", "AZ": "arizona", "AR": "arkansas", "CA": "california", "CO": "colorado",
	"CT": "connecticut", "DE": "delaware", "FL": "florida", "GA": "georgia", "HI": "hawaii", "ID": "idaho",
	"IL": "illinois", "IN": "indiana", "IA": "iowa", "KS": "kansas", "KY": "kentucky", "LA": "louisiana", "ME": "maine",
	"MD": "maryland", "MA": "massachusetts", "MI": "michigan", "MN": "minnesota", "MS": "mississippi", "MO": "missouri",
	"MT": "montana", "NE": "nebraska", "NV": "nevada", "NH": "new hampshire", "NJ": "new jersey", "NM": "new mexico",
	"NY": "new york", "NC": "north carolina", "ND": "north dakota", "OH": "ohio", "OK": "oklahoma", "OR": "oregon",
	"PA": "pennsylvania", "RI": "rhode island", "SC": "south carolina", "SD": "south dakota", "TN": "tennessee",
	"TX": "texas", "UT": "utah", "VT": "vermont", "VA": "virginia", "WA": "washington", "WV": "west virginia",
	"WI": "wisconsin", "WY": "wyoming", "DC": "district of columbia", "PR": "puerto rico", "GU": "guam",
	"VI": "virgin islands", "AS": "american samoa", "MP": "northern mariana islands", "UM": "united states minor outlying islands",
}

// caProvinces are the ISO 3166-2:CA codes.
var caProvinces = map[string]string{
	"AB": "alberta", "BC": "british columbia", "MB": "manitoba", "NB": "new brunswick", "NL": "newfoundland and labrador",
	"NS": "nova scotia", "NT": "northwest territories", "NU": "nunavut", "ON": "ontario", "PE": "prince edward island",
	"QC": "quebec", "SK": "saskatchewan", "YT": "yukon",
}

// subdivisions are the subdivision tables Haven knows completely, by
// country.
var subdivisions = map[string]map[string]string{"US": usStates, "CA": caProvinces}

// RegionCode reads a region of a country as written in a report — an ISO
// 3166-2 code with or without its country ("US-CA", "CA"), or a name
// ("California") — and returns the ISO 3166-2 code where Haven knows it,
// else the name as written (trimmed), or "" when there is none.
func RegionCode(country, s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if s == "" || country == "" {
		return s
	}
	up := strings.ToUpper(s)
	if rest, ok := strings.CutPrefix(up, country+"-"); ok && validSubdivision(rest) {
		if tbl := subdivisions[country]; tbl == nil || tbl[rest] != "" {
			return country + "-" + rest
		}
	}
	if tbl := subdivisions[country]; tbl != nil {
		if tbl[up] != "" {
			return country + "-" + up
		}
		low := strings.ToLower(s)
		for code, name := range tbl {
			if name == low {
				return country + "-" + code
			}
		}
		return s
	}
	return s
}

// validSubdivision checks the part of an ISO 3166-2 code after the
// country: one to three letters or digits.
func validSubdivision(s string) bool {
	if len(s) < 1 || len(s) > 3 {
		return false
	}
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// validRegionName checks a free-text region an analyst typed.
func validRegionName(s string) bool {
	if len(s) > 100 {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}

// callingCodes maps country calling codes to the countries that use them,
// the main one first, for the common ones. A code shared by several
// countries is weak evidence of any one of them.
var callingCodes = map[string][]string{
	"1": {"US", "CA", "PR", "JM", "TT", "BS", "BB", "DO"}, "7": {"RU", "KZ"}, "20": {"EG"}, "27": {"ZA"}, "30": {"GR"},
	"31": {"NL"}, "32": {"BE"}, "33": {"FR"}, "34": {"ES"}, "36": {"HU"}, "39": {"IT", "VA"}, "40": {"RO"}, "41": {"CH"},
	"43": {"AT"}, "44": {"GB"}, "45": {"DK"}, "46": {"SE"}, "47": {"NO"}, "48": {"PL"}, "49": {"DE"}, "51": {"PE"},
	"52": {"MX"}, "53": {"CU"}, "54": {"AR"}, "55": {"BR"}, "56": {"CL"}, "57": {"CO"}, "58": {"VE"}, "60": {"MY"},
	"61": {"AU"}, "62": {"ID"}, "63": {"PH"}, "64": {"NZ"}, "65": {"SG"}, "66": {"TH"}, "81": {"JP"}, "82": {"KR"},
	"84": {"VN"}, "86": {"CN"}, "90": {"TR"}, "91": {"IN"}, "92": {"PK"}, "93": {"AF"}, "94": {"LK"}, "95": {"MM"},
	"98": {"IR"}, "212": {"MA"}, "213": {"DZ"}, "216": {"TN"}, "233": {"GH"}, "234": {"NG"}, "237": {"CM"}, "251": {"ET"},
	"254": {"KE"}, "255": {"TZ"}, "256": {"UG"}, "260": {"ZM"}, "263": {"ZW"}, "351": {"PT"}, "352": {"LU"}, "353": {"IE"},
	"354": {"IS"}, "356": {"MT"}, "357": {"CY"}, "358": {"FI"}, "359": {"BG"}, "370": {"LT"}, "371": {"LV"}, "372": {"EE"},
	"380": {"UA"}, "381": {"RS"}, "385": {"HR"}, "386": {"SI"}, "420": {"CZ"}, "421": {"SK"}, "852": {"HK"}, "880": {"BD"},
	"886": {"TW"}, "961": {"LB"}, "962": {"JO"}, "965": {"KW"}, "966": {"SA"}, "971": {"AE"}, "972": {"IL"}, "974": {"QA"},
	"977": {"NP"},
}

// CallingCodeCountries returns the countries that use a country calling
// code, the main one first (nil when the code is not in Haven's table).
func CallingCodeCountries(code string) []string { return callingCodes[code] }
