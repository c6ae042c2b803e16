// Package resilience holds Haven's tests that run the real binary and
// break it (SECURITY.md 27 and 29, issue 10): the crash-safety test kills
// `haven serve` with SIGKILL at random moments while ESP clients file
// reports, restarts it, and checks that no acknowledged report was lost
// or duplicated and that nothing half-written is visible; the
// multi-instance test runs two servers on one database.
//
// The package has no code of its own besides the test harness in
// harness_test.go; see docs/operations.md for the long runs.
package resilience
