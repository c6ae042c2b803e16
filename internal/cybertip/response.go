package cybertip

import (
	"bytes"
	"reflect"
)

// ReportResponse is the reportResponse document: the answer to status,
// submit, upload, fileinfo and retract, and to every failure. ReportID is
// left out when zero, FileID and Hash when empty.
type ReportResponse struct {
	Code        int    // 0 for success, else a code of the protocol
	Description string // "Success", or what went wrong
	ReportID    int64
	FileID      string
	Hash        string // MD5 of an uploaded file, in hexadecimal
}

// Marshal renders the document with its XML declaration, elements in the
// order responseCode, responseDescription, reportId, fileId, hash.
func (r ReportResponse) Marshal() []byte {
	return marshal(tables.reportResponse, reflect.ValueOf(&r).Elem())
}

// ReportDoneResponse is the reportDoneResponse document: the answer to
// finish, listing the files of the report.
type ReportDoneResponse struct {
	Code     int
	ReportID int64
	FileIDs  []string
}

// Marshal renders the document with its XML declaration, elements in the
// order responseCode, reportId, files (written <files/> when empty).
func (r ReportDoneResponse) Marshal() []byte {
	return marshal(tables.reportDoneResponse, reflect.ValueOf(&r).Elem())
}

func marshal(p *particle, v reflect.Value) []byte {
	var b bytes.Buffer
	_ = writeDocument(&b, buildRoot(p, v)) // a bytes.Buffer does not fail
	return b.Bytes()
}
