package server

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"

	"github.com/haven-hotline/haven/internal/cybertip"
)

//go:embed openapi.json
var openAPISkeleton []byte

var openAPIDoc = sync.OnceValues(func() ([]byte, error) {
	var doc map[string]any
	if err := json.Unmarshal(openAPISkeleton, &doc); err != nil {
		return nil, fmt.Errorf("openapi.json: %w", err)
	}
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	for name, schema := range cybertip.JSONSchemas() {
		schemas[name] = schema
	}
	return json.MarshalIndent(doc, "", "  ")
})

func (s *Server) openAPI(w http.ResponseWriter, r *request) error {
	b, err := openAPIDoc()
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, err = w.Write(b)
	return err
}
