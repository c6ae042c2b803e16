// Package victimid is victim identification (program P5): series of known
// imagery (keyed by the SeriesID that hash entries carry), victims known
// only by pseudonymous IDs and the series they appear in, identification
// requests from law enforcement (submitted hashes or files are matched
// against the hash banks and answered with the series found, the
// identifying agencies' contacts for identified victims and the series
// still unidentified — nothing else about victims), notifications to
// victims' counsel when a victim who opted in appears in a request, and
// counts for the clearinghouse's statistics.
//
// Only roles with PermVictimRead see victim records and every read is
// audited; counsel details are kept apart and shown only with
// PermNotifications. Submitted files are hashed in memory and never
// stored; only the request and its result summary are.
package victimid
