package haven

import "time"

// IncidentType is what happened, as the exact strings of the CyberTipline
// schema. The interface may show friendlier labels; the stored value is
// always one of these.
type IncidentType string

// The eight incident types.
const (
	IncidentCSAM               IncidentType = "Child Pornography (possession, manufacture, and distribution)"
	IncidentSexTrafficking     IncidentType = "Child Sex Trafficking"
	IncidentSexTourism         IncidentType = "Child Sex Tourism"
	IncidentMolestation        IncidentType = "Child Sexual Molestation"
	IncidentMisleadingDomain   IncidentType = "Misleading Domain Name"
	IncidentMisleadingWords    IncidentType = "Misleading Words or Digital Images on the Internet"
	IncidentEnticement         IncidentType = "Online Enticement of Children for Sexual Acts"
	IncidentUnsolicitedObscene IncidentType = "Unsolicited Obscene Material Sent to a Child"
)

// IncidentTypes lists the incident types in the schema's order.
var IncidentTypes = []IncidentType{IncidentCSAM, IncidentSexTrafficking, IncidentSexTourism, IncidentMolestation,
	IncidentMisleadingDomain, IncidentMisleadingWords, IncidentEnticement, IncidentUnsolicitedObscene}

// Valid reports whether t is one of the eight incident types.
func (t IncidentType) Valid() bool {
	for _, v := range IncidentTypes {
		if v == t {
			return true
		}
	}
	return false
}

// ReportSource says how a report arrived.
type ReportSource string

// The sources of reports.
const (
	SourceESP    ReportSource = "esp"    // the CyberTipline-compatible XML API
	SourceAPI    ReportSource = "api"    // the JSON API
	SourcePublic ReportSource = "public" // the public web form
	SourcePhone  ReportSource = "phone"  // entered by hotline staff during a call
)

// ReportStatus is where a report is in its intake lifecycle.
type ReportStatus string

// The intake states: open → finished | retracted | expired.
const (
	ReportOpen      ReportStatus = "open"
	ReportFinished  ReportStatus = "finished"
	ReportRetracted ReportStatus = "retracted"
	ReportExpired   ReportStatus = "expired"
)

// Report is a report as Haven keeps it: its intake lifecycle, and every
// element of the CyberTipline report document (so that it can be exported
// back to equivalent XML), plus what Haven's own channels add.
//
// Optional booleans are pointers (absent differs from false); optional
// times are zero when absent; optional strings are empty when absent.
type Report struct {
	ID          int64 // the report number: an integer, as the ESP API requires
	Source      ReportSource
	Status      ReportStatus
	SubmitterID string // the ESP or staff account; empty for the public
	OpenedAt    time.Time
	ModifiedAt  time.Time
	FinishedAt  time.Time
	ClosedAt    time.Time // retracted or expired

	// BatchedReason is set when the report bundles many otherwise
	// individual reports (batchedReport/@reason: VIRAL_POTENTIAL_MEME).
	BatchedReason  string
	Incident       IncidentSummary
	Internet       []InternetDetail
	LawEnforcement *LawEnforcement
	Reporter       Reporter
	Reported       []Involved // personOrUserReported
	Recipients     []Involved // intendedRecipient
	Victims        []Involved // victim
	AdditionalInfo string
	Files          []*ReportFile
	Language       string    // of the public form: "en", "es"
	Callback       *Callback // phone intake only; intake roles only
	IdempotencyKey string    // JSON API
	FollowupSecret []byte    // SHA-256 of the public reporter's one-time secret
}

// IncidentSummary is the incidentSummary element.
type IncidentSummary struct {
	Type     IncidentType
	Platform string
	// Escalate is escalateToHighPriority: present (even empty) means the
	// reporter asks for urgent handling; the text says why.
	Escalate            *string
	Annotations         *ReportAnnotations
	DateTime            time.Time
	DateTimeDescription string
}

// ReportAnnotations are the report-level presence flags.
type ReportAnnotations struct {
	Sextortion                 bool
	CSAMSolicitation           bool
	MinorToMinorInteraction    bool
	Spam                       bool
	SadisticOnlineExploitation bool
}

// InternetKind names the variant of an internetDetails element.
type InternetKind string

// The internetDetails variants.
const (
	InternetWebPage     InternetKind = "webPageIncident"
	InternetEmail       InternetKind = "emailIncident"
	InternetNewsgroup   InternetKind = "newsgroupIncident"
	InternetChatIM      InternetKind = "chatImIncident"
	InternetGaming      InternetKind = "onlineGamingIncident"
	InternetCellPhone   InternetKind = "cellPhoneIncident"
	InternetNonInternet InternetKind = "nonInternetIncident"
	InternetPeer2Peer   InternetKind = "peer2peerIncident"
)

// InternetDetail is one internetDetails element; which fields are used
// depends on Kind.
type InternetDetail struct {
	Kind             InternetKind
	URLs             []string // web page
	ThirdPartyHosted *bool    // web page, attribute
	Emails           []Email  // email, newsgroup
	Name             string   // newsgroup
	Content          string   // email, newsgroup, chat, gaming
	ChatClient       string
	ChatRoomName     string
	GameName         string
	Console          string
	Phone            *Phone // cell phone
	Latitude         *float64
	Longitude        *float64
	LocationName     string    // non-internet
	Addresses        []Address // non-internet
	Client           string    // peer to peer
	IPCaptures       []IPCapture
	FileNames        string
	AdditionalInfo   string
}

// LawEnforcement is the lawEnforcement element.
type LawEnforcement struct {
	AgencyName                      string
	CaseNumber                      string
	OfficerContact                  *Person // contactPerson type
	ReportedToLE                    *bool
	ServedLegalProcessDomestic      *bool
	ServedLegalProcessInternational *bool
	FLEACountry                     string // attribute of the international flag
}

// Reporter is the reporter element.
type Reporter struct {
	ReportingPerson Person
	ContactPerson   *Person
	CompanyTemplate string
	TermsOfService  string
	LegalURL        string
}

// Person is the person type (and contactPerson, without Age and
// DateOfBirth).
type Person struct {
	FirstName   string
	LastName    string
	Phones      []Phone
	Emails      []Email
	Addresses   []Address
	Age         *int
	DateOfBirth string // xs:date, YYYY-MM-DD
}

// Address is the address type.
type Address struct {
	Type        string // Home, Business, Billing, Shipping, Technical
	Street      string
	City        string
	ZipCode     string
	State       string // US state code
	NonUSAState string
	Country     string
}

// Email is an e-mail address with its attributes.
type Email struct {
	Value            string
	Type             string // Home, Work, Business, Recovery
	Verified         *bool
	VerificationDate time.Time
}

// Phone is a phone number with its attributes.
type Phone struct {
	Value              string
	Type               string // Mobile, Home, Business, Work, Fax, Internet, Recovery
	Verified           *bool
	VerificationDate   time.Time
	CountryCallingCode string // +N, up to three digits
	Extension          string
}

// InvolvedRole says which element an Involved record comes from.
type InvolvedRole string

// The roles of people involved in a report.
const (
	RoleReported  InvolvedRole = "personOrUserReported"
	RoleRecipient InvolvedRole = "intendedRecipient"
	RoleVictim    InvolvedRole = "victim"
)

// Involved is a person or user involved in a report: the reported user,
// an intended recipient or a victim. The three elements share most
// children; the ones only one of them has are noted.
type Involved struct {
	Role                   InvolvedRole
	Person                 *Person // required for victims
	VehicleDescription     string  // reported only
	ESPIdentifier          string
	ESPService             string
	CompromisedAccount     *bool
	ScreenName             string
	DisplayNames           []string
	ProfileURLs            []string
	ProfileBio             string
	IPCaptures             []IPCapture
	DeviceIDs              []DeviceID
	SchoolName             string // victim only
	ThirdPartyUserReported *bool  // reported only
	PriorCTReports         []int64
	GroupIdentifier        string // reported and recipient
	TemporarilyDisabled    *AccountDisabled
	PermanentlyDisabled    *AccountDisabled
	EstimatedLocation      *EstimatedLocation
	AllEmailsReported      *bool
	AssociatedAccounts     []AssociatedAccount // reported and victim
	AdditionalInfo         []string            // 0..n for recipients, 0..1 otherwise
}

// AccountDisabled is accountTemporarilyDisabled or
// accountPermanentlyDisabled.
type AccountDisabled struct {
	Disabled         bool // the element's content
	DisabledDate     time.Time
	UserNotified     *bool
	UserNotifiedDate time.Time
	ReenabledDate    time.Time // temporary only
}

// EstimatedLocation is where the ESP believes a user is.
type EstimatedLocation struct {
	City        string
	Region      string
	CountryCode string
	Verified    *bool
	Timestamp   time.Time
}

// IPCapture is an ipCaptureEvent.
type IPCapture struct {
	IPAddress     string
	EventName     string // Login, Registration, Purchase, Upload, Other, Unknown
	DateTime      time.Time
	PossibleProxy *bool
	Port          *int
}

// DeviceID is a deviceId element.
type DeviceID struct {
	IDType    string
	IDValue   string
	EventName string
	DateTime  time.Time
}

// AssociatedAccount is another account linked to a user.
type AssociatedAccount struct {
	Type                string // Billing, Linked, Business, Creator, Parent/Guardian, Other
	Platform            string
	PlatformThirdParty  *bool // platform/@thirdPartyUser
	FirstName           string
	MiddleName          string
	LastName            string
	ApproximateAge      string
	DateOfBirth         string
	Phones              []Phone
	Emails              []Email
	AllEmailsReported   *bool
	Addresses           []Address
	ESPService          string
	ESPIdentifier       string
	ProfileURLs         []string
	ScreenName          string
	DisplayNames        []string
	ProfileBio          string
	GroupIdentifier     string
	CompromisedAccount  *bool
	TemporarilyDisabled *AccountDisabled
	PermanentlyDisabled *AccountDisabled
	IPCaptures          []IPCapture
	DeviceIDs           []DeviceID
	PriorCTReports      []int64
	AdditionalInfo      string
}

// ReportFile is a file attached to a report: custody facts from the
// upload and the metadata an ESP sent with fileinfo.
type ReportFile struct {
	ID            string // 32 hex characters
	ReportID      int64
	AcquisitionID string
	ItemID        string
	Filename      string // the name of the uploaded part
	ContentType   string
	Size          int64
	MD5           []byte
	SHA1          []byte
	SHA256        []byte
	UploadedAt    time.Time
	Details       *FileDetails
	DetailsAt     time.Time
}

// FileDetails is the fileDetails element, without reportId and fileId.
type FileDetails struct {
	FileName               string
	OriginalFileName       string
	UploadedToESP          time.Time
	LocationOfFile         string
	ViewedByESP            *bool
	EXIFViewedByESP        *bool
	PubliclyAvailable      *bool
	Relevance              string // Reported (the default) or Supplemental Reported
	PotentialMeme          *bool  // the legacy position, instead of Annotations
	Annotations            *FileAnnotations
	IndustryClassification string // A1, A2, B1, B2
	OriginalHashes         []OriginalHash
	IPCapture              *IPCapture
	DeviceIDs              []DeviceID
	Details                []DetailSet
	AdditionalInfo         []string
}

// FileAnnotations are the file-level presence flags.
type FileAnnotations struct {
	AnimeDrawingVirtualHentai bool
	PotentialMeme             bool
	Viral                     bool
	PossibleSelfProduction    bool
	PhysicalHarm              bool
	ViolenceGore              bool
	Bestiality                bool
	LiveStreaming             bool
	Infant                    bool
	GenerativeAI              bool
}

// OriginalHash is a hash of the file as the user uploaded it.
type OriginalHash struct {
	Type  string // free text: MD5, SHA1, SHA256…
	Value string
}

// DetailSet is a details element: EXIF or HASH name/value pairs.
type DetailSet struct {
	Type  string // EXIF or HASH
	Pairs []NameValue
}

// NameValue is one nameValuePair.
type NameValue struct {
	Name  string
	Value string
}

// Callback holds how to call back a person who reported by phone. It is
// kept apart from the report's content and shown only to intake roles.
type Callback struct {
	Name     string
	Phone    string
	Email    string
	BestTime string
	Notes    string
}
