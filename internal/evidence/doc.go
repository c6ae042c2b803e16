// Package evidence is Haven's encrypted evidence vault.
//
// Every evidence item (an uploaded file or a server-made rendition) is
// encrypted with its own data key, a Tink streaming AEAD keyset
// (AES256_GCM_HKDF_1MB), before any of its bytes reach a disk. The data key is
// wrapped by the master key (see package keys) with the item ID as associated
// data, and the wrapped key is stored with the item's record, not with the
// blob: deleting it crypto-shreds the item. The ciphertext stream is bound to
// the item ID too, so two swapped blobs both fail to decrypt.
//
// [Vault.Seal] reads the plaintext once, computing MD5, SHA-1 and SHA-256
// while it encrypts and streams the ciphertext to a [Backend]. [Vault.Open]
// decrypts and re-checks the SHA-256 recorded at acquisition at the end of
// the stream; any tampering surfaces as an error of kind
// [haven.KindIntegrity], never as wrong bytes.
//
// Backends store opaque ciphertext blobs under keys that Haven generates. The
// local backend ([NewLocal]) keeps them in a directory tree; package
// evidence/s3 keeps them in an S3-compatible bucket.
package evidence
