package evidence

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"hash"
	"io"
	"math"
	"runtime"
	"time"

	"github.com/tink-crypto/tink-go/v2/keyset"
	"github.com/tink-crypto/tink-go/v2/streamingaead"
	"github.com/tink-crypto/tink-go/v2/tink"

	"github.com/haven-hotline/haven"
)

// KeyWrapper wraps and unwraps data keys with a key-encryption key.
// *keys.Master implements it. Unwrap must fail (with an error of kind
// haven.KindIntegrity) for a wrong associated data or a tampered ciphertext.
type KeyWrapper interface {
	Wrap(plaintext, associatedData []byte) ([]byte, error)
	Unwrap(ciphertext, associatedData []byte) ([]byte, error)
}

// Sealed describes an item stored by Vault.Seal. The caller records all of
// it with the item: the hashes for matching and custody, and WrappedKey,
// without which the blob cannot be decrypted.
type Sealed struct {
	ItemID     string
	Size       int64  // plaintext bytes
	MD5        []byte // of the plaintext
	SHA1       []byte // of the plaintext
	SHA256     []byte // of the plaintext; Open checks it on every read
	WrappedKey []byte // the item's data key, wrapped by the KeyWrapper with AD = ItemID
}

// Vault encrypts evidence into a Backend and decrypts it back, one data key
// per item. It is safe for concurrent use.
type Vault struct {
	backend Backend
	wrapper KeyWrapper
	// sideHashes is how many of the hashes (MD5 first, then SHA-1) Seal
	// computes on a second goroutine, concurrently with the rest. -1 means
	// "decide from GOMAXPROCS". Only tests change it.
	sideHashes int
}

// NewVault returns a Vault storing ciphertext in b and wrapping data keys
// with w.
func NewVault(b Backend, w KeyWrapper) *Vault {
	return &Vault{backend: b, wrapper: w, sideHashes: -1}
}

const (
	// chunkSize is how much plaintext Seal reads and hashes at a time.
	chunkSize = 1 << 20
	// cleanupTimeout bounds the removal of a partial blob after a failure.
	cleanupTimeout = 30 * time.Second
)

// kekAEAD presents a KeyWrapper as a tink.AEAD so that Tink's own
// encrypted-keyset format can be used for the wrapped data keys.
type kekAEAD struct{ w KeyWrapper }

func (k kekAEAD) Encrypt(plaintext, associatedData []byte) ([]byte, error) {
	return k.w.Wrap(plaintext, associatedData)
}

func (k kekAEAD) Decrypt(ciphertext, associatedData []byte) ([]byte, error) {
	return k.w.Unwrap(ciphertext, associatedData)
}

func integrity(msg string, cause error) error {
	return &haven.Error{Kind: haven.KindIntegrity, Message: msg, Err: cause}
}

// wrapKey serialises h's keyset and wraps it with AD = itemID.
//
// NOTE: the wrapped key is Tink's EncryptedKeyset (binary proto, written by
// keyset.Handle.WriteWithAssociatedData) rather than our own Wrap of a
// cleartext serialisation: the cleartext keyset then never exists in our
// code (no insecurecleartextkeyset here), Tink validates it when reading it
// back, and the format is the one Tink tools know. It costs about 60 bytes
// of public key info (key ID and type) next to the ciphertext.
func (v *Vault) wrapKey(h *keyset.Handle, itemID string) ([]byte, error) {
	var buf bytes.Buffer
	if err := h.WriteWithAssociatedData(keyset.NewBinaryWriter(&buf), kekAEAD{v.wrapper}, []byte(itemID)); err != nil {
		return nil, fmt.Errorf("wrap data key: %w", err)
	}
	return buf.Bytes(), nil
}

// unwrapKey returns the data keyset of itemID. A missing, foreign or
// tampered wrapped key gives an error of kind haven.KindIntegrity, unless the
// wrapper itself reported another kind (a remote KMS that is unavailable).
func (v *Vault) unwrapKey(itemID string, wrapped []byte) (*keyset.Handle, error) {
	if len(wrapped) == 0 {
		return nil, integrity("no data key for this item (destroyed or never recorded)", nil)
	}
	h, err := keyset.ReadWithAssociatedData(keyset.NewBinaryReader(bytes.NewReader(wrapped)), kekAEAD{v.wrapper}, []byte(itemID))
	if err != nil {
		var he *haven.Error
		if errors.As(err, &he) && he.Kind != haven.KindIntegrity && he.Kind != haven.KindInternal {
			return nil, fmt.Errorf("unwrap data key: %w", err)
		}
		return nil, integrity("the data key does not unwrap for this item", err)
	}
	return h, nil
}

// Seal reads r once, up to limit bytes, computing its MD5, SHA-1 and SHA-256
// while encrypting it with a fresh data key and streaming the ciphertext to
// the backend under itemID. More than limit bytes gives an error of kind
// haven.KindTooLarge; an existing blob for itemID gives haven.KindConflict.
// On any error nothing is left in the backend (an existing blob is never
// touched).
func (v *Vault) Seal(ctx context.Context, itemID string, r io.Reader, limit int64) (Sealed, error) {
	if err := CheckKey(itemID); err != nil {
		return Sealed{}, fmt.Errorf("seal evidence: %w", err)
	}
	if limit <= 0 {
		return Sealed{}, fmt.Errorf("seal evidence: %w", haven.Errorf(haven.KindInvalid, "size limit must be positive"))
	}
	h, err := keyset.NewHandle(streamingaead.AES256GCMHKDF1MBKeyTemplate())
	if err != nil {
		return Sealed{}, fmt.Errorf("seal evidence: new data key: %w", err)
	}
	// Wrap before writing anything, so no failure after the blob exists.
	wrapped, err := v.wrapKey(h, itemID)
	if err != nil {
		return Sealed{}, fmt.Errorf("seal evidence: %w", err)
	}
	sa, err := streamingaead.New(h)
	if err != nil {
		return Sealed{}, fmt.Errorf("seal evidence: %w", err)
	}

	pr, pw := io.Pipe()
	putErr := make(chan error, 1)
	go func() {
		err := v.backend.Put(ctx, itemID, pr)
		// Unblock the writer if Put returned early; after a complete Put
		// nothing more is written.
		if err != nil {
			pr.CloseWithError(err)
		} else {
			pr.CloseWithError(io.ErrClosedPipe)
		}
		putErr <- err
	}()

	s, err := v.encrypt(ctx, sa, itemID, r, limit, pw)
	if err != nil {
		pw.CloseWithError(err)
	} else {
		pw.Close()
	}
	perr := <-putErr
	if err == nil {
		err = perr
	}
	if err != nil {
		// A conflict means the blob is someone else's: leave it. Otherwise
		// make sure no partial or orphaned blob survives.
		if !haven.IsKind(err, haven.KindConflict) {
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
			if derr := v.backend.Delete(cctx, itemID); derr != nil {
				err = errors.Join(err, fmt.Errorf("remove partial blob: %w", derr))
			}
			cancel()
		}
		return Sealed{}, fmt.Errorf("seal evidence: %w", err)
	}
	s.ItemID = itemID
	s.WrappedKey = wrapped
	return s, nil
}

// encrypt is Seal's single pass: read a chunk, hash it, encrypt it into w.
//
// On two or more cores MD5, the slowest hash, runs on a second goroutine,
// one chunk behind the rest. Measured with BenchmarkSealModes64MiB on 2
// shared cores, to disk: 360 MB/s with no side goroutine, 555-560 MB/s with
// MD5 on it, 500-520 MB/s with MD5 and SHA-1 on it. On one core it makes no
// difference (345 MB/s), so it is not done.
func (v *Vault) encrypt(ctx context.Context, sa tink.StreamingAEAD, itemID string, r io.Reader, limit int64, w io.Writer) (Sealed, error) {
	enc, err := sa.NewEncryptingWriter(w, []byte(itemID))
	if err != nil {
		return Sealed{}, err
	}
	if limit < math.MaxInt64 {
		r = io.LimitReader(r, limit+1) // one byte more tells "too large"
	}
	md5h, sha1h, sha256h := md5.New(), sha1.New(), sha256.New()

	side := v.sideHashes
	if side < 0 {
		side = 0
		if runtime.GOMAXPROCS(0) > 1 {
			side = 1
		}
	}
	var sideH, mainH []hash.Hash
	switch side {
	case 0:
		mainH = []hash.Hash{md5h, sha1h, sha256h}
	case 1:
		sideH, mainH = []hash.Hash{md5h}, []hash.Hash{sha1h, sha256h}
	default:
		sideH, mainH = []hash.Hash{md5h, sha1h}, []hash.Hash{sha256h}
	}

	// With side hashes, two buffers alternate: the side goroutine hashes one
	// while the next is read into the other. Both goroutines only read a
	// buffer, and it is refilled only once the side goroutine is done with it.
	nbuf := 1
	var sh *sideHasher
	if len(sideH) > 0 {
		nbuf = 2
		sh = startSideHasher(sideH, nbuf)
		defer sh.stop()
	}
	bufs := make([][]byte, nbuf)
	for i := range bufs {
		bufs[i] = make([]byte, chunkSize)
	}
	var size int64
	for i := 0; ; i = (i + 1) % nbuf {
		if err := ctx.Err(); err != nil {
			return Sealed{}, err
		}
		if sh != nil && sh.inflight == nbuf {
			sh.wait() // for the chunk that used bufs[i]
		}
		buf := bufs[i]
		n, rerr := io.ReadFull(r, buf)
		if rerr != nil && rerr != io.EOF && rerr != io.ErrUnexpectedEOF {
			return Sealed{}, fmt.Errorf("read input: %w", rerr)
		}
		size += int64(n)
		if size > limit {
			return Sealed{}, &haven.Error{Kind: haven.KindTooLarge, Message: fmt.Sprintf("the file is larger than the limit of %d bytes", limit)}
		}
		if n > 0 {
			if sh != nil {
				sh.submit(buf[:n])
			}
			for _, h := range mainH {
				h.Write(buf[:n])
			}
			if _, err := enc.Write(buf[:n]); err != nil {
				return Sealed{}, err
			}
		}
		if rerr != nil { // EOF
			break
		}
	}
	if err := enc.Close(); err != nil {
		return Sealed{}, err
	}
	if sh != nil {
		sh.stop() // all chunks hashed
	}
	return Sealed{
		Size:   size,
		MD5:    md5h.Sum(nil),
		SHA1:   sha1h.Sum(nil),
		SHA256: sha256h.Sum(nil),
	}, nil
}

// sideHasher feeds chunks to hashes on its own goroutine, in order.
type sideHasher struct {
	work     chan []byte
	done     chan struct{}
	inflight int // chunks submitted and not yet waited for
	stopped  bool
}

func startSideHasher(hs []hash.Hash, depth int) *sideHasher {
	s := &sideHasher{work: make(chan []byte, depth), done: make(chan struct{}, depth)}
	go func(work <-chan []byte, done chan<- struct{}) {
		for b := range work {
			for _, h := range hs {
				h.Write(b)
			}
			done <- struct{}{}
		}
	}(s.work, s.done)
	return s
}

func (s *sideHasher) submit(b []byte) {
	s.work <- b
	s.inflight++
}

// wait waits until the oldest submitted chunk is hashed.
func (s *sideHasher) wait() {
	<-s.done
	s.inflight--
}

// stop waits for every submitted chunk and ends the goroutine. It may be
// called more than once.
func (s *sideHasher) stop() {
	if s.stopped {
		return
	}
	s.stopped = true
	close(s.work)
	for s.inflight > 0 {
		s.wait()
	}
}

// Open returns a reader of the plaintext of itemID. The reader checks the
// SHA-256 of what it returned against wantSHA256 at the end of the stream
// and then returns an error of kind haven.KindIntegrity instead of io.EOF on
// a mismatch. Any authentication failure (tampered, truncated, extended or
// swapped blob, wrong or missing wrapped key) is also of kind
// haven.KindIntegrity; the reader never returns bytes that did not
// authenticate. A missing blob gives haven.KindNotFound.
//
// NOTE: bytes are authenticated per 1 MiB segment, so a blob damaged in a
// later segment yields the earlier, genuine segments before the error.
// Callers must treat anything short of io.EOF as a failed read.
func (v *Vault) Open(ctx context.Context, itemID string, wrappedKey, wantSHA256 []byte) (io.ReadCloser, error) {
	if err := CheckKey(itemID); err != nil {
		return nil, fmt.Errorf("open evidence: %w", err)
	}
	if len(wantSHA256) != sha256.Size {
		return nil, fmt.Errorf("open evidence: %w", haven.Errorf(haven.KindInvalid, "expected SHA-256 must be %d bytes", sha256.Size))
	}
	h, err := v.unwrapKey(itemID, wrappedKey)
	if err != nil {
		return nil, fmt.Errorf("open evidence: %w", err)
	}
	sa, err := streamingaead.New(h)
	if err != nil {
		return nil, fmt.Errorf("open evidence: %w", integrity("the data key is not a streaming AEAD key", err))
	}
	blob, err := v.backend.Get(ctx, itemID)
	if err != nil {
		return nil, fmt.Errorf("open evidence: %w", err)
	}
	src := &sourceReader{r: blob}
	dec, err := sa.NewDecryptingReader(src, []byte(itemID))
	if err != nil {
		blob.Close()
		return nil, fmt.Errorf("open evidence: %w", integrity("the blob does not decrypt", err))
	}
	return &plainReader{
		blob: blob,
		src:  src,
		dec:  dec,
		sum:  sha256.New(),
		want: bytes.Clone(wantSHA256),
	}, nil
}

// sourceReader remembers the backend's read error, so that an I/O failure
// is not reported as tampering.
type sourceReader struct {
	r   io.Reader
	err error
}

func (s *sourceReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF && s.err == nil {
		s.err = err
	}
	return n, err
}

// plainReader decrypts and re-hashes; see Vault.Open.
type plainReader struct {
	blob io.Closer
	src  *sourceReader
	dec  io.Reader
	sum  hash.Hash
	want []byte
	err  error // sticky: io.EOF or the failure
}

func (p *plainReader) Read(b []byte) (int, error) {
	if p.err != nil {
		return 0, p.err
	}
	if len(b) == 0 {
		return 0, nil
	}
	n, err := p.dec.Read(b)
	p.sum.Write(b[:n])
	switch {
	case err == nil:
		return n, nil
	case err == io.EOF:
		if subtle.ConstantTimeCompare(p.sum.Sum(nil), p.want) != 1 {
			p.err = fmt.Errorf("read evidence: %w", integrity("the SHA-256 of the decrypted item differs from the one recorded at acquisition", nil))
		} else {
			p.err = io.EOF
		}
	case p.src.err != nil:
		p.err = fmt.Errorf("read evidence: %w", p.src.err)
	default:
		p.err = fmt.Errorf("read evidence: %w", integrity("the blob failed authentication (tampered, truncated, extended or not this item's)", err))
	}
	return n, p.err
}

func (p *plainReader) Close() error {
	if p.err == nil {
		p.err = errors.New("read evidence: reader closed")
	}
	return p.blob.Close()
}

// Verify reads itemID through to the end and discards the plaintext,
// checking authentication and the SHA-256 as Open does. The periodic scrub
// uses it.
func (v *Vault) Verify(ctx context.Context, itemID string, wrappedKey, wantSHA256 []byte) error {
	rc, err := v.Open(ctx, itemID, wrappedKey, wantSHA256)
	if err != nil {
		return fmt.Errorf("verify evidence: %w", err)
	}
	defer rc.Close()
	if _, err := io.Copy(io.Discard, rc); err != nil {
		return fmt.Errorf("verify evidence: %w", err)
	}
	return nil
}

// Rewrap unwraps an item's data key with any key of the wrapper's keyset and
// wraps it again with the current primary key. Master-key rotation calls it
// for every item before the old key is retired. A key that does not unwrap
// gives an error of kind haven.KindIntegrity.
func (v *Vault) Rewrap(itemID string, wrapped []byte) ([]byte, error) {
	if err := CheckKey(itemID); err != nil {
		return nil, fmt.Errorf("rewrap evidence key: %w", err)
	}
	h, err := v.unwrapKey(itemID, wrapped)
	if err != nil {
		return nil, fmt.Errorf("rewrap evidence key: %w", err)
	}
	out, err := v.wrapKey(h, itemID)
	if err != nil {
		return nil, fmt.Errorf("rewrap evidence key: %w", err)
	}
	return out, nil
}

// Delete removes the blob of itemID from the backend. Destroying an item
// also means deleting its wrapped key, which the caller holds.
func (v *Vault) Delete(ctx context.Context, itemID string) error {
	if err := CheckKey(itemID); err != nil {
		return fmt.Errorf("delete evidence: %w", err)
	}
	if err := v.backend.Delete(ctx, itemID); err != nil {
		return fmt.Errorf("delete evidence: %w", err)
	}
	return nil
}
