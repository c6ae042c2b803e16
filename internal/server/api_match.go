package server

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/audit"
	"github.com/haven-hotline/haven/internal/hashmatch"
	"github.com/haven-hotline/haven/internal/pdq"
	"github.com/haven-hotline/haven/internal/store"
	"github.com/haven-hotline/haven/internal/upload"
	"github.com/haven-hotline/haven/internal/vpdq"
)

// maxMatchFile caps a file sent to the match API: it is held in memory,
// hashed and forgotten, never stored.
const maxMatchFile = 64 << 20

type apiMatchRequest struct {
	MD5        string `json:"md5"`
	SHA1       string `json:"sha1"`
	SHA256     string `json:"sha256"`
	PDQ        string `json:"pdq"`
	PDQQuality *int   `json:"pdqQuality"`
	// VPDQ is a video's vPDQ hash in the reference tool's text form, one
	// "frame,quality,pdqHex,seconds" line per sampled frame.
	VPDQ string `json:"vpdq"`
}

type apiMatch struct {
	EntryID        int64  `json:"entryId"`
	Bank           string `json:"bank"`
	Algo           string `json:"algo"`
	Distance       int    `json:"distance"`
	Classification struct {
		Scheme string `json:"scheme,omitempty"`
		Code   string `json:"code,omitempty"`
	} `json:"classification"`
	Viral         bool   `json:"viral"`
	PotentialMeme bool   `json:"potentialMeme"`
	Series        string `json:"series,omitempty"`
	Perceptual    bool   `json:"perceptual"`
	// For video matches: the shares (0 to 1) of the query's frames found
	// in the known video and of the known video's frames found in the query.
	QueryShare  float64 `json:"queryShare,omitempty"`
	TargetShare float64 `json:"targetShare,omitempty"`
}

type apiMatchResponse struct {
	Query      map[string]string `json:"query"`
	Matches    []apiMatch        `json:"matches"`
	Suppressed bool              `json:"suppressed"`
}

func decodeDigest(field, v string, size int) ([]byte, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil, nil
	}
	b, err := hex.DecodeString(v)
	if err != nil || len(b) != size {
		return nil, haven.Invalidf(field, "%s must be %d hexadecimal characters", field, size*2)
	}
	return b, nil
}

// apiMatch answers whether hashes — or one file, hashed in memory and not
// kept — match the hash banks.
func (s *Server) apiMatch(w http.ResponseWriter, r *request) error {
	var q hashmatch.Query
	shown := map[string]string{}
	ct := r.Header.Get("Content-Type")
	switch {
	case strings.HasPrefix(ct, "application/json"):
		var in apiMatchRequest
		dec := json.NewDecoder(io.LimitReader(r.Body, 64<<10))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&in); err != nil {
			return haven.Invalidf("body", "the body must be a JSON object with md5, sha1, sha256, pdq, pdqQuality and vpdq members")
		}
		var err error
		if q.MD5, err = decodeDigest("md5", in.MD5, md5.Size); err != nil {
			return err
		}
		if q.SHA1, err = decodeDigest("sha1", in.SHA1, sha1.Size); err != nil {
			return err
		}
		if q.SHA256, err = decodeDigest("sha256", in.SHA256, sha256.Size); err != nil {
			return err
		}
		if in.PDQ != "" {
			h, err := pdq.ParseHash(in.PDQ)
			if err != nil {
				return haven.Invalidf("pdq", "pdq must be 64 hexadecimal characters")
			}
			q.PDQ, q.PDQQuality = &h, 100
			if in.PDQQuality != nil {
				q.PDQQuality = *in.PDQQuality
			}
		}
		if strings.TrimSpace(in.VPDQ) != "" {
			v := new(vpdq.Video)
			if err := v.UnmarshalText([]byte(in.VPDQ)); err != nil || len(v.Frames) == 0 || len(v.Frames) > vpdq.DefaultMaxFrames {
				return haven.Invalidf("vpdq", "vpdq must be the vPDQ text form: one frame,quality,pdqHex,seconds line per frame, at most %d frames", vpdq.DefaultMaxFrames)
			}
			q.Video = v
		}
	case strings.HasPrefix(ct, "multipart/"):
		_, err := upload.Read(ct, r.Body, upload.Limits{MaxParts: 2}, func(_ map[string][]string, f *upload.File) error {
			data, err := io.ReadAll(io.LimitReader(f, maxMatchFile+1))
			if err != nil {
				return err
			}
			if len(data) > maxMatchFile {
				return &haven.Error{Kind: haven.KindTooLarge, Message: "files sent for matching are limited to 64 MiB"}
			}
			m, s1, s2 := md5.Sum(data), sha1.Sum(data), sha256.Sum256(data)
			q.MD5, q.SHA1, q.SHA256 = m[:], s1[:], s2[:]
			head := data[:min(len(data), 512)]
			if hashmatch.IsVideo(head, f.ContentType, f.Name) {
				v, err := hashmatch.HashVideoBytes(r.Context(), data, vpdq.Options{})
				if err != nil {
					return haven.Invalidf("file", "the video could not be read: %s", videoError(err))
				}
				q.Video = v
				return nil
			}
			if h, quality, err := pdq.HashReader(bytes.NewReader(data), pdq.Options{}); err == nil {
				q.PDQ, q.PDQQuality = &h, quality
			}
			return nil
		})
		if err != nil {
			return err
		}
		if q.SHA256 == nil {
			return haven.Invalidf("file", "no file was sent: use multipart/form-data with a part named file")
		}
	default:
		return haven.Invalidf("Content-Type", "send hashes as application/json or one file as multipart/form-data")
	}
	if q.MD5 == nil && q.SHA1 == nil && q.SHA256 == nil && q.PDQ == nil && q.Video == nil {
		return haven.Invalidf("body", "give at least one of md5, sha1, sha256, pdq or vpdq")
	}
	for name, v := range map[string][]byte{"md5": q.MD5, "sha1": q.SHA1, "sha256": q.SHA256} {
		if v != nil {
			shown[name] = hex.EncodeToString(v)
		}
	}
	if q.PDQ != nil {
		shown["pdq"], shown["pdqQuality"] = q.PDQ.String(), strconv.Itoa(q.PDQQuality)
	}
	if q.Video != nil {
		shown["vpdqFrames"] = strconv.Itoa(len(q.Video.Frames))
	}
	out, err := s.app.Hashes.Match(r.Context(), q)
	if err != nil {
		return err
	}
	ctx := r.Context()
	err = s.app.Store.InTx(ctx, func(tx *store.Tx) error {
		return s.app.Audit.Record(ctx, tx, r.actor, audit.Entry{Type: "hash.match_query", ObjectType: "hash_banks",
			Details: map[string]string{"matches": strconv.Itoa(len(out.Matches)), "suppressed": strconv.FormatBool(out.Suppressed)}})
	})
	if err != nil {
		return err
	}
	resp := apiMatchResponse{Query: shown, Matches: []apiMatch{}, Suppressed: out.Suppressed}
	for _, m := range out.Matches {
		am := apiMatch{EntryID: m.Entry.ID, Bank: m.Bank.Name, Algo: string(m.Algo), Distance: m.Distance,
			Viral: m.Entry.Viral, PotentialMeme: m.Entry.PotentialMeme, Perceptual: m.Algo.Perceptual(),
			QueryShare: m.QueryShare, TargetShare: m.TargetShare}
		am.Classification.Scheme, am.Classification.Code = m.Entry.Classification.Scheme, m.Entry.Classification.Code
		// Series links are victim-identification data: staff only.
		if r.actor.Can(haven.PermReportRead) {
			am.Series = m.Entry.SeriesID
		}
		resp.Matches = append(resp.Matches, am)
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// videoError says why a video could not be hashed without echoing
// ffmpeg's output, which may quote metadata from the file.
func videoError(err error) string {
	switch {
	case errors.Is(err, vpdq.ErrNoFFmpeg):
		return "this server cannot hash videos (ffmpeg is not installed)"
	case errors.Is(err, context.DeadlineExceeded):
		return "hashing took too long"
	}
	return "it is not a video format ffmpeg can decode, or it is damaged"
}
