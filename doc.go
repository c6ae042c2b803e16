// Package haven holds the domain vocabulary of Haven, the platform for
// child-protection hotlines and clearinghouses: roles and permissions, the
// acting identity of a request, the error type shared by every layer, and the
// records that the foundation keeps (users, agencies, evidence, audit events).
//
// The package does no I/O. Storage adapters live under internal/store, the
// services under internal/, and the binary under cmd/haven.
package haven
