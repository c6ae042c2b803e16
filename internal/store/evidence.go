package store

import (
	"context"
	"fmt"
	"time"

	"github.com/haven-hotline/haven"
)

const itemColumns = `id, sha256, sha1, md5, size, wrapped_key, created_at, verified_at, shredded_at, shred_reason, integrity_failed_at`

func scanItem(row interface{ Scan(...any) error }) (*haven.EvidenceItem, error) {
	var it haven.EvidenceItem
	err := row.Scan(&it.ID, &it.SHA256, &it.SHA1, &it.MD5, &it.Size, &it.WrappedKey, utcTime{&it.CreatedAt},
		nullTime{&it.VerifiedAt}, nullTime{&it.ShreddedAt}, &it.ShredReason, nullTime{&it.IntegrityFailedAt})
	if err != nil {
		return nil, notFound(err)
	}
	return &it, nil
}

// CreateEvidenceItem inserts an item. Another live item with the same
// SHA-256 gives ErrConflict.
func (tx *Tx) CreateEvidenceItem(ctx context.Context, it *haven.EvidenceItem) error {
	_, err := tx.exec(ctx, `INSERT INTO evidence_items (`+itemColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		it.ID, it.SHA256, it.SHA1, it.MD5, it.Size, it.WrappedKey, ts(it.CreatedAt), ts(it.VerifiedAt),
		ts(it.ShreddedAt), it.ShredReason, ts(it.IntegrityFailedAt))
	if err != nil {
		return fmt.Errorf("create evidence item: %w", err)
	}
	return nil
}

// EvidenceItem returns an item by ID.
func (tx *Tx) EvidenceItem(ctx context.Context, id string) (*haven.EvidenceItem, error) {
	it, err := scanItem(tx.queryRow(ctx, `SELECT `+itemColumns+` FROM evidence_items WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("get evidence item: %w", err)
	}
	return it, nil
}

// LiveEvidenceItemBySHA256 returns the item holding these bytes, if any
// that has not been shredded.
func (tx *Tx) LiveEvidenceItemBySHA256(ctx context.Context, sha256 []byte) (*haven.EvidenceItem, error) {
	it, err := scanItem(tx.queryRow(ctx, `SELECT `+itemColumns+` FROM evidence_items WHERE sha256 = $1 AND shredded_at IS NULL`, sha256))
	if err != nil {
		return nil, fmt.Errorf("get evidence item by sha256: %w", err)
	}
	return it, nil
}

// EvidenceItems calls fn for every item with ID greater than after, in ID
// order, at most limit items; used by the scrub and key rotation.
func (tx *Tx) EvidenceItems(ctx context.Context, after string, limit int, fn func(*haven.EvidenceItem) error) error {
	rows, err := tx.query(ctx, `SELECT `+itemColumns+` FROM evidence_items WHERE id > $1 ORDER BY id LIMIT $2`, after, limit)
	if err != nil {
		return fmt.Errorf("list evidence items: %w", err)
	}
	var items []*haven.EvidenceItem
	for rows.Next() {
		it, err := scanItem(rows)
		if err != nil {
			rows.Close()
			return fmt.Errorf("list evidence items: %w", err)
		}
		items = append(items, it)
	}
	if err := rows.Close(); err != nil {
		return err
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, it := range items {
		if err := fn(it); err != nil {
			return err
		}
	}
	return nil
}

// ItemsToVerify returns up to limit live items not verified since before,
// oldest verification first.
func (tx *Tx) ItemsToVerify(ctx context.Context, before time.Time, limit int) ([]*haven.EvidenceItem, error) {
	rows, err := tx.query(ctx, `SELECT `+itemColumns+` FROM evidence_items
		WHERE shredded_at IS NULL AND (verified_at IS NULL OR verified_at < $1)
		ORDER BY verified_at IS NOT NULL, verified_at, id LIMIT $2`, ts(before), limit)
	if err != nil {
		return nil, fmt.Errorf("list items to verify: %w", err)
	}
	defer rows.Close()
	var out []*haven.EvidenceItem
	for rows.Next() {
		it, err := scanItem(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, it)
	}
	return out, rows.Err()
}

// SetItemVerified records a successful verification.
func (tx *Tx) SetItemVerified(ctx context.Context, id string, at time.Time) error {
	if err := mustAffect(tx.exec(ctx, `UPDATE evidence_items SET verified_at = $2 WHERE id = $1`, id, ts(at))); err != nil {
		return fmt.Errorf("set item verified: %w", err)
	}
	return nil
}

// SetItemIntegrityFailed records a failed verification.
func (tx *Tx) SetItemIntegrityFailed(ctx context.Context, id string, at time.Time) error {
	if err := mustAffect(tx.exec(ctx, `UPDATE evidence_items SET integrity_failed_at = $2 WHERE id = $1`, id, ts(at))); err != nil {
		return fmt.Errorf("set item integrity failed: %w", err)
	}
	return nil
}

// SetItemWrappedKey replaces an item's wrapped key (master-key rotation).
func (tx *Tx) SetItemWrappedKey(ctx context.Context, id string, wrapped []byte) error {
	if err := mustAffect(tx.exec(ctx, `UPDATE evidence_items SET wrapped_key = $2 WHERE id = $1 AND shredded_at IS NULL`, id, wrapped)); err != nil {
		return fmt.Errorf("set item wrapped key: %w", err)
	}
	return nil
}

// ShredEvidenceItem deletes an item's key and leaves a tombstone.
func (tx *Tx) ShredEvidenceItem(ctx context.Context, id string, at time.Time, reason string) error {
	err := mustAffect(tx.exec(ctx, `UPDATE evidence_items SET wrapped_key = NULL, shredded_at = $2, shred_reason = $3
		WHERE id = $1 AND shredded_at IS NULL`, id, ts(at), reason))
	if err != nil {
		return fmt.Errorf("shred evidence item: %w", err)
	}
	return nil
}

const acquisitionColumns = `id, item_id, acquired_at, actor_id, source, filename, content_type, size, md5, sha1, sha256, context_type, context_id`

func scanAcquisition(row interface{ Scan(...any) error }) (*haven.Acquisition, error) {
	var a haven.Acquisition
	err := row.Scan(&a.ID, &a.ItemID, utcTime{&a.AcquiredAt}, &a.ActorID, &a.Source, &a.Filename, &a.ContentType,
		&a.Size, &a.MD5, &a.SHA1, &a.SHA256, &a.ContextType, &a.ContextID)
	if err != nil {
		return nil, notFound(err)
	}
	return &a, nil
}

// CreateAcquisition inserts a custody record.
func (tx *Tx) CreateAcquisition(ctx context.Context, a *haven.Acquisition) error {
	_, err := tx.exec(ctx, `INSERT INTO evidence_acquisitions (`+acquisitionColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		a.ID, a.ItemID, ts(a.AcquiredAt), a.ActorID, a.Source, a.Filename, a.ContentType, a.Size,
		a.MD5, a.SHA1, a.SHA256, a.ContextType, a.ContextID)
	if err != nil {
		return fmt.Errorf("create acquisition: %w", err)
	}
	return nil
}

// Acquisition returns a custody record by ID.
func (tx *Tx) Acquisition(ctx context.Context, id string) (*haven.Acquisition, error) {
	a, err := scanAcquisition(tx.queryRow(ctx, `SELECT `+acquisitionColumns+` FROM evidence_acquisitions WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("get acquisition: %w", err)
	}
	return a, nil
}

// Acquisitions lists the custody records of an item, oldest first.
func (tx *Tx) Acquisitions(ctx context.Context, itemID string) ([]*haven.Acquisition, error) {
	rows, err := tx.query(ctx, `SELECT `+acquisitionColumns+` FROM evidence_acquisitions WHERE item_id = $1 ORDER BY acquired_at, id`, itemID)
	if err != nil {
		return nil, fmt.Errorf("list acquisitions: %w", err)
	}
	defer rows.Close()
	var out []*haven.Acquisition
	for rows.Next() {
		a, err := scanAcquisition(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// CountEvidence returns the number of live and shredded items.
func (tx *Tx) CountEvidence(ctx context.Context) (live, shredded int, err error) {
	err = tx.queryRow(ctx, `SELECT
		COALESCE(SUM(CASE WHEN shredded_at IS NULL THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN shredded_at IS NULL THEN 0 ELSE 1 END), 0) FROM evidence_items`).Scan(&live, &shredded)
	if err != nil {
		return 0, 0, fmt.Errorf("count evidence: %w", err)
	}
	return live, shredded, nil
}
