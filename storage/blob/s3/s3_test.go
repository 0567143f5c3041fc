package s3_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/stamp-mail/stamp/storage/blob"
	"github.com/stamp-mail/stamp/storage/blob/blobtest"
	"github.com/stamp-mail/stamp/storage/blob/s3"
	"github.com/stamp-mail/stamp/storage/blob/s3/s3test"
)

// TestS3 runs the shared blob suite and the S3-specific cases against one
// real SeaweedFS server.
func TestS3(t *testing.T) {
	srv := s3test.Start(t)
	t.Run("Suite", func(t *testing.T) {
		blobtest.Run(t, func(tb testing.TB) blob.Store { return srv.Store(tb) }, s3.ErrBadHash)
	})
	t.Run("SmallParts", func(t *testing.T) {
		// With 5 MiB parts the suite's 12 MiB blob is a three-part upload.
		blobtest.Run(t, func(tb testing.TB) blob.Store {
			cfg := srv.Config("parts-" + strings.ReplaceAll(tb.Name(), "/", "-") + "/")
			cfg.PartSize = s3.MinPartSize
			st, err := s3.Open(context.Background(), cfg)
			if err != nil {
				tb.Fatal(err)
			}
			return st
		}, s3.ErrBadHash)
	})
	t.Run("Multipart", func(t *testing.T) { testMultipart(t, srv) })
	t.Run("KeysAndDedup", func(t *testing.T) { testKeys(t, srv) })
	t.Run("NoBucket", func(t *testing.T) { testNoBucket(t, srv) })
	t.Run("WrongCredentials", func(t *testing.T) { testCredentials(t, srv) })
	t.Run("Unreachable", testUnreachable)
}

// testMultipart checks, behind the store's back, that a blob above the part
// size went up as a multipart upload: S3 gives such objects an ETag of the
// form "<md5 of the part md5s>-<parts>".
func testMultipart(t *testing.T, srv *s3test.Server) {
	ctx := t.Context()
	cfg := srv.Config("multipart/")
	cfg.PartSize = s3.MinPartSize
	st, err := s3.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte("0123456789abcdef"), (11<<20)/16)
	small := []byte("one part")
	hashes, err := st.PutAll(ctx, [][]byte{big, small})
	if err != nil {
		t.Fatal(err)
	}
	c, err := srv.Client()
	if err != nil {
		t.Fatal(err)
	}
	info, err := c.StatObject(ctx, s3test.Bucket, st.Key(hashes[0]), minio.StatObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(info.ETag, "-3") || info.Size != int64(len(big)) {
		t.Errorf("large object: got ETag %q size %d, want a 3-part ETag and size %d", info.ETag, info.Size, len(big))
	}
	info, err = c.StatObject(ctx, s3test.Bucket, st.Key(hashes[1]), minio.StatObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(info.ETag, "-") {
		t.Errorf("small object: got ETag %q, want a single-part one", info.ETag)
	}
}

// testKeys checks the object names and that a blob put many times, also
// from several stores at once (several nodes), is one object.
func testKeys(t *testing.T, srv *s3test.Server) {
	ctx := t.Context()
	st := srv.Store(t)
	data := []byte("an attachment sent many times")
	h := blob.Hash(data)
	if got, want := st.Key(h), "/"+h[:2]+"/"+h; !strings.HasSuffix(got, want) {
		t.Errorf("Key: got %q, want it to end in %q", got, want)
	}
	other := srv.Store(t) // another prefix: another installation
	for i := 0; i < 5; i++ {
		if _, err := st.PutAll(ctx, [][]byte{data, data}); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := st.Count(ctx); err != nil || n != 1 {
		t.Errorf("Count after 10 puts of one content: got %d, %v, want 1", n, err)
	}
	if n, err := other.Count(ctx); err != nil || n != 0 {
		t.Errorf("Count under another prefix: got %d, %v, want 0", n, err)
	}
	c, _ := srv.Client()
	before, err := c.StatObject(ctx, s3test.Bucket, st.Key(h), minio.StatObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond) // Last-Modified has one-second resolution
	if _, err := st.PutAll(ctx, [][]byte{data}); err != nil {
		t.Fatal(err)
	}
	after, err := c.StatObject(ctx, s3test.Bucket, st.Key(h), minio.StatObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !after.LastModified.Equal(before.LastModified) {
		t.Errorf("existing object was uploaded again: Last-Modified %v, then %v", before.LastModified, after.LastModified)
	}
}

func testNoBucket(t *testing.T, srv *s3test.Server) {
	cfg := srv.Config("")
	cfg.Bucket = "no-such-bucket-here"
	_, err := s3.Open(t.Context(), cfg)
	if !errors.Is(err, s3.ErrNoBucket) {
		t.Fatalf("Open with a missing bucket: got %v, want ErrNoBucket", err)
	}
	if !strings.Contains(err.Error(), "no-such-bucket-here") {
		t.Errorf("error %q does not name the bucket", err)
	}
}

func testCredentials(t *testing.T, srv *s3test.Server) {
	for _, c := range []struct{ name, access, secret string }{
		{"unknown access key", "nobody", s3test.SecretKey},
		{"wrong secret", s3test.AccessKey, "not the secret"},
	} {
		cfg := srv.Config("")
		cfg.AccessKey, cfg.SecretKey = c.access, c.secret
		_, err := s3.Open(t.Context(), cfg)
		if !errors.Is(err, s3.ErrCredentials) {
			t.Errorf("%s: got %v, want ErrCredentials", c.name, err)
			continue
		}
		if strings.Contains(err.Error(), c.secret) {
			t.Errorf("%s: error %q shows the secret", c.name, err)
		}
	}
}

// testUnreachable checks that a store that does not answer fails within the
// configured timeout, after retries, with an error naming the endpoint.
func testUnreachable(t *testing.T) {
	cfg := s3.Config{Endpoint: "http://127.0.0.1:1", Bucket: "b", AccessKey: "a", SecretKey: "s",
		PathStyle: true, Timeout: 3 * time.Second, MaxRetries: 3}
	start := time.Now()
	_, err := s3.Open(t.Context(), cfg)
	if err == nil || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Fatalf("Open of a closed port: got %v, want an error naming the endpoint", err)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("Open of a closed port took %v, want it bounded by the timeout", d)
	}
}
