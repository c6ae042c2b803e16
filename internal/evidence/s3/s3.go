package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/evidence"
)

// PartSize is the multipart part size of uploads, and so the memory an
// upload in progress holds.
const PartSize = 16 << 20

// Config says where the bucket is and how to sign in.
type Config struct {
	Endpoint  string // host[:port], without scheme
	Bucket    string
	Prefix    string // prepended to every key; "evidence/" or ""; a missing trailing "/" is added
	AccessKey string
	SecretKey string
	Region    string // "" lets the client discover it; versitygw and MinIO use "us-east-1"
	Secure    bool   // HTTPS
}

// Backend stores blobs as objects Prefix+key in one bucket. It is safe for
// concurrent use.
type Backend struct {
	client *minio.Client
	pinger *minio.Client // no retries: a readiness check answers fast
	bucket string
	prefix string
}

var _ evidence.Backend = (*Backend)(nil)

// New connects to the endpoint and returns a Backend, creating the bucket
// if it does not exist.
func New(ctx context.Context, cfg Config) (*Backend, error) {
	if cfg.Endpoint == "" || cfg.Bucket == "" {
		return nil, errors.New("open s3 evidence store: endpoint and bucket are required")
	}
	prefix := cfg.Prefix
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	if strings.HasPrefix(prefix, "/") || strings.Contains(prefix, "//") || strings.Contains(prefix, "..") {
		return nil, errors.New("open s3 evidence store: prefix must be relative, with no empty or \"..\" segment")
	}
	opts := minio.Options{
		Creds:  credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure: cfg.Secure,
		Region: cfg.Region,
	}
	client, err := minio.New(cfg.Endpoint, &opts)
	if err != nil {
		return nil, fmt.Errorf("open s3 evidence store: %w", err)
	}
	opts.MaxRetries = 1
	pinger, err := minio.New(cfg.Endpoint, &opts)
	if err != nil {
		return nil, fmt.Errorf("open s3 evidence store: %w", err)
	}
	b := &Backend{client: client, pinger: pinger, bucket: cfg.Bucket, prefix: prefix}
	ok, err := client.BucketExists(ctx, cfg.Bucket)
	if err != nil {
		return nil, fmt.Errorf("open s3 evidence store: %w", unavailable(err))
	}
	if !ok {
		err := client.MakeBucket(ctx, cfg.Bucket, minio.MakeBucketOptions{Region: cfg.Region})
		if err != nil {
			code := errorCode(err)
			if code != "BucketAlreadyOwnedByYou" && code != "BucketAlreadyExists" {
				return nil, fmt.Errorf("open s3 evidence store: create bucket: %w", err)
			}
		}
	}
	return b, nil
}

func errorCode(err error) string {
	var er minio.ErrorResponse
	if errors.As(err, &er) {
		return er.Code
	}
	return ""
}

func statusCode(err error) int {
	var er minio.ErrorResponse
	if errors.As(err, &er) {
		return er.StatusCode
	}
	return 0
}

func unavailable(err error) error {
	return &haven.Error{Kind: haven.KindUnavailable, Message: "the evidence bucket is unreachable", Err: err}
}

func isNotFound(err error) bool {
	switch errorCode(err) {
	case "NoSuchKey", "NotFound":
		return true
	}
	return statusCode(err) == http.StatusNotFound
}

// Put streams r to the object as a multipart upload of unknown size. The
// object appears only when the upload completes; on error it is aborted.
//
// NOTE: the no-overwrite rule is checked with a HEAD before the upload, not
// atomically: minio-go sends no If-None-Match on CompleteMultipartUpload.
// Keys are fresh UUIDv7s, so only a bug could race here.
func (b *Backend) Put(ctx context.Context, key string, r io.Reader) error {
	if err := evidence.CheckKey(key); err != nil {
		return fmt.Errorf("put blob: %w", err)
	}
	name := b.prefix + key
	_, err := b.client.StatObject(ctx, b.bucket, name, minio.StatObjectOptions{})
	switch {
	case err == nil:
		return fmt.Errorf("put blob: %w", &haven.Error{Kind: haven.KindConflict, Message: "evidence blob " + key + " exists already"})
	case !isNotFound(err):
		return fmt.Errorf("put blob: %w", err)
	}
	_, err = b.client.PutObject(ctx, b.bucket, name, r, -1, minio.PutObjectOptions{
		PartSize:    PartSize,
		ContentType: "application/octet-stream",
	})
	if err != nil {
		return fmt.Errorf("put blob: %w", err)
	}
	return nil
}

// Get opens the object. A missing object gives an error of kind
// haven.KindNotFound.
func (b *Backend) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := evidence.CheckKey(key); err != nil {
		return nil, fmt.Errorf("get blob: %w", err)
	}
	obj, err := b.client.GetObject(ctx, b.bucket, b.prefix+key, minio.GetObjectOptions{})
	if err != nil {
		return nil, fmt.Errorf("get blob: %w", err)
	}
	// GetObject is lazy: Stat makes the request, so a missing object is
	// reported here and not on the first Read.
	if _, err := obj.Stat(); err != nil {
		obj.Close()
		if isNotFound(err) {
			return nil, fmt.Errorf("get blob: %w", &haven.Error{Kind: haven.KindNotFound, Message: "evidence blob " + key + " not found", Err: err})
		}
		return nil, fmt.Errorf("get blob: %w", err)
	}
	return obj, nil
}

// Delete removes the object. A missing object is not an error.
func (b *Backend) Delete(ctx context.Context, key string) error {
	if err := evidence.CheckKey(key); err != nil {
		return fmt.Errorf("delete blob: %w", err)
	}
	err := b.client.RemoveObject(ctx, b.bucket, b.prefix+key, minio.RemoveObjectOptions{})
	if err != nil && !isNotFound(err) {
		return fmt.Errorf("delete blob: %w", err)
	}
	return nil
}

// List calls fn for every object under the prefix whose name is a valid
// key.
func (b *Backend) List(ctx context.Context, fn func(key string) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops the listing goroutine if fn fails
	for obj := range b.client.ListObjects(ctx, b.bucket, minio.ListObjectsOptions{Prefix: b.prefix, Recursive: true}) {
		if obj.Err != nil {
			return fmt.Errorf("list blobs: %w", obj.Err)
		}
		key := strings.TrimPrefix(obj.Key, b.prefix)
		if evidence.CheckKey(key) != nil {
			continue
		}
		if err := fn(key); err != nil {
			return err
		}
	}
	return nil
}

// Ping checks, without retrying, that the bucket exists and answers. A
// failure has kind haven.KindUnavailable.
func (b *Backend) Ping(ctx context.Context) error {
	ok, err := b.pinger.BucketExists(ctx, b.bucket)
	if err != nil {
		return unavailable(err)
	}
	if !ok {
		return &haven.Error{Kind: haven.KindUnavailable, Message: "the evidence bucket does not exist"}
	}
	return nil
}
