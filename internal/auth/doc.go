// Package auth holds the credential primitives of Haven: password hashing
// and policy, TOTP second factors and random tokens. Its functions are pure:
// no database, no HTTP, no logging, so the services and HTTP surfaces that
// use them decide what is stored, audited and shown.
//
// Passwords are hashed with argon2id and stored as PHC strings
// ($argon2id$v=19$m=…,t=…,p=…$salt$hash). Both hashing and verification
// work on the NFC-normalised form of the password, so the same passphrase
// typed on systems that compose accents differently still matches.
// CheckPassword applies the policy of SECURITY.md point 7: at least 8
// characters, any Unicode and spaces, no composition rules, no truncation,
// a bundled list of common passwords. VerifyPassword and DummyVerify cost the
// same time, so a login for an unknown user is indistinguishable from a
// wrong password (point 8).
//
// TOTP follows RFC 6238 (SHA-1, 6 digits, 30-second steps) with ±1 step of
// clock skew; VerifyTOTP returns the matched step so the caller can store it
// and refuse any code of that step or an earlier one (point 6).
//
// Tokens for session cookies, enrolment links and API access are 256 random
// bits; only their SHA-256 (HashToken) is stored (point 9).
//
// Nothing here ever puts a password, code or token in an error message.
package auth
