// Package custody is the chain-of-custody service over the encrypted
// evidence vault: it acquires evidence (one streamed pass that hashes and
// encrypts), stores identical bytes once while keeping a custody record for
// every arrival, audits every read before a byte is returned, re-verifies
// SHA-256 on every read and in a periodic scrub, re-wraps data keys when
// the master key rotates, and destroys items by deleting their keys.
package custody

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/audit"
	"github.com/haven-hotline/haven/internal/evidence"
	"github.com/haven-hotline/haven/internal/store"
)

// Service is the custody service.
type Service struct {
	store *store.Store
	vault *evidence.Vault
	audit *audit.Log
	clock haven.Clock
	log   *slog.Logger
	// MaxBytes caps one acquisition.
	maxBytes int64
}

// New returns the service.
func New(s *store.Store, v *evidence.Vault, l *audit.Log, clock haven.Clock, log *slog.Logger, maxBytes int64) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{store: s, vault: v, audit: l, clock: clock, log: log, maxBytes: maxBytes}
}

// Source describes where acquired bytes come from.
type Source struct {
	Kind        string // "esp", "public-form", "staff-upload", "cli"…
	Filename    string // as the client named it; kept as data, never a path
	ContentType string
	ContextType string // what the evidence belongs to: "report", "case"…
	ContextID   string
}

func (src *Source) clean() error {
	if src.Kind == "" {
		return haven.Invalidf("source", "the evidence source is required")
	}
	src.Filename = strings.ToValidUTF8(src.Filename, "\uFFFD")
	if utf8.RuneCountInString(src.Filename) > 255 {
		src.Filename = string([]rune(src.Filename)[:255])
	}
	src.Filename = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, src.Filename)
	if len(src.ContentType) > 200 {
		src.ContentType = src.ContentType[:200]
	}
	return nil
}

// Acquire reads r to its end in one pass that computes MD5, SHA-1 and
// SHA-256 and writes only ciphertext, then records the custody of what
// arrived. Bytes already held are not stored twice: the new acquisition
// points at the existing item. If anything fails, nothing is recorded and
// no blob is left behind.
func (s *Service) Acquire(ctx context.Context, a haven.Actor, r io.Reader, src Source) (*haven.Acquisition, error) {
	return s.AcquireThen(ctx, a, r, src, nil)
}

// AcquireThen is Acquire with then run inside the transaction that records
// the acquisition, so that what the evidence belongs to (a report's file
// record, say) is written with it, or neither is.
func (s *Service) AcquireThen(ctx context.Context, a haven.Actor, r io.Reader, src Source, then func(*store.Tx, *haven.Acquisition) error) (*haven.Acquisition, error) {
	if err := a.Require(haven.PermEvidenceWrite, s.clock.Now(), haven.ReauthWindow); err != nil {
		return nil, err
	}
	if err := src.clean(); err != nil {
		return nil, err
	}
	itemID := haven.NewID()
	sealed, err := s.vault.Seal(ctx, itemID, r, s.maxBytes)
	if err != nil {
		return nil, fmt.Errorf("acquire evidence: %w", err)
	}
	now := s.clock.Now()
	acq := &haven.Acquisition{ID: haven.NewID(), AcquiredAt: now, ActorID: a.UserID, Source: src.Kind,
		Filename: src.Filename, ContentType: src.ContentType, Size: sealed.Size, MD5: sealed.MD5, SHA1: sealed.SHA1,
		SHA256: sealed.SHA256, ContextType: src.ContextType, ContextID: src.ContextID}
	if a.System {
		acq.ActorID = "system"
	}
	var duplicate bool
	for attempt := 0; ; attempt++ {
		duplicate = false
		err = s.store.InTx(ctx, func(tx *store.Tx) error {
			existing, err := tx.LiveEvidenceItemBySHA256(ctx, sealed.SHA256)
			switch {
			case err == nil:
				duplicate = true
				acq.ItemID = existing.ID
			case haven.IsKind(err, haven.KindNotFound):
				acq.ItemID = itemID
				it := &haven.EvidenceItem{ID: itemID, SHA256: sealed.SHA256, SHA1: sealed.SHA1, MD5: sealed.MD5,
					Size: sealed.Size, WrappedKey: sealed.WrappedKey, CreatedAt: now, VerifiedAt: now}
				if err := tx.CreateEvidenceItem(ctx, it); err != nil {
					return err
				}
			default:
				return err
			}
			if err := tx.CreateAcquisition(ctx, acq); err != nil {
				return err
			}
			if then != nil {
				if err := then(tx, acq); err != nil {
					return err
				}
			}
			return s.audit.Record(ctx, tx, a, audit.Entry{Type: "evidence.acquire", ObjectType: "evidence", ObjectID: acq.ItemID,
				Details: map[string]string{"acquisition": acq.ID, "source": src.Kind, "size": fmt.Sprint(sealed.Size),
					"duplicate": fmt.Sprint(duplicate), "context": src.ContextType + ":" + src.ContextID}})
		})
		// Two identical uploads racing: the loser sees the winner's item.
		if haven.IsKind(err, haven.KindConflict) && attempt == 0 {
			continue
		}
		break
	}
	if err != nil || duplicate {
		s.deleteBlob(itemID)
	}
	if err != nil {
		return nil, fmt.Errorf("acquire evidence: %w", err)
	}
	return acq, nil
}

func (s *Service) deleteBlob(itemID string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.vault.Delete(ctx, itemID); err != nil {
		s.log.Warn("could not delete an unused evidence blob; the scrub will retry", "item", itemID, "err", err)
	}
}

// Item returns the catalogue record of an item (no bytes, not audited as
// a read of evidence).
func (s *Service) Item(ctx context.Context, a haven.Actor, itemID string) (*haven.EvidenceItem, []*haven.Acquisition, error) {
	if !a.Can(haven.PermEvidenceRead) {
		return nil, nil, haven.ErrNotFound
	}
	var it *haven.EvidenceItem
	var acqs []*haven.Acquisition
	err := s.store.View(ctx, func(tx *store.Tx) (err error) {
		if it, err = tx.EvidenceItem(ctx, itemID); err != nil {
			return err
		}
		acqs, err = tx.Acquisitions(ctx, itemID)
		return err
	})
	return it, acqs, err
}

// ErrDestroyed is returned when reading an item whose key was deleted.
var ErrDestroyed = &haven.Error{Kind: haven.KindConflict, Message: "this evidence was destroyed and can no longer be read"}

// Open audits a read of an item's bytes for purpose and returns a reader
// of the plaintext. The reader re-verifies SHA-256 at its end; a mismatch
// or any authentication failure is an integrity alarm: it is returned as
// an error of kind haven.KindIntegrity, recorded on the item and audited.
func (s *Service) Open(ctx context.Context, a haven.Actor, itemID, purpose string) (io.ReadCloser, error) {
	if !a.Can(haven.PermEvidenceRead) {
		return nil, haven.ErrNotFound
	}
	purpose = strings.TrimSpace(purpose)
	if purpose == "" {
		return nil, haven.Invalidf("purpose", "say why you are opening this evidence")
	}
	var it *haven.EvidenceItem
	err := s.store.InTx(ctx, func(tx *store.Tx) (err error) {
		if it, err = tx.EvidenceItem(ctx, itemID); err != nil {
			return err
		}
		outcome := haven.OutcomeSuccess
		if it.Shredded() {
			outcome = haven.OutcomeFailure
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "evidence.read", ObjectType: "evidence", ObjectID: itemID,
			Purpose: purpose, Outcome: outcome})
	})
	if err != nil {
		return nil, err
	}
	if it.Shredded() {
		return nil, ErrDestroyed
	}
	rc, err := s.vault.Open(ctx, it.ID, it.WrappedKey, it.SHA256)
	if err != nil {
		if haven.IsKind(err, haven.KindIntegrity) || haven.IsKind(err, haven.KindNotFound) {
			s.alarm(it.ID, err)
			return nil, &haven.Error{Kind: haven.KindIntegrity, Message: "the stored evidence failed its integrity check", Err: err}
		}
		return nil, err
	}
	return &checkedReader{rc: rc, onFail: func(err error) { s.alarm(it.ID, err) }}, nil
}

type checkedReader struct {
	rc     io.ReadCloser
	once   sync.Once
	onFail func(error)
}

func (c *checkedReader) Read(p []byte) (int, error) {
	n, err := c.rc.Read(p)
	if err != nil && err != io.EOF && haven.IsKind(err, haven.KindIntegrity) {
		c.once.Do(func() { c.onFail(err) })
	}
	return n, err
}

func (c *checkedReader) Close() error { return c.rc.Close() }

// alarm records an integrity failure on the item and in the audit log.
func (s *Service) alarm(itemID string, cause error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s.log.Error("EVIDENCE INTEGRITY FAILURE", "item", itemID, "err", cause)
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.SetItemIntegrityFailed(ctx, itemID, s.clock.Now()); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, haven.SystemActor("integrity"), audit.Entry{Type: "evidence.integrity_failure",
			ObjectType: "evidence", ObjectID: itemID, Outcome: haven.OutcomeFailure})
	})
	if err != nil {
		s.log.Error("could not record an evidence integrity failure", "item", itemID, "err", err)
	}
}

// Shred destroys an item: its wrapped key is deleted and a tombstone
// stays; the ciphertext is removed too, though without the key it is
// already unreadable (and a restored backup with the tombstone applied
// cannot decrypt it either).
func (s *Service) Shred(ctx context.Context, a haven.Actor, itemID, reason string) error {
	if err := a.Require(haven.PermEvidenceShred, s.clock.Now(), haven.ReauthWindow); err != nil {
		return err
	}
	reason = strings.TrimSpace(reason)
	if reason == "" || len(reason) > 500 {
		return haven.Invalidf("reason", "give the reason for destruction (the approving order or request), up to 500 characters")
	}
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.ShredEvidenceItem(ctx, itemID, s.clock.Now(), reason); err != nil {
			return err
		}
		tx.AfterCommit(func() { s.deleteBlob(itemID) })
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "evidence.shred", ObjectType: "evidence", ObjectID: itemID,
			Details: map[string]string{"reason": reason}})
	})
	return err
}

// VerifyItem re-reads one item and checks its SHA-256, recording the
// success or raising the integrity alarm.
func (s *Service) VerifyItem(ctx context.Context, itemID string) error {
	var it *haven.EvidenceItem
	err := s.store.View(ctx, func(tx *store.Tx) (err error) {
		it, err = tx.EvidenceItem(ctx, itemID)
		return err
	})
	if err != nil {
		return err
	}
	if it.Shredded() {
		return nil
	}
	if verr := s.vault.Verify(ctx, it.ID, it.WrappedKey, it.SHA256); verr != nil {
		if haven.IsKind(verr, haven.KindIntegrity) || haven.IsKind(verr, haven.KindNotFound) {
			s.alarm(it.ID, verr)
			return nil
		}
		return verr
	}
	return s.store.InTx(ctx, func(tx *store.Tx) error { return tx.SetItemVerified(ctx, it.ID, s.clock.Now()) })
}

// ScrubResult counts what a scrub pass did.
type ScrubResult struct {
	Verified, Failed, OrphansRemoved int
}

// Scrub re-verifies up to limit live items not verified since
// olderThan ago (oldest first), and removes blobs that no item records
// once they are more than an hour old (left by an upload that failed
// after writing).
func (s *Service) Scrub(ctx context.Context, limit int, olderThan time.Duration) (ScrubResult, error) {
	var res ScrubResult
	now := s.clock.Now()
	var items []*haven.EvidenceItem
	err := s.store.View(ctx, func(tx *store.Tx) (err error) {
		items, err = tx.ItemsToVerify(ctx, now.Add(-olderThan), limit)
		return err
	})
	if err != nil {
		return res, err
	}
	for _, it := range items {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		verr := s.vault.Verify(ctx, it.ID, it.WrappedKey, it.SHA256)
		if verr != nil && !haven.IsKind(verr, haven.KindIntegrity) && !haven.IsKind(verr, haven.KindNotFound) {
			return res, fmt.Errorf("scrub %s: %w", it.ID, verr)
		}
		if verr != nil {
			res.Failed++
			s.alarm(it.ID, verr)
			continue
		}
		res.Verified++
		if err := s.store.InTx(ctx, func(tx *store.Tx) error { return tx.SetItemVerified(ctx, it.ID, s.clock.Now()) }); err != nil {
			return res, err
		}
	}
	n, err := s.removeOrphans(ctx, now.Add(-time.Hour))
	res.OrphansRemoved = n
	return res, err
}

// removeOrphans deletes blobs older than before whose item does not exist.
// Item IDs are UUIDv7, so a blob's name tells when it was written.
func (s *Service) removeOrphans(ctx context.Context, before time.Time) (int, error) {
	var candidates []string
	err := s.vault.Backend().List(ctx, func(key string) error {
		id, err := uuid.Parse(key)
		if err != nil || id.Version() != 7 {
			return nil
		}
		sec, nsec := id.Time().UnixTime()
		if time.Unix(sec, nsec).Before(before) {
			candidates = append(candidates, key)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("list evidence blobs: %w", err)
	}
	removed := 0
	for _, key := range candidates {
		err := s.store.View(ctx, func(tx *store.Tx) error { _, err := tx.EvidenceItem(ctx, key); return err })
		if err == nil {
			continue
		}
		if !haven.IsKind(err, haven.KindNotFound) {
			return removed, err
		}
		if err := s.vault.Delete(ctx, key); err != nil {
			return removed, err
		}
		removed++
	}
	return removed, nil
}

// Rewrap re-wraps every item's data key with the vault's primary key. The
// vault must have been built with a master keyset that holds both the old
// and the new key. It is resumable: an interrupted run can be repeated.
func (s *Service) Rewrap(ctx context.Context, a haven.Actor) (int, error) {
	if err := a.Require(haven.PermManageKeys, s.clock.Now(), haven.ReauthWindow); err != nil {
		return 0, err
	}
	n := 0
	after := ""
	for {
		var batch []*haven.EvidenceItem
		err := s.store.View(ctx, func(tx *store.Tx) error {
			return tx.EvidenceItems(ctx, after, 500, func(it *haven.EvidenceItem) error {
				batch = append(batch, it)
				return nil
			})
		})
		if err != nil {
			return n, err
		}
		if len(batch) == 0 {
			return n, nil
		}
		err = s.store.InTx(ctx, func(tx *store.Tx) error {
			for _, it := range batch {
				if it.Shredded() {
					continue
				}
				wrapped, err := s.vault.Rewrap(it.ID, it.WrappedKey)
				if err != nil {
					return fmt.Errorf("item %s: %w", it.ID, err)
				}
				if err := tx.SetItemWrappedKey(ctx, it.ID, wrapped); err != nil {
					return err
				}
				n++
			}
			return nil
		})
		if err != nil {
			return n, fmt.Errorf("rewrap evidence keys: %w", err)
		}
		after = batch[len(batch)-1].ID
	}
}

// ErrOldKeyInUse is returned by CheckKeys when an item is still wrapped by
// a key other than the given wrapper's.
var ErrOldKeyInUse = errors.New("an item is still wrapped by a key that would be retired")

// CheckKeys verifies that every live item's data key unwraps with w (for
// example the keyset with only the new primary key), so the old keys can
// be retired without losing anything.
func (s *Service) CheckKeys(ctx context.Context, w evidence.KeyWrapper) (int, error) {
	probe := evidence.NewVault(s.vault.Backend(), w)
	n := 0
	err := s.store.View(ctx, func(tx *store.Tx) error {
		return tx.EvidenceItems(ctx, "", 1<<62, func(it *haven.EvidenceItem) error {
			if it.Shredded() {
				return nil
			}
			if _, err := probe.Rewrap(it.ID, it.WrappedKey); err != nil {
				return fmt.Errorf("item %s: %w", it.ID, ErrOldKeyInUse)
			}
			n++
			return nil
		})
	})
	return n, err
}
