package haven

import (
	"strings"
	"time"
	"unicode/utf8"
)

// HashAlgo names a hashing algorithm of a bank entry.
type HashAlgo string

// The algorithms Haven computes itself, and the ones it stores as opaque
// values for licensed algorithms it cannot compute (PhotoDNA).
const (
	AlgoMD5      HashAlgo = "md5"
	AlgoSHA1     HashAlgo = "sha1"
	AlgoSHA256   HashAlgo = "sha256"
	AlgoPDQ      HashAlgo = "pdq"
	AlgoVPDQ     HashAlgo = "vpdq"
	AlgoPhotoDNA HashAlgo = "photodna"
)

// HashAlgos lists the known algorithms.
var HashAlgos = []HashAlgo{AlgoMD5, AlgoSHA1, AlgoSHA256, AlgoPDQ, AlgoVPDQ, AlgoPhotoDNA}

// DigestSize returns the size in bytes of a fixed-size digest, or 0 for
// algorithms whose values vary (vPDQ, PhotoDNA).
func (a HashAlgo) DigestSize() int {
	switch a {
	case AlgoMD5:
		return 16
	case AlgoSHA1:
		return 20
	case AlgoSHA256, AlgoPDQ:
		return 32
	}
	return 0
}

// Valid reports whether a is a known algorithm.
func (a HashAlgo) Valid() bool {
	for _, v := range HashAlgos {
		if v == a {
			return true
		}
	}
	return false
}

// HashBank is a list of known hashes from one source.
type HashBank struct {
	ID          string
	Name        string
	Source      string // who supplies it: "NCMEC hash sharing", "Project VIC", "our analysts"…
	Description string
	// Negative banks hold known false positives: an entry of a negative
	// bank suppresses matches of the same file.
	Negative bool
	// PDQThreshold is the largest PDQ distance that counts as a match.
	PDQThreshold int
	Enabled      bool
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// DefaultPDQThreshold is the PDQ distance at which Meta's documentation
// considers two images the same.
const DefaultPDQThreshold = 31

// Validate checks a bank before it is stored.
func (b *HashBank) Validate() error {
	b.Name = strings.TrimSpace(b.Name)
	if b.Name == "" || utf8.RuneCountInString(b.Name) > 200 {
		return Invalidf("name", "give the bank a name of 1 to 200 characters")
	}
	if utf8.RuneCountInString(b.Source) > 200 || utf8.RuneCountInString(b.Description) > 4000 {
		return Invalidf("description", "the source or description is too long")
	}
	if b.PDQThreshold < 0 || b.PDQThreshold > 64 {
		return Invalidf("pdq_threshold", "the PDQ threshold must be between 0 and 64")
	}
	return nil
}

// Classification is a (scheme, code) pair: the industry scheme's A1, A2,
// B1, B2, or codes of a hotline's own scheme.
type Classification struct {
	Scheme string // "industry", "vics", a hotline's own
	Code   string
}

// HashEntry is one known hash.
type HashEntry struct {
	ID             int64 // a number, so the in-memory index can hold it compactly
	BankID         string
	Algo           HashAlgo
	Value          []byte // the raw digest (or the opaque value for licensed algorithms)
	Classification Classification
	SeriesID       string // the victim-identification series it belongs to, if known
	Viral          bool
	PotentialMeme  bool
	Provenance     string // where it came from: "ncmec-feed member 123 id 456", "import 2026-05-04"…
	ExternalID     string // the supplier's identifier, to apply its updates and deletions
	AddedBy        string
	AddedAt        time.Time
	Enabled        bool
	RemovedAt      time.Time
	// ChangeSeq orders every change to entries; server instances follow it
	// to keep their match index current.
	ChangeSeq int64
}

// Live reports whether the entry should match.
func (e *HashEntry) Live() bool { return e.Enabled && e.RemovedAt.IsZero() }

// FileMatch is a match found on a report's file.
type FileMatch struct {
	ReportID int64
	FileID   string
	EntryID  int64
	Algo     HashAlgo
	Distance int // 0 for exact hashes; the closest frames' distance for vPDQ
	// QueryShare and TargetShare are set for video (vPDQ) matches: the
	// share of the uploaded video's frames found in the known video, and
	// the share of the known video found in the upload (0 to 1).
	QueryShare, TargetShare float64
	At                      time.Time
	// NeedsConfirmation is true for perceptual matches: a human confirms
	// them before a referral relies on them.
	NeedsConfirmation bool
	ConfirmedBy       string
	ConfirmedAt       time.Time
}

// ImportStatus is where a hash-list import is.
type ImportStatus string

// The states of an import.
const (
	ImportQueued  ImportStatus = "queued"
	ImportRunning ImportStatus = "running"
	ImportDone    ImportStatus = "done"
	ImportFailed  ImportStatus = "failed"
)

// BankImport is an import of a hash-list file into a bank, run as a job.
type BankImport struct {
	ID         string
	BankID     string
	Format     string // csv, ncmec-xml, vics-json
	ItemID     string // the file, kept encrypted in the evidence vault
	Filename   string
	Status     ImportStatus
	Records    int64 // read so far
	Added      int64
	Updated    int64
	Removed    int64
	Rejected   int64
	Problems   string // the first rejected rows and why, one per line
	CreatedBy  string
	CreatedAt  time.Time
	StartedAt  time.Time
	FinishedAt time.Time
}

// Perceptual reports whether matches on this algorithm are by similarity
// (PDQ, vPDQ, PhotoDNA) rather than identity: a person confirms them
// before a referral relies on them.
func (a HashAlgo) Perceptual() bool {
	return a == AlgoPDQ || a == AlgoVPDQ || a == AlgoPhotoDNA
}
