package selfreport

import (
	"context"
	"strconv"
	"time"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/audit"
	"github.com/haven-hotline/haven/internal/store"
)

// NewsSighting is the kind of news a sighting is: a copy of one of the
// person's pictures was in a CyberTipline report.
const NewsSighting = "sighting"

// NoteMatches is called, in the transaction that records them, with the
// self-reported bank entries a CyberTipline report's file matched. Each
// open case holding one of them, whose holder chose to be told, gets a
// piece of news (once per report) for the coordinators' queue.
func (s *Service) NoteMatches(ctx context.Context, tx *store.Tx, reportID int64, entryIDs []int64) error {
	now := s.clock.Now()
	seen := map[string]bool{}
	for _, id := range entryIDs {
		cases, err := tx.SelfReportsHoldingEntry(ctx, id)
		if err != nil {
			return err
		}
		for _, c := range cases {
			if seen[c.ID] || c.Notify == NotifyNone {
				continue
			}
			seen[c.ID] = true
			n := &store.SelfReportNews{ID: haven.NewID(), CaseID: c.ID, Kind: NewsSighting, CybertipReport: reportID, CreatedAt: now}
			added, err := tx.AddSelfReportNews(ctx, n)
			if err != nil {
				return err
			}
			if !added {
				continue
			}
			err = s.audit.Record(ctx, tx, haven.SystemActor("selfreport"), audit.Entry{Type: "selfreport.news", ObjectType: "self_report",
				ObjectID: c.ID, Details: map[string]string{"kind": NewsSighting, "report": strconv.FormatInt(reportID, 10)}})
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// NewsItem is a piece of news waiting to be passed on, as a coordinator
// sees it: the case, how the person wants to be told, and their contact.
type NewsItem struct {
	ID             string
	Number         string
	Kind           string
	CybertipReport int64
	Notify         string
	Contact        string
	Lang           string
	CreatedAt      time.Time
}

// MaxNews bounds the coordinators' queue page.
const MaxNews = 200

// NewsQueue returns the news not yet passed on, oldest first, with each
// person's contact (unsealed). Only those who work notifications see it;
// the reading is audited.
func (s *Service) NewsQueue(ctx context.Context, a haven.Actor) ([]*NewsItem, error) {
	if !a.Can(haven.PermNotifications) {
		return nil, haven.ErrForbidden
	}
	var out []*NewsItem
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		ns, err := tx.UnsentSelfReportNews(ctx, MaxNews)
		if err != nil {
			return err
		}
		for _, n := range ns {
			c, err := tx.SelfReportByID(ctx, n.CaseID)
			if err != nil {
				return err
			}
			it := &NewsItem{ID: n.ID, Number: c.Number, Kind: n.Kind, CybertipReport: n.CybertipReport, Notify: c.Notify, Lang: c.Lang,
				CreatedAt: n.CreatedAt}
			if c.ContactSealed != nil {
				plain, err := s.secrets.Open(c.ContactSealed, "selfreport-contact:"+c.ID)
				if err != nil {
					return err
				}
				it.Contact = string(plain)
			}
			out = append(out, it)
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "selfreport.news_read", ObjectType: "self_report_news",
			Details: map[string]string{"items": strconv.Itoa(len(out))}})
	})
	return out, err
}

// MarkNewsSent records that a piece of news was passed on, with a note
// (how, when): audited.
func (s *Service) MarkNewsSent(ctx context.Context, a haven.Actor, id, note string) error {
	if !a.Can(haven.PermNotifications) {
		return haven.ErrForbidden
	}
	if len(note) > 1000 {
		return haven.Invalidf("note", "keep the note under 1,000 characters")
	}
	return s.store.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.MarkSelfReportNewsSent(ctx, id, a.UserID, note, s.clock.Now()); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, a, audit.Entry{Type: "selfreport.news_sent", ObjectType: "self_report_news", ObjectID: id})
	})
}
