package cybertip

import (
	"errors"
	"io"

	"github.com/haven-hotline/haven"
)

// NOTE: placeholder while the JSON mapping is written; replaced by the
// real implementation before this lands.

var errJSONPending = errors.New("the JSON mapping is not built yet")

// DecodeReportJSON decodes a report sent as JSON.
func DecodeReportJSON(r io.Reader, opt Options) (*haven.Report, error) { return nil, errJSONPending }

// DecodeFileDetailsJSON decodes file details sent as JSON.
func DecodeFileDetailsJSON(r io.Reader, opt Options) (*haven.FileDetails, error) {
	return nil, errJSONPending
}

// ReportJSONSchema returns the JSON Schema of a report.
func ReportJSONSchema() map[string]any { return map[string]any{} }

// FileDetailsJSONSchema returns the JSON Schema of file details.
func FileDetailsJSONSchema() map[string]any { return map[string]any{} }
