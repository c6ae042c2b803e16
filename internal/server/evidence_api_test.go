package server_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/haventest"
)

func TestAPIEvidenceUploadStreams(t *testing.T) {
	env := haventest.Start(t, "sqlite")
	esp := env.NewUser(t, "Example Photos", haven.RoleESP, "")
	tok, err := env.App.Accounts.CreateAPIToken(context.Background(), haven.SystemActor("test"), esp.ID, "upload")
	if err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat([]byte("synthetic evidence bytes "), 200_000) // 5 MB
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("context_type", "report")
	_ = mw.WriteField("context_id", "123")
	fw, _ := mw.CreateFormFile("file", "pattern.bin")
	_, _ = fw.Write(data)
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, env.HTTP.URL+"/api/v1/evidence", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("got %d: %s", resp.StatusCode, b)
	}
	var out struct {
		ItemID string `json:"item_id"`
		SHA256 string `json:"sha256"`
		Size   int64  `json:"size"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	if out.SHA256 != hex.EncodeToString(sum[:]) || out.Size != int64(len(data)) {
		t.Fatalf("got %+v, want the data's SHA-256 and size", out)
	}
	// Not multipart: a clear 400, not a 500.
	req, _ = http.NewRequest(http.MethodPost, env.HTTP.URL+"/api/v1/evidence", strings.NewReader("{}"))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), "multipart/form-data") {
		t.Errorf("JSON body: got %d %s", resp.StatusCode, b)
	}
}

// TestBodyLimit is SECURITY.md 23: a body over the limit gets 413.
func TestBodyLimit(t *testing.T) {
	env := haventest.Start(t, "sqlite")
	big := strings.NewReader("email=" + strings.Repeat("a", 5<<20))
	req, _ := http.NewRequest(http.MethodPost, env.HTTP.URL+"/login", big)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("got %d, want 413", resp.StatusCode)
	}
}
