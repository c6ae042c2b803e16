// Package casework is the casework of program P7: cases about a missing
// child (endangered runaway, family abduction, nonfamily abduction, lost,
// injured or otherwise missing), a child sex trafficking victim or child
// at risk, and attempted-abduction references; the child's pseudonymous
// record with photos held as evidence items; the people, agencies,
// CyberTipline reports and offender references of a case; its status
// history, tasks, notes and risk indicators; a timeline of everything;
// versioned recovery plans with services referred to providers; the Hope
// Bag inventory with restocking, distribution and low-stock alerts; and
// assistance requests from civil attorneys, child-welfare agencies and
// law enforcement, answered with an analysis (page and PDF).
//
// Casework specialists work cases; supervisors and administrators read
// them. Every read of a child's record is audited. A law-enforcement user
// sees a case only when it is shared with the user's agency, read-only;
// any other case answers exactly like one that does not exist.
package casework
