// Package offender is sex-offender tracking (program P6): registry
// records kept as histories (every residence, identifier, offence and
// compliance event has valid-from and valid-to dates), imports of state
// registry exports through a saved column mapping per source with a
// preview and a report of rejected rows, compliance computed from the
// SORNA verification intervals of each tier, linkage of offenders'
// place-and-time histories and identifiers to attempted abductions,
// missing-child incidents and CyberTipline reports, locate requests from
// law enforcement with their analytical report, and the twice-yearly
// registry surveys behind the public counts.
//
// Offender records are read by offender analysts and administrators only
// and every read is audited; a law-enforcement user sees only the
// requests of their agency and what was delivered to them.
package offender
