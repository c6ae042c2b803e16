package audit_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/audit"
	"github.com/haven-hotline/haven/internal/store"
	"github.com/haven-hotline/haven/internal/store/storetest"
)

func newLog() *audit.Log {
	return audit.New([]byte("chain-key-for-tests-0123456789ab"), []byte("pseudonym-key-for-tests-01234567"), haven.SystemClock{}, 1)
}

// seed writes n events and returns their IDs in order.
func seed(t *testing.T, s *store.Store, l *audit.Log, n int) []string {
	t.Helper()
	ctx := context.Background()
	var ids []string
	for i := range n {
		ev := &haven.AuditEvent{Type: "test.action", ActorID: "user-1", ActorRole: haven.RoleIntake, Outcome: haven.OutcomeSuccess,
			ObjectType: "report", ObjectID: fmt.Sprint(1000 + i), SourceAddr: "192.0.2.7", Details: map[string]string{"i": fmt.Sprint(i)}}
		if err := s.InTx(ctx, func(tx *store.Tx) error { return l.Append(ctx, tx, ev) }); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, ev.ID)
	}
	return ids
}

func exec(t *testing.T, s *store.Store, q string, args ...any) {
	t.Helper()
	if _, err := s.DB().ExecContext(context.Background(), q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func TestVerifyDetectsTampering(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(engine, func(t *testing.T) {
			tests := []struct {
				name    string
				tamper  func(t *testing.T, s *store.Store, ids []string)
				wantSeq int64
				reason  string
			}{
				{"intact", func(*testing.T, *store.Store, []string) {}, 0, ""},
				{"modified", func(t *testing.T, s *store.Store, ids []string) {
					exec(t, s, `UPDATE audit_events SET object_id = '9999' WHERE seq = 4`)
				}, 4, "modified"},
				{"modified details", func(t *testing.T, s *store.Store, ids []string) {
					exec(t, s, `UPDATE audit_events SET details = '{"i":"x"}' WHERE seq = 2`)
				}, 2, "modified"},
				{"modified outcome", func(t *testing.T, s *store.Store, ids []string) {
					exec(t, s, `UPDATE audit_events SET outcome = 'denied' WHERE seq = 6`)
				}, 6, "modified"},
				{"deleted", func(t *testing.T, s *store.Store, ids []string) {
					exec(t, s, `DELETE FROM audit_events WHERE seq = 3`)
				}, 3, "deleted"},
				{"deleted last", func(t *testing.T, s *store.Store, ids []string) {
					exec(t, s, `DELETE FROM audit_events WHERE seq = 6`)
				}, 6, "deleted"},
				{"inserted", func(t *testing.T, s *store.Store, ids []string) {
					// Make room after event 3 and insert a forged event 4
					// copied from event 3 with a new identity.
					exec(t, s, `UPDATE audit_events SET seq = seq + 100 WHERE seq > 3`)
					exec(t, s, `UPDATE audit_events SET seq = seq - 99 WHERE seq > 100`)
					exec(t, s, `INSERT INTO audit_events (chain, seq, id, at, type, actor_id, actor_role, agency_id, source_addr,
						object_type, object_id, outcome, purpose, request_id, details, prev_hash, hash)
						SELECT 1, 4, 'forged-event', at, type, actor_id, actor_role, agency_id, source_addr, object_type,
						'forged', outcome, purpose, request_id, details, hash, hash FROM audit_events WHERE seq = 3`)
				}, 4, "forged"},
				{"appended", func(t *testing.T, s *store.Store, ids []string) {
					exec(t, s, `INSERT INTO audit_events (chain, seq, id, at, type, actor_id, actor_role, agency_id, source_addr,
						object_type, object_id, outcome, purpose, request_id, details, prev_hash, hash)
						SELECT 1, 7, 'forged-tail', at, type, actor_id, actor_role, agency_id, source_addr, object_type,
						object_id, outcome, purpose, request_id, details, hash, 'beef' FROM audit_events WHERE seq = 6`)
				}, 7, "modified"},
				{"reordered", func(t *testing.T, s *store.Store, ids []string) {
					exec(t, s, `UPDATE audit_events SET seq = -1 WHERE seq = 2`)
					exec(t, s, `UPDATE audit_events SET seq = 2 WHERE seq = 3`)
					exec(t, s, `UPDATE audit_events SET seq = 3 WHERE seq = -1`)
				}, 2, "does not follow"},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					s := storetest.Open(t, engine)
					l := newLog()
					ids := seed(t, s, l, 6)
					tt.tamper(t, s, ids)
					res, err := l.Verify(context.Background(), s)
					if err != nil {
						t.Fatal(err)
					}
					if tt.wantSeq == 0 {
						if res.Problem != nil {
							t.Fatalf("intact chain reported %v", res.Problem)
						}
						if res.Events != 6 || res.Chains != 8 {
							t.Errorf("got %d events in %d chains, want 6 in 8", res.Events, res.Chains)
						}
						return
					}
					if res.Problem == nil {
						t.Fatal("tampering not detected")
					}
					if res.Problem.Seq != tt.wantSeq || !strings.Contains(res.Problem.String(), tt.reason) {
						t.Errorf("got problem %q, want event %d with %q", res.Problem, tt.wantSeq, tt.reason)
					}
				})
			}
		})
	}
}

func TestVerifyNeedsTheKey(t *testing.T) {
	s := storetest.Open(t, "sqlite")
	seed(t, s, newLog(), 2)
	other := audit.New([]byte("another-chain-key-0123456789abcd"), nil, haven.SystemClock{}, 1)
	res, err := other.Verify(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	if res.Problem == nil || res.Problem.Seq != 1 {
		t.Fatalf("got %v, want event 1 reported under a different key", res.Problem)
	}
}

func TestConcurrentAppendsChain(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(engine, func(t *testing.T) {
			s := storetest.Open(t, engine)
			l := newLog()
			ctx := context.Background()
			var wg sync.WaitGroup
			errs := make(chan error, 40)
			for w := range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range 10 {
						err := s.InTx(ctx, func(tx *store.Tx) error {
							return l.Record(ctx, tx, haven.Actor{UserID: fmt.Sprint("w", w), Role: haven.RoleIntake}, audit.Entry{Type: "test.concurrent", ObjectID: fmt.Sprint(i)})
						})
						if err != nil {
							errs <- err
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			res, err := l.Verify(ctx, s)
			if err != nil {
				t.Fatal(err)
			}
			if res.Problem != nil || res.Events != 40 {
				t.Fatalf("got %d events, problem %v; want 40 and none", res.Events, res.Problem)
			}
		})
	}
}

// TestFailedAuditFailsAction shows SECURITY.md 14: when the event cannot be
// written, the action's own write is rolled back.
func TestFailedAuditFailsAction(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(engine, func(t *testing.T) {
			s := storetest.Open(t, engine)
			l := newLog()
			ctx := context.Background()
			exec(t, s, `DELETE FROM audit_head`)
			ag := &haven.Agency{ID: haven.NewID(), Name: "Audited Agency", Kind: haven.AgencyLocal, CreatedAt: haven.SystemClock{}.Now()}
			err := s.InTx(ctx, func(tx *store.Tx) error {
				if err := tx.CreateAgency(ctx, ag); err != nil {
					return err
				}
				return l.Record(ctx, tx, haven.SystemActor("test"), audit.Entry{Type: "agency.create", ObjectType: "agency", ObjectID: ag.ID})
			})
			if err == nil {
				t.Fatal("action succeeded without its audit event")
			}
			if n := l.WriteFailures(); n != 1 {
				t.Errorf("WriteFailures = %d after one failed write, want 1", n)
			}
			err = s.View(ctx, func(tx *store.Tx) error { _, err := tx.Agency(ctx, ag.ID); return err })
			if !errors.Is(err, haven.ErrNotFound) && !haven.IsKind(err, haven.KindNotFound) {
				t.Fatalf("got %v, want the agency rolled back", err)
			}
		})
	}
}

func TestPseudonym(t *testing.T) {
	l := newLog()
	a, b := l.Pseudonym("reporter@example.org"), l.Pseudonym(" reporter@example.org ")
	if a != b {
		t.Errorf("got %q and %q for the same value", a, b)
	}
	if strings.Contains(a, "reporter") || !strings.HasPrefix(a, "hmac:") {
		t.Errorf("pseudonym %q leaks the value or lacks its prefix", a)
	}
	other := audit.New(nil, []byte("other-pseudonym-key-0123456789ab"), haven.SystemClock{}, 1)
	if other.Pseudonym("reporter@example.org") == a {
		t.Error("pseudonyms do not depend on the key")
	}
}

// TestSeveralChains: with eight chains (as on PostgreSQL), concurrent
// actors spread over them, every chain verifies, and tampering in any
// chain is found and named with its chain.
func TestSeveralChains(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(engine, func(t *testing.T) {
			s := storetest.Open(t, engine)
			l := audit.New([]byte("chain-key-for-tests-0123456789ab"), []byte("pseudonym-key-for-tests-01234567"), haven.SystemClock{}, 8)
			ctx := context.Background()
			var wg sync.WaitGroup
			for w := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range 6 {
						err := s.InTx(ctx, func(tx *store.Tx) error {
							a := haven.Actor{UserID: fmt.Sprint("user-", w), Role: haven.RoleIntake, RequestID: fmt.Sprint("req-", i)}
							// Two events in one transaction land in one chain.
							if err := l.Record(ctx, tx, a, audit.Entry{Type: "test.one", ObjectID: fmt.Sprint(i)}); err != nil {
								return err
							}
							return l.Record(ctx, tx, a, audit.Entry{Type: "test.two", ObjectID: fmt.Sprint(i)})
						})
						if err != nil {
							t.Error(err)
						}
					}
				}()
			}
			wg.Wait()
			res, err := l.Verify(ctx, s)
			if err != nil || res.Problem != nil || res.Events != 96 || res.Chains != 8 {
				t.Fatalf("got %+v %v, want 96 intact events in 8 chains", res, err)
			}
			used := map[int]bool{}
			_ = s.View(ctx, func(tx *store.Tx) error {
				for c := 1; c <= 8; c++ {
					_ = tx.AuditEvents(ctx, c, 0, 0, func(ev *haven.AuditEvent) error { used[c] = true; return nil })
				}
				return nil
			})
			if len(used) < 3 {
				t.Errorf("events used only %d of 8 chains", len(used))
			}
			var chain int
			var seq int64
			_ = s.DB().QueryRowContext(ctx, `SELECT chain, seq FROM audit_events WHERE chain > 1 ORDER BY chain, seq LIMIT 1 OFFSET 1`).Scan(&chain, &seq)
			exec(t, s, `UPDATE audit_events SET outcome = 'denied' WHERE chain = $1 AND seq = $2`, chain, seq)
			res, err = l.Verify(ctx, s)
			if err != nil || res.Problem == nil || res.Problem.Chain != chain || res.Problem.Seq != seq {
				t.Fatalf("tampering in chain %d event %d: got %+v %v", chain, seq, res.Problem, err)
			}
			if !strings.Contains(res.Problem.String(), fmt.Sprintf("event %d (chain %d", seq, chain)) {
				t.Errorf("problem text %q", res.Problem)
			}
			exec(t, s, `UPDATE audit_events SET outcome = 'success' WHERE chain = $1 AND seq = $2`, chain, seq)
			exec(t, s, `UPDATE audit_events SET chain = 42 WHERE chain = $1 AND seq = (SELECT MAX(seq) FROM audit_events WHERE chain = $1)`, chain)
			res, err = l.Verify(ctx, s)
			if err != nil || res.Problem == nil || res.Problem.Chain != 42 {
				t.Fatalf("an event moved to a chain without head: got %+v %v", res.Problem, err)
			}
		})
	}
}
