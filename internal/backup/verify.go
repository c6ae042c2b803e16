package backup

import (
	"context"
	"fmt"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/audit"
	"github.com/haven-hotline/haven/internal/evidence"
	"github.com/haven-hotline/haven/internal/store"
)

// Report is the outcome of the restore drill.
type Report struct {
	// Verified counts the live items that decrypted and hash-verified.
	Verified int
	// Shredded counts the items that are shredded and stay unreadable.
	Shredded int
	// AuditChains and AuditEvents count what the audit verification walked.
	AuditChains int
	AuditEvents int64
	// Problems lists everything wrong; the drill passes when it is empty.
	Problems []Problem
}

// OK reports whether the drill found nothing wrong.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

// Verify is the restore drill over a restored deployment: every live item
// decrypts and its SHA-256 matches the one recorded at acquisition (the
// vault's own check, as every read and the scrub do), every tombstone
// holds (the item is shredded, has no key and no blob, and cannot be
// read), and the audit chain verifies. Verify writes nothing.
func Verify(ctx context.Context, tombs []Tombstone, s *store.Store, v *evidence.Vault, l *audit.Log) (*Report, error) {
	r := &Report{}
	var items []*haven.EvidenceItem
	err := s.View(ctx, func(tx *store.Tx) error {
		return tx.EvidenceItems(ctx, "", 1<<62, func(it *haven.EvidenceItem) error {
			items = append(items, it)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("verify: list evidence: %w", err)
	}
	byID := make(map[string]*haven.EvidenceItem, len(items))
	for _, it := range items {
		byID[it.ID] = it
		if it.Shredded() {
			r.Shredded++
			if len(it.WrappedKey) > 0 {
				r.Problems = append(r.Problems, Problem{ItemID: it.ID, What: "shredded, yet its data key is still recorded"})
			}
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		verr := v.Verify(ctx, it.ID, it.WrappedKey, it.SHA256)
		switch {
		case verr == nil:
			r.Verified++
		case haven.IsKind(verr, haven.KindIntegrity):
			r.Problems = append(r.Problems, Problem{ItemID: it.ID, What: "does not decrypt or hash-verify (" + haven.ErrorMessageOrError(verr) + ")"})
		case haven.IsKind(verr, haven.KindNotFound):
			r.Problems = append(r.Problems, Problem{ItemID: it.ID, What: "its blob is not in the restored evidence store"})
		default:
			return nil, fmt.Errorf("verify evidence item %s: %w", it.ID, verr)
		}
	}
	for _, t := range tombs {
		it, ok := byID[t.ItemID]
		if !ok {
			continue // created after the snapshot: not in this restore
		}
		if !it.Shredded() {
			r.Problems = append(r.Problems, Problem{ItemID: t.ItemID, What: "was shredded, but is live again after the restore (tombstone not applied)"})
			continue
		}
		rc, err := v.Backend().Get(ctx, t.ItemID)
		if err == nil {
			rc.Close()
			r.Problems = append(r.Problems, Problem{ItemID: t.ItemID, What: "was shredded, but its ciphertext is in the restored evidence store"})
		} else if !haven.IsKind(err, haven.KindNotFound) {
			return nil, fmt.Errorf("verify tombstone of %s: %w", t.ItemID, err)
		}
		if rc, err := v.Open(ctx, it.ID, it.WrappedKey, make([]byte, 32)); err == nil {
			rc.Close()
			r.Problems = append(r.Problems, Problem{ItemID: t.ItemID, What: "was shredded, but still opens"})
		}
	}
	res, err := l.Verify(ctx, s)
	if err != nil {
		return nil, err
	}
	r.AuditChains, r.AuditEvents = res.Chains, res.Events
	if res.Problem != nil {
		r.Problems = append(r.Problems, Problem{What: "the audit chain does not verify: " + res.Problem.String()})
	}
	return r, nil
}
