// Package keys holds Haven's master key: the key-encryption key (KEK) that
// wraps every per-item data key and every other stored secret.
//
// The master key is a Tink AEAD keyset of AES-256-GCM keys, kept in memory as
// a [Master]. It is loaded from a file holding the cleartext Tink JSON keyset
// (mode 0600, the only cleartext key material Haven allows on disk) or from
// the content of an environment variable (the same JSON, or base64 of it).
//
// A Master is immutable and safe for concurrent use. Rotation returns a new
// Master: [Master.Rotate] adds a fresh primary key and keeps the old ones, so
// existing ciphertexts still unwrap while new ones use the new key; once
// every wrapped secret has been re-wrapped, [Master.Retire] drops the old
// keys. Unwrapping with the wrong associated data or with a retired key fails
// with an error of kind [haven.KindIntegrity].
package keys
