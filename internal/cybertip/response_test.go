package cybertip

import "testing"

func TestResponses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		golden string
		doc    []byte
	}{
		{"response-submit.xml", ReportResponse{Code: 0, Description: "Success", ReportID: 1234567}.Marshal()},
		{"response-upload.xml", ReportResponse{Code: 0, Description: "Success", ReportID: 1234567,
			FileID: "0123456789abcdef0123456789abcdef", Hash: "d41d8cd98f00b204e9800998ecf8427e"}.Marshal()},
		{"response-status.xml", ReportResponse{Code: 0, Description: "Remote User : esp-test, Remote Ip : 192.0.2.1"}.Marshal()},
		{"response-error.xml", ReportResponse{Code: 4100, Description: `report/incidentSummary: unknown element <foo> in <incidentSummary>; expected "<platform>" & more`}.Marshal()},
		{"response-empty-description.xml", ReportResponse{Code: 0}.Marshal()},
		{"done-files.xml", ReportDoneResponse{Code: 0, ReportID: 1234567,
			FileIDs: []string{"0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210"}}.Marshal()},
		{"done-no-files.xml", ReportDoneResponse{Code: 0, ReportID: 1234567}.Marshal()},
	}
	for _, tc := range tests {
		golden(t, "testdata/golden/"+tc.golden, tc.doc)
	}
}
