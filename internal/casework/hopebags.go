package casework

import (
	"context"
	"fmt"
	"time"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/audit"
	"github.com/haven-hotline/haven/internal/store"
)

// Hope Bag movement kinds.
const (
	MoveRestock      = "restock"
	MoveDistribution = "distribution"
)

// MaxBagsPerMove caps one restock or distribution.
const MaxBagsPerMove = 10000

// Inventory is the Hope Bag inventory with its recent movements.
type Inventory struct {
	Items     []*StockLine
	Low       []*StockLine // lines at or under their threshold
	Movements []*MovementView
}

// StockLine is an inventory line with its low-stock state.
type StockLine struct {
	*store.HopeBagItem
	Low bool
}

// MovementView is a movement with the names it refers to.
type MovementView struct {
	*store.HopeBagMovement
	Item       string // size, variant and stock point
	AgencyName string
}

// Inventory returns the inventory, its low-stock alerts and the latest
// movements.
func (s *Service) Inventory(ctx context.Context, a haven.Actor) (*Inventory, error) {
	if err := s.require(a, haven.PermHopeBags); err != nil {
		return nil, err
	}
	inv := &Inventory{}
	err := s.store.View(ctx, func(tx *store.Tx) error {
		items, err := tx.HopeBagItems(ctx)
		if err != nil {
			return err
		}
		names := map[string]string{}
		for _, it := range items {
			l := &StockLine{HopeBagItem: it, Low: it.Quantity <= it.LowThreshold}
			inv.Items = append(inv.Items, l)
			if l.Low {
				inv.Low = append(inv.Low, l)
			}
			names[it.ID] = fmt.Sprintf("%s, %s at %s", it.Size, it.Variant, it.StockPoint)
		}
		ms, err := tx.HopeBagMovements(ctx, 100)
		if err != nil {
			return err
		}
		for _, m := range ms {
			mv := &MovementView{HopeBagMovement: m, Item: names[m.ItemID]}
			if m.AgencyID != "" {
				if ag, err := tx.Agency(ctx, m.AgencyID); err == nil {
					mv.AgencyName = ag.Name
				}
			}
			inv.Movements = append(inv.Movements, mv)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return inv, nil
}

// AddStockLine adds an inventory line: a size and contents variant at a
// stock point, with its low-stock threshold.
func (s *Service) AddStockLine(ctx context.Context, a haven.Actor, size, variant, stockPoint string, threshold int) (*store.HopeBagItem, error) {
	if err := s.require(a, haven.PermHopeBags); err != nil {
		return nil, err
	}
	var err error
	if size, err = haven.CleanText("size", size, 100, true); err != nil {
		return nil, err
	}
	if variant, err = haven.CleanText("variant", variant, 200, true); err != nil {
		return nil, err
	}
	if stockPoint, err = haven.CleanText("stock_point", stockPoint, 200, true); err != nil {
		return nil, err
	}
	if threshold < 0 || threshold > MaxBagsPerMove {
		return nil, haven.Invalidf("threshold", "give a threshold between 0 and %d", MaxBagsPerMove)
	}
	now := s.clock.Now()
	it := &store.HopeBagItem{ID: haven.NewID(), Size: size, Variant: variant, StockPoint: stockPoint, LowThreshold: threshold,
		CreatedAt: now, UpdatedAt: now}
	err = s.store.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.CreateHopeBagItem(ctx, it); err != nil {
			if haven.IsKind(err, haven.KindConflict) {
				return haven.Invalidf("variant", "this size and variant is already held at this stock point")
			}
			return err
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "hopebag.line.add", ObjectType: "hopebag_item", ObjectID: it.ID})
	})
	if err != nil {
		return nil, err
	}
	return it, nil
}

// SetThreshold changes a line's low-stock threshold.
func (s *Service) SetThreshold(ctx context.Context, a haven.Actor, itemID string, threshold int) error {
	if err := s.require(a, haven.PermHopeBags); err != nil {
		return err
	}
	if threshold < 0 || threshold > MaxBagsPerMove {
		return haven.Invalidf("threshold", "give a threshold between 0 and %d", MaxBagsPerMove)
	}
	return s.store.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.SetHopeBagThreshold(ctx, itemID, threshold, s.clock.Now()); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "hopebag.threshold", ObjectType: "hopebag_item", ObjectID: itemID,
			Details: map[string]string{"threshold": fmt.Sprint(threshold)}})
	})
}

// Restock adds bags to a line.
func (s *Service) Restock(ctx context.Context, a haven.Actor, itemID string, quantity int, on time.Time, note string) error {
	return s.move(ctx, a, &store.HopeBagMovement{ItemID: itemID, Kind: MoveRestock, Quantity: quantity, OnDate: on, Note: note})
}

// Distribution is a distribution of bags to a case or an agency. The
// recipient is who received the bags (a caseworker, an officer, a
// shelter); never the child.
type Distribution struct {
	ItemID    string
	Quantity  int
	CaseID    string
	AgencyID  string
	Recipient string
	OnDate    time.Time
	Note      string
}

// Distribute takes bags out of a line for a case or an agency.
func (s *Service) Distribute(ctx context.Context, a haven.Actor, d Distribution) error {
	if (d.CaseID == "") == (d.AgencyID == "") {
		return haven.Invalidf("case", "give the case or the agency the bags go to (one of them)")
	}
	return s.move(ctx, a, &store.HopeBagMovement{ItemID: d.ItemID, Kind: MoveDistribution, Quantity: d.Quantity, CaseID: d.CaseID,
		AgencyID: d.AgencyID, Recipient: d.Recipient, OnDate: d.OnDate, Note: d.Note})
}

func (s *Service) move(ctx context.Context, a haven.Actor, m *store.HopeBagMovement) error {
	if err := s.require(a, haven.PermHopeBags); err != nil {
		return err
	}
	if m.Quantity <= 0 || m.Quantity > MaxBagsPerMove {
		return haven.Invalidf("quantity", "give a number of bags between 1 and %d", MaxBagsPerMove)
	}
	var err error
	if m.Recipient, err = haven.CleanText("recipient", m.Recipient, 200, m.Kind == MoveDistribution); err != nil {
		return err
	}
	if m.Note, err = haven.CleanText("note", m.Note, 1000, false); err != nil {
		return err
	}
	now := s.clock.Now()
	if m.OnDate.IsZero() {
		m.OnDate = now
	}
	m.ID, m.ActorID, m.At = haven.NewID(), a.UserID, now
	return s.store.InTx(ctx, func(tx *store.Tx) error {
		if m.CaseID != "" {
			if _, err := tx.Case(ctx, m.CaseID); err != nil {
				if haven.IsKind(err, haven.KindNotFound) {
					return haven.Invalidf("case", "no case has this ID")
				}
				return err
			}
		}
		if m.AgencyID != "" {
			if _, err := tx.Agency(ctx, m.AgencyID); err != nil {
				if haven.IsKind(err, haven.KindNotFound) {
					return haven.Invalidf("agency", "choose an agency")
				}
				return err
			}
		}
		delta := m.Quantity
		if m.Kind == MoveDistribution {
			delta = -delta
		}
		if err := tx.AdjustHopeBagStock(ctx, m.ItemID, delta, now); err != nil {
			if haven.IsKind(err, haven.KindNotFound) {
				return haven.Invalidf("item", "choose a line of the inventory")
			}
			return err
		}
		if err := tx.AddHopeBagMovement(ctx, m); err != nil {
			return err
		}
		if m.CaseID != "" {
			if err := tx.TouchCase(ctx, m.CaseID, now); err != nil {
				return err
			}
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "hopebag." + m.Kind, ObjectType: "hopebag_item", ObjectID: m.ItemID,
			Details: map[string]string{"quantity": fmt.Sprint(m.Quantity), "case": m.CaseID, "agency": m.AgencyID}})
	})
}
