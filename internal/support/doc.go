// Package support is the family-support program (P8): peer-support
// volunteers who lived the same experience as the families they help
// (volunteers are not users of Haven; coordinators act for them), family
// support requests, the matching that proposes volunteers with the
// reasons of each proposal (match.go, rules as data in DefaultRules),
// the coordinator's approval, introductions and follow-ups; and the
// provider network of mental-health providers giving pro-bono or
// sliding-scale care, with import and export in the Open Referral HSDS 3
// format (hsds.go) and closed-loop referrals of families recorded with
// their consent. Every read of a family record is audited.
package support
