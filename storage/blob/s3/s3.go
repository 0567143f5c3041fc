// Package s3 is a blob.Store on any S3-compatible object store (Amazon S3,
// SeaweedFS, MinIO, Ceph RGW...), through minio-go. It is the blob store of a
// cluster: every node reads and writes the same bucket, so no node keeps
// message bytes of its own.
//
// A blob with hash "abcdef..." is the object "ab/abcdef..." (under an
// optional key prefix): the two leading hex digits spread keys over the
// store's partitions, which S3 assigns by key prefix. Objects are immutable:
// PutAll first asks whether the object exists (HEAD) and uploads only the
// missing ones, so each content is uploaded once however many messages
// carry it. Reference counts and the grace period before deletion live in
// the metadata store, exactly as with storage/blob/fs (see
// storage.Store.CollectBlobs and core's group commit): this package only
// puts, reads and deletes.
//
// Durability: S3 acknowledges a PUT (or the completion of a multipart
// upload) only once the object is stored, so PutAll returning nil means the
// bytes are durable before the metadata transaction commits.
//
// Blobs larger than Config.PartSize are sent as a multipart upload of parts
// of that size. Requests are retried with exponential backoff and jitter
// (minio-go's retry loop, Config.MaxRetries attempts) and each operation is
// bounded by Config.Timeout. A missing bucket and refused credentials are
// reported as ErrNoBucket and ErrCredentials, at Open already.
package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/stamp-mail/stamp/storage/blob"
)

// Named errors, wrapped with the store's context.
var (
	// ErrNoBucket is returned when the configured bucket does not exist.
	ErrNoBucket = errors.New("bucket does not exist")
	// ErrCredentials is returned when the store refuses the access key or the
	// signature made with the secret key, or denies access to the bucket.
	ErrCredentials = errors.New("credentials refused")
	// ErrBadHash is returned for a name that is not 64 lower-case hex digits.
	ErrBadHash = errors.New("invalid blob hash")
)

// Defaults of Config.
const (
	// DefaultPartSize is the multipart threshold and part size: 16 MiB keeps
	// the largest message (50 MiB by default) to four parts. S3 requires at
	// least 5 MiB per part except the last.
	DefaultPartSize = 16 << 20
	// MinPartSize is S3's smallest part size.
	MinPartSize = 5 << 20
	// DefaultTimeout bounds one operation (all its retries) on one blob.
	DefaultTimeout = 60 * time.Second
	// DefaultMaxRetries is the number of attempts per request.
	DefaultMaxRetries = 5
	// dialTimeout bounds a TCP connect to the store.
	dialTimeout = 10 * time.Second
	// headerTimeout bounds the wait for a response's headers.
	headerTimeout = 30 * time.Second
	// maxParallel bounds the requests of one PutAll.
	maxParallel = 16
)

// Config locates the bucket and says how to talk to it.
type Config struct {
	// Endpoint is the store's URL ("https://s3.example.com",
	// "http://127.0.0.1:8333") or host:port (then HTTPS).
	Endpoint  string
	Bucket    string
	Region    string // optional for most non-AWS stores
	AccessKey string
	SecretKey string
	// PathStyle addresses the bucket as endpoint/bucket/key rather than
	// bucket.endpoint/key (needed by most self-hosted stores).
	PathStyle bool
	// Prefix is prepended to every key ("stamp/"), so one bucket can hold
	// several installations. Empty: keys start with the hash.
	Prefix     string
	PartSize   int64         // default DefaultPartSize; at least MinPartSize
	Timeout    time.Duration // per operation; default DefaultTimeout
	MaxRetries int           // per request; default DefaultMaxRetries
}

// Store is a blob.Store in an S3 bucket.
type Store struct {
	c      *minio.Client
	cfg    Config
	target string // "bucket at endpoint", for errors
}

var _ blob.Store = (*Store)(nil)

// Open connects to the store and checks that the bucket exists and the
// credentials are accepted, returning ErrNoBucket or ErrCredentials otherwise.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.Bucket == "" {
		return nil, errors.New("blob s3: no bucket configured")
	}
	if cfg.PartSize == 0 {
		cfg.PartSize = DefaultPartSize
	}
	if cfg.PartSize < MinPartSize {
		return nil, fmt.Errorf("blob s3: part size %d is below S3's minimum of %d", cfg.PartSize, MinPartSize)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxRetries <= 0 {
		cfg.MaxRetries = DefaultMaxRetries
	}
	host, secure, err := parseEndpoint(cfg.Endpoint)
	if err != nil {
		return nil, err
	}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   dialTimeout,
		ResponseHeaderTimeout: headerTimeout,
		ExpectContinueTimeout: time.Second,
		// Blobs are already compressed or small; never let the transport
		// decompress what it reads.
		DisableCompression: true,
	}
	lookup := minio.BucketLookupDNS
	if cfg.PathStyle {
		lookup = minio.BucketLookupPath
	}
	c, err := minio.New(host, &minio.Options{
		Creds:        credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure:       secure,
		Transport:    tr,
		Region:       cfg.Region,
		BucketLookup: lookup,
		MaxRetries:   cfg.MaxRetries,
	})
	if err != nil {
		return nil, fmt.Errorf("blob s3: %w", err)
	}
	s := &Store{c: c, cfg: cfg, target: fmt.Sprintf("bucket %q at %s", cfg.Bucket, cfg.Endpoint)}
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// parseEndpoint returns host:port and whether to use TLS.
func parseEndpoint(ep string) (string, bool, error) {
	if ep == "" {
		return "", false, errors.New("blob s3: no endpoint configured")
	}
	if !strings.Contains(ep, "://") {
		return ep, true, nil
	}
	u, err := url.Parse(ep)
	if err != nil {
		return "", false, fmt.Errorf("blob s3: endpoint %q: %w", ep, err)
	}
	if u.Path != "" && u.Path != "/" {
		return "", false, fmt.Errorf("blob s3: endpoint %q must not have a path (the bucket is configured apart)", ep)
	}
	switch u.Scheme {
	case "https":
		return u.Host, true, nil
	case "http":
		return u.Host, false, nil
	}
	return "", false, fmt.Errorf("blob s3: endpoint %q: scheme must be http or https", ep)
}

// check asks for the bucket, so that a wrong name or key fails at start
// rather than on the first delivery.
func (s *Store) check(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	ok, err := s.c.BucketExists(ctx, s.cfg.Bucket)
	if err != nil {
		return s.wrap("check", "", err)
	}
	if !ok {
		return fmt.Errorf("blob s3: %s: %w", s.target, ErrNoBucket)
	}
	return nil
}

// wrap turns a minio error into one that names the store and, for the
// cases an operator must fix, one of the package's named errors.
func (s *Store) wrap(op, hash string, err error) error {
	what := s.target
	if hash != "" {
		what = fmt.Sprintf("%s in %s", hash, s.target)
	}
	resp := minio.ToErrorResponse(err)
	switch resp.Code {
	case minio.NoSuchBucket:
		return fmt.Errorf("blob s3: %s %s: %w", op, what, ErrNoBucket)
	case minio.InvalidAccessKeyID, minio.SignatureDoesNotMatch, minio.AccessDenied, "InvalidSecurity", "ExpiredToken":
		return fmt.Errorf("blob s3: %s %s: %w (access key %q: %s)", op, what, ErrCredentials, s.cfg.AccessKey, resp.Message)
	case minio.NoSuchKey:
		return fmt.Errorf("blob s3: %s: %w: %s", op, blob.ErrNotFound, hash)
	}
	if resp.StatusCode == http.StatusForbidden {
		return fmt.Errorf("blob s3: %s %s: %w (HTTP 403)", op, what, ErrCredentials)
	}
	return fmt.Errorf("blob s3: %s %s: %w", op, what, err)
}

// Key returns the object name of a blob.
func (s *Store) Key(hash string) string {
	return s.cfg.Prefix + hash[:2] + "/" + hash
}

// validHash reports whether h is 64 lower-case hex digits.
func validHash(h string) bool {
	if len(h) != 64 {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// exists reports whether the blob's object is present.
func (s *Store) exists(ctx context.Context, hash string) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	_, err := s.c.StatObject(ctx, s.cfg.Bucket, s.Key(hash), minio.StatObjectOptions{})
	if err == nil {
		return true, nil
	}
	if minio.ToErrorResponse(err).Code == minio.NoSuchKey || minio.ToErrorResponse(err).StatusCode == http.StatusNotFound {
		// A 404 for the bucket itself says NoSuchBucket, which is not this.
		if minio.ToErrorResponse(err).Code != minio.NoSuchBucket {
			return false, nil
		}
	}
	return false, s.wrap("stat", hash, err)
}

// put uploads one blob, as a multipart upload when it is larger than PartSize.
func (s *Store) put(ctx context.Context, hash string, data []byte) error {
	// Large uploads get a second per MiB on top of the base timeout.
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout+time.Duration(len(data)>>20)*time.Second)
	defer cancel()
	_, err := s.c.PutObject(ctx, s.cfg.Bucket, s.Key(hash), bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{
		ContentType: "application/octet-stream",
		PartSize:    uint64(s.cfg.PartSize),
		// Content-MD5 on each request lets the store reject a body
		// corrupted on the way (RFC 1864; S3 checks it).
		SendContentMd5: true,
	})
	if err != nil {
		return s.wrap("put", hash, err)
	}
	return nil
}

// PutAll uploads the blobs whose objects are missing and returns all hashes
// in order. It returns once every upload has been acknowledged by the store.
func (s *Store) PutAll(ctx context.Context, blobs [][]byte) ([]string, error) {
	hashes := make([]string, len(blobs))
	type job struct {
		hash string
		data []byte
	}
	var jobs []job
	seen := make(map[string]bool, len(blobs))
	for i, b := range blobs {
		h := blob.Hash(b)
		hashes[i] = h
		if !seen[h] {
			seen[h] = true
			jobs = append(jobs, job{h, b})
		}
	}
	if len(jobs) == 0 {
		return hashes, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	sem := make(chan struct{}, maxParallel)
	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := ctx.Err(); err != nil {
				errs[i] = err
				return
			}
			ok, err := s.exists(ctx, j.hash)
			if err != nil {
				errs[i] = err
				return
			}
			if !ok {
				errs[i] = s.put(ctx, j.hash, j.data)
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return hashes, nil
}

// Open returns a reader of the blob's bytes; blob.ErrNotFound if absent. The
// first bytes are fetched before Open returns, so a missing blob or refused
// credentials show here, not on the first Read.
func (s *Store) Open(ctx context.Context, hash string) (io.ReadCloser, error) {
	if !validHash(hash) {
		return nil, fmt.Errorf("%w: %q", ErrBadHash, hash)
	}
	// The reader outlives this call: its context ends on Close. Timeouts
	// then come from the transport (connect, response headers).
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	obj, err := s.c.GetObject(rctx, s.cfg.Bucket, s.Key(hash), minio.GetObjectOptions{})
	if err != nil {
		cancel()
		return nil, s.wrap("get", hash, err)
	}
	if _, err := obj.Stat(); err != nil {
		obj.Close()
		cancel()
		return nil, s.wrap("get", hash, err)
	}
	return &reader{Object: obj, cancel: cancel}, nil
}

// reader is an object being read; Close ends its request.
type reader struct {
	*minio.Object
	cancel context.CancelFunc
}

func (r *reader) Close() error {
	err := r.Object.Close()
	r.cancel()
	return err
}

// Delete removes a blob; an absent blob is not an error.
func (s *Store) Delete(ctx context.Context, hash string) error {
	if !validHash(hash) {
		return fmt.Errorf("%w: %q", ErrBadHash, hash)
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	if err := s.c.RemoveObject(ctx, s.cfg.Bucket, s.Key(hash), minio.RemoveObjectOptions{}); err != nil {
		if minio.ToErrorResponse(err).Code == minio.NoSuchKey {
			return nil
		}
		return s.wrap("delete", hash, err)
	}
	return nil
}

// Count returns the number of blob objects in the bucket (under Prefix):
// for operators and tests checking that content is stored once.
func (s *Store) Count(ctx context.Context) (int, error) {
	n := 0
	for o := range s.c.ListObjects(ctx, s.cfg.Bucket, minio.ListObjectsOptions{Prefix: s.cfg.Prefix, Recursive: true}) {
		if o.Err != nil {
			return n, s.wrap("list", "", o.Err)
		}
		n++
	}
	return n, nil
}
