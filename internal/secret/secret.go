// Package secret keeps the application's own secrets: random keys that
// Haven generates on first start and stores in the database, each wrapped
// by the master key with its name as associated data. They survive
// master-key rotation (which re-wraps them) and are useless to anyone who
// holds a copy of the database without the master key.
package secret

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"fmt"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/store"
)

// The names of the application secrets.
const (
	// AuditChain keys the HMAC that chains audit events.
	AuditChain = "audit-chain"
	// AuditPseudonym keys the HMAC that replaces identifying values in
	// audit details.
	AuditPseudonym = "audit-pseudonym"
	// Seal encrypts small secrets kept in records, such as TOTP seeds.
	Seal = "record-seal"
	// PublicForm signs the start time of the public report form.
	PublicForm = "public-form"
)

// Names lists every application secret.
var Names = []string{AuditChain, AuditPseudonym, Seal, PublicForm}

// Wrapper wraps and unwraps key material with the master key.
type Wrapper interface {
	Wrap(plaintext, associatedData []byte) ([]byte, error)
	Unwrap(ciphertext, associatedData []byte) ([]byte, error)
}

func ad(name string) []byte { return []byte("haven-secret:" + name) }

// Set holds the unwrapped application secrets in memory.
type Set struct {
	keys map[string][]byte
	seal cipher.AEAD
}

// Load reads every application secret, creating the missing ones. Two
// instances starting together create each secret once: the loser of the
// race reads the winner's.
func Load(ctx context.Context, s *store.Store, w Wrapper, clock haven.Clock) (*Set, error) {
	set := &Set{keys: make(map[string][]byte)}
	for _, name := range Names {
		key, err := loadOne(ctx, s, w, clock, name)
		if err != nil {
			return nil, err
		}
		set.keys[name] = key
	}
	block, err := aes.NewCipher(set.keys[Seal])
	if err != nil {
		return nil, fmt.Errorf("load secrets: %w", err)
	}
	if set.seal, err = cipher.NewGCM(block); err != nil {
		return nil, fmt.Errorf("load secrets: %w", err)
	}
	return set, nil
}

func loadOne(ctx context.Context, s *store.Store, w Wrapper, clock haven.Clock, name string) ([]byte, error) {
	for range 2 {
		var wrapped []byte
		err := s.View(ctx, func(tx *store.Tx) (err error) {
			wrapped, err = tx.Secret(ctx, name)
			return err
		})
		if err == nil {
			key, err := w.Unwrap(wrapped, ad(name))
			if err != nil {
				return nil, fmt.Errorf("unwrap secret %s (is this the right master key?): %w", name, err)
			}
			return key, nil
		}
		if !haven.IsKind(err, haven.KindNotFound) {
			return nil, fmt.Errorf("load secret %s: %w", name, err)
		}
		key := make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
		wrapped, err = w.Wrap(key, ad(name))
		if err != nil {
			return nil, fmt.Errorf("wrap secret %s: %w", name, err)
		}
		err = s.InTx(ctx, func(tx *store.Tx) error { return tx.PutSecret(ctx, name, wrapped, clock.Now(), false) })
		if err == nil {
			return key, nil
		}
		if !haven.IsKind(err, haven.KindConflict) {
			return nil, fmt.Errorf("store secret %s: %w", name, err)
		}
		// Another instance created it first: read theirs.
	}
	return nil, fmt.Errorf("load secret %s: gave up after a creation race", name)
}

// Key returns the secret of the given name. It panics on an unknown name,
// which is a programming error.
func (s *Set) Key(name string) []byte {
	k, ok := s.keys[name]
	if !ok {
		panic("secret: unknown secret " + name)
	}
	return k
}

// Seal encrypts a small value (a TOTP seed) bound to context, typically
// the ID of the record that holds it, so it cannot be moved to another.
func (s *Set) Seal(plaintext []byte, context string) ([]byte, error) {
	nonce := make([]byte, s.seal.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return s.seal.Seal(nonce, nonce, plaintext, []byte(context)), nil
}

// ErrUnseal is returned when a sealed value does not open.
var ErrUnseal = &haven.Error{Kind: haven.KindIntegrity, Message: "a sealed value failed to open"}

// Open decrypts a value made by Seal with the same context.
func (s *Set) Open(sealed []byte, context string) ([]byte, error) {
	n := s.seal.NonceSize()
	if len(sealed) < n+s.seal.Overhead() {
		return nil, ErrUnseal
	}
	pt, err := s.seal.Open(nil, sealed[:n], sealed[n:], []byte(context))
	if err != nil {
		return nil, ErrUnseal
	}
	return pt, nil
}

// Rewrap re-wraps every stored application secret inside tx: each is
// unwrapped with from and wrapped with to. Used by master-key rotation.
func Rewrap(ctx context.Context, tx *store.Tx, from, to Wrapper) error {
	names, err := tx.SecretNames(ctx)
	if err != nil {
		return err
	}
	for _, name := range names {
		wrapped, err := tx.Secret(ctx, name)
		if err != nil {
			return err
		}
		key, err := from.Unwrap(wrapped, ad(name))
		if err != nil {
			return fmt.Errorf("rewrap secret %s: %w", name, err)
		}
		if wrapped, err = to.Wrap(key, ad(name)); err != nil {
			return fmt.Errorf("rewrap secret %s: %w", name, err)
		}
		if err := tx.PutSecret(ctx, name, wrapped, haven.SystemClock{}.Now(), true); err != nil {
			return err
		}
	}
	return nil
}

// Check verifies that every stored application secret unwraps with w, so
// that a master keyset can be reduced to w without losing any.
func Check(ctx context.Context, tx *store.Tx, w Wrapper) error {
	names, err := tx.SecretNames(ctx)
	if err != nil {
		return err
	}
	for _, name := range names {
		wrapped, err := tx.Secret(ctx, name)
		if err != nil {
			return err
		}
		if _, err := w.Unwrap(wrapped, ad(name)); err != nil {
			return fmt.Errorf("secret %s: %w", name, err)
		}
	}
	return nil
}
