// Package identifiers finds the identifiers in a report — e-mail
// addresses, phone numbers, screen names with their service, ESP user IDs,
// IP addresses, device IDs, URLs and file hashes — turns each into one
// canonical form, and keeps it as an entity linked to every report that
// mentions it, so that analysts see which reports share a person, an
// account, a device or a file.
//
// Normalisation is deliberately conservative: two values get the same
// canonical form only when they name the same thing for every practical
// purpose (the rules and their reasons are in
// docs/decisions/0010-identifiers-and-geolocation.md). A value that cannot
// be normalised is refused, counted and never linked, and values that
// would join unrelated reports (private IP addresses, zeroed advertising
// IDs, the ESP's own contact details) are left out on purpose.
//
// The Service indexes a report (idempotently: re-indexing replaces its
// links), lists the reports related to a report, shows an entity's timeline
// across reports, and searches by identifier. Every read is audited, and
// no identifying value ever reaches a log line, an error or an audit
// event: those carry counts, entity IDs and keyed pseudonyms only.
package identifiers
