package offender

import (
	"embed"
	"encoding/json"
	"fmt"
)

// The two synthetic registry exports Haven ships for tests and the demo
// (`haven demo`): State A as CSV, State B as nested JSON, each with its
// column mapping. Every person in them is fictional.
//
//go:embed testdata/state_a.csv testdata/state_a_mapping.json testdata/state_b.json testdata/state_b_mapping.json
var sampleFiles embed.FS

// Sample is a synthetic registry export with its mapping.
type Sample struct {
	Mapping  Mapping
	Filename string
	Body     []byte
}

// Samples returns the shipped synthetic exports.
func Samples() ([]Sample, error) {
	var out []Sample
	for _, s := range []struct{ mapping, file string }{{"state_a_mapping.json", "state_a.csv"}, {"state_b_mapping.json", "state_b.json"}} {
		mb, err := sampleFiles.ReadFile("testdata/" + s.mapping)
		if err != nil {
			return nil, err
		}
		var m Mapping
		if err := json.Unmarshal(mb, &m); err != nil {
			return nil, fmt.Errorf("sample mapping %s: %w", s.mapping, err)
		}
		body, err := sampleFiles.ReadFile("testdata/" + s.file)
		if err != nil {
			return nil, err
		}
		out = append(out, Sample{Mapping: m, Filename: s.file, Body: body})
	}
	return out, nil
}
