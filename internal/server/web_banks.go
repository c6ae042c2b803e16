package server

import (
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/hashmatch"
	"github.com/haven-hotline/haven/internal/upload"
)

type banksData struct {
	Banks     []*haven.HashBank
	CanManage bool
}

func (s *Server) banksPage(w http.ResponseWriter, r *request) error {
	banks, err := s.app.Hashes.Banks(r.Context(), r.actor)
	if err != nil {
		return err
	}
	return s.render(w, http.StatusOK, "banks", s.newPage(r, "Hash banks", &banksData{Banks: banks, CanManage: r.actor.Can(haven.PermManageBanks)}))
}

func (s *Server) banksCreate(w http.ResponseWriter, r *request) error {
	threshold := haven.DefaultPDQThreshold
	if v := strings.TrimSpace(r.PostFormValue("pdq_threshold")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			threshold = -1
		} else {
			threshold = n
		}
	}
	b, err := s.app.Hashes.CreateBank(r.Context(), r.actor, haven.HashBank{Name: r.PostFormValue("name"),
		Source: strings.TrimSpace(r.PostFormValue("source")), Description: strings.TrimSpace(r.PostFormValue("description")),
		Negative: r.PostFormValue("negative") == "on", PDQThreshold: threshold, Enabled: true})
	if haven.IsKind(err, haven.KindReauth) {
		http.Redirect(w, r.Request, "/app/reauth?next=/app/banks", http.StatusSeeOther)
		return nil
	}
	if err != nil {
		banks, lerr := s.app.Hashes.Banks(r.Context(), r.actor)
		if lerr != nil {
			return lerr
		}
		return s.formError(w, r, "banks", s.newPage(r, "Hash banks", &banksData{Banks: banks, CanManage: true}), err)
	}
	http.Redirect(w, r.Request, "/app/banks/"+b.ID, http.StatusSeeOther)
	return nil
}

type bankData struct {
	Bank      *haven.HashBank
	Count     int64
	Entries   []*haven.HashEntry
	Next      int64
	CanManage bool
	Algos     []haven.HashAlgo
	Formats   []string
	CanExport bool
}

func (s *Server) bankData(r *request, id string) (*bankData, error) {
	b, n, err := s.app.Hashes.Bank(r.Context(), r.actor, id)
	if err != nil {
		return nil, err
	}
	after, _ := strconv.ParseInt(r.URL.Query().Get("after"), 10, 64)
	entries, err := s.app.Hashes.Entries(r.Context(), r.actor, id, after, 100)
	if err != nil {
		return nil, err
	}
	d := &bankData{Bank: b, Count: n, Entries: entries, CanManage: r.actor.Can(haven.PermManageBanks), Algos: haven.HashAlgos,
		Formats: hashmatch.ImportFormats(), CanExport: r.actor.Can(haven.PermExportBanks)}
	if len(entries) == 100 {
		d.Next = entries[len(entries)-1].ID
	}
	return d, nil
}

func (s *Server) bankPage(w http.ResponseWriter, r *request) error {
	d, err := s.bankData(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	return s.render(w, http.StatusOK, "bank", s.newPage(r, d.Bank.Name, d))
}

func (s *Server) bankAddEntry(w http.ResponseWriter, r *request) error {
	id := r.PathValue("id")
	value, err := hex.DecodeString(strings.TrimSpace(r.PostFormValue("value")))
	if err == nil {
		_, err = s.app.Hashes.AddEntry(r.Context(), r.actor, haven.HashEntry{BankID: id, Algo: haven.HashAlgo(r.PostFormValue("algo")),
			Value: value, Classification: haven.Classification{Scheme: strings.TrimSpace(r.PostFormValue("scheme")),
				Code: strings.TrimSpace(r.PostFormValue("code"))}, SeriesID: strings.TrimSpace(r.PostFormValue("series")),
			Viral: r.PostFormValue("viral") == "on", PotentialMeme: r.PostFormValue("meme") == "on",
			Provenance: "added by hand"})
	} else {
		err = haven.Invalidf("value", "give the hash in hexadecimal")
	}
	if haven.IsKind(err, haven.KindReauth) {
		http.Redirect(w, r.Request, "/app/reauth?next=/app/banks/"+id, http.StatusSeeOther)
		return nil
	}
	d, derr := s.bankData(r, id)
	if derr != nil {
		return derr
	}
	p := s.newPage(r, d.Bank.Name, d)
	if err != nil {
		return s.formError(w, r, "bank", p, err)
	}
	p.Notice = "The entry was added. It matches new uploads at once."
	return s.render(w, http.StatusOK, "bank", p)
}

type hashSearchData struct {
	Query  string
	Result *hashmatch.SearchResult
}

func (s *Server) hashSearchPage(w http.ResponseWriter, r *request) error {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	d := &hashSearchData{Query: q}
	p := s.newPage(r, "Search a hash", d)
	if q != "" {
		res, err := s.app.Hashes.Search(r.Context(), r.actor, q)
		if err != nil {
			if haven.IsKind(err, haven.KindInvalid) {
				p.Error = safeMessage(err)
				return s.render(w, http.StatusBadRequest, "hashsearch", p)
			}
			return err
		}
		d.Result = res
	}
	return s.render(w, http.StatusOK, "hashsearch", p)
}

// bankImport receives a hash-list file as a multipart form (fields csrf
// and format before the file) and queues its import.
func (s *Server) bankImport(w http.ResponseWriter, r *request) error {
	id := r.PathValue("id")
	var im *haven.BankImport
	_, err := upload.Read(r.Header.Get("Content-Type"), r.Body, upload.Limits{MaxParts: 4, MaxFieldBytes: 1 << 10},
		func(fields map[string][]string, f *upload.File) error {
			got := ""
			if v := fields[csrfField]; len(v) > 0 {
				got = v[0]
			}
			if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(r.principal.Session.CSRFToken)) != 1 {
				return errCSRF
			}
			format := ""
			if v := fields["format"]; len(v) > 0 {
				format = v[0]
			}
			var err error
			im, err = s.app.Hashes.StartImport(r.Context(), r.actor, id, format, f.Name, f)
			return err
		})
	if haven.IsKind(err, haven.KindReauth) {
		http.Redirect(w, r.Request, "/app/reauth?next=/app/banks/"+id, http.StatusSeeOther)
		return nil
	}
	if err != nil {
		return err
	}
	if im == nil {
		return haven.Invalidf("file", "choose a file to import")
	}
	http.Redirect(w, r.Request, "/app/imports/"+im.ID, http.StatusSeeOther)
	return nil
}

func (s *Server) importPage(w http.ResponseWriter, r *request) error {
	im, err := s.app.Hashes.Import(r.Context(), r.actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	return s.render(w, http.StatusOK, "import", s.newPage(r, "Import "+im.Filename, im))
}

// exportNames are the file names and types of the export formats.
var exportNames = map[string][2]string{
	"csv":       {".csv", "text/csv; charset=utf-8"},
	"ncmec-xml": {".xml", "application/xml; charset=utf-8"},
	"vics-json": {".json", "application/json"},
}

func (s *Server) bankExport(w http.ResponseWriter, r *request) error {
	id, format := r.PathValue("id"), r.PathValue("format")
	name, ok := exportNames[format]
	if !ok {
		return haven.ErrNotFound
	}
	// The headers go out with the first byte, so that a refusal (a sign-in
	// to confirm, an unknown bank) can still be answered as a page.
	lw := &lazyDownload{w: w, name: "hash-bank-" + id + name[0], contentType: name[1]}
	st, err := s.app.Hashes.Export(r.Context(), r.actor, id, format, lw)
	if !lw.started {
		if haven.IsKind(err, haven.KindReauth) {
			http.Redirect(w, r.Request, "/app/reauth?next=/app/banks/"+id, http.StatusSeeOther)
			return nil
		}
		if err != nil {
			return err
		}
		lw.start() // an empty bank: still a valid, empty document
	}
	if err != nil {
		// Too late for an error page: the download is cut short, which the
		// browser shows as a failed download.
		s.log.Error("bank export failed part-way", "bank", id, "format", format, "written", st.Written, "err", err)
		panic(http.ErrAbortHandler)
	}
	return nil
}

// lazyDownload sets the download headers on the first write.
type lazyDownload struct {
	w                 http.ResponseWriter
	name, contentType string
	started           bool
}

func (l *lazyDownload) start() {
	if !l.started {
		l.started = true
		download(l.w, l.name, l.contentType)
	}
}

func (l *lazyDownload) Write(p []byte) (int, error) {
	l.start()
	return l.w.Write(p)
}

func (s *Server) matchConfirm(w http.ResponseWriter, r *request) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return haven.ErrNotFound
	}
	entry, err := strconv.ParseInt(r.PathValue("entry"), 10, 64)
	if err != nil {
		return haven.ErrNotFound
	}
	if err := s.app.Hashes.ConfirmMatch(r.Context(), r.actor, id, r.PathValue("fileId"), entry); err != nil {
		return err
	}
	http.Redirect(w, r.Request, fmt.Sprintf("/app/reports/%d", id), http.StatusSeeOther)
	return nil
}

// bankAction enables or disables a bank, or removes one of its entries.
func (s *Server) bankAction(w http.ResponseWriter, r *request) error {
	id := r.PathValue("id")
	var err error
	notice := ""
	switch r.PathValue("action") {
	case "enable":
		err, notice = s.app.Hashes.SetBankEnabled(r.Context(), r.actor, id, true), "The bank is enabled: its entries match again."
	case "disable":
		err, notice = s.app.Hashes.SetBankEnabled(r.Context(), r.actor, id, false), "The bank is disabled: its entries match nothing."
	case "remove-entry":
		entry, perr := strconv.ParseInt(r.PostFormValue("entry"), 10, 64)
		if perr != nil {
			return haven.Invalidf("entry", "no such entry")
		}
		err, notice = s.app.Hashes.RemoveEntry(r.Context(), r.actor, entry), "The entry was removed: it no longer matches."
	default:
		return haven.ErrNotFound
	}
	if haven.IsKind(err, haven.KindReauth) {
		http.Redirect(w, r.Request, "/app/reauth?next=/app/banks/"+id, http.StatusSeeOther)
		return nil
	}
	if err != nil {
		return err
	}
	d, err := s.bankData(r, id)
	if err != nil {
		return err
	}
	p := s.newPage(r, d.Bank.Name, d)
	p.Notice = notice
	return s.render(w, http.StatusOK, "bank", p)
}
