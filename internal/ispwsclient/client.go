// Package ispwsclient is a small client of the CyberTipline-compatible ESP
// API, written the way ESP integrations use it (Basic authentication, XML
// bodies, multipart uploads). Haven uses it for its demonstration data,
// its conformance tests and its load benchmark.
package ispwsclient

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Client talks to one ESP API with one account's credentials.
type Client struct {
	BaseURL  string // e.g. http://127.0.0.1:8080/ispws
	Username string
	Password string
	HTTP     *http.Client
	// ContentType is sent with XML bodies (default text/xml; charset=utf-8).
	ContentType string
}

// Response is a decoded reportResponse or reportDoneResponse.
type Response struct {
	HTTPStatus  int
	Root        string // reportResponse or reportDoneResponse
	Code        int
	Description string
	ReportID    int64
	FileID      string
	Hash        string
	FileIDs     []string
	RequestID   string
	Header      http.Header
	Body        []byte
}

type wire struct {
	XMLName     xml.Name
	Code        *int     `xml:"responseCode"`
	Description string   `xml:"responseDescription"`
	ReportID    int64    `xml:"reportId"`
	FileID      string   `xml:"fileId"`
	Hash        string   `xml:"hash"`
	Files       []string `xml:"files>fileId"`
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return http.DefaultClient
}

// Do sends a request to path (relative to BaseURL) and decodes the answer.
// A response without an XML body (a bare 401, say) is not an error: Code
// is then -1.
func (c *Client) Do(ctx context.Context, method, path, contentType string, body io.Reader) (*Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.BaseURL, "/")+"/"+strings.TrimLeft(path, "/"), body)
	if err != nil {
		return nil, err
	}
	if c.Username != "" || c.Password != "" {
		req.SetBasicAuth(c.Username, c.Password)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return nil, err
	}
	out := &Response{HTTPStatus: resp.StatusCode, Code: -1, RequestID: resp.Header.Get("Request-ID"), Header: resp.Header, Body: b}
	if len(bytes.TrimSpace(b)) == 0 || path == "xsd" {
		return out, nil
	}
	var w wire
	if err := xml.Unmarshal(b, &w); err != nil {
		return out, fmt.Errorf("decode %s response: %w", path, err)
	}
	out.Root = w.XMLName.Local
	if w.Code != nil {
		out.Code = *w.Code
	}
	out.Description, out.ReportID, out.FileID, out.Hash, out.FileIDs = w.Description, w.ReportID, w.FileID, w.Hash, w.Files
	return out, nil
}

func (c *Client) xmlType() string {
	if c.ContentType != "" {
		return c.ContentType
	}
	return "text/xml; charset=utf-8"
}

// Status checks the connection and the credentials.
func (c *Client) Status(ctx context.Context) (*Response, error) {
	return c.Do(ctx, http.MethodGet, "status", "", nil)
}

// XSD downloads the schema.
func (c *Client) XSD(ctx context.Context) (*Response, error) {
	return c.Do(ctx, http.MethodGet, "xsd", "", nil)
}

// Submit opens a report.
func (c *Client) Submit(ctx context.Context, report []byte) (*Response, error) {
	return c.Do(ctx, http.MethodPost, "submit", c.xmlType(), bytes.NewReader(report))
}

// FileInfo sends a fileDetails document.
func (c *Client) FileInfo(ctx context.Context, details []byte) (*Response, error) {
	return c.Do(ctx, http.MethodPost, "fileinfo", c.xmlType(), bytes.NewReader(details))
}

// Upload streams a file to a report as multipart/form-data: the id field,
// then the file field.
func (c *Client) Upload(ctx context.Context, reportID int64, filename string, file io.Reader) (*Response, error) {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		err := mw.WriteField("id", strconv.FormatInt(reportID, 10))
		if err == nil {
			var fw io.Writer
			if fw, err = mw.CreateFormFile("file", filename); err == nil {
				if _, err = io.Copy(fw, file); err == nil {
					err = mw.Close()
				}
			}
		}
		pw.CloseWithError(err)
	}()
	return c.Do(ctx, http.MethodPost, "upload", mw.FormDataContentType(), pr)
}

// idForm encodes the id field url-encoded or as multipart (both are in
// use among clients).
func idForm(reportID int64, asMultipart bool) (string, io.Reader) {
	id := strconv.FormatInt(reportID, 10)
	if !asMultipart {
		return "application/x-www-form-urlencoded", strings.NewReader(url.Values{"id": {id}}.Encode())
	}
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	_ = mw.WriteField("id", id)
	_ = mw.Close()
	return mw.FormDataContentType(), &b
}

// Finish files a report.
func (c *Client) Finish(ctx context.Context, reportID int64, asMultipart bool) (*Response, error) {
	ct, body := idForm(reportID, asMultipart)
	return c.Do(ctx, http.MethodPost, "finish", ct, body)
}

// Retract cancels an open report.
func (c *Client) Retract(ctx context.Context, reportID int64, asMultipart bool) (*Response, error) {
	ct, body := idForm(reportID, asMultipart)
	return c.Do(ctx, http.MethodPost, "retract", ct, body)
}
