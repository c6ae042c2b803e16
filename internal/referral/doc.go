// Package referral makes reports available to law-enforcement agencies
// (program P4). It keeps the agency directory's geography (the areas each
// agency covers) and the ordered jurisdiction rules that turn a report's
// location into suggested agencies, each with the rule that chose it;
// refers reports to agencies and revokes referrals; builds the referral
// package (a summary, a PDF of it, and the report's structured data as
// JSON); tracks the ESP preservation deadline; and serves the agency side:
// an agency's users see only the reports referred to their agency,
// acknowledge them, ask the hotline for more in a message thread, and
// record outcomes, which flow back to analysts and, aggregated and with
// small counts suppressed, to the reporting ESP.
//
// A referral is never overwritten: referring a report to more agencies
// adds referrals beside the first ones, and revocation is its own audited
// action. Every agency-side request checks for a live referral in the
// database, so a revocation takes effect on the very next request; a
// report not referred to the actor's agency answers exactly like one that
// does not exist (SECURITY.md 1), and the refusal is audited.
package referral
