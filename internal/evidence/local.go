package evidence

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/haven-hotline/haven"
)

// Local is a Backend that keeps blobs as files in a directory tree:
// dir/<last two characters of key>/<key>, files 0600, directories 0700.
//
// NOTE: the shard is the key's last two characters, not its first two: item
// IDs are UUIDv7, whose leading characters are a timestamp and stay the same
// for decades, while the trailing ones are random (and hex digests are
// uniform either way).
type Local struct {
	dir string
}

var _ Backend = (*Local)(nil)

// copyBufferSize is the size of the buffer Put copies through: one Tink
// segment, so that one pipe hand-off moves one encrypted segment.
const copyBufferSize = 1 << 20

// NewLocal returns a Local backend rooted at dir, creating it (mode 0700) if
// needed.
func NewLocal(dir string) (*Local, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("open local evidence store: %w", err)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, fmt.Errorf("open local evidence store: %w", err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("open local evidence store: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("open local evidence store: %s is not a directory", abs)
	}
	return &Local{dir: abs}, nil
}

// Dir returns the absolute root directory of the store.
func (l *Local) Dir() string { return l.dir }

func (l *Local) path(key string) (shard, file string) {
	shard = filepath.Join(l.dir, key[len(key)-2:])
	return shard, filepath.Join(shard, key)
}

func conflict(key string) error {
	return &haven.Error{Kind: haven.KindConflict, Message: "evidence blob " + key + " exists already"}
}

func notFound(key string, cause error) error {
	return &haven.Error{Kind: haven.KindNotFound, Message: "evidence blob " + key + " not found", Err: cause}
}

// Put writes r to a temporary file in the key's shard directory, syncs it,
// links it into place (which fails if the key exists) and syncs the
// directory, so the blob is visible only when complete and durable.
func (l *Local) Put(ctx context.Context, key string, r io.Reader) (err error) {
	if err := CheckKey(key); err != nil {
		return fmt.Errorf("put blob: %w", err)
	}
	shard, final := l.path(key)
	if _, err := os.Lstat(final); err == nil {
		return fmt.Errorf("put blob: %w", conflict(key))
	}
	if err := l.mkShard(shard); err != nil {
		return fmt.Errorf("put blob: %w", err)
	}
	f, err := os.CreateTemp(shard, ".put-*") // mode 0600
	if err != nil {
		return fmt.Errorf("put blob: %w", err)
	}
	tmp := f.Name()
	defer func() {
		if f != nil {
			f.Close()
		}
		os.Remove(tmp) // after a successful link, only the temporary name goes
	}()
	if err := copyCtx(ctx, f, r); err != nil {
		return fmt.Errorf("put blob: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("put blob: %w", err)
	}
	err = f.Close()
	f = nil
	if err != nil {
		return fmt.Errorf("put blob: %w", err)
	}
	if err := os.Link(tmp, final); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("put blob: %w", conflict(key))
		}
		return fmt.Errorf("put blob: %w", err)
	}
	if err := os.Remove(tmp); err != nil {
		return fmt.Errorf("put blob: %w", err)
	}
	if err := syncDir(shard); err != nil {
		return fmt.Errorf("put blob: %w", err)
	}
	return nil
}

// copyCtx copies r to w through a segment-sized buffer, checking ctx between
// reads. It hides w's ReadFrom, whose small buffer would cost many pipe
// hand-offs per segment.
func copyCtx(ctx context.Context, w io.Writer, r io.Reader) error {
	buf := make([]byte, copyBufferSize)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := r.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func (l *Local) mkShard(shard string) error {
	if fi, err := os.Stat(shard); err == nil && fi.IsDir() {
		return nil
	}
	if err := os.Mkdir(shard, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return syncDir(l.dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Get opens the blob file. A missing blob gives an error of kind
// haven.KindNotFound.
func (l *Local) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := CheckKey(key); err != nil {
		return nil, fmt.Errorf("get blob: %w", err)
	}
	_, final := l.path(key)
	f, err := os.Open(final)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("get blob: %w", notFound(key, nil))
		}
		return nil, fmt.Errorf("get blob: %w", err)
	}
	return f, nil
}

// Delete removes the blob file and syncs its directory. A missing blob is
// not an error.
func (l *Local) Delete(ctx context.Context, key string) error {
	if err := CheckKey(key); err != nil {
		return fmt.Errorf("delete blob: %w", err)
	}
	shard, final := l.path(key)
	if err := os.Remove(final); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("delete blob: %w", err)
	}
	if err := syncDir(shard); err != nil {
		return fmt.Errorf("delete blob: %w", err)
	}
	return nil
}

// List calls fn for every blob in the store. Temporary files of puts in
// progress (or interrupted by a crash) are not listed.
func (l *Local) List(ctx context.Context, fn func(key string) error) error {
	shards, err := os.ReadDir(l.dir)
	if err != nil {
		return fmt.Errorf("list blobs: %w", err)
	}
	for _, s := range shards {
		if !s.IsDir() || len(s.Name()) != 2 {
			continue
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("list blobs: %w", err)
		}
		files, err := os.ReadDir(filepath.Join(l.dir, s.Name()))
		if err != nil {
			return fmt.Errorf("list blobs: %w", err)
		}
		for _, f := range files {
			name := f.Name()
			if !f.Type().IsRegular() || !validKey(name) || name[len(name)-2:] != s.Name() {
				continue
			}
			if err := fn(name); err != nil {
				return err
			}
		}
	}
	return nil
}

// Ping checks that the root directory exists and that a file can be created
// in it.
func (l *Local) Ping(ctx context.Context) error {
	f, err := os.CreateTemp(l.dir, ".ping-*")
	if err != nil {
		return &haven.Error{Kind: haven.KindUnavailable, Message: "local evidence store is not writable", Err: err}
	}
	name := f.Name()
	f.Close()
	if err := os.Remove(name); err != nil {
		return &haven.Error{Kind: haven.KindUnavailable, Message: "local evidence store is not writable", Err: err}
	}
	return nil
}
