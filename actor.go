package haven

import "time"

// Actor is who is doing something, passed explicitly to every service
// method. It is built by an HTTP surface from a verified credential, or by
// the command line for an operator on the server itself.
type Actor struct {
	UserID    string // empty for the system and for anonymous public reporters
	Role      Role
	AgencyID  string // set for law-enforcement users
	SessionID string // an opaque reference, never the session token itself
	Addr      string // source address of the request
	RequestID string
	// AuthAt is when the actor last proved both factors; sensitive actions
	// need it to be recent.
	AuthAt time.Time
	// System marks actions taken by Haven itself or by an operator at the
	// server's command line, who already holds the master key.
	System bool
}

// SystemActor returns the actor for jobs and command-line operations.
func SystemActor(name string) Actor {
	return Actor{UserID: "", Role: RoleAdmin, System: true, Addr: "local:" + name}
}

// Can reports whether the actor may use the permission. System actors may
// do everything.
func (a Actor) Can(p Permission) bool { return a.System || a.Role.Can(p) }

// Require returns ErrForbidden unless the actor has the permission, and
// ErrReauth when the permission is sensitive and the actor last
// authenticated longer than window ago.
func (a Actor) Require(p Permission, now time.Time, window time.Duration) error {
	if !a.Can(p) {
		return ErrForbidden
	}
	if p.Sensitive() && !a.System && (a.AuthAt.IsZero() || now.Sub(a.AuthAt) > window) {
		return ErrReauth
	}
	return nil
}

// ReauthWindow is how recent a sign-in must be for a sensitive action.
const ReauthWindow = 5 * time.Minute
