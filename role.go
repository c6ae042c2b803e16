package haven

import "slices"

// Role is what an account is for. Each role grants a fixed set of
// permissions (see Can); there is no per-user permission list, so an audit
// of who may do what is a reading of this file.
type Role string

// The roles of Haven.
const (
	RoleAdmin      Role = "admin"
	RoleAuditor    Role = "auditor"
	RoleSupervisor Role = "supervisor"
	RoleIntake     Role = "intake_analyst"
	RoleVictimID   Role = "victim_id_analyst"
	RoleOffender   Role = "offender_analyst"
	RoleCasework   Role = "casework_specialist"
	RoleSupport    Role = "support_coordinator"
	RoleLE         Role = "le_user"     // law enforcement, bound to one agency
	RoleESP        Role = "esp_account" // an online service; API only
	RoleResearcher Role = "researcher"  // an authorised researcher: aggregate tables only
)

// Roles lists every role in display order.
var Roles = []Role{
	RoleAdmin, RoleAuditor, RoleSupervisor, RoleIntake, RoleVictimID,
	RoleOffender, RoleCasework, RoleSupport, RoleLE, RoleESP, RoleResearcher,
}

var roleLabels = map[Role]string{
	RoleAdmin:      "Administrator",
	RoleAuditor:    "Auditor",
	RoleSupervisor: "Supervisor",
	RoleIntake:     "Intake analyst",
	RoleVictimID:   "Victim-identification analyst",
	RoleOffender:   "Offender-tracking analyst",
	RoleCasework:   "Trafficking and missing-child specialist",
	RoleSupport:    "Family-support coordinator",
	RoleLE:         "Law-enforcement user",
	RoleESP:        "ESP account (API only)",
	RoleResearcher: "Authorised researcher",
}

// Valid reports whether r is one of the defined roles.
func (r Role) Valid() bool { _, ok := roleLabels[r]; return ok }

// Label returns a human-readable name for the role.
func (r Role) Label() string {
	if l, ok := roleLabels[r]; ok {
		return l
	}
	return string(r)
}

// Interactive reports whether accounts of this role sign in to the web
// interface (and so must enrol a second factor). ESP accounts are API only.
func (r Role) Interactive() bool { return r.Valid() && r != RoleESP }

// NeedsAgency reports whether accounts of this role must belong to an agency.
func (r Role) NeedsAgency() bool { return r == RoleLE }

// Permission names one thing an actor may do. Services check permissions on
// an explicit Actor; HTTP routes declare the permission they need so that a
// route without a rule cannot be registered.
type Permission string

// The permissions of the foundation. Later programs add their own.
const (
	PermStaffHome      Permission = "staff.home"       // see the staff interface
	PermLEPortal       Permission = "le.portal"        // see the law-enforcement portal
	PermManageUsers    Permission = "users.manage"     // create, disable, unlock accounts; grant roles
	PermManageAgencies Permission = "agencies.manage"  // create and edit agencies
	PermViewAgencies   Permission = "agencies.view"    // list agencies
	PermManageESPs     Permission = "esps.manage"      // create ESP accounts and rotate their secrets
	PermReadAudit      Permission = "audit.read"       // read audit events
	PermVerifyAudit    Permission = "audit.verify"     // run the chain verification
	PermManageKeys     Permission = "keys.manage"      // rotate the master key
	PermEvidenceWrite  Permission = "evidence.write"   // acquire evidence
	PermEvidenceRead   Permission = "evidence.read"    // read custody records and evidence bytes
	PermEvidenceShred  Permission = "evidence.shred"   // destroy an item by deleting its key
	PermAPIToken       Permission = "api.token"        // hold a JSON-API bearer token
	PermESPSubmit      Permission = "esp.submit"       // submit reports through the ESP API
	PermOwnAccount     Permission = "account.self"     // manage one's own password and sessions
	PermReportSubmit   Permission = "reports.submit"   // submit reports through an API
	PermReportRead     Permission = "reports.read"     // read reports and their custody records
	PermPhoneIntake    Permission = "reports.phone"    // enter a report taken by phone
	PermCallbackRead   Permission = "reports.callback" // see a phone caller's callback details
	PermReportExport   Permission = "reports.export"   // export a report as CyberTipline XML
	PermReadBanks      Permission = "banks.read"       // see hash banks and their entries
	PermManageBanks    Permission = "banks.manage"     // create banks, add and remove entries, import
	PermMatchAPI       Permission = "banks.match"      // ask whether hashes or a file match the banks
	PermExportBanks    Permission = "banks.export"     // export a bank as a hash list

	// Triage and referral (issue 5).
	PermTriage         Permission = "triage.work"      // work the queues: claim, release, note, set statuses
	PermAssign         Permission = "triage.assign"    // assign reports to analysts; see SLA alerts
	PermOverride       Permission = "triage.override"  // override a computed priority, with a reason
	PermManageRules    Permission = "triage.rules"     // change the priority rule table
	PermIdentifiers    Permission = "identifiers.read" // see identifiers, entity pages, search by identifier
	PermGeoCorrect     Permission = "geo.correct"      // correct a report's location
	PermRefer          Permission = "reports.refer"    // refer a report to agencies
	PermJurisdiction   Permission = "agencies.rules"   // edit agency areas and jurisdiction rules
	PermViewRendition  Permission = "media.rendition"  // see the blurred, reduced renditions of files
	PermReveal         Permission = "media.reveal"     // reveal an original file, with a reason
	PermExposureReport Permission = "media.exposure"   // see analysts' exposure figures (never content)
	PermLegalAuthority Permission = "media.legal"      // record the legal authority that opens a gated file
	PermLEReferrals    Permission = "le.referrals"     // an agency's users: its referred reports, acknowledge, outcomes
	PermFeedback       Permission = "esp.feedback"     // an ESP: aggregated outcomes of its reports

	// Victim identification (issue 6). Victim records are the most
	// restricted data in Haven: victim-ID analysts and administrators only.
	PermSeriesRead    Permission = "victimid.series"  // see series, their sightings and the workboard
	PermSeriesManage  Permission = "victimid.manage"  // create and change series and victim records, findings, leads
	PermVictimRead    Permission = "victimid.victims" // see victim records (every read audited)
	PermIDRequest     Permission = "victimid.request" // submit an identification request and read its report
	PermNotifications Permission = "victimid.notify"  // work the victim-notification queue
	PermLabSanitise   Permission = "lab.sanitise"     // mask renditions and publish them to the redacted lab
	PermLabView       Permission = "lab.view"         // browse the redacted lab (sanitised renditions only)
	PermVictimIDStats Permission = "victimid.stats"   // the clearinghouse's victim-identification statistics

	// Sex-offender tracking (issue 7). Offender records are read by
	// offender analysts and administrators only, every read audited; LE
	// users see only their own locate requests and what is delivered.
	PermOffenderRead   Permission = "offenders.read"    // see registry records, timelines, compliance lists, links
	PermOffenderManage Permission = "offenders.manage"  // edit records, run imports and mappings, work locate requests, confirm links
	PermIncidents      Permission = "incidents.record"  // record attempted abductions and other incidents used for linkage
	PermSurveys        Permission = "offenders.surveys" // enter and compute the registry surveys behind the public counts
	PermLocateRequest  Permission = "le.locate"         // an agency's users: ask for help locating an offender; read the report delivered

	// Casework and family support (issue 8). Every read of a child's
	// record is audited; volunteers are not users (coordinators act for them).
	PermCaseRead       Permission = "cases.read"       // see missing-child and trafficking cases, plans, timelines
	PermCaseManage     Permission = "cases.manage"     // open and work cases, indicators, recovery plans, tasks
	PermHopeBags       Permission = "cases.hopebags"   // Hope Bag inventory, restocking and distribution
	PermAssistanceWork Permission = "cases.assistance" // triage, assign and answer assistance requests
	PermLECases        Permission = "le.cases"         // an agency's users: cases shared with the agency; assistance requests
	PermSupport        Permission = "support.manage"   // volunteers, family support requests, matching, introductions
	PermProvidersRead  Permission = "providers.read"   // see the provider network
	PermProviders      Permission = "providers.manage" // edit providers, import/export HSDS, refer families to providers

	// Statistics and transparency (issue 9).
	PermDashboards Permission = "stats.dashboards" // internal dashboards and draft public releases
	PermReleases   Permission = "stats.releases"   // prepare and publish public data releases
	PermResearch   Permission = "stats.research"   // aggregate research exports (no records)
)

var staff = []Role{RoleAdmin, RoleAuditor, RoleSupervisor, RoleIntake, RoleVictimID, RoleOffender, RoleCasework, RoleSupport, RoleResearcher}

var analysts = []Role{RoleSupervisor, RoleIntake, RoleVictimID, RoleOffender, RoleCasework, RoleSupport}

// grants is the role × permission table. Keep it readable: it is the
// access policy of the platform.
var grants = map[Permission][]Role{
	PermStaffHome:      staff,
	PermLEPortal:       {RoleLE},
	PermManageUsers:    {RoleAdmin},
	PermManageAgencies: {RoleAdmin},
	PermViewAgencies:   append([]Role{RoleAdmin, RoleAuditor}, analysts...),
	PermManageESPs:     {RoleAdmin},
	PermReadAudit:      {RoleAdmin, RoleAuditor},
	PermVerifyAudit:    {RoleAdmin, RoleAuditor},
	PermManageKeys:     {RoleAdmin},
	PermEvidenceWrite:  append([]Role{RoleESP}, analysts...),
	PermEvidenceRead:   analysts,
	PermEvidenceShred:  {RoleAdmin},
	PermAPIToken:       append([]Role{RoleESP, RoleLE}, analysts...),
	PermESPSubmit:      {RoleESP},
	PermOwnAccount:     append(append([]Role{}, staff...), RoleLE),
	PermReportSubmit:   {RoleESP},
	PermReportRead:     analysts,
	PermPhoneIntake:    {RoleIntake, RoleSupervisor},
	PermCallbackRead:   {RoleIntake, RoleSupervisor},
	PermReportExport:   {RoleIntake, RoleSupervisor},
	PermReadBanks:      append([]Role{RoleAdmin}, analysts...),
	PermManageBanks:    {RoleAdmin, RoleSupervisor, RoleVictimID},
	PermMatchAPI:       append([]Role{RoleESP}, analysts...),
	PermExportBanks:    {RoleAdmin, RoleSupervisor, RoleVictimID},
	PermTriage:         {RoleIntake, RoleSupervisor},
	PermAssign:         {RoleSupervisor},
	PermOverride:       {RoleIntake, RoleSupervisor},
	PermManageRules:    {RoleAdmin, RoleSupervisor},
	PermIdentifiers:    analysts,
	PermGeoCorrect:     {RoleIntake, RoleSupervisor},
	PermRefer:          {RoleIntake, RoleSupervisor},
	PermJurisdiction:   {RoleAdmin, RoleSupervisor},
	PermViewRendition:  append([]Role{RoleLE}, analysts...),
	PermReveal:         append([]Role{RoleLE}, analysts...),
	PermExposureReport: {RoleSupervisor, RoleAdmin},
	PermLegalAuthority: {RoleSupervisor},
	PermLEReferrals:    {RoleLE},
	PermFeedback:       {RoleESP},
	PermSeriesRead:     {RoleAdmin, RoleVictimID},
	PermSeriesManage:   {RoleVictimID},
	PermVictimRead:     {RoleAdmin, RoleVictimID},
	PermIDRequest:      {RoleLE},
	PermNotifications:  {RoleVictimID, RoleSupport},
	PermLabSanitise:    {RoleVictimID},
	PermLabView:        {RoleLE},
	PermVictimIDStats:  {RoleAdmin, RoleSupervisor, RoleVictimID},

	// Issue 7.
	PermOffenderRead:   {RoleAdmin, RoleOffender},
	PermOffenderManage: {RoleOffender},
	PermIncidents:      {RoleOffender, RoleCasework, RoleSupervisor},
	PermSurveys:        {RoleOffender, RoleSupervisor},
	PermLocateRequest:  {RoleLE},

	// Issue 8.
	PermCaseRead:       {RoleAdmin, RoleSupervisor, RoleCasework},
	PermCaseManage:     {RoleCasework},
	PermHopeBags:       {RoleCasework, RoleSupport},
	PermAssistanceWork: {RoleCasework, RoleSupervisor},
	PermLECases:        {RoleLE},
	PermSupport:        {RoleSupport},
	PermProvidersRead:  {RoleAdmin, RoleSupervisor, RoleCasework, RoleSupport},
	PermProviders:      {RoleSupport, RoleCasework},

	// Issue 9.
	PermDashboards: {RoleAdmin, RoleSupervisor},
	PermReleases:   {RoleSupervisor},
	PermResearch:   {RoleResearcher},
}

// Permissions lists every permission, sorted.
func Permissions() []Permission {
	ps := make([]Permission, 0, len(grants))
	for p := range grants {
		ps = append(ps, p)
	}
	slices.Sort(ps)
	return ps
}

// Can reports whether the role is granted the permission.
func (r Role) Can(p Permission) bool { return slices.Contains(grants[p], r) }

// Sensitive reports whether the permission guards an action that needs a
// re-authentication within the last five minutes (SECURITY.md 11).
func (p Permission) Sensitive() bool {
	switch p {
	case PermManageUsers, PermManageKeys, PermEvidenceShred, PermReportExport, PermExportBanks:
		return true
	}
	return false
}
