package casework_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/haven-hotline/haven/internal/casework"
	"github.com/haven-hotline/haven/internal/store"
)

// FuzzAnalysisPDF feeds requester-supplied text (from the portal and the
// staff form) into the analysis PDF: it must always produce a PDF.
func FuzzAnalysisPDF(f *testing.F) {
	f.Add("Example Officer", "CASE-1", "What do the accounts share?", "Synthetic analysis.\nSecond line.")
	f.Add("\x00\x1b[31m", "\u202e", "\ufffd\xff\xfe", "é – “quotes” 😀 中文")
	f.Fuzz(func(t *testing.T, name, ref, question, analysis string) {
		at := time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)
		v := &casework.AssistanceView{AssistanceRequest: &store.AssistanceRequest{ID: "req-1", Source: casework.SourceLE,
			RequesterName: name, TheirReference: ref, Question: question, Analysis: analysis, CreatedAt: at, DeliveredAt: at},
			SourceLabel: "Law enforcement"}
		var b bytes.Buffer
		if err := casework.WriteAnalysisPDF(&b, v); err != nil {
			t.Fatalf("write PDF: %v", err)
		}
		if !bytes.HasPrefix(b.Bytes(), []byte("%PDF")) {
			t.Fatal("not a PDF")
		}
	})
}
