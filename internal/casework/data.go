package casework

// Case types.
const (
	TypeEndangeredRunaway  = "endangered_runaway"
	TypeFamilyAbduction    = "family_abduction"
	TypeNonfamilyAbduction = "nonfamily_abduction"
	TypeLostInjuredMissing = "lost_injured_missing"
	TypeTraffickingVictim  = "trafficking_victim"
	TypeTraffickingAtRisk  = "trafficking_at_risk"
	TypeAttemptedAbduction = "attempted_abduction"
)

// Choice is a coded value with its label and, for grouped lists, the
// group it is shown under.
type Choice struct {
	Code  string
	Label string
	Group string
}

// CaseTypes lists the case types in display order.
var CaseTypes = []Choice{
	{TypeEndangeredRunaway, "Endangered runaway", "Missing child"},
	{TypeFamilyAbduction, "Family abduction", "Missing child"},
	{TypeNonfamilyAbduction, "Nonfamily abduction", "Missing child"},
	{TypeLostInjuredMissing, "Lost, injured or otherwise missing", "Missing child"},
	{TypeTraffickingVictim, "Identified victim of child sex trafficking", "Child sex trafficking"},
	{TypeTraffickingAtRisk, "Child at risk of sex trafficking", "Child sex trafficking"},
	{TypeAttemptedAbduction, "Attempted abduction (reference)", "Attempted abduction"},
}

// Case statuses.
const (
	StatusOpen      = "open"
	StatusLocated   = "located"
	StatusRecovered = "recovered"
	StatusClosed    = "closed"
)

// Statuses lists the case statuses.
var Statuses = []Choice{
	{StatusOpen, "Open", ""},
	{StatusLocated, "Child located", ""},
	{StatusRecovered, "Child recovered", ""},
	{StatusClosed, "Closed", ""},
}

// Indicator groups.
const (
	GroupTrafficking  = "Trafficking indicators"
	GroupEndangerment = "Endangerment indicators"
)

// Indicators is the checklist of recognised risk indicators. The list is
// data: adding an indicator is adding a line here; recorded codes that
// are later removed still show, by code.
var Indicators = []Choice{
	{"older_partner", "Relationship with a significantly older boyfriend or girlfriend", GroupTrafficking},
	{"unexplained_money", "Unexplained money, gifts, phones or clothing", GroupTrafficking},
	{"hotel_stays", "Stays in hotels or motels; nights unaccounted for", GroupTrafficking},
	{"branding", "Tattoos or branding the child will not explain", GroupTrafficking},
	{"controlled", "Someone else controls the child's phone, identity documents or money", GroupTrafficking},
	{"online_ads", "Appears in online advertisements for commercial sex", GroupTrafficking},
	{"unexplained_travel", "Travel to other cities with no explanation", GroupTrafficking},
	{"multiple_accounts", "Several phones or social-media accounts", GroupTrafficking},
	{"prior_exploitation", "Known prior sexual exploitation", GroupTrafficking},
	{"scripted", "Scripted or rehearsed answers; fear of speaking", GroupTrafficking},
	{"age_under_11", "Child under 11 years of age", GroupEndangerment},
	{"medical", "Medical condition or medication needed", GroupEndangerment},
	{"mental_health", "Mental-health crisis or risk of self-harm", GroupEndangerment},
	{"substance_use", "Drug or alcohol use", GroupEndangerment},
	{"unknown_adult", "Believed to be with an unknown adult", GroupEndangerment},
	{"online_contact", "Met someone online before going missing", GroupEndangerment},
	{"in_care", "In the care of child welfare when the child went missing", GroupEndangerment},
	{"abuse_history", "History of abuse or domestic violence at home", GroupEndangerment},
	{"exposure", "Exposed to weather or dangerous surroundings", GroupEndangerment},
	{"repeat_missing", "Has gone missing before", GroupEndangerment},
}

// Need areas of a recovery plan.
var NeedAreas = []Choice{
	{"safety", "Safety", ""},
	{"placement", "Placement", ""},
	{"medical", "Medical", ""},
	{"mental_health", "Mental health", ""},
	{"education", "Education", ""},
	{"legal_advocacy", "Legal advocacy", ""},
}

// Need statuses of a recovery plan.
var NeedStatuses = []Choice{
	{"not_started", "Not started", ""},
	{"in_progress", "In progress", ""},
	{"met", "Met", ""},
	{"not_needed", "Not needed", ""},
}

// Assistance request sources.
const (
	SourceAttorney     = "civil_attorney"
	SourceChildWelfare = "child_welfare"
	SourceLE           = "law_enforcement"
)

// Sources lists where assistance requests come from.
var Sources = []Choice{
	{SourceAttorney, "Civil attorney representing a victim", ""},
	{SourceChildWelfare, "Child-welfare agency", ""},
	{SourceLE, "Law enforcement", ""},
}

// Assistance request statuses.
const (
	RequestNew       = "new"
	RequestTriaged   = "triaged"
	RequestAssigned  = "assigned"
	RequestDelivered = "delivered"
	RequestClosed    = "closed"
)

// Priorities lists the triage priorities of assistance requests.
var Priorities = []Choice{
	{"urgent", "Urgent: a child at immediate risk", ""},
	{"high", "High", ""},
	{"normal", "Normal", ""},
	{"low", "Low", ""},
}

// Label returns the label of code in list, or code itself.
func Label(list []Choice, code string) string {
	for _, c := range list {
		if c.Code == code {
			return c.Label
		}
	}
	return code
}

func valid(list []Choice, code string) bool {
	for _, c := range list {
		if c.Code == code {
			return true
		}
	}
	return false
}
