package cybertip

import (
	"fmt"
	"reflect"
	"regexp"
	"time"

	"github.com/haven-hotline/haven"
)

// This file holds the schema of the CyberTipline documents as one
// declarative table. The same table drives the validator and decoder
// (validate.go), the encoder (encode.go) and the XSD served to ESPs
// (xsd.go), so what Haven accepts, what it exports and what it documents
// cannot drift apart.

// kind is the content type of a simple value.
type kind uint8

const (
	kindString   kind = iota // xs:string: whitespace preserved
	kindToken                // xs:token: whitespace collapsed (enumerations too)
	kindInt                  // xs:int
	kindLong                 // xs:long
	kindDouble               // xs:double
	kindBool                 // xs:boolean: true, false, 1, 0
	kindDateTime             // xs:dateTime
	kindDate                 // xs:date
	kindFlag                 // xs:boolean fixed="true": a presence flag
)

// xsdName is the built-in XSD type a kind derives from.
func (k kind) xsdName() string {
	return [...]string{"xs:string", "xs:token", "xs:int", "xs:long", "xs:double", "xs:boolean",
		"xs:dateTime", "xs:date", "xs:boolean"}[k]
}

// simpleType is the type of a text value: the content of an element or
// the value of an attribute.
type simpleType struct {
	name     string   // name of the XSD simpleType; "" for the built-in base type
	base     kind     //
	enum     []string // allowed values, if an enumeration
	enumDesc string   // how messages name the enumeration, e.g. "the 8 incident types"
	maxLen   int      // maximum length in characters, 0 for none
	pattern  string   // XSD regular expression (compiled for Go too)
	hint     string   // what a value breaking the pattern is told
	hasRange bool     // min and max apply
	min, max float64  // inclusive range of a number
	doc      string   // xs:documentation

	re      *regexp.Regexp
	enumSet map[string]bool
}

// unbounded is maxOccurs="unbounded".
const unbounded = -1

// particle is an element declaration inside a complex type, or a choice
// group of element declarations (choice != nil).
type particle struct {
	name     string
	min, max int          // occurrences; max unbounded for many
	simple   *simpleType  // content of an element without attributes
	complex  *complexType // content of an element with children or attributes
	field    string       // Go field it maps to; "" maps a complex element onto the parent's struct
	personal bool         // the value is personal data: errors never quote it
	choice   []*particle  // the members of a choice group
	doc      string       // xs:documentation

	index []int // compiled: the reflect index of field
}

// attribute is an attribute declaration.
type attribute struct {
	name     string
	typ      *simpleType
	required bool
	field    string
	personal bool

	index []int
}

// model is how a complex type's children are grouped.
type model uint8

const (
	modelSequence model = iota // xs:sequence: in order
	modelAll                   // xs:all: any order, each at most once
	modelChoice                // xs:choice: exactly one of the items
)

// constField is a Go field set to a fixed value when an element of the
// type is decoded (haven.Involved.Role records which element it came from).
type constField struct {
	field string
	value string
	index []int
}

// complexType is a named XSD complex type bound to a Go struct type.
type complexType struct {
	name      string
	doc       string
	goType    reflect.Type
	model     model
	items     []*particle
	attrs     []*attribute
	text      *simpleType // simple content with attributes; nil for element-only content
	textField string      // Go field of the simple content
	kindField string      // for modelChoice: Go field recording which item was used
	consts    []constField

	// compiled
	textIndex []int
	kindIndex []int
	children  map[string]childRef
	allowed   []string // every child name, in schema order
}

// childRef locates a child element: item is the position in items, p the
// element's declaration (a member when items[item] is a choice group).
type childRef struct {
	item int
	p    *particle
}

// schema is the compiled table: the four global elements.
type schema struct {
	report, fileDetails, reportResponse, reportDoneResponse *particle
}

// fileDoc is the Go side of a fileDetails document: the two identifiers
// that haven.FileDetails does not hold, and the details.
type fileDoc struct {
	ReportID int64
	FileID   string
	haven.FileDetails
}

// tables is the compiled schema. It is built once and never modified.
var tables = buildSchema()

// Particle constructors. t is a *simpleType or a *complexType.
func decl(name string, min, max int, t any, field string) *particle {
	p := &particle{name: name, min: min, max: max, field: field}
	switch t := t.(type) {
	case *simpleType:
		p.simple = t
	case *complexType:
		p.complex = t
	default:
		panic(fmt.Sprintf("cybertip: element %s: bad type %T", name, t))
	}
	return p
}

func req(name string, t any, field string) *particle  { return decl(name, 1, 1, t, field) }
func opt(name string, t any, field string) *particle  { return decl(name, 0, 1, t, field) }
func many(name string, t any, field string) *particle { return decl(name, 0, unbounded, t, field) }

// private marks p as personal data.
func (p *particle) private() *particle { p.personal = true; return p }

// documented sets p's documentation.
func (p *particle) documented(doc string) *particle { p.doc = doc; return p }

func choiceOf(min, max int, members ...*particle) *particle {
	return &particle{min: min, max: max, choice: members}
}

func attr(name string, t *simpleType, field string) *attribute {
	return &attribute{name: name, typ: t, field: field}
}

func reqAttr(name string, t *simpleType, field string) *attribute {
	return &attribute{name: name, typ: t, field: field, required: true}
}

func enumType(name, desc string, values []string, doc string) *simpleType {
	return &simpleType{name: name, base: kindToken, enum: values, enumDesc: desc, doc: doc}
}

func stringN(n int) *simpleType {
	return &simpleType{name: fmt.Sprintf("string%d", n), base: kindString, maxLen: n}
}

// dateTimePattern restricts xs:dateTime to what every client sends and Go
// represents exactly: four-digit years, hours 00-23, optional fraction,
// optional zone (no zone means UTC) within ±14:00.
const dateTimePattern = `[0-9]{4}-[0-9]{2}-[0-9]{2}T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?(Z|[+\-]((0[0-9]|1[0-3]):[0-5][0-9]|14:00))?`

func buildSchema() *schema {
	var (
		str     = &simpleType{base: kindString}
		token   = &simpleType{base: kindToken}
		integer = &simpleType{base: kindInt}
		long    = &simpleType{base: kindLong}
		boolean = &simpleType{base: kindBool}
		flag    = &simpleType{base: kindFlag}

		dateTime = &simpleType{name: "dateTimeValue", base: kindDateTime, pattern: dateTimePattern,
			hint: "is not a valid date and time: expected xs:dateTime such as 2025-01-02T03:04:05Z (no zone means UTC)",
			doc:  "An xs:dateTime with a four-digit year and an optional zone (Z or ±hh:mm); without a zone it is taken as UTC."}
		date = &simpleType{name: "dateValue", base: kindDate, pattern: `[0-9]{4}-[0-9]{2}-[0-9]{2}`,
			hint: "is not a valid date: expected YYYY-MM-DD", doc: "An xs:date written YYYY-MM-DD, without a zone."}

		s20, s50, s64, s100 = stringN(20), stringN(50), stringN(64), stringN(100)
		s255, s256, s300    = stringN(255), stringN(256), stringN(300)
		s2056, s2083, s3000 = stringN(2056), stringN(2083), stringN(3000)

		url = &simpleType{name: "url", base: kindToken, pattern: `[^\s\p{Cc}]*`,
			hint: "contains whitespace or control characters: percent-encode them (a space is %20)",
			doc:  "A URL: no whitespace or control characters inside (percent-encode them)."}
		age = &simpleType{name: "age", base: kindInt, hasRange: true, min: 0, max: 150,
			doc: "An age in years, 0 to 150."}
		port = &simpleType{name: "port", base: kindInt, hasRange: true, min: 1, max: 65535,
			doc: "A TCP or UDP port, 1 to 65535."}
		latitude = &simpleType{name: "latitude", base: kindDouble, hasRange: true, min: -90, max: 90,
			doc: "Degrees north (negative: south), -90 to 90."}
		longitude = &simpleType{name: "longitude", base: kindDouble, hasRange: true, min: -180, max: 180,
			doc: "Degrees east (negative: west), -180 to 180."}
		callingCode = &simpleType{name: "countryCallingCode", base: kindToken, pattern: `\+[0-9]{1,3}`,
			hint: "is not a country calling code: expected a plus sign and 1 to 3 digits, e.g. +1",
			doc:  "An international calling code: + and 1 to 3 digits."}
		extension = &simpleType{name: "phoneExtension", base: kindToken, pattern: `[0-9]+`, maxLen: 10,
			hint: "is not a phone extension: expected digits only"}

		incidentType = enumType("incidentType", "the 8 incident types", incidentTypeValues(),
			"What happened: one of the eight incident types.")
		batchedReason = enumType("batchedReportReason", "the batched-report reasons (VIRAL_POTENTIAL_MEME)",
			[]string{"VIRAL_POTENTIAL_MEME"}, "Why otherwise individual reports were bundled.")
		ipCaptureType = enumType("ipCaptureType", "", []string{"Login", "Registration", "Purchase", "Upload", "Other", "Unknown"},
			"The event during which an IP address or device ID was captured.")
		addressType = enumType("addressType", "", []string{"Home", "Business", "Billing", "Shipping", "Technical"}, "")
		emailType   = enumType("emailType", "", []string{"Home", "Work", "Business", "Recovery"}, "")
		phoneType   = enumType("phoneType", "", []string{"Mobile", "Home", "Business", "Work", "Fax", "Internet", "Recovery"}, "")
		accountType = enumType("associatedAccountType", "", []string{"Billing", "Linked", "Business", "Creator", "Parent/Guardian", "Other"}, "")
		country     = enumType("country", "the country codes (ISO 3166 alpha-2 such as US or GB, A1, A2, O1, AP, EU, XK or empty)",
			countryCodes, "A country: ISO 3166 alpha-2, the GeoIP pseudo-codes A1 (anonymous proxy), A2 (satellite provider), O1 (other), AP, EU, the legacy AN and FX, XK, or empty.")
		state = enumType("state", "the US state codes (two capital letters such as CA, DC or PR, or empty)", stateCodes,
			"A US state or territory: the 50 states, DC, GU, PR, VI, or empty.")
		relevance = enumType("fileRelevance", "", []string{"Reported", "Supplemental Reported"},
			"How the file relates to the report; Reported when absent.")
		classification = enumType("industryClassification", "", []string{"A1", "A2", "B1", "B2"},
			"The industry classification scale: A prepubescent, B pubescent; 1 sex act, 2 lascivious exhibition. Only for ESPs party to the industry hash-sharing MOU, and only on Reported files.")
		metadataType = enumType("metadataType", "", []string{"EXIF", "HASH"}, "")
	)

	var (
		report          = reflect.TypeFor[haven.Report]()
		internetDetail  = reflect.TypeFor[haven.InternetDetail]()
		involved        = reflect.TypeFor[haven.Involved]()
		person          = reflect.TypeFor[haven.Person]()
		accountDisabled = reflect.TypeFor[haven.AccountDisabled]()
	)

	emailT := &complexType{name: "email", goType: reflect.TypeFor[haven.Email](), text: s255, textField: "Value",
		doc: "An e-mail address.",
		attrs: []*attribute{
			attr("type", emailType, "Type"),
			attr("verified", boolean, "Verified"),
			attr("verificationDate", dateTime, "VerificationDate"),
		}}
	phoneT := &complexType{name: "phone", goType: reflect.TypeFor[haven.Phone](), text: s50, textField: "Value",
		doc: "A phone number.",
		attrs: []*attribute{
			attr("type", phoneType, "Type"),
			attr("verified", boolean, "Verified"),
			attr("verificationDate", dateTime, "VerificationDate"),
			{name: "countryCallingCode", typ: callingCode, field: "CountryCallingCode"},
			{name: "extension", typ: extension, field: "Extension", personal: true},
		}}
	addressT := &complexType{name: "address", goType: reflect.TypeFor[haven.Address](),
		doc: "A postal address.",
		items: []*particle{
			opt("address", s255, "Street").private(),
			opt("city", s100, "City"),
			opt("zipCode", s20, "ZipCode"),
			opt("state", state, "State"),
			opt("nonUsaState", s100, "NonUSAState"),
			opt("country", country, "Country"),
		},
		attrs: []*attribute{attr("type", addressType, "Type")}}
	personItems := func(full bool) []*particle {
		items := []*particle{
			opt("firstName", s100, "FirstName").private(),
			opt("lastName", s100, "LastName").private(),
			many("phone", phoneT, "Phones"),
			many("email", emailT, "Emails"),
			many("address", addressT, "Addresses"),
		}
		if full {
			items = append(items,
				opt("age", age, "Age").private(),
				opt("dateOfBirth", date, "DateOfBirth").private())
		}
		return items
	}
	personT := &complexType{name: "person", goType: person, items: personItems(true),
		doc: "A person: the reporter, a reported user, a recipient or a victim."}
	contactPersonT := &complexType{name: "contactPerson", goType: person, items: personItems(false),
		doc: "A person to contact (no age or date of birth)."}

	ipCaptureT := &complexType{name: "ipCaptureEvent", goType: reflect.TypeFor[haven.IPCapture](),
		doc: "An IP address and when, during what, it was used.",
		items: []*particle{
			req("ipAddress", token, "IPAddress").private(),
			opt("eventName", ipCaptureType, "EventName"),
			opt("dateTime", dateTime, "DateTime"),
			opt("possibleProxy", boolean, "PossibleProxy"),
			opt("port", port, "Port"),
		}}
	deviceIDT := &complexType{name: "deviceId", goType: reflect.TypeFor[haven.DeviceID](),
		doc: "A device identifier (IMEI, ICCID, SSID…) and when it was captured.",
		items: []*particle{
			req("idType", s255, "IDType"),
			req("idValue", s2083, "IDValue").private(),
			opt("eventName", ipCaptureType, "EventName"),
			opt("dateTime", dateTime, "DateTime"),
		}}
	disabledAttrs := func(reenabled bool) []*attribute {
		a := []*attribute{
			attr("disabledDate", dateTime, "DisabledDate"),
			attr("userNotified", boolean, "UserNotified"),
			attr("userNotifiedDate", dateTime, "UserNotifiedDate"),
		}
		if reenabled {
			a = append(a, attr("reenabledDate", dateTime, "ReenabledDate"))
		}
		return a
	}
	tempDisabledT := &complexType{name: "accountTemporarilyDisabled", goType: accountDisabled,
		text: boolean, textField: "Disabled", attrs: disabledAttrs(true),
		doc: "Whether the account was temporarily disabled, and when."}
	permDisabledT := &complexType{name: "accountPermanentlyDisabled", goType: accountDisabled,
		text: boolean, textField: "Disabled", attrs: disabledAttrs(false),
		doc: "Whether the account was permanently disabled, and when."}
	estimatedLocationT := &complexType{name: "estimatedLocation", goType: reflect.TypeFor[haven.EstimatedLocation](),
		doc: "Where the ESP believes the user is.",
		items: []*particle{
			opt("city", s255, "City"),
			opt("region", s255, "Region"),
			opt("countryCode", country, "CountryCode"),
		},
		attrs: []*attribute{attr("verified", boolean, "Verified"), attr("timestamp", dateTime, "Timestamp")}}

	associatedAccountT := &complexType{name: "associatedAccount", goType: reflect.TypeFor[haven.AssociatedAccount](),
		doc:   "Another account linked to the user.",
		attrs: []*attribute{reqAttr("type", accountType, "Type")},
		items: []*particle{
			opt("platform", &complexType{name: "associatedAccountPlatform", goType: reflect.TypeFor[haven.AssociatedAccount](),
				text: s256, textField: "Platform", attrs: []*attribute{attr("thirdPartyUser", boolean, "PlatformThirdParty")},
				doc: "The platform of the account; thirdPartyUser when it is another company's."}, ""),
			opt("firstName", s256, "FirstName").private(),
			opt("middleName", s256, "MiddleName").private(),
			opt("lastName", s256, "LastName").private(),
			opt("approximateAge", age, "ApproximateAge").private(),
			opt("dateOfBirth", date, "DateOfBirth").private(),
			many("phone", phoneT, "Phones"),
			many("email", emailT, "Emails"),
			opt("allEmailsReported", boolean, "AllEmailsReported"),
			many("address", addressT, "Addresses"),
			opt("espService", s256, "ESPService"),
			opt("espIdentifier", s256, "ESPIdentifier"),
			many("profileUrl", str, "ProfileURLs"),
			opt("screenName", s256, "ScreenName").private(),
			many("displayName", str, "DisplayNames").private(),
			opt("profileBio", str, "ProfileBio"),
			opt("groupIdentifier", s256, "GroupIdentifier"),
			opt("compromisedAccount", boolean, "CompromisedAccount"),
			opt("accountTemporarilyDisabled", tempDisabledT, "TemporarilyDisabled"),
			opt("accountPermanentlyDisabled", permDisabledT, "PermanentlyDisabled"),
			many("ipCaptureEvent", ipCaptureT, "IPCaptures"),
			many("deviceId", deviceIDT, "DeviceIDs"),
			many("priorCTReport", long, "PriorCTReports"),
			opt("additionalInfo", str, "AdditionalInfo"),
		}}

	// The three roles share most children, in the same relative order.
	type involvedChild int
	const (
		cVehicle involvedChild = iota
		cThirdParty
		cGroup
		cSchool
		cAssociated
		cManyInfo
	)
	involvedItems := func(personElem string, personMin int, has ...involvedChild) []*particle {
		on := func(c involvedChild) bool {
			for _, h := range has {
				if h == c {
					return true
				}
			}
			return false
		}
		items := []*particle{decl(personElem, personMin, 1, personT, "Person")}
		if on(cVehicle) {
			items = append(items, opt("vehicleDescription", s300, "VehicleDescription"))
		}
		items = append(items,
			opt("espIdentifier", s255, "ESPIdentifier"),
			opt("espService", s100, "ESPService"),
			opt("compromisedAccount", boolean, "CompromisedAccount"),
			opt("screenName", s256, "ScreenName").private(),
			many("displayName", str, "DisplayNames").private(),
			many("profileUrl", str, "ProfileURLs"),
			opt("profileBio", str, "ProfileBio"),
			many("ipCaptureEvent", ipCaptureT, "IPCaptures"),
			many("deviceId", deviceIDT, "DeviceIDs"))
		if on(cSchool) {
			items = append(items, opt("schoolName", s255, "SchoolName"))
		}
		if on(cThirdParty) {
			items = append(items, opt("thirdPartyUserReported", boolean, "ThirdPartyUserReported"))
		}
		items = append(items, many("priorCTReports", long, "PriorCTReports"))
		if on(cGroup) {
			items = append(items, opt("groupIdentifier", s255, "GroupIdentifier"))
		}
		items = append(items,
			opt("accountTemporarilyDisabled", tempDisabledT, "TemporarilyDisabled"),
			opt("accountPermanentlyDisabled", permDisabledT, "PermanentlyDisabled"),
			opt("estimatedLocation", estimatedLocationT, "EstimatedLocation"),
			opt("allEmailsReported", boolean, "AllEmailsReported"))
		if on(cAssociated) {
			items = append(items, many("associatedAccount", associatedAccountT, "AssociatedAccounts"))
		}
		if on(cManyInfo) {
			items = append(items, many("additionalInfo", str, "AdditionalInfo"))
		} else {
			items = append(items, opt("additionalInfo", str, "AdditionalInfo"))
		}
		return items
	}
	reportedT := &complexType{name: "personOrUserReported", goType: involved,
		doc:    "The reported person or user.",
		consts: []constField{{field: "Role", value: string(haven.RoleReported)}},
		items:  involvedItems("personOrUserReportedPerson", 0, cVehicle, cThirdParty, cGroup, cAssociated)}
	recipientT := &complexType{name: "intendedRecipient", goType: involved,
		doc:    "An intended recipient of the content.",
		consts: []constField{{field: "Role", value: string(haven.RoleRecipient)}},
		items:  involvedItems("intendedRecipientPerson", 0, cGroup, cManyInfo)}
	victimT := &complexType{name: "victim", goType: involved,
		doc:    "A child victim.",
		consts: []constField{{field: "Role", value: string(haven.RoleVictim)}},
		items:  involvedItems("victimPerson", 1, cSchool, cAssociated)}

	reportAnnotationsT := &complexType{name: "reportAnnotations", goType: reflect.TypeFor[haven.ReportAnnotations](), model: modelAll,
		doc: "Presence flags describing the report, in any order: write <x/> or <x>true</x>.",
		items: []*particle{
			opt("sextortion", flag, "Sextortion"),
			opt("csamSolicitation", flag, "CSAMSolicitation"),
			opt("minorToMinorInteraction", flag, "MinorToMinorInteraction"),
			opt("spam", flag, "Spam"),
			opt("sadisticOnlineExploitation", flag, "SadisticOnlineExploitation"),
		}}
	incidentSummaryT := &complexType{name: "incidentSummary", goType: reflect.TypeFor[haven.IncidentSummary](),
		doc: "What happened and when.",
		items: []*particle{
			req("incidentType", incidentType, "Type"),
			opt("platform", s256, "Platform"),
			opt("escalateToHighPriority", s3000, "Escalate").documented("Present: escalate; the text says why."),
			opt("reportAnnotations", reportAnnotationsT, "Annotations"),
			req("incidentDateTime", dateTime, "DateTime"),
			opt("incidentDateTimeDescription", s3000, "DateTimeDescription"),
		}}

	variant := func(name, doc string, items ...*particle) *particle {
		return req(name, &complexType{name: name, goType: internetDetail, items: items, doc: doc}, "")
	}
	webPage := variant("webPageIncident", "The incident occurred on a web page.",
		many("url", url, "URLs"),
		opt("additionalInfo", str, "AdditionalInfo"))
	webPage.complex.attrs = []*attribute{attr("thirdPartyHostedContent", boolean, "ThirdPartyHosted")}
	internetDetailsT := &complexType{name: "internetDetails", goType: internetDetail, model: modelChoice, kindField: "Kind",
		doc: "Where the incident happened: exactly one of the variants.",
		items: []*particle{
			webPage,
			variant("emailIncident", "The incident occurred by e-mail.",
				many("emailAddress", emailT, "Emails"),
				opt("content", str, "Content"),
				opt("additionalInfo", str, "AdditionalInfo")),
			variant("newsgroupIncident", "The incident occurred in a newsgroup.",
				opt("name", s255, "Name"),
				many("emailAddress", emailT, "Emails"),
				opt("content", str, "Content"),
				opt("additionalInfo", str, "AdditionalInfo")),
			variant("chatImIncident", "The incident occurred in a chat or instant messages.",
				opt("chatClient", s255, "ChatClient"),
				opt("chatRoomName", s255, "ChatRoomName"),
				opt("content", str, "Content"),
				opt("additionalInfo", str, "AdditionalInfo")),
			variant("onlineGamingIncident", "The incident occurred in an online game.",
				opt("gameName", s255, "GameName"),
				opt("console", s255, "Console"),
				opt("content", str, "Content"),
				opt("additionalInfo", str, "AdditionalInfo")),
			variant("cellPhoneIncident", "The incident occurred mainly by cell phone.",
				opt("phoneNumber", phoneT, "Phone"),
				opt("latitude", latitude, "Latitude"),
				opt("longitude", longitude, "Longitude"),
				opt("additionalInfo", str, "AdditionalInfo")),
			variant("nonInternetIncident", "The incident has no online component.",
				opt("locationName", s255, "LocationName"),
				many("incidentAddress", addressT, "Addresses"),
				opt("additionalInfo", str, "AdditionalInfo")),
			variant("peer2peerIncident", "The incident occurred on a peer-to-peer network.",
				opt("client", s255, "Client"),
				many("ipCaptureEvent", ipCaptureT, "IPCaptures"),
				opt("fileNames", str, "FileNames"),
				opt("additionalInfo", str, "AdditionalInfo")),
		}}

	lawEnforcement := reflect.TypeFor[haven.LawEnforcement]()
	lawEnforcementT := &complexType{name: "lawEnforcement", goType: lawEnforcement,
		doc: "The police agency already involved.",
		items: []*particle{
			req("agencyName", s255, "AgencyName"),
			opt("caseNumber", s100, "CaseNumber"),
			opt("officerContact", contactPersonT, "OfficerContact"),
			opt("reportedToLe", boolean, "ReportedToLE"),
			opt("servedLegalProcessDomestic", boolean, "ServedLegalProcessDomestic"),
			opt("servedLegalProcessInternational", &complexType{name: "servedLegalProcessInternational", goType: lawEnforcement,
				text: boolean, textField: "ServedLegalProcessInternational",
				attrs: []*attribute{attr("fleaCountry", country, "FLEACountry")},
				doc:   "Whether a foreign agency served legal process; fleaCountry is its country."}, ""),
		}}
	reporterT := &complexType{name: "reporter", goType: reflect.TypeFor[haven.Reporter](),
		doc: "The reporting company and the person submitting.",
		items: []*particle{
			req("reportingPerson", personT, "ReportingPerson"),
			opt("contactPerson", contactPersonT, "ContactPerson"),
			opt("companyTemplate", str, "CompanyTemplate"),
			opt("termsOfService", str, "TermsOfService"),
			opt("legalURL", s2083, "LegalURL"),
		}}
	batchedReportT := &complexType{name: "batchedReport", goType: report,
		attrs: []*attribute{reqAttr("reason", batchedReason, "BatchedReason")},
		doc:   "Marks a report that bundles many otherwise individual reports."}
	reportT := &complexType{name: "report", goType: report,
		doc: "A CyberTipline report: the body of POST /submit.",
		items: []*particle{
			opt("batchedReport", batchedReportT, ""),
			req("incidentSummary", incidentSummaryT, "Incident"),
			many("internetDetails", internetDetailsT, "Internet"),
			opt("lawEnforcement", lawEnforcementT, "LawEnforcement"),
			req("reporter", reporterT, "Reporter"),
			many("personOrUserReported", reportedT, "Reported"),
			many("intendedRecipient", recipientT, "Recipients"),
			many("victim", victimT, "Victims"),
			opt("additionalInfo", str, "AdditionalInfo"),
		}}

	fileAnnotationsT := &complexType{name: "fileAnnotations", goType: reflect.TypeFor[haven.FileAnnotations](), model: modelAll,
		doc: "Presence flags describing the file, in any order: write <x/> or <x>true</x>.",
		items: []*particle{
			opt("animeDrawingVirtualHentai", flag, "AnimeDrawingVirtualHentai"),
			opt("potentialMeme", flag, "PotentialMeme"),
			opt("viral", flag, "Viral"),
			opt("possibleSelfProduction", flag, "PossibleSelfProduction"),
			opt("physicalHarm", flag, "PhysicalHarm"),
			opt("violenceGore", flag, "ViolenceGore"),
			opt("bestiality", flag, "Bestiality"),
			opt("liveStreaming", flag, "LiveStreaming"),
			opt("infant", flag, "Infant"),
			opt("generativeAi", flag, "GenerativeAI"),
		}}
	fileDetailsT := &complexType{name: "fileDetails", goType: reflect.TypeFor[fileDoc](),
		doc: "Metadata of an uploaded file: the body of POST /fileinfo.",
		items: []*particle{
			req("reportId", long, "ReportID"),
			req("fileId", token, "FileID"),
			opt("fileName", str, "FileName"),
			opt("originalFileName", s2056, "OriginalFileName"),
			opt("uploadedToEspTimestamp", dateTime, "UploadedToESP"),
			opt("locationOfFile", s2083, "LocationOfFile"),
			opt("fileViewedByEsp", boolean, "ViewedByESP"),
			opt("exifViewedByEsp", boolean, "EXIFViewedByESP"),
			opt("publiclyAvailable", boolean, "PubliclyAvailable"),
			opt("fileRelevance", relevance, "Relevance"),
			choiceOf(0, 1,
				req("potentialMeme", boolean, "PotentialMeme").documented("The legacy position of the potential-meme flag."),
				req("fileAnnotations", fileAnnotationsT, "Annotations")),
			opt("industryClassification", classification, "IndustryClassification"),
			many("originalFileHash", &complexType{name: "originalFileHash", goType: reflect.TypeFor[haven.OriginalHash](),
				text: str, textField: "Value", attrs: []*attribute{reqAttr("hashType", s64, "Type")},
				doc: "A hash of the file as the user uploaded it; hashType names the algorithm (MD5, SHA1…)."}, "OriginalHashes"),
			opt("ipCaptureEvent", ipCaptureT, "IPCapture"),
			many("deviceId", deviceIDT, "DeviceIDs"),
			many("details", &complexType{name: "details", goType: reflect.TypeFor[haven.DetailSet](),
				attrs: []*attribute{attr("type", metadataType, "Type")},
				items: []*particle{decl("nameValuePair", 1, unbounded, &complexType{name: "nameValuePair",
					goType: reflect.TypeFor[haven.NameValue](),
					items:  []*particle{req("name", s64, "Name"), req("value", str, "Value")}}, "Pairs")},
				doc: "Metadata of the file (EXIF or hashes) as name/value pairs."}, "Details"),
			many("additionalInfo", str, "AdditionalInfo"),
		}}

	response := reflect.TypeFor[ReportResponse]()
	done := reflect.TypeFor[ReportDoneResponse]()
	reportResponseT := &complexType{name: "reportResponse", goType: response,
		doc: "The answer to every request but finish.",
		items: []*particle{
			req("responseCode", integer, "Code"),
			req("responseDescription", str, "Description"),
			opt("reportId", long, "ReportID"),
			opt("fileId", token, "FileID"),
			opt("hash", token, "Hash").documented("The MD5 of an uploaded file, in hexadecimal."),
		}}
	reportDoneResponseT := &complexType{name: "reportDoneResponse", goType: done,
		doc: "The answer to finish: the files of the report.",
		items: []*particle{
			req("responseCode", integer, "Code"),
			req("reportId", long, "ReportID"),
			req("files", &complexType{name: "files", goType: done,
				items: []*particle{many("fileId", token, "FileIDs")}}, ""),
		}}

	s := &schema{
		report:             req("report", reportT, ""),
		fileDetails:        req("fileDetails", fileDetailsT, ""),
		reportResponse:     req("reportResponse", reportResponseT, ""),
		reportDoneResponse: req("reportDoneResponse", reportDoneResponseT, ""),
	}
	c := compiler{types: map[string]*complexType{}, simples: map[string]*simpleType{}}
	for _, root := range s.roots() {
		c.complexType(root.complex)
	}
	return s
}

// roots lists the global elements.
func (s *schema) roots() []*particle {
	return []*particle{s.report, s.fileDetails, s.reportResponse, s.reportDoneResponse}
}

// compiler checks the table against the Go types and fills in the
// compiled fields. Any mismatch is a programming error and panics when the
// package is initialised, so every test catches it.
type compiler struct {
	types   map[string]*complexType
	simples map[string]*simpleType
}

var timeType = reflect.TypeFor[time.Time]()

func (c *compiler) simpleType(t *simpleType) {
	if t.name != "" {
		if prev, ok := c.simples[t.name]; ok {
			if prev == t {
				return
			}
			a, b := *prev, *t
			a.re, a.enumSet, b.re, b.enumSet = nil, nil, nil, nil
			if !reflect.DeepEqual(a, b) {
				panic("cybertip: two different simple types named " + t.name)
			}
			*t = *prev
			return
		}
		c.simples[t.name] = t
	}
	if t.pattern != "" && t.re == nil {
		t.re = regexp.MustCompile(`^(?:` + t.pattern + `)$`)
	}
	if t.enum != nil && t.enumSet == nil {
		t.enumSet = make(map[string]bool, len(t.enum))
		for _, v := range t.enum {
			t.enumSet[v] = true
		}
	}
}

func (c *compiler) complexType(ct *complexType) {
	if prev, ok := c.types[ct.name]; ok {
		if prev != ct {
			panic("cybertip: two complex types named " + ct.name)
		}
		return
	}
	c.types[ct.name] = ct
	if ct.goType.Kind() != reflect.Struct {
		panic("cybertip: type " + ct.name + " is bound to a non-struct")
	}
	for i := range ct.consts {
		ct.consts[i].index = c.field(ct, ct.consts[i].field, reflect.TypeFor[string]()).Index
	}
	for _, a := range ct.attrs {
		c.simpleType(a.typ)
		f := c.field(ct, a.field, nil)
		checkSimpleField(ct.name+"/@"+a.name, a.typ, f.Type, false)
		a.index = f.Index
	}
	if ct.text != nil {
		if len(ct.items) > 0 {
			panic("cybertip: type " + ct.name + " has both text and children")
		}
		c.simpleType(ct.text)
		f := c.field(ct, ct.textField, nil)
		checkSimpleField(ct.name+"/text()", ct.text, f.Type, false)
		ct.textIndex = f.Index
	}
	if ct.kindField != "" {
		ct.kindIndex = c.field(ct, ct.kindField, nil).Index
	}
	ct.children = map[string]childRef{}
	for i, it := range ct.items {
		members := []*particle{it}
		if it.choice != nil {
			members = it.choice
		}
		for _, p := range members {
			if _, dup := ct.children[p.name]; dup {
				panic("cybertip: type " + ct.name + " declares " + p.name + " twice")
			}
			ct.children[p.name] = childRef{item: i, p: p}
			ct.allowed = append(ct.allowed, p.name)
			c.particle(ct, p)
		}
	}
	if ct.model == modelAll {
		for _, it := range ct.items {
			if it.max != 1 || it.choice != nil {
				panic("cybertip: xs:all type " + ct.name + " with a repeated item")
			}
		}
	}
}

func (c *compiler) particle(parent *complexType, p *particle) {
	where := parent.name + "/" + p.name
	if p.simple != nil {
		c.simpleType(p.simple)
		f := c.field(parent, p.field, nil)
		checkSimpleField(where, p.simple, f.Type, p.max != 1)
		p.index = f.Index
		return
	}
	c.complexType(p.complex)
	if p.field == "" {
		if p.complex.goType != parent.goType {
			panic("cybertip: " + where + " is mapped onto its parent but has another Go type")
		}
		return
	}
	f := c.field(parent, p.field, nil)
	t := f.Type
	switch {
	case p.max != 1 && t.Kind() == reflect.Slice:
		t = t.Elem()
	case p.max == 1 && t.Kind() == reflect.Pointer:
		t = t.Elem()
	case p.max == 1 && p.min == 1 && t.Kind() == reflect.Struct:
	default:
		panic(fmt.Sprintf("cybertip: %s: field %s has type %s", where, p.field, f.Type))
	}
	if t != p.complex.goType {
		panic(fmt.Sprintf("cybertip: %s: field %s has type %s, want %s", where, p.field, t, p.complex.goType))
	}
	p.index = f.Index
}

func (c *compiler) field(ct *complexType, name string, want reflect.Type) reflect.StructField {
	f, ok := ct.goType.FieldByName(name)
	if !ok {
		panic(fmt.Sprintf("cybertip: type %s: %s has no field %s", ct.name, ct.goType, name))
	}
	if want != nil && f.Type.Kind() != want.Kind() {
		panic(fmt.Sprintf("cybertip: type %s: field %s is %s", ct.name, name, f.Type))
	}
	return f
}

// checkSimpleField panics unless a Go field of type t can hold values of
// st (a slice when the element repeats).
func checkSimpleField(where string, st *simpleType, t reflect.Type, repeated bool) {
	switch {
	case t.Kind() == reflect.Slice:
		t = t.Elem()
	case repeated:
		panic("cybertip: " + where + ": a repeated element needs a slice field")
	case t.Kind() == reflect.Pointer:
		t = t.Elem()
	}
	ok := false
	switch st.base {
	case kindString, kindToken, kindDate:
		ok = t.Kind() == reflect.String
	case kindInt:
		ok = t.Kind() == reflect.Int || t.Kind() == reflect.String
	case kindLong:
		ok = t.Kind() == reflect.Int64
	case kindDouble:
		ok = t.Kind() == reflect.Float64
	case kindBool, kindFlag:
		ok = t.Kind() == reflect.Bool
	case kindDateTime:
		ok = t == timeType
	}
	if !ok {
		panic(fmt.Sprintf("cybertip: %s: a Go %s cannot hold %s", where, t, st.base.xsdName()))
	}
}
