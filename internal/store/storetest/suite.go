package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/store"
)

// Opener returns a fresh, migrated, empty store.
type Opener func(t testing.TB) *store.Store

// Run runs the conformance suite against the stores that open returns.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(*testing.T, *store.Store)
	}{
		{"Transactions", testTransactions},
		{"Agencies", testAgencies},
		{"Users", testUsers},
		{"LoginFailuresAndTOTP", testLoginFailuresAndTOTP},
		{"Enrolments", testEnrolments},
		{"Secrets", testSecrets},
		{"Sessions", testSessions},
		{"APITokens", testAPITokens},
		{"Audit", testAudit},
		{"Evidence", testEvidence},
		{"Reports", testReports},
		{"HashBanks", testHashBanks},
		{"Identifiers", testIdentifiers},
		{"Viewer", testViewer},
		{"Referrals", testReferrals},
		{"VictimID", testVictimID},
		{"PutHashEntries", testPutHashEntries},
		{"Lab", testLab},
		{"Offenders", testOffenders},
		{"Cases", testCases},
		{"Support", testSupport},
		{"Stats", testStats},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() { s.Close() })
			tt.fn(t, s)
		})
	}
}

// t0 is a fixed instant with milliseconds, to check time round trips.
var t0 = time.Date(2026, 3, 14, 15, 9, 26, 535_000_000, time.UTC)

func write(t *testing.T, s *store.Store, fn func(*store.Tx) error) {
	t.Helper()
	if err := s.InTx(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, s *store.Store, fn func(*store.Tx) error) {
	t.Helper()
	if err := s.View(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

func wantKind(t *testing.T, err error, kind haven.Kind) {
	t.Helper()
	if haven.ErrorKind(err) != kind || err == nil {
		t.Fatalf("got error %v, want kind %v", err, kind)
	}
}

func newAgency(name string) *haven.Agency {
	return &haven.Agency{ID: haven.NewID(), Name: name, Kind: haven.AgencyICAC, Jurisdiction: "US-CA", CreatedAt: t0}
}

func newUser(login string, role haven.Role, agencyID string) *haven.User {
	return &haven.User{ID: haven.NewID(), Login: login, DisplayName: "Test " + login, Role: role,
		AgencyID: agencyID, CreatedAt: t0, UpdatedAt: t0}
}

func testTransactions(t *testing.T, s *store.Store) {
	ctx := context.Background()
	boom := errors.New("boom")
	ran := false
	err := s.InTx(ctx, func(tx *store.Tx) error {
		tx.AfterCommit(func() { ran = true })
		if err := tx.CreateAgency(ctx, newAgency("Rolled Back")); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("got %v, want boom", err)
	}
	if ran {
		t.Error("AfterCommit ran for a rolled-back transaction")
	}
	read(t, s, func(tx *store.Tx) error {
		_, err := tx.AgencyByName(ctx, "Rolled Back")
		wantKind(t, err, haven.KindNotFound)
		return nil
	})
	write(t, s, func(tx *store.Tx) error {
		tx.AfterCommit(func() { ran = true })
		return tx.CreateAgency(ctx, newAgency("Committed"))
	})
	if !ran {
		t.Error("AfterCommit did not run after commit")
	}
	if err := s.Ping(ctx); err != nil {
		t.Errorf("ping: %v", err)
	}
}

func testAgencies(t *testing.T, s *store.Store) {
	ctx := context.Background()
	a := newAgency("Zeta County Sheriff")
	b := newAgency("Alpha ICAC Task Force")
	write(t, s, func(tx *store.Tx) error {
		if err := tx.CreateAgency(ctx, a); err != nil {
			return err
		}
		return tx.CreateAgency(ctx, b)
	})
	err := s.InTx(ctx, func(tx *store.Tx) error { return tx.CreateAgency(ctx, newAgency("ALPHA icac task force")) })
	wantKind(t, err, haven.KindConflict)
	read(t, s, func(tx *store.Tx) error {
		got, err := tx.Agency(ctx, a.ID)
		if err != nil {
			return err
		}
		if diff := cmp.Diff(a, got); diff != "" {
			t.Errorf("Agency (-want +got):\n%s", diff)
		}
		got, err = tx.AgencyByName(ctx, " alpha icac TASK force ")
		if err != nil || got.ID != b.ID {
			t.Errorf("AgencyByName: got %v, %v; want %s", got, err, b.ID)
		}
		_, err = tx.Agency(ctx, haven.NewID())
		wantKind(t, err, haven.KindNotFound)
		all, err := tx.Agencies(ctx)
		if err != nil {
			return err
		}
		if len(all) != 2 || all[0].ID != b.ID || all[1].ID != a.ID {
			t.Errorf("Agencies: got %d agencies, want Alpha then Zeta", len(all))
		}
		return nil
	})
}

func testUsers(t *testing.T, s *store.Store) {
	ctx := context.Background()
	ag := newAgency("Example Police")
	le := newUser("officer@example.org", haven.RoleLE, ag.ID)
	an := newUser("analyst@example.org", haven.RoleIntake, "")
	write(t, s, func(tx *store.Tx) error {
		if err := tx.CreateAgency(ctx, ag); err != nil {
			return err
		}
		if err := tx.CreateUser(ctx, le); err != nil {
			return err
		}
		return tx.CreateUser(ctx, an)
	})
	err := s.InTx(ctx, func(tx *store.Tx) error {
		return tx.CreateUser(ctx, newUser("analyst@example.org", haven.RoleAdmin, ""))
	})
	wantKind(t, err, haven.KindConflict)

	an.PasswordHash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"
	an.TOTPSecret = []byte{0, 1, 2, 0xff}
	an.TOTPEnabled = true
	an.LockedAt = t0.Add(time.Minute)
	an.NoticeAckAt = t0.Add(2 * time.Minute)
	an.LastLoginAt = t0.Add(3 * time.Minute)
	an.UpdatedAt = t0.Add(4 * time.Minute)
	an.Disabled = true
	an.DisplayName = "Ana Lyst"
	write(t, s, func(tx *store.Tx) error { return tx.UpdateUser(ctx, an) })
	read(t, s, func(tx *store.Tx) error {
		got, err := tx.User(ctx, an.ID)
		if err != nil {
			return err
		}
		if diff := cmp.Diff(an, got); diff != "" {
			t.Errorf("User after update (-want +got):\n%s", diff)
		}
		got, err = tx.UserByLogin(ctx, "officer@example.org")
		if err != nil {
			return err
		}
		if diff := cmp.Diff(le, got); diff != "" {
			t.Errorf("UserByLogin (-want +got):\n%s", diff)
		}
		_, err = tx.UserByLogin(ctx, "nobody@example.org")
		wantKind(t, err, haven.KindNotFound)
		list, err := tx.Users(ctx, store.UserFilter{AgencyID: ag.ID})
		if err != nil {
			return err
		}
		if len(list) != 1 || list[0].ID != le.ID {
			t.Errorf("Users by agency: got %d users, want the officer", len(list))
		}
		list, err = tx.Users(ctx, store.UserFilter{})
		if err != nil {
			return err
		}
		if len(list) != 2 || list[0].Login != "analyst@example.org" {
			t.Errorf("Users: got %d, want 2 sorted by login", len(list))
		}
		n, err := tx.CountUsers(ctx, haven.RoleLE)
		if err != nil || n != 1 {
			t.Errorf("CountUsers(le): got %d, %v; want 1", n, err)
		}
		n, err = tx.CountUsers(ctx, "")
		if err != nil || n != 2 {
			t.Errorf("CountUsers(all): got %d, %v; want 2", n, err)
		}
		return nil
	})
	err = s.InTx(ctx, func(tx *store.Tx) error { return tx.UpdateUser(ctx, newUser("ghost@example.org", haven.RoleAdmin, "")) })
	wantKind(t, err, haven.KindNotFound)

	write(t, s, func(tx *store.Tx) error { return tx.SetUserLogin(ctx, an.ID, "renamed@example.org") })
	err = s.InTx(ctx, func(tx *store.Tx) error { return tx.SetUserLogin(ctx, an.ID, "officer@example.org") })
	wantKind(t, err, haven.KindConflict)
	err = s.InTx(ctx, func(tx *store.Tx) error { return tx.SetUserLogin(ctx, haven.NewID(), "x@example.org") })
	wantKind(t, err, haven.KindNotFound)
	read(t, s, func(tx *store.Tx) error {
		got, err := tx.UserByLogin(ctx, "renamed@example.org")
		if err != nil || got.ID != an.ID {
			t.Errorf("SetUserLogin: got %v, %v", got, err)
		}
		return nil
	})
}

func testLoginFailuresAndTOTP(t *testing.T, s *store.Store) {
	ctx := context.Background()
	u := newUser("fail@example.org", haven.RoleIntake, "")
	write(t, s, func(tx *store.Tx) error { return tx.CreateUser(ctx, u) })
	write(t, s, func(tx *store.Tx) error {
		for i := range 4 {
			at := t0.Add(time.Duration(i) * 10 * time.Minute)
			n, err := tx.RecordLoginFailure(ctx, u.ID, at, at.Add(-15*time.Minute))
			if err != nil {
				return err
			}
			// failures at 0, 10, 20, 30 minutes: a 15-minute window holds two at most
			want := min(i+1, 2)
			if n != want {
				t.Errorf("failure %d: got %d in window, want %d", i, n, want)
			}
		}
		if err := tx.ClearLoginFailures(ctx, u.ID); err != nil {
			return err
		}
		n, err := tx.RecordLoginFailure(ctx, u.ID, t0.Add(time.Hour), t0)
		if err != nil || n != 1 {
			t.Errorf("after clear: got %d, %v; want 1", n, err)
		}
		return nil
	})
	write(t, s, func(tx *store.Tx) error {
		for _, c := range []struct {
			step int64
			want bool
		}{{100, true}, {100, false}, {99, false}, {101, true}} {
			ok, err := tx.AdvanceTOTPStep(ctx, u.ID, c.step)
			if err != nil {
				return err
			}
			if ok != c.want {
				t.Errorf("AdvanceTOTPStep(%d): got %v, want %v", c.step, ok, c.want)
			}
		}
		got, err := tx.User(ctx, u.ID)
		if err != nil {
			return err
		}
		if got.TOTPLastStep != 101 {
			t.Errorf("got last step %d, want 101", got.TOTPLastStep)
		}
		return nil
	})
}

func testEnrolments(t *testing.T, s *store.Store) {
	ctx := context.Background()
	u := newUser("new@example.org", haven.RoleSupervisor, "")
	e := &haven.Enrolment{TokenHash: []byte("0123456789abcdef0123456789abcdef"), UserID: u.ID, CreatedAt: t0, ExpiresAt: t0.Add(72 * time.Hour)}
	e2 := &haven.Enrolment{TokenHash: []byte("fedcba9876543210fedcba9876543210"), UserID: u.ID, CreatedAt: t0, ExpiresAt: t0.Add(72 * time.Hour)}
	write(t, s, func(tx *store.Tx) error {
		if err := tx.CreateUser(ctx, u); err != nil {
			return err
		}
		if err := tx.CreateEnrolment(ctx, e); err != nil {
			return err
		}
		return tx.CreateEnrolment(ctx, e2)
	})
	read(t, s, func(tx *store.Tx) error {
		got, err := tx.Enrolment(ctx, e.TokenHash)
		if err != nil {
			return err
		}
		if diff := cmp.Diff(e, got); diff != "" {
			t.Errorf("Enrolment (-want +got):\n%s", diff)
		}
		return nil
	})
	write(t, s, func(tx *store.Tx) error { return tx.UseEnrolment(ctx, e.TokenHash, t0.Add(time.Hour)) })
	err := s.InTx(ctx, func(tx *store.Tx) error { return tx.UseEnrolment(ctx, e.TokenHash, t0.Add(2*time.Hour)) })
	wantKind(t, err, haven.KindNotFound)
	write(t, s, func(tx *store.Tx) error { return tx.RevokeEnrolments(ctx, u.ID, t0.Add(3*time.Hour)) })
	read(t, s, func(tx *store.Tx) error {
		got, err := tx.Enrolment(ctx, e2.TokenHash)
		if err != nil {
			return err
		}
		if !got.UsedAt.Equal(t0.Add(3 * time.Hour)) {
			t.Errorf("revoked enrolment: got used_at %v, want %v", got.UsedAt, t0.Add(3*time.Hour))
		}
		got, err = tx.Enrolment(ctx, e.TokenHash)
		if err != nil {
			return err
		}
		if !got.UsedAt.Equal(t0.Add(time.Hour)) {
			t.Errorf("used enrolment: revocation changed used_at to %v", got.UsedAt)
		}
		return nil
	})
}

func testSecrets(t *testing.T, s *store.Store) {
	ctx := context.Background()
	write(t, s, func(tx *store.Tx) error { return tx.PutSecret(ctx, "audit-chain", []byte{1, 2, 3}, t0, false) })
	err := s.InTx(ctx, func(tx *store.Tx) error { return tx.PutSecret(ctx, "audit-chain", []byte{9}, t0, false) })
	wantKind(t, err, haven.KindConflict)
	write(t, s, func(tx *store.Tx) error { return tx.PutSecret(ctx, "audit-chain", []byte{4, 5}, t0, true) })
	err = s.InTx(ctx, func(tx *store.Tx) error { return tx.PutSecret(ctx, "missing", []byte{9}, t0, true) })
	wantKind(t, err, haven.KindNotFound)
	write(t, s, func(tx *store.Tx) error { return tx.PutSecret(ctx, "a-first", []byte{7}, t0, false) })
	read(t, s, func(tx *store.Tx) error {
		b, err := tx.Secret(ctx, "audit-chain")
		if err != nil || !bytes.Equal(b, []byte{4, 5}) {
			t.Errorf("Secret: got %v, %v; want [4 5]", b, err)
		}
		_, err = tx.Secret(ctx, "nope")
		wantKind(t, err, haven.KindNotFound)
		names, err := tx.SecretNames(ctx)
		if diff := cmp.Diff([]string{"a-first", "audit-chain"}, names); err != nil || diff != "" {
			t.Errorf("SecretNames: %v (-want +got):\n%s", err, diff)
		}
		return nil
	})
}

func testSessions(t *testing.T, s *store.Store) {
	ctx := context.Background()
	u := newUser("sess@example.org", haven.RoleAuditor, "")
	s1 := &haven.Session{ID: haven.NewID(), TokenHash: bytes.Repeat([]byte{1}, 32), UserID: u.ID, CSRFToken: "csrf-1",
		CreatedAt: t0, LastSeenAt: t0, ExpiresAt: t0.Add(12 * time.Hour), RemoteAddr: "192.0.2.10"}
	s2 := &haven.Session{ID: haven.NewID(), TokenHash: bytes.Repeat([]byte{2}, 32), UserID: u.ID, CSRFToken: "csrf-2",
		CreatedAt: t0, LastSeenAt: t0, ExpiresAt: t0.Add(time.Hour)}
	write(t, s, func(tx *store.Tx) error {
		if err := tx.CreateUser(ctx, u); err != nil {
			return err
		}
		if err := tx.CreateSession(ctx, s1); err != nil {
			return err
		}
		return tx.CreateSession(ctx, s2)
	})
	read(t, s, func(tx *store.Tx) error {
		got, err := tx.SessionByToken(ctx, s1.TokenHash)
		if err != nil {
			return err
		}
		if diff := cmp.Diff(s1, got); diff != "" {
			t.Errorf("SessionByToken (-want +got):\n%s", diff)
		}
		_, err = tx.SessionByToken(ctx, bytes.Repeat([]byte{3}, 32))
		wantKind(t, err, haven.KindNotFound)
		return nil
	})
	write(t, s, func(tx *store.Tx) error {
		if err := tx.TouchSession(ctx, s1.ID, t0.Add(5*time.Minute)); err != nil {
			return err
		}
		return tx.MarkSessionAuthenticated(ctx, s1.ID, t0.Add(6*time.Minute))
	})
	read(t, s, func(tx *store.Tx) error {
		got, err := tx.SessionByToken(ctx, s1.TokenHash)
		if err != nil {
			return err
		}
		want := t0.Add(6 * time.Minute)
		if !got.MFAAt.Equal(want) || !got.AuthAt.Equal(want) || !got.LastSeenAt.Equal(want) {
			t.Errorf("after MarkSessionAuthenticated: got mfa %v auth %v seen %v, want %v", got.MFAAt, got.AuthAt, got.LastSeenAt, want)
		}
		return nil
	})
	// s2 expires absolutely at t0+1h; s1 was seen at t0+6m.
	write(t, s, func(tx *store.Tx) error {
		n, err := tx.DeleteExpiredSessions(ctx, t0.Add(time.Hour), t0)
		if err != nil || n != 1 {
			t.Errorf("DeleteExpiredSessions: got %d, %v; want 1", n, err)
		}
		n, err = tx.DeleteExpiredSessions(ctx, t0.Add(time.Hour), t0.Add(7*time.Minute))
		if err != nil || n != 1 {
			t.Errorf("DeleteExpiredSessions idle: got %d, %v; want 1", n, err)
		}
		return nil
	})
	s3 := *s1
	s3.ID, s3.TokenHash = haven.NewID(), bytes.Repeat([]byte{4}, 32)
	write(t, s, func(tx *store.Tx) error {
		if err := tx.CreateSession(ctx, &s3); err != nil {
			return err
		}
		if err := tx.DeleteSession(ctx, s3.ID); err != nil {
			return err
		}
		if err := tx.CreateSession(ctx, s1); err != nil {
			return err
		}
		n, err := tx.DeleteUserSessions(ctx, u.ID)
		if err != nil || n != 1 {
			t.Errorf("DeleteUserSessions: got %d, %v; want 1", n, err)
		}
		return nil
	})
	err := s.InTx(ctx, func(tx *store.Tx) error { return tx.TouchSession(ctx, s1.ID, t0) })
	wantKind(t, err, haven.KindNotFound)
}

func testAPITokens(t *testing.T, s *store.Store) {
	ctx := context.Background()
	u := newUser("esp-example-1a2b3c", haven.RoleESP, "")
	tok := &haven.APIToken{ID: haven.NewID(), UserID: u.ID, Name: "ci", TokenHash: bytes.Repeat([]byte{7}, 32), CreatedAt: t0}
	write(t, s, func(tx *store.Tx) error {
		if err := tx.CreateUser(ctx, u); err != nil {
			return err
		}
		if err := tx.CreateAPIToken(ctx, tok); err != nil {
			return err
		}
		return tx.TouchAPIToken(ctx, tok.ID, t0.Add(time.Minute))
	})
	write(t, s, func(tx *store.Tx) error { return tx.RevokeAPITokens(ctx, u.ID, t0.Add(2*time.Minute)) })
	read(t, s, func(tx *store.Tx) error {
		got, err := tx.APITokenByHash(ctx, tok.TokenHash)
		if err != nil {
			return err
		}
		tok.LastUsedAt, tok.RevokedAt = t0.Add(time.Minute), t0.Add(2*time.Minute)
		if diff := cmp.Diff(tok, got); diff != "" {
			t.Errorf("APITokenByHash (-want +got):\n%s", diff)
		}
		_, err = tx.APITokenByHash(ctx, []byte("nope"))
		wantKind(t, err, haven.KindNotFound)
		return nil
	})
}

func testAudit(t *testing.T, s *store.Store) {
	ctx := context.Background()
	read(t, s, func(tx *store.Tx) error {
		seq, hash, err := tx.AuditHead(ctx, 1)
		if err != nil || seq != 0 || hash != "" {
			t.Errorf("initial head: got %d %q %v, want 0 \"\"", seq, hash, err)
		}
		chains, err := tx.AuditChains(ctx)
		if err != nil || len(chains) != 8 || chains[0] != 1 || chains[7] != 8 {
			t.Errorf("AuditChains: got %v, %v; want 1…8", chains, err)
		}
		_, _, err = tx.AuditHead(ctx, 99)
		wantKind(t, err, haven.KindNotFound)
		return nil
	})
	var events []*haven.AuditEvent
	for i := range 3 {
		e := &haven.AuditEvent{Chain: 3, Seq: int64(i + 1), ID: haven.NewID(), At: t0.Add(time.Duration(i) * time.Second),
			Type: "test.event", ActorID: "actor-1", ActorRole: haven.RoleAdmin, AgencyID: "", SourceAddr: "192.0.2.1",
			ObjectType: "user", ObjectID: "obj-" + string(rune('a'+i)), Outcome: haven.OutcomeSuccess, Purpose: "",
			RequestID: "req-1", Details: map[string]string{"n": string(rune('0' + i))}, PrevHash: "p", Hash: "h" + string(rune('0'+i))}
		if i == 2 {
			e.Type, e.Details = "other.event", nil
		}
		events = append(events, e)
		write(t, s, func(tx *store.Tx) error {
			if _, _, err := tx.LockAuditHead(ctx, 3); err != nil {
				return err
			}
			return tx.AppendAuditEvent(ctx, e)
		})
	}
	events[2].Details = map[string]string{} // stored as {}
	read(t, s, func(tx *store.Tx) error {
		seq, hash, err := tx.AuditHead(ctx, 3)
		if err != nil || seq != 3 || hash != "h2" {
			t.Errorf("head: got %d %q %v, want 3 h2", seq, hash, err)
		}
		if seq, _, _ := tx.AuditHead(ctx, 1); seq != 0 {
			t.Errorf("chain 1 moved to %d though nothing was appended to it", seq)
		}
		stray, err := tx.StrayAuditChains(ctx)
		if err != nil || len(stray) != 0 {
			t.Errorf("StrayAuditChains: %v %v", stray, err)
		}
		var got []*haven.AuditEvent
		if err := tx.AuditEvents(ctx, 3, 1, 0, func(e *haven.AuditEvent) error { got = append(got, e); return nil }); err != nil {
			return err
		}
		if diff := cmp.Diff(events[1:], got); diff != "" {
			t.Errorf("AuditEvents (-want +got):\n%s", diff)
		}
		got = nil
		if err := tx.AuditEvents(ctx, 3, 0, 1, func(e *haven.AuditEvent) error { got = append(got, e); return nil }); err != nil {
			return err
		}
		if len(got) != 1 || got[0].Seq != 1 {
			t.Errorf("AuditEvents limit 1: got %d events", len(got))
		}
		got = nil
		if err := tx.AuditEvents(ctx, 1, 0, 0, func(e *haven.AuditEvent) error { got = append(got, e); return nil }); err != nil || len(got) != 0 {
			t.Errorf("AuditEvents of an empty chain: %d events, %v", len(got), err)
		}
		recent, err := tx.RecentAuditEvents(ctx, store.AuditFilter{Type: "test.event"})
		if err != nil {
			return err
		}
		if len(recent) != 2 || recent[0].Seq != 2 {
			t.Errorf("RecentAuditEvents by type: got %d, want 2 newest first", len(recent))
		}
		recent, err = tx.RecentAuditEvents(ctx, store.AuditFilter{ObjectType: "user", ObjectID: "obj-a"})
		if err != nil || len(recent) != 1 {
			t.Errorf("RecentAuditEvents by object: got %d, %v; want 1", len(recent), err)
		}
		recent, err = tx.RecentAuditEvents(ctx, store.AuditFilter{BeforeID: events[2].ID, Limit: 1})
		if err != nil || len(recent) != 1 || recent[0].Seq != 2 {
			t.Errorf("RecentAuditEvents before the third: got %v, %v", recent, err)
		}
		return nil
	})
	dup := *events[0]
	dup.ID = haven.NewID()
	err := s.InTx(ctx, func(tx *store.Tx) error { return tx.AppendAuditEvent(ctx, &dup) })
	wantKind(t, err, haven.KindConflict)
}

func testEvidence(t *testing.T, s *store.Store) {
	ctx := context.Background()
	sum := func(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }
	it := &haven.EvidenceItem{ID: haven.NewID(), SHA256: sum(1), SHA1: sum(1)[:20], MD5: sum(1)[:16], Size: 42,
		WrappedKey: []byte("wrapped"), CreatedAt: t0}
	it2 := &haven.EvidenceItem{ID: haven.NewID(), SHA256: sum(2), SHA1: sum(2)[:20], MD5: sum(2)[:16], Size: 7,
		WrappedKey: []byte("wrapped2"), CreatedAt: t0}
	acq := &haven.Acquisition{ID: haven.NewID(), ItemID: it.ID, AcquiredAt: t0, ActorID: "u1", Source: "esp",
		Filename: "photo.jpg", ContentType: "image/jpeg", Size: 42, MD5: it.MD5, SHA1: it.SHA1, SHA256: it.SHA256,
		ContextType: "report", ContextID: "123"}
	acq2 := *acq
	acq2.ID, acq2.AcquiredAt, acq2.Source = haven.NewID(), t0.Add(time.Second), "staff-upload"
	write(t, s, func(tx *store.Tx) error {
		for _, x := range []*haven.EvidenceItem{it, it2} {
			if err := tx.CreateEvidenceItem(ctx, x); err != nil {
				return err
			}
		}
		if err := tx.CreateAcquisition(ctx, acq); err != nil {
			return err
		}
		return tx.CreateAcquisition(ctx, &acq2)
	})
	dup := *it
	dup.ID = haven.NewID()
	err := s.InTx(ctx, func(tx *store.Tx) error { return tx.CreateEvidenceItem(ctx, &dup) })
	wantKind(t, err, haven.KindConflict)
	read(t, s, func(tx *store.Tx) error {
		got, err := tx.EvidenceItem(ctx, it.ID)
		if err != nil {
			return err
		}
		if diff := cmp.Diff(it, got); diff != "" {
			t.Errorf("EvidenceItem (-want +got):\n%s", diff)
		}
		got, err = tx.LiveEvidenceItemBySHA256(ctx, sum(2))
		if err != nil || got.ID != it2.ID {
			t.Errorf("LiveEvidenceItemBySHA256: got %v, %v", got, err)
		}
		acqs, err := tx.Acquisitions(ctx, it.ID)
		if err != nil {
			return err
		}
		if diff := cmp.Diff([]*haven.Acquisition{acq, &acq2}, acqs); diff != "" {
			t.Errorf("Acquisitions (-want +got):\n%s", diff)
		}
		one, err := tx.Acquisition(ctx, acq.ID)
		if err != nil || one.ItemID != it.ID {
			t.Errorf("Acquisition: got %v, %v", one, err)
		}
		todo, err := tx.ItemsToVerify(ctx, t0, 10)
		if err != nil || len(todo) != 2 {
			t.Errorf("ItemsToVerify: got %d, %v; want 2", len(todo), err)
		}
		return nil
	})
	write(t, s, func(tx *store.Tx) error {
		if err := tx.SetItemVerified(ctx, it.ID, t0.Add(time.Hour)); err != nil {
			return err
		}
		if err := tx.SetItemIntegrityFailed(ctx, it2.ID, t0.Add(time.Hour)); err != nil {
			return err
		}
		return tx.SetItemWrappedKey(ctx, it2.ID, []byte("rewrapped"))
	})
	read(t, s, func(tx *store.Tx) error {
		todo, err := tx.ItemsToVerify(ctx, t0.Add(30*time.Minute), 10)
		if err != nil || len(todo) != 1 || todo[0].ID != it2.ID {
			t.Errorf("ItemsToVerify after verify: got %v, %v; want only it2", todo, err)
		}
		got, err := tx.EvidenceItem(ctx, it2.ID)
		if err != nil {
			return err
		}
		if !got.IntegrityFailedAt.Equal(t0.Add(time.Hour)) || string(got.WrappedKey) != "rewrapped" {
			t.Errorf("it2: got failed %v key %q", got.IntegrityFailedAt, got.WrappedKey)
		}
		var ids []string
		err = tx.EvidenceItems(ctx, "", 1, func(x *haven.EvidenceItem) error { ids = append(ids, x.ID); return nil })
		if err != nil || len(ids) != 1 {
			t.Errorf("EvidenceItems limit 1: got %v, %v", ids, err)
		}
		return nil
	})
	write(t, s, func(tx *store.Tx) error {
		return tx.ShredEvidenceItem(ctx, it.ID, t0.Add(2*time.Hour), "court order 1")
	})
	err = s.InTx(ctx, func(tx *store.Tx) error { return tx.ShredEvidenceItem(ctx, it.ID, t0, "again") })
	wantKind(t, err, haven.KindNotFound)
	err = s.InTx(ctx, func(tx *store.Tx) error { return tx.SetItemWrappedKey(ctx, it.ID, []byte("x")) })
	wantKind(t, err, haven.KindNotFound)
	read(t, s, func(tx *store.Tx) error {
		got, err := tx.EvidenceItem(ctx, it.ID)
		if err != nil {
			return err
		}
		if got.WrappedKey != nil || !got.Shredded() || got.ShredReason != "court order 1" {
			t.Errorf("shredded item: got key %v shredded %v reason %q", got.WrappedKey, got.Shredded(), got.ShredReason)
		}
		_, err = tx.LiveEvidenceItemBySHA256(ctx, it.SHA256)
		wantKind(t, err, haven.KindNotFound)
		live, shredded, err := tx.CountEvidence(ctx)
		if err != nil || live != 1 || shredded != 1 {
			t.Errorf("CountEvidence: got %d live %d shredded, %v; want 1 1", live, shredded, err)
		}
		return nil
	})
	// The same bytes may arrive again after destruction: a new item.
	write(t, s, func(tx *store.Tx) error { return tx.CreateEvidenceItem(ctx, &dup) })
}

func testReports(t *testing.T, s *store.Store) {
	ctx := context.Background()
	esc := "child in danger"
	age := 13
	yes := true
	r := &haven.Report{Source: haven.SourceESP, Status: haven.ReportOpen, SubmitterID: "esp-1", OpenedAt: t0, ModifiedAt: t0,
		IdempotencyKey: "key-1", Language: "en",
		Incident: haven.IncidentSummary{Type: haven.IncidentEnticement, Platform: "Example Chat", Escalate: &esc,
			Annotations: &haven.ReportAnnotations{Sextortion: true}, DateTime: t0.Add(-time.Hour)},
		Internet:       []haven.InternetDetail{{Kind: haven.InternetWebPage, URLs: []string{"https://example.com/a"}, ThirdPartyHosted: &yes}},
		Reporter:       haven.Reporter{ReportingPerson: haven.Person{FirstName: "Trust", Emails: []haven.Email{{Value: "abuse@example.org", Verified: &yes}}}},
		Victims:        []haven.Involved{{Role: haven.RoleVictim, Person: &haven.Person{FirstName: "Child", Age: &age}}},
		Reported:       []haven.Involved{{Role: haven.RoleReported, ScreenName: "user-1", IPCaptures: []haven.IPCapture{{IPAddress: "192.0.2.7", DateTime: t0}}}},
		AdditionalInfo: "synthetic",
	}
	write(t, s, func(tx *store.Tx) error {
		id, err := tx.NextReportNumber(ctx)
		if err != nil {
			return err
		}
		id2, err := tx.NextReportNumber(ctx)
		if err != nil || id2 != id+1 {
			t.Errorf("NextReportNumber: got %d then %d", id, id2)
		}
		r.ID = id
		return tx.CreateReport(ctx, r, []byte("sealed"), t0.Add(24*time.Hour))
	})
	dup := *r
	dup.ID = r.ID + 100
	err := s.InTx(ctx, func(tx *store.Tx) error { return tx.CreateReport(ctx, &dup, nil, time.Time{}) })
	wantKind(t, err, haven.KindConflict)
	f := &haven.ReportFile{ID: "0123456789abcdef0123456789abcdef", ReportID: r.ID, AcquisitionID: "acq-1", ItemID: "item-1",
		Filename: "a.jpg", ContentType: "image/jpeg", Size: 5, MD5: make([]byte, 16), SHA1: make([]byte, 20), SHA256: make([]byte, 32), UploadedAt: t0}
	f2 := *f
	f2.ID, f2.ItemID = "fedcba9876543210fedcba9876543210", "item-2"
	details := &haven.FileDetails{FileName: "a.jpg", ViewedByESP: &yes, Annotations: &haven.FileAnnotations{Viral: true}}
	write(t, s, func(tx *store.Tx) error {
		if err := tx.AddReportFile(ctx, f); err != nil {
			return err
		}
		if err := tx.AddReportFile(ctx, &f2); err != nil {
			return err
		}
		return tx.SetReportFileDetails(ctx, r.ID, f.ID, details, t0.Add(time.Minute))
	})
	err = s.InTx(ctx, func(tx *store.Tx) error { return tx.SetReportFileDetails(ctx, r.ID, "nope", details, t0) })
	wantKind(t, err, haven.KindNotFound)
	read(t, s, func(tx *store.Tx) error {
		got, err := tx.Report(ctx, r.ID, false)
		if err != nil {
			return err
		}
		f.Details, f.DetailsAt = details, t0.Add(time.Minute)
		want := *r
		want.Files = []*haven.ReportFile{f, &f2}
		want.FollowupSecret = nil
		if diff := cmp.Diff(&want, got); diff != "" {
			t.Errorf("Report (-want +got):\n%s", diff)
		}
		cb, err := tx.ReportCallback(ctx, r.ID)
		if err != nil || string(cb) != "sealed" {
			t.Errorf("ReportCallback: %q %v", cb, err)
		}
		id, err := tx.ReportByIdempotencyKey(ctx, "esp-1", "key-1")
		if err != nil || id != r.ID {
			t.Errorf("ReportByIdempotencyKey: %d %v", id, err)
		}
		_, err = tx.ReportByIdempotencyKey(ctx, "esp-2", "key-1")
		wantKind(t, err, haven.KindNotFound)
		_, err = tx.Report(ctx, 424242, false)
		wantKind(t, err, haven.KindNotFound)
		exp, err := tx.ExpiredReports(ctx, t0.Add(25*time.Hour), 10)
		if err != nil || len(exp) != 1 || exp[0] != r.ID {
			t.Errorf("ExpiredReports: %v %v", exp, err)
		}
		exp, err = tx.ExpiredReports(ctx, t0.Add(23*time.Hour), 10)
		if err != nil || len(exp) != 0 {
			t.Errorf("ExpiredReports before expiry: %v %v", exp, err)
		}
		list, err := tx.Reports(ctx, store.ReportFilter{Source: haven.SourceESP})
		if err != nil || len(list) != 1 || list[0].Files != 2 || !list[0].Escalate || list[0].IncidentType != haven.IncidentEnticement {
			t.Errorf("Reports: %+v %v", list, err)
		}
		list, err = tx.Reports(ctx, store.ReportFilter{Source: haven.SourcePublic})
		if err != nil || len(list) != 0 {
			t.Errorf("Reports by another source: %d %v", len(list), err)
		}
		inUse, err := tx.ItemInUse(ctx, "item-1")
		if err != nil || !inUse {
			t.Errorf("ItemInUse: %v %v", inUse, err)
		}
		return nil
	})
	write(t, s, func(tx *store.Tx) error {
		r.AdditionalInfo, r.ModifiedAt = "changed", t0.Add(2*time.Minute)
		if err := tx.UpdateReportContent(ctx, r); err != nil {
			return err
		}
		if err := tx.SetReportState(ctx, r.ID, haven.ReportFinished, t0.Add(3*time.Minute), t0.Add(3*time.Minute), time.Time{}, time.Time{}); err != nil {
			return err
		}
		files, err := tx.DeleteReportFiles(ctx, r.ID)
		if err != nil || len(files) != 2 {
			t.Errorf("DeleteReportFiles: %d %v", len(files), err)
		}
		return tx.AddFollowup(ctx, &store.ReportFollowup{ID: haven.NewID(), ReportID: r.ID, At: t0, Text: "more", Language: "es"})
	})
	read(t, s, func(tx *store.Tx) error {
		got, err := tx.Report(ctx, r.ID, false)
		if err != nil {
			return err
		}
		if got.Status != haven.ReportFinished || !got.FinishedAt.Equal(t0.Add(3*time.Minute)) || got.AdditionalInfo != "changed" || len(got.Files) != 0 {
			t.Errorf("after updates: %+v", got)
		}
		fs, err := tx.Followups(ctx, r.ID)
		if err != nil || len(fs) != 1 || fs[0].Language != "es" {
			t.Errorf("Followups: %v %v", fs, err)
		}
		exp, err := tx.ExpiredReports(ctx, t0.Add(48*time.Hour), 10)
		if err != nil || len(exp) != 0 {
			t.Errorf("a finished report is listed as expired: %v %v", exp, err)
		}
		return nil
	})
	err = s.InTx(ctx, func(tx *store.Tx) error {
		return tx.SetReportState(ctx, 777, haven.ReportFinished, t0, t0, t0, t0)
	})
	wantKind(t, err, haven.KindNotFound)
}

// testPutHashEntries: the bulk write of imports inserts new values over
// several chunks, updates existing ones, treats a value repeated in the
// batch as an update of the first, and numbers changes in order.
func testPutHashEntries(t *testing.T, s *store.Store) {
	ctx := context.Background()
	b := &haven.HashBank{ID: haven.NewID(), Name: "Bulk", PDQThreshold: 31, Enabled: true, CreatedAt: t0, UpdatedAt: t0}
	write(t, s, func(tx *store.Tx) error { return tx.CreateHashBank(ctx, b) })
	val := func(i int) []byte { v := make([]byte, 16); v[0], v[1], v[15] = byte(i>>8), byte(i), 0x5a; return v }
	old := &haven.HashEntry{BankID: b.ID, Algo: haven.AlgoMD5, Value: val(3), Classification: haven.Classification{Scheme: "t", Code: "old"},
		AddedAt: t0, Enabled: true}
	write(t, s, func(tx *store.Tx) error { _, err := tx.PutHashEntry(ctx, old); return err })
	var batch []*haven.HashEntry
	for i := range 450 { // more than two chunks
		batch = append(batch, &haven.HashEntry{Algo: haven.AlgoMD5, Value: val(i), Classification: haven.Classification{Scheme: "t", Code: "new"},
			ExternalID: fmt.Sprint("x-", i), AddedAt: t0, Enabled: true})
	}
	// Value 7 again, later in the batch: it ends with the later classification.
	batch = append(batch, &haven.HashEntry{Algo: haven.AlgoMD5, Value: val(7), Classification: haven.Classification{Scheme: "t", Code: "later"},
		AddedAt: t0, Enabled: true})
	write(t, s, func(tx *store.Tx) error {
		added, err := tx.PutHashEntries(ctx, b.ID, batch)
		if err != nil {
			return err
		}
		if added != 449 { // 450 values, one of which (3) existed
			t.Errorf("PutHashEntries added %d, want 449", added)
		}
		return nil
	})
	if batch[3].ID != old.ID || batch[450].ID != batch[7].ID {
		t.Errorf("IDs: existing %d→%d, repeat %d→%d", old.ID, batch[3].ID, batch[7].ID, batch[450].ID)
	}
	for i := 1; i < len(batch); i++ {
		if batch[i].ChangeSeq != batch[i-1].ChangeSeq+1 || batch[i].BankID != b.ID {
			t.Fatalf("entry %d: change %d after %d, bank %q", i, batch[i].ChangeSeq, batch[i-1].ChangeSeq, batch[i].BankID)
		}
	}
	read(t, s, func(tx *store.Tx) error {
		n, err := tx.CountHashEntries(ctx, b.ID)
		if err != nil || n != 450 {
			t.Errorf("CountHashEntries: %d %v", n, err)
		}
		for i, want := range map[int]string{3: "new", 7: "later", 449: "new"} {
			es, err := tx.HashEntriesByValue(ctx, haven.AlgoMD5, val(i))
			if err != nil || len(es) != 1 || es[0].Classification.Code != want || es[0].ID != batch[i].ID {
				t.Errorf("value %d: %+v %v, want %s", i, es, err, want)
			}
		}
		changed, err := tx.HashEntriesChangedSince(ctx, old.ChangeSeq, 1000)
		if err != nil || len(changed) != 450 {
			t.Errorf("HashEntriesChangedSince: %d %v", len(changed), err)
		}
		return nil
	})
	write(t, s, func(tx *store.Tx) error {
		added, err := tx.PutHashEntries(ctx, b.ID, nil)
		if added != 0 || err != nil {
			t.Errorf("an empty batch: %d %v", added, err)
		}
		return nil
	})
}

func testHashBanks(t *testing.T, s *store.Store) {
	ctx := context.Background()
	b := &haven.HashBank{ID: haven.NewID(), Name: "Known Series (synthetic)", Source: "tests", PDQThreshold: 31, Enabled: true,
		CreatedAt: t0, UpdatedAt: t0}
	neg := &haven.HashBank{ID: haven.NewID(), Name: "False positives", Negative: true, PDQThreshold: 10, Enabled: true, CreatedAt: t0, UpdatedAt: t0}
	write(t, s, func(tx *store.Tx) error {
		if err := tx.CreateHashBank(ctx, b); err != nil {
			return err
		}
		return tx.CreateHashBank(ctx, neg)
	})
	err := s.InTx(ctx, func(tx *store.Tx) error {
		return tx.CreateHashBank(ctx, &haven.HashBank{ID: haven.NewID(), Name: "KNOWN SERIES (synthetic)", CreatedAt: t0, UpdatedAt: t0})
	})
	wantKind(t, err, haven.KindConflict)
	pdqValue := bytes.Repeat([]byte{0xab}, 32)
	e1 := &haven.HashEntry{BankID: b.ID, Algo: haven.AlgoPDQ, Value: pdqValue, Classification: haven.Classification{Scheme: "industry", Code: "A1"},
		SeriesID: "series-1", Provenance: "test import", ExternalID: "ext-1", AddedBy: "u1", AddedAt: t0, Enabled: true}
	e2 := &haven.HashEntry{BankID: b.ID, Algo: haven.AlgoMD5, Value: bytes.Repeat([]byte{1}, 16), Viral: true, AddedAt: t0, Enabled: true}
	var seqAfterFirst int64
	write(t, s, func(tx *store.Tx) error {
		isNew, err := tx.PutHashEntry(ctx, e1)
		if err != nil || !isNew || e1.ID == 0 || e1.ChangeSeq == 0 {
			t.Errorf("PutHashEntry new: %v %v %+v", isNew, err, e1)
		}
		seqAfterFirst = e1.ChangeSeq
		_, err = tx.PutHashEntry(ctx, e2)
		return err
	})
	// The same value again updates the entry instead of adding one.
	again := *e1
	again.ID, again.Classification.Code = 0, "A2"
	write(t, s, func(tx *store.Tx) error {
		isNew, err := tx.PutHashEntry(ctx, &again)
		if err != nil || isNew || again.ID != e1.ID || again.ChangeSeq <= e2.ChangeSeq {
			t.Errorf("PutHashEntry repeat: new %v id %d seq %d, %v", isNew, again.ID, again.ChangeSeq, err)
		}
		return err
	})
	read(t, s, func(tx *store.Tx) error {
		got, err := tx.HashEntry(ctx, e1.ID)
		if err != nil {
			return err
		}
		if got.Classification.Code != "A2" || got.SeriesID != "series-1" || !bytes.Equal(got.Value, pdqValue) || !got.Live() {
			t.Errorf("HashEntry after update: %+v", got)
		}
		byVal, err := tx.HashEntriesByValue(ctx, haven.AlgoPDQ, pdqValue)
		if err != nil || len(byVal) != 1 {
			t.Errorf("HashEntriesByValue: %d %v", len(byVal), err)
		}
		byExt, err := tx.HashEntriesByExternalID(ctx, b.ID, "ext-1")
		if err != nil || len(byExt) != 1 {
			t.Errorf("HashEntriesByExternalID: %d %v", len(byExt), err)
		}
		changed, err := tx.HashEntriesChangedSince(ctx, seqAfterFirst, 10)
		if err != nil || len(changed) != 2 || changed[0].ID != e2.ID || changed[1].ID != e1.ID {
			t.Errorf("HashEntriesChangedSince: %v %v", changed, err)
		}
		n, err := tx.CountHashEntries(ctx, b.ID)
		if err != nil || n != 2 {
			t.Errorf("CountHashEntries: %d %v", n, err)
		}
		of, err := tx.HashEntriesOfBank(ctx, b.ID, 0, 1)
		if err != nil || len(of) != 1 || of[0].ID != e1.ID {
			t.Errorf("HashEntriesOfBank: %v %v", of, err)
		}
		banks, err := tx.HashBanks(ctx)
		if err != nil || len(banks) != 2 || banks[0].ID != neg.ID || !banks[0].Negative {
			t.Errorf("HashBanks: %v %v", banks, err)
		}
		return nil
	})
	write(t, s, func(tx *store.Tx) error {
		seq, err := tx.SetHashEntryState(ctx, e2.ID, false, t0.Add(time.Hour))
		if err != nil {
			return err
		}
		last, err := tx.HashChangeSeq(ctx)
		if err != nil || last != seq {
			t.Errorf("HashChangeSeq: %d %v, want %d", last, err, seq)
		}
		b.PDQThreshold, b.Enabled, b.UpdatedAt = 20, false, t0.Add(time.Minute)
		return tx.UpdateHashBank(ctx, b)
	})
	err = s.InTx(ctx, func(tx *store.Tx) error { _, err := tx.SetHashEntryState(ctx, 999999, true, time.Time{}); return err })
	wantKind(t, err, haven.KindNotFound)
	read(t, s, func(tx *store.Tx) error {
		got, err := tx.HashEntry(ctx, e2.ID)
		if err != nil || got.Live() {
			t.Errorf("removed entry still live: %+v %v", got, err)
		}
		bank, err := tx.HashBank(ctx, b.ID)
		if err != nil || bank.PDQThreshold != 20 || bank.Enabled {
			t.Errorf("UpdateHashBank: %+v %v", bank, err)
		}
		n, _ := tx.CountHashEntries(ctx, "")
		if n != 1 {
			t.Errorf("CountHashEntries all: %d, want 1", n)
		}
		return nil
	})
	m := &haven.FileMatch{ReportID: 7, FileID: "0123456789abcdef0123456789abcdef", EntryID: e1.ID, Algo: haven.AlgoPDQ, Distance: 12,
		At: t0, NeedsConfirmation: true}
	write(t, s, func(tx *store.Tx) error {
		if err := tx.AddFileMatch(ctx, m); err != nil {
			return err
		}
		m2 := *m
		m2.Distance = 9
		if err := tx.AddFileMatch(ctx, &m2); err != nil {
			return err
		}
		// A video match keeps its shares (in thousandths).
		vm := &haven.FileMatch{ReportID: 8, FileID: "fedcba9876543210fedcba9876543210", EntryID: e1.ID, Algo: haven.AlgoVPDQ, Distance: 4,
			QueryShare: 0.8765, TargetShare: 0.25, At: t0, NeedsConfirmation: true}
		if err := tx.AddFileMatch(ctx, vm); err != nil {
			return err
		}
		return tx.ConfirmFileMatch(ctx, m.FileID, e1.ID, "analyst-1", t0.Add(time.Hour))
	})
	im := &haven.BankImport{ID: haven.NewID(), BankID: b.ID, Format: "csv", ItemID: "item-9", Filename: "list.csv",
		Status: haven.ImportQueued, CreatedBy: "u1", CreatedAt: t0}
	write(t, s, func(tx *store.Tx) error {
		if err := tx.CreateBankImport(ctx, im); err != nil {
			return err
		}
		im.Status, im.Records, im.Added, im.Rejected, im.Problems, im.StartedAt = haven.ImportRunning, 10, 8, 2, "line 3: bad hex", t0.Add(time.Second)
		return tx.UpdateBankImport(ctx, im)
	})
	read(t, s, func(tx *store.Tx) error {
		got, err := tx.BankImport(ctx, im.ID)
		if err != nil {
			return err
		}
		if diff := cmp.Diff(im, got); diff != "" {
			t.Errorf("BankImport (-want +got):\n%s", diff)
		}
		list, err := tx.BankImports(ctx, b.ID, 10)
		if err != nil || len(list) != 1 {
			t.Errorf("BankImports: %d %v", len(list), err)
		}
		return nil
	})
	read(t, s, func(tx *store.Tx) error {
		ms, err := tx.FileMatches(ctx, 8)
		if err != nil || len(ms) != 1 || ms[0].QueryShare != 0.877 || ms[0].TargetShare != 0.25 || ms[0].Algo != haven.AlgoVPDQ {
			t.Errorf("video FileMatches: %+v %v", ms, err)
		}
		return nil
	})
	read(t, s, func(tx *store.Tx) error {
		ms, err := tx.FileMatches(ctx, 7)
		if err != nil || len(ms) != 1 || ms[0].Distance != 9 || ms[0].ConfirmedBy != "analyst-1" || !ms[0].NeedsConfirmation {
			t.Errorf("FileMatches: %+v %v", ms, err)
		}
		return nil
	})
}
