package selfreport_test

import (
	"context"
	"crypto/md5"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/hashmatch"
	"github.com/haven-hotline/haven/internal/haventest"
	"github.com/haven-hotline/haven/internal/pdq"
	"github.com/haven-hotline/haven/internal/selfreport"
	"github.com/haven-hotline/haven/internal/store"
	"github.com/haven-hotline/haven/internal/store/storetest"
)

// file makes the hashes line of a synthetic "picture" n: digests of a
// made-up byte string and a PDQ hash built from them.
func file(n int) (selfreport.File, string) {
	data := []byte(fmt.Sprintf("synthetic picture %d", n))
	m, s := md5.Sum(data), sha1.Sum(data)
	a, b := md5.Sum(append([]byte("pdq-a"), data...)), md5.Sum(append([]byte("pdq-b"), data...))
	var h pdq.Hash
	copy(h[:16], a[:])
	copy(h[16:], b[:])
	line := fmt.Sprintf("image,%s,%s,%s,%d", hex.EncodeToString(m[:]), hex.EncodeToString(s[:]), h, 90)
	return selfreport.File{MD5: m[:], SHA1: s[:], PDQ: &h, Quality: 90}, line
}

func TestSelfReportLifecycle(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(engine, func(t *testing.T) {
			ctx := context.Background()
			env := haventest.Start(t, engine)
			svc := env.App.SelfReports
			anon := haven.Actor{Addr: "192.0.2.44"}
			f1, _ := file(1)
			f2, _ := file(2)
			rec, err := svc.Submit(ctx, anon, selfreport.Submission{Relation: selfreport.RelationMinor, Lang: "en",
				Context: "shared in a group chat", Files: []selfreport.File{f1, f2}, Notify: selfreport.NotifyEmail, Contact: "teen@example.org"})
			if err != nil {
				t.Fatal(err)
			}
			if rec.Added != 6 || !strings.HasPrefix(rec.Number, "SR-") || len(strings.ReplaceAll(rec.Secret, "-", "")) != 26 {
				t.Fatalf("receipt: %+v", rec)
			}
			// The hashes match through the production matcher.
			out, err := env.App.Hashes.Match(ctx, hashmatch.Query{MD5: f1.MD5})
			if err != nil || len(out.Matches) != 1 || out.Matches[0].Bank.ID != selfreport.BankID {
				t.Fatalf("match of a self-reported MD5: %+v, %v", out, err)
			}
			near := *f2.PDQ
			near[0] ^= 0x07
			if out, err = env.App.Hashes.Match(ctx, hashmatch.Query{PDQ: &near, PDQQuality: 90}); err != nil || len(out.Matches) != 1 ||
				out.Matches[0].Distance != 3 {
				t.Fatalf("perceptual match of a self-reported PDQ: %+v, %v", out, err)
			}
			// The secret opens the case (forgiving case and dashes); a
			// wrong one or a wrong number gets the same refusal.
			c, err := svc.Open(ctx, anon, strings.ToLower(rec.Number), strings.ToLower(strings.ReplaceAll(rec.Secret, "-", "")))
			if err != nil {
				t.Fatal(err)
			}
			if len(c.Hashes) != 6 || c.Notify != selfreport.NotifyEmail || c.Contact != "teen@example.org" || c.Withdrawn {
				t.Fatalf("case: %+v", c)
			}
			for _, bad := range [][2]string{{rec.Number, "AAAAA-AAAAA"}, {"SR-AAAA-AAAA", rec.Secret}} {
				if _, err := svc.Open(ctx, anon, bad[0], bad[1]); err != selfreport.ErrDenied {
					t.Errorf("open %v: %v, want ErrDenied", bad, err)
				}
			}
			// The context and contact are sealed in the database.
			err = env.App.Store.View(ctx, func(tx *store.Tx) error {
				r, err := tx.SelfReportByNumber(ctx, rec.Number)
				if err != nil {
					return err
				}
				if strings.Contains(string(r.ContextSealed), "group chat") || strings.Contains(string(r.ContactSealed), "teen@") ||
					len(r.ContextSealed) == 0 || len(r.ContactSealed) == 0 {
					t.Error("context or contact stored in clear, or not at all")
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			// An ESP polls the feed; staff without the permission cannot.
			esp := env.NewUser(t, "esp-selfreport", haven.RoleESP, "")
			espActor := haven.Actor{UserID: esp.ID, Role: haven.RoleESP}
			feed, err := svc.Feed(ctx, espActor, 0, 0)
			if err != nil || len(feed.Entries) != 6 || feed.More {
				t.Fatalf("feed: %+v, %v", feed, err)
			}
			if _, err := svc.Feed(ctx, haven.Actor{UserID: "x", Role: haven.RoleAuditor}, 0, 0); !haven.IsKind(err, haven.KindForbidden) {
				t.Errorf("auditor reads the feed: %v", err)
			}
			page, err := svc.Feed(ctx, espActor, 0, 4)
			if err != nil || len(page.Entries) != 4 || !page.More {
				t.Fatalf("feed page: %+v, %v", page, err)
			}
			rest, err := svc.Feed(ctx, espActor, page.Next, 4)
			if err != nil || len(rest.Entries) != 2 || rest.More {
				t.Fatalf("feed rest: %+v, %v", rest, err)
			}
			// A second case shares f2; withdrawing the first leaves f2's
			// hashes live and takes f1's out.
			other, err := svc.Submit(ctx, anon, selfreport.Submission{Relation: selfreport.RelationParent, Lang: "es", Files: []selfreport.File{f2}})
			if err != nil {
				t.Fatal(err)
			}
			if err := svc.SetNotify(ctx, anon, rec.Number, rec.Secret, selfreport.NotifyNone, "ignored"); err != nil {
				t.Fatal(err)
			}
			if err := svc.Withdraw(ctx, anon, rec.Number, rec.Secret); err != nil {
				t.Fatal(err)
			}
			if out, _ := env.App.Hashes.Match(ctx, hashmatch.Query{MD5: f1.MD5}); len(out.Matches) != 0 {
				t.Error("a withdrawn hash still matches")
			}
			if out, _ := env.App.Hashes.Match(ctx, hashmatch.Query{MD5: f2.MD5}); len(out.Matches) != 1 {
				t.Error("a hash another case holds was taken out")
			}
			after, err := svc.Feed(ctx, espActor, feed.Next, 0)
			if err != nil {
				t.Fatal(err)
			}
			removed := 0
			for _, e := range after.Entries {
				if !e.Live {
					removed++
				}
			}
			if removed != 3 {
				t.Errorf("feed after the withdrawal: %d removals, want 3 (%+v)", removed, after.Entries)
			}
			if _, err := svc.Add(ctx, anon, rec.Number, rec.Secret, []selfreport.File{f1}); err != selfreport.ErrWithdrawn {
				t.Errorf("add to a withdrawn case: %v", err)
			}
			c, err = svc.Open(ctx, anon, rec.Number, rec.Secret)
			if err != nil || !c.Withdrawn || c.Notify != selfreport.NotifyNone || c.Contact != "" {
				t.Fatalf("withdrawn case: %+v, %v", c, err)
			}
			f3, _ := file(3)
			if n, err := svc.Add(ctx, anon, other.Number, other.Secret, []selfreport.File{f3}); err != nil || n != 3 {
				t.Errorf("add: %d, %v", n, err)
			}
			// Every step is audited, without the contact or the context.
			err = env.App.Store.View(ctx, func(tx *store.Tx) error {
				for _, typ := range []string{"selfreport.submit", "selfreport.view", "selfreport.withdraw", "selfreport.notify_change",
					"selfreport.add", "selfreport.feed"} {
					evs, err := tx.RecentAuditEvents(ctx, store.AuditFilter{Type: typ, Limit: 10})
					if err != nil {
						return err
					}
					if len(evs) == 0 {
						t.Errorf("no %s audit event", typ)
					}
					for _, e := range evs {
						if d := fmt.Sprint(e.Details); strings.Contains(d, "teen@") || strings.Contains(d, "group chat") {
							t.Errorf("%s audit event holds the person's words", typ)
						}
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestSubmissionChecks(t *testing.T) {
	env := haventest.Start(t, "sqlite")
	ctx := context.Background()
	f1, _ := file(1)
	for name, tc := range map[string]struct {
		sub   selfreport.Submission
		field string
	}{
		"no files":      {selfreport.Submission{Relation: selfreport.RelationMinor}, "hashes"},
		"no relation":   {selfreport.Submission{Files: []selfreport.File{f1}}, "relation"},
		"bad email":     {selfreport.Submission{Relation: selfreport.RelationAdult, Files: []selfreport.File{f1}, Notify: selfreport.NotifyEmail, Contact: "not an address"}, "contact"},
		"no counsel":    {selfreport.Submission{Relation: selfreport.RelationAdult, Files: []selfreport.File{f1}, Notify: selfreport.NotifyCounsel}, "contact"},
		"bad choice":    {selfreport.Submission{Relation: selfreport.RelationAdult, Files: []selfreport.File{f1}, Notify: "sms"}, "notify"},
		"long context":  {selfreport.Submission{Relation: selfreport.RelationAdult, Files: []selfreport.File{f1}, Context: strings.Repeat("x", selfreport.MaxContext+1)}, "context"},
		"too many":      {selfreport.Submission{Relation: selfreport.RelationAdult, Files: make([]selfreport.File, selfreport.MaxFiles+1)}, "hashes"},
		"short digests": {selfreport.Submission{Relation: selfreport.RelationAdult, Files: []selfreport.File{{MD5: []byte{1, 2}}}}, "hashes"},
	} {
		_, err := env.App.SelfReports.Submit(ctx, haven.Actor{Addr: "192.0.2.1"}, tc.sub)
		var he *haven.Error
		if !haven.IsKind(err, haven.KindInvalid) || !asError(err, &he) || he.Field != tc.field {
			t.Errorf("%s: %v, want an invalid %s", name, err, tc.field)
		}
	}
}

func asError(err error, target **haven.Error) bool {
	for err != nil {
		if he, ok := err.(*haven.Error); ok {
			*target = he
			return true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		err = u.Unwrap()
	}
	return false
}

func TestParseFiles(t *testing.T) {
	f1, line1 := file(1)
	frame := "95:" + f1.PDQ.String() + ":0.000;80:" + f1.PDQ.String() + ":1.000"
	video := fmt.Sprintf("video,%s,,%s", hex.EncodeToString(f1.MD5), frame)
	other := fmt.Sprintf("file,%s,%s", hex.EncodeToString(f1.MD5), hex.EncodeToString(f1.SHA1))
	files, err := selfreport.ParseFiles(line1 + "\n\n" + video + "\r\n" + other + "\n")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 3 || *files[0].PDQ != *f1.PDQ || files[0].Quality != 90 || files[1].Video == nil ||
		len(files[1].Video.Frames) != 2 || files[1].Video.Frames[1].Second != 1 || files[1].SHA1 != nil || files[2].PDQ != nil {
		t.Fatalf("parsed: %+v", files)
	}
	for _, bad := range []string{
		"image,zz", "image," + strings.Repeat("0", 32) + ",,nothex,5", "picture,1,2,3,4",
		"image," + strings.Repeat("0", 32) + ",," + f1.PDQ.String() + ",101",
		"video," + strings.Repeat("0", 32) + ",,95:" + f1.PDQ.String(),
		"file," + strings.Repeat("0", 30) + ",",
		strings.Repeat(line1+"\n", selfreport.MaxFiles+1),
	} {
		if _, err := selfreport.ParseFiles(bad); !haven.IsKind(err, haven.KindInvalid) {
			t.Errorf("ParseFiles(%.40q…) = %v, want invalid", bad, err)
		}
	}
}

func FuzzParseFiles(f *testing.F) {
	_, line := file(1)
	f.Add(line)
	f.Add("video," + strings.Repeat("ab", 16) + ",,50:" + strings.Repeat("0", 64) + ":0.5")
	f.Add("file," + strings.Repeat("ab", 16) + "," + strings.Repeat("cd", 20))
	f.Fuzz(func(t *testing.T, s string) {
		files, err := selfreport.ParseFiles(s)
		if err != nil {
			return
		}
		if len(files) > selfreport.MaxFiles {
			t.Fatalf("%d files", len(files))
		}
		for _, fl := range files {
			if len(fl.MD5) != 16 || (fl.SHA1 != nil && len(fl.SHA1) != 20) || (fl.Video != nil && len(fl.Video.Frames) == 0) {
				t.Fatalf("bad file %+v", fl)
			}
		}
	})
}
