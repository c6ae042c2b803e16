package store

import (
	"context"
	"fmt"
	"time"

	"github.com/haven-hotline/haven"
)

// Casework records (issue 8, program P7): cases about a missing or
// trafficked child with what is linked to them, versioned recovery plans,
// the Hope Bag inventory and assistance requests. The rules that give the
// records their meaning (types, statuses, the indicator list, who may see
// what) live in internal/casework.

// Case is a missing-child or child sex trafficking case. The child is
// known by a pseudonym only.
type Case struct {
	ID               string
	Type             string
	Status           string
	Title            string
	ChildPseudonym   string
	ChildAge         int // -1 when unknown
	ChildDescription string
	OpenedBy         string
	OpenedAt         time.Time
	UpdatedAt        time.Time
}

// CaseStatusChange is one entry of a case's status history.
type CaseStatusChange struct {
	ID      string
	CaseID  string
	Status  string
	Note    string
	ActorID string
	At      time.Time
}

// CasePerson is a person involved in a case, with their role.
type CasePerson struct {
	ID      string
	CaseID  string
	Name    string
	Role    string
	Contact string
	ActorID string
	At      time.Time
}

// CaseAgency is an agency involved in a case. Shared cases are readable
// by the agency's law-enforcement users.
type CaseAgency struct {
	CaseID     string
	AgencyID   string
	AgencyName string // filled by reads
	Role       string
	Shared     bool
	ActorID    string
	At         time.Time
}

// CaseReport links a CyberTipline report to a case.
type CaseReport struct {
	CaseID   string
	ReportID int64
	ActorID  string
	At       time.Time
}

// CaseOffender links an offender record (by reference) to a case.
type CaseOffender struct {
	CaseID     string
	OffenderID string
	Note       string
	ActorID    string
	At         time.Time
}

// CaseTask is a task of a case with its owner and due date.
type CaseTask struct {
	ID        string
	CaseID    string
	Title     string
	Owner     string
	DueOn     time.Time // zero when none
	CreatedBy string
	CreatedAt time.Time
	DoneBy    string
	DoneAt    time.Time
}

// CaseNote is a note on a case.
type CaseNote struct {
	ID      string
	CaseID  string
	Body    string
	ActorID string
	At      time.Time
}

// CaseIndicator is a risk indicator recorded on a case.
type CaseIndicator struct {
	CaseID  string
	Code    string
	Note    string
	ActorID string
	At      time.Time
}

// CasePhoto is a photo of the child, held as an evidence item.
type CasePhoto struct {
	ID            string
	CaseID        string
	ItemID        string
	AcquisitionID string
	Caption       string
	ContentType   string
	ActorID       string
	At            time.Time
}

// PlanVersion is one saved version of a case's recovery plan; Body is the
// plan as JSON.
type PlanVersion struct {
	CaseID  string
	Version int
	Body    string
	Comment string
	ActorID string
	At      time.Time
}

// HopeBagItem is one line of the Hope Bag inventory: a size and contents
// variant held at a stock point.
type HopeBagItem struct {
	ID           string
	Size         string
	Variant      string
	StockPoint   string
	Quantity     int
	LowThreshold int
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// HopeBagMovement is a restock or a distribution. A distribution names a
// case or an agency and the recipient, never the child.
type HopeBagMovement struct {
	ID        string
	ItemID    string
	Kind      string
	Quantity  int
	CaseID    string
	AgencyID  string
	Recipient string
	OnDate    time.Time
	Note      string
	ActorID   string
	At        time.Time
}

// AssistanceRequest is a request for technical assistance from a civil
// attorney, a child-welfare agency or law enforcement.
type AssistanceRequest struct {
	ID               string
	Source           string
	AgencyID         string
	RequesterName    string
	RequesterOrg     string
	RequesterContact string
	TheirReference   string
	CaseID           string
	Question         string
	Priority         string
	Status           string
	AssignedTo       string
	Analysis         string
	DeliveredBy      string
	DeliveredAt      time.Time
	Outcome          string
	ClosedAt         time.Time
	CreatedBy        string
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

const caseColumns = `id, case_type, status, title, child_pseudonym, child_age, child_description, opened_by, opened_at, updated_at`

func scanCase(row caseScanner) (*Case, error) {
	var c Case
	err := row.Scan(&c.ID, &c.Type, &c.Status, &c.Title, &c.ChildPseudonym, &c.ChildAge, &c.ChildDescription, &c.OpenedBy,
		utcTime{&c.OpenedAt}, utcTime{&c.UpdatedAt})
	if err != nil {
		return nil, notFound(err)
	}
	return &c, nil
}

// CreateCase inserts a case.
func (tx *Tx) CreateCase(ctx context.Context, c *Case) error {
	_, err := tx.exec(ctx, `INSERT INTO cases (`+caseColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		c.ID, c.Type, c.Status, c.Title, c.ChildPseudonym, c.ChildAge, c.ChildDescription, c.OpenedBy, ts(c.OpenedAt), ts(c.UpdatedAt))
	if err != nil {
		return fmt.Errorf("create case: %w", err)
	}
	return nil
}

// UpdateCase changes a case's type, status, title and child record.
func (tx *Tx) UpdateCase(ctx context.Context, c *Case) error {
	err := mustAffect(tx.exec(ctx, `UPDATE cases SET case_type = $2, status = $3, title = $4, child_pseudonym = $5,
		child_age = $6, child_description = $7, updated_at = $8 WHERE id = $1`,
		c.ID, c.Type, c.Status, c.Title, c.ChildPseudonym, c.ChildAge, c.ChildDescription, ts(c.UpdatedAt)))
	if err != nil {
		return fmt.Errorf("update case: %w", err)
	}
	return nil
}

// TouchCase sets a case's updated time.
func (tx *Tx) TouchCase(ctx context.Context, id string, at time.Time) error {
	if err := mustAffect(tx.exec(ctx, `UPDATE cases SET updated_at = $2 WHERE id = $1`, id, ts(at))); err != nil {
		return fmt.Errorf("touch case: %w", err)
	}
	return nil
}

// Case returns one case.
func (tx *Tx) Case(ctx context.Context, id string) (*Case, error) {
	c, err := scanCase(tx.queryRow(ctx, `SELECT `+caseColumns+` FROM cases WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("get case: %w", err)
	}
	return c, nil
}

func (tx *Tx) cases(ctx context.Context, q string, args ...any) ([]*Case, error) {
	rows, err := tx.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list cases: %w", err)
	}
	defer rows.Close()
	var out []*Case
	for rows.Next() {
		c, err := scanCase(rows)
		if err != nil {
			return nil, fmt.Errorf("list cases: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Cases lists cases, most recently updated first, at most limit.
func (tx *Tx) Cases(ctx context.Context, limit int) ([]*Case, error) {
	return tx.cases(ctx, `SELECT `+caseColumns+` FROM cases ORDER BY updated_at DESC, id LIMIT $1`, limit)
}

// CasesSharedWith lists the cases shared with an agency, most recently
// updated first.
func (tx *Tx) CasesSharedWith(ctx context.Context, agencyID string, limit int) ([]*Case, error) {
	return tx.cases(ctx, `SELECT `+prefixed("c.", caseColumns)+` FROM cases c JOIN case_agencies ca ON ca.case_id = c.id
		WHERE ca.agency_id = $1 AND ca.shared ORDER BY c.updated_at DESC, c.id LIMIT $2`, agencyID, limit)
}

// CaseSharedWith reports whether a case is shared with an agency.
func (tx *Tx) CaseSharedWith(ctx context.Context, caseID, agencyID string) (bool, error) {
	var n int
	err := tx.queryRow(ctx, `SELECT COUNT(*) FROM case_agencies WHERE case_id = $1 AND agency_id = $2 AND shared`,
		caseID, agencyID).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("case sharing: %w", err)
	}
	return n > 0, nil
}

// CasesForReport lists the IDs of the cases a report is linked to.
func (tx *Tx) CasesForReport(ctx context.Context, reportID int64) ([]string, error) {
	rows, err := tx.query(ctx, `SELECT case_id FROM case_reports WHERE report_id = $1 ORDER BY case_id`, reportID)
	if err != nil {
		return nil, fmt.Errorf("cases of report: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("cases of report: %w", err)
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// AddCaseStatus appends to a case's status history.
func (tx *Tx) AddCaseStatus(ctx context.Context, c *CaseStatusChange) error {
	_, err := tx.exec(ctx, `INSERT INTO case_status_history (id, case_id, status, note, actor_id, at) VALUES ($1, $2, $3, $4, $5, $6)`,
		c.ID, c.CaseID, c.Status, c.Note, c.ActorID, ts(c.At))
	if err != nil {
		return fmt.Errorf("add case status: %w", err)
	}
	return nil
}

// CaseStatusHistory returns a case's status history, oldest first.
func (tx *Tx) CaseStatusHistory(ctx context.Context, caseID string) ([]*CaseStatusChange, error) {
	return collectCaseRows(tx, ctx, `SELECT id, case_id, status, note, actor_id, at FROM case_status_history WHERE case_id = $1 ORDER BY at, id`,
		[]any{caseID}, func(r caseScanner) (*CaseStatusChange, error) {
			var c CaseStatusChange
			return &c, r.Scan(&c.ID, &c.CaseID, &c.Status, &c.Note, &c.ActorID, utcTime{&c.At})
		})
}

// AddCasePerson records a person involved in a case.
func (tx *Tx) AddCasePerson(ctx context.Context, p *CasePerson) error {
	_, err := tx.exec(ctx, `INSERT INTO case_people (id, case_id, name, role, contact, actor_id, at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		p.ID, p.CaseID, p.Name, p.Role, p.Contact, p.ActorID, ts(p.At))
	if err != nil {
		return fmt.Errorf("add case person: %w", err)
	}
	return nil
}

// CasePeople returns the people of a case in the order they were added.
func (tx *Tx) CasePeople(ctx context.Context, caseID string) ([]*CasePerson, error) {
	return collectCaseRows(tx, ctx, `SELECT id, case_id, name, role, contact, actor_id, at FROM case_people WHERE case_id = $1 ORDER BY at, id`,
		[]any{caseID}, func(r caseScanner) (*CasePerson, error) {
			var p CasePerson
			return &p, r.Scan(&p.ID, &p.CaseID, &p.Name, &p.Role, &p.Contact, &p.ActorID, utcTime{&p.At})
		})
}

// PutCaseAgency adds an agency to a case or changes its role and sharing.
func (tx *Tx) PutCaseAgency(ctx context.Context, a *CaseAgency) error {
	_, err := tx.exec(ctx, `INSERT INTO case_agencies (case_id, agency_id, role, shared, actor_id, at) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (case_id, agency_id) DO UPDATE SET role = excluded.role, shared = excluded.shared, actor_id = excluded.actor_id, at = excluded.at`,
		a.CaseID, a.AgencyID, a.Role, a.Shared, a.ActorID, ts(a.At))
	if err != nil {
		return fmt.Errorf("put case agency: %w", err)
	}
	return nil
}

// CaseAgencies returns the agencies of a case with their names.
func (tx *Tx) CaseAgencies(ctx context.Context, caseID string) ([]*CaseAgency, error) {
	return collectCaseRows(tx, ctx, `SELECT ca.case_id, ca.agency_id, a.name, ca.role, ca.shared, ca.actor_id, ca.at
		FROM case_agencies ca JOIN agencies a ON a.id = ca.agency_id WHERE ca.case_id = $1 ORDER BY ca.at, a.name`,
		[]any{caseID}, func(r caseScanner) (*CaseAgency, error) {
			var a CaseAgency
			return &a, r.Scan(&a.CaseID, &a.AgencyID, &a.AgencyName, &a.Role, &a.Shared, &a.ActorID, utcTime{&a.At})
		})
}

// AddCaseReport links a report to a case; a repeated link is ErrConflict.
func (tx *Tx) AddCaseReport(ctx context.Context, l *CaseReport) error {
	_, err := tx.exec(ctx, `INSERT INTO case_reports (case_id, report_id, actor_id, at) VALUES ($1, $2, $3, $4)`,
		l.CaseID, l.ReportID, l.ActorID, ts(l.At))
	if err != nil {
		return fmt.Errorf("link report to case: %w", err)
	}
	return nil
}

// CaseReports returns the reports linked to a case.
func (tx *Tx) CaseReports(ctx context.Context, caseID string) ([]*CaseReport, error) {
	return collectCaseRows(tx, ctx, `SELECT case_id, report_id, actor_id, at FROM case_reports WHERE case_id = $1 ORDER BY at, report_id`,
		[]any{caseID}, func(r caseScanner) (*CaseReport, error) {
			var l CaseReport
			return &l, r.Scan(&l.CaseID, &l.ReportID, &l.ActorID, utcTime{&l.At})
		})
}

// AddCaseOffender links an offender reference to a case; a repeated link
// is ErrConflict.
func (tx *Tx) AddCaseOffender(ctx context.Context, l *CaseOffender) error {
	_, err := tx.exec(ctx, `INSERT INTO case_offenders (case_id, offender_id, note, actor_id, at) VALUES ($1, $2, $3, $4, $5)`,
		l.CaseID, l.OffenderID, l.Note, l.ActorID, ts(l.At))
	if err != nil {
		return fmt.Errorf("link offender to case: %w", err)
	}
	return nil
}

// CaseOffenders returns the offender references of a case.
func (tx *Tx) CaseOffenders(ctx context.Context, caseID string) ([]*CaseOffender, error) {
	return collectCaseRows(tx, ctx, `SELECT case_id, offender_id, note, actor_id, at FROM case_offenders WHERE case_id = $1 ORDER BY at, offender_id`,
		[]any{caseID}, func(r caseScanner) (*CaseOffender, error) {
			var l CaseOffender
			return &l, r.Scan(&l.CaseID, &l.OffenderID, &l.Note, &l.ActorID, utcTime{&l.At})
		})
}

// AddCaseTask adds a task.
func (tx *Tx) AddCaseTask(ctx context.Context, t *CaseTask) error {
	_, err := tx.exec(ctx, `INSERT INTO case_tasks (id, case_id, title, owner, due_on, created_by, created_at, done_by, done_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		t.ID, t.CaseID, t.Title, t.Owner, ts(t.DueOn), t.CreatedBy, ts(t.CreatedAt), t.DoneBy, ts(t.DoneAt))
	if err != nil {
		return fmt.Errorf("add case task: %w", err)
	}
	return nil
}

// CompleteCaseTask marks an open task of a case done; ErrNotFound when
// the case has no such open task.
func (tx *Tx) CompleteCaseTask(ctx context.Context, caseID, taskID, by string, at time.Time) error {
	err := mustAffect(tx.exec(ctx, `UPDATE case_tasks SET done_by = $3, done_at = $4 WHERE case_id = $1 AND id = $2 AND done_at IS NULL`,
		caseID, taskID, by, ts(at)))
	if err != nil {
		return fmt.Errorf("complete case task: %w", err)
	}
	return nil
}

// CaseTasks returns the tasks of a case, open ones by due date first.
func (tx *Tx) CaseTasks(ctx context.Context, caseID string) ([]*CaseTask, error) {
	return collectCaseRows(tx, ctx, `SELECT id, case_id, title, owner, due_on, created_by, created_at, done_by, done_at FROM case_tasks
		WHERE case_id = $1 ORDER BY CASE WHEN done_at IS NULL THEN 0 ELSE 1 END, CASE WHEN due_on IS NULL THEN 1 ELSE 0 END, due_on, created_at, id`,
		[]any{caseID}, func(r caseScanner) (*CaseTask, error) {
			var t CaseTask
			return &t, r.Scan(&t.ID, &t.CaseID, &t.Title, &t.Owner, nullTime{&t.DueOn}, &t.CreatedBy, utcTime{&t.CreatedAt},
				&t.DoneBy, nullTime{&t.DoneAt})
		})
}

// AddCaseNote adds a note.
func (tx *Tx) AddCaseNote(ctx context.Context, n *CaseNote) error {
	_, err := tx.exec(ctx, `INSERT INTO case_notes (id, case_id, body, actor_id, at) VALUES ($1, $2, $3, $4, $5)`,
		n.ID, n.CaseID, n.Body, n.ActorID, ts(n.At))
	if err != nil {
		return fmt.Errorf("add case note: %w", err)
	}
	return nil
}

// CaseNotes returns the notes of a case, oldest first.
func (tx *Tx) CaseNotes(ctx context.Context, caseID string) ([]*CaseNote, error) {
	return collectCaseRows(tx, ctx, `SELECT id, case_id, body, actor_id, at FROM case_notes WHERE case_id = $1 ORDER BY at, id`,
		[]any{caseID}, func(r caseScanner) (*CaseNote, error) {
			var n CaseNote
			return &n, r.Scan(&n.ID, &n.CaseID, &n.Body, &n.ActorID, utcTime{&n.At})
		})
}

// AddCaseIndicator records an indicator; one already recorded on the case
// is ErrConflict.
func (tx *Tx) AddCaseIndicator(ctx context.Context, i *CaseIndicator) error {
	_, err := tx.exec(ctx, `INSERT INTO case_indicators (case_id, code, note, actor_id, at) VALUES ($1, $2, $3, $4, $5)`,
		i.CaseID, i.Code, i.Note, i.ActorID, ts(i.At))
	if err != nil {
		return fmt.Errorf("add case indicator: %w", err)
	}
	return nil
}

// CaseIndicators returns the indicators recorded on a case.
func (tx *Tx) CaseIndicators(ctx context.Context, caseID string) ([]*CaseIndicator, error) {
	return collectCaseRows(tx, ctx, `SELECT case_id, code, note, actor_id, at FROM case_indicators WHERE case_id = $1 ORDER BY at, code`,
		[]any{caseID}, func(r caseScanner) (*CaseIndicator, error) {
			var i CaseIndicator
			return &i, r.Scan(&i.CaseID, &i.Code, &i.Note, &i.ActorID, utcTime{&i.At})
		})
}

// AddCasePhoto records a photo of a case's child.
func (tx *Tx) AddCasePhoto(ctx context.Context, p *CasePhoto) error {
	_, err := tx.exec(ctx, `INSERT INTO case_photos (id, case_id, item_id, acquisition_id, caption, content_type, actor_id, at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, p.ID, p.CaseID, p.ItemID, p.AcquisitionID, p.Caption, p.ContentType, p.ActorID, ts(p.At))
	if err != nil {
		return fmt.Errorf("add case photo: %w", err)
	}
	return nil
}

const casePhotoColumns = `id, case_id, item_id, acquisition_id, caption, content_type, actor_id, at`

func scanCasePhoto(r caseScanner) (*CasePhoto, error) {
	var p CasePhoto
	return &p, r.Scan(&p.ID, &p.CaseID, &p.ItemID, &p.AcquisitionID, &p.Caption, &p.ContentType, &p.ActorID, utcTime{&p.At})
}

// CasePhotos returns the photos of a case.
func (tx *Tx) CasePhotos(ctx context.Context, caseID string) ([]*CasePhoto, error) {
	return collectCaseRows(tx, ctx, `SELECT `+casePhotoColumns+` FROM case_photos WHERE case_id = $1 ORDER BY at, id`, []any{caseID}, scanCasePhoto)
}

// CasePhoto returns one photo.
func (tx *Tx) CasePhoto(ctx context.Context, id string) (*CasePhoto, error) {
	p, err := scanCasePhoto(tx.queryRow(ctx, `SELECT `+casePhotoColumns+` FROM case_photos WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("get case photo: %w", notFound(err))
	}
	return p, nil
}

// AddPlanVersion stores a new version of a recovery plan; the version
// number must be the next one (a concurrent save is ErrConflict).
func (tx *Tx) AddPlanVersion(ctx context.Context, v *PlanVersion) error {
	_, err := tx.exec(ctx, `INSERT INTO recovery_plan_versions (case_id, version, body, comment, actor_id, at) VALUES ($1, $2, $3, $4, $5, $6)`,
		v.CaseID, v.Version, v.Body, v.Comment, v.ActorID, ts(v.At))
	if err != nil {
		return fmt.Errorf("add plan version: %w", err)
	}
	return nil
}

// PlanVersions returns every version of a case's plan, newest first.
func (tx *Tx) PlanVersions(ctx context.Context, caseID string) ([]*PlanVersion, error) {
	return collectCaseRows(tx, ctx, `SELECT case_id, version, body, comment, actor_id, at FROM recovery_plan_versions
		WHERE case_id = $1 ORDER BY version DESC`, []any{caseID}, func(r caseScanner) (*PlanVersion, error) {
		var v PlanVersion
		return &v, r.Scan(&v.CaseID, &v.Version, &v.Body, &v.Comment, &v.ActorID, utcTime{&v.At})
	})
}

const hopeBagColumns = `id, size, variant, stock_point, quantity, low_threshold, created_at, updated_at`

func scanHopeBag(r caseScanner) (*HopeBagItem, error) {
	var h HopeBagItem
	return &h, r.Scan(&h.ID, &h.Size, &h.Variant, &h.StockPoint, &h.Quantity, &h.LowThreshold, utcTime{&h.CreatedAt}, utcTime{&h.UpdatedAt})
}

// CreateHopeBagItem adds an inventory line; the same size, variant and
// stock point twice is ErrConflict.
func (tx *Tx) CreateHopeBagItem(ctx context.Context, h *HopeBagItem) error {
	_, err := tx.exec(ctx, `INSERT INTO hopebag_items (`+hopeBagColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		h.ID, h.Size, h.Variant, h.StockPoint, h.Quantity, h.LowThreshold, ts(h.CreatedAt), ts(h.UpdatedAt))
	if err != nil {
		return fmt.Errorf("create hope bag item: %w", err)
	}
	return nil
}

// SetHopeBagThreshold changes an item's low-stock threshold.
func (tx *Tx) SetHopeBagThreshold(ctx context.Context, id string, threshold int, at time.Time) error {
	err := mustAffect(tx.exec(ctx, `UPDATE hopebag_items SET low_threshold = $2, updated_at = $3 WHERE id = $1`, id, threshold, ts(at)))
	if err != nil {
		return fmt.Errorf("set hope bag threshold: %w", err)
	}
	return nil
}

// AdjustHopeBagStock adds delta (negative to take out) to an item's
// quantity. Taking out more than is held is ErrConflict and changes
// nothing.
func (tx *Tx) AdjustHopeBagStock(ctx context.Context, id string, delta int, at time.Time) error {
	res, err := tx.exec(ctx, `UPDATE hopebag_items SET quantity = quantity + $2, updated_at = $3 WHERE id = $1 AND quantity + $2 >= 0`,
		id, delta, ts(at))
	if err != nil {
		return fmt.Errorf("adjust hope bag stock: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("adjust hope bag stock: %w", err)
	} else if n == 0 {
		if _, err := tx.HopeBagItem(ctx, id); err != nil {
			return err
		}
		return &haven.Error{Kind: haven.KindConflict, Field: "quantity", Message: "there are not enough bags of this kind in stock"}
	}
	return nil
}

// HopeBagItem returns one inventory line.
func (tx *Tx) HopeBagItem(ctx context.Context, id string) (*HopeBagItem, error) {
	h, err := scanHopeBag(tx.queryRow(ctx, `SELECT `+hopeBagColumns+` FROM hopebag_items WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("get hope bag item: %w", notFound(err))
	}
	return h, nil
}

// HopeBagItems returns the inventory by stock point, size and variant.
func (tx *Tx) HopeBagItems(ctx context.Context) ([]*HopeBagItem, error) {
	return collectCaseRows(tx, ctx, `SELECT `+hopeBagColumns+` FROM hopebag_items ORDER BY stock_point, size, variant`, nil, scanHopeBag)
}

// AddHopeBagMovement records a restock or a distribution.
func (tx *Tx) AddHopeBagMovement(ctx context.Context, m *HopeBagMovement) error {
	_, err := tx.exec(ctx, `INSERT INTO hopebag_movements (id, item_id, kind, quantity, case_id, agency_id, recipient, on_date, note, actor_id, at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`, m.ID, m.ItemID, m.Kind, m.Quantity, nullString(m.CaseID),
		nullString(m.AgencyID), m.Recipient, ts(m.OnDate), m.Note, m.ActorID, ts(m.At))
	if err != nil {
		return fmt.Errorf("add hope bag movement: %w", err)
	}
	return nil
}

const movementColumns = `id, item_id, kind, quantity, case_id, agency_id, recipient, on_date, note, actor_id, at`

func scanMovement(r caseScanner) (*HopeBagMovement, error) {
	var m HopeBagMovement
	return &m, r.Scan(&m.ID, &m.ItemID, &m.Kind, &m.Quantity, scanNullString{&m.CaseID}, scanNullString{&m.AgencyID}, &m.Recipient,
		utcTime{&m.OnDate}, &m.Note, &m.ActorID, utcTime{&m.At})
}

// HopeBagMovements returns the latest movements, newest first.
func (tx *Tx) HopeBagMovements(ctx context.Context, limit int) ([]*HopeBagMovement, error) {
	return collectCaseRows(tx, ctx, `SELECT `+movementColumns+` FROM hopebag_movements ORDER BY at DESC, id DESC LIMIT $1`, []any{limit}, scanMovement)
}

// CaseHopeBagMovements returns the distributions to a case, oldest first.
func (tx *Tx) CaseHopeBagMovements(ctx context.Context, caseID string) ([]*HopeBagMovement, error) {
	return collectCaseRows(tx, ctx, `SELECT `+movementColumns+` FROM hopebag_movements WHERE case_id = $1 ORDER BY at, id`, []any{caseID}, scanMovement)
}

const assistanceColumns = `id, source, agency_id, requester_name, requester_org, requester_contact, their_reference, case_id, question,
	priority, status, assigned_to, analysis, delivered_by, delivered_at, outcome, closed_at, created_by, created_at, updated_at`

func scanAssistance(r caseScanner) (*AssistanceRequest, error) {
	var a AssistanceRequest
	return &a, r.Scan(&a.ID, &a.Source, scanNullString{&a.AgencyID}, &a.RequesterName, &a.RequesterOrg, &a.RequesterContact,
		&a.TheirReference, scanNullString{&a.CaseID}, &a.Question, &a.Priority, &a.Status, &a.AssignedTo, &a.Analysis, &a.DeliveredBy,
		nullTime{&a.DeliveredAt}, &a.Outcome, nullTime{&a.ClosedAt}, &a.CreatedBy, utcTime{&a.CreatedAt}, utcTime{&a.UpdatedAt})
}

func assistanceArgs(a *AssistanceRequest) []any {
	return []any{a.ID, a.Source, nullString(a.AgencyID), a.RequesterName, a.RequesterOrg, a.RequesterContact, a.TheirReference,
		nullString(a.CaseID), a.Question, a.Priority, a.Status, a.AssignedTo, a.Analysis, a.DeliveredBy, ts(a.DeliveredAt), a.Outcome,
		ts(a.ClosedAt), a.CreatedBy, ts(a.CreatedAt), ts(a.UpdatedAt)}
}

// CreateAssistanceRequest inserts a request.
func (tx *Tx) CreateAssistanceRequest(ctx context.Context, a *AssistanceRequest) error {
	_, err := tx.exec(ctx, `INSERT INTO assistance_requests (`+assistanceColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,
		$11, $12, $13, $14, $15, $16, $17, $18, $19, $20)`, assistanceArgs(a)...)
	if err != nil {
		return fmt.Errorf("create assistance request: %w", err)
	}
	return nil
}

// UpdateAssistanceRequest writes the fields of a request that change as
// it is worked: case link, triage, assignment, analysis and outcome.
func (tx *Tx) UpdateAssistanceRequest(ctx context.Context, a *AssistanceRequest) error {
	err := mustAffect(tx.exec(ctx, `UPDATE assistance_requests SET case_id = $2, priority = $3, status = $4, assigned_to = $5,
		analysis = $6, delivered_by = $7, delivered_at = $8, outcome = $9, closed_at = $10, updated_at = $11 WHERE id = $1`,
		a.ID, nullString(a.CaseID), a.Priority, a.Status, a.AssignedTo, a.Analysis, a.DeliveredBy, ts(a.DeliveredAt), a.Outcome,
		ts(a.ClosedAt), ts(a.UpdatedAt)))
	if err != nil {
		return fmt.Errorf("update assistance request: %w", err)
	}
	return nil
}

// AssistanceRequest returns one request.
func (tx *Tx) AssistanceRequest(ctx context.Context, id string) (*AssistanceRequest, error) {
	a, err := scanAssistance(tx.queryRow(ctx, `SELECT `+assistanceColumns+` FROM assistance_requests WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("get assistance request: %w", notFound(err))
	}
	return a, nil
}

// AssistanceRequests lists requests, open ones first then newest, at most
// limit; agencyID, when set, keeps only that agency's.
func (tx *Tx) AssistanceRequests(ctx context.Context, agencyID string, limit int) ([]*AssistanceRequest, error) {
	return collectCaseRows(tx, ctx, `SELECT `+assistanceColumns+` FROM assistance_requests WHERE ($1 = '' OR agency_id = $1)
		ORDER BY CASE WHEN closed_at IS NULL THEN 0 ELSE 1 END, created_at DESC, id LIMIT $2`, []any{agencyID, limit}, scanAssistance)
}

// CaseAssistanceRequests lists the requests linked to a case.
func (tx *Tx) CaseAssistanceRequests(ctx context.Context, caseID string) ([]*AssistanceRequest, error) {
	return collectCaseRows(tx, ctx, `SELECT `+assistanceColumns+` FROM assistance_requests WHERE case_id = $1 ORDER BY created_at, id`,
		[]any{caseID}, scanAssistance)
}

// caseScanner is a row or rows being scanned.
type caseScanner interface{ Scan(...any) error }

// collectCaseRows runs a query and scans every row with scan.
func collectCaseRows[T any](tx *Tx, ctx context.Context, q string, args []any, scan func(caseScanner) (*T, error)) ([]*T, error) {
	rows, err := tx.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("query: %w", err)
	}
	defer rows.Close()
	var out []*T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("scan: %w", err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("rows: %w", err)
	}
	return out, nil
}
