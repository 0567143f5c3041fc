// Package s3test runs a real S3 server for tests: SeaweedFS's `weed server
// -s3` (built by scripts/seaweedfs.sh) on free loopback ports, with one
// bucket. Tests that need it skip loudly when the binary is missing.
package s3test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/stamp-mail/stamp/storage/blob/s3"
)

// Credentials of the server's one identity.
const (
	AccessKey = "stamp-test-access"
	SecretKey = "stamp-test-secret-key-0123456789"
	// Bucket is created at start.
	Bucket = "stamp-test"
)

// grpcOffset is how far above each HTTP port SeaweedFS opens its gRPC port.
const grpcOffset = 10000

// startTimeout bounds the wait until the server accepts a write.
const startTimeout = 90 * time.Second

// Server is a running SeaweedFS with an S3 gateway.
type Server struct {
	// Endpoint is the S3 URL, e.g. "http://127.0.0.1:23456".
	Endpoint string
	Dir      string // data directory
	cmd      *exec.Cmd
	prefixes atomic.Int64
}

// Binary returns the weed binary to use: $STAMP_TEST_WEED, else
// $HOME/.cache/stamp-test/weed, else weed on PATH; "" if there is none.
func Binary() string {
	if p := os.Getenv("STAMP_TEST_WEED"); p != "" {
		return p
	}
	if home, err := os.UserHomeDir(); err == nil {
		p := filepath.Join(home, ".cache", "stamp-test", "weed")
		if st, err := os.Stat(p); err == nil && st.Mode()&0o111 != 0 {
			return p
		}
	}
	if p, err := exec.LookPath("weed"); err == nil {
		return p
	}
	return ""
}

// Start runs a SeaweedFS server until tb's cleanup, or skips tb loudly when
// weed is not built.
func Start(tb testing.TB) *Server {
	tb.Helper()
	bin := Binary()
	if bin == "" {
		tb.Skip("SKIPPED LOUDLY: SeaweedFS (weed) not built; run scripts/seaweedfs.sh (or set STAMP_TEST_WEED): the S3 tests need a real S3 server")
	}
	var lastErr error
	for try := 0; try < 3; try++ {
		s, err := start(tb, bin)
		if err == nil {
			return s
		}
		lastErr = err
		tb.Logf("seaweedfs start (try %d): %v", try+1, err)
	}
	tb.Fatalf("seaweedfs: %v", lastErr)
	return nil
}

func start(tb testing.TB, bin string) (*Server, error) {
	dir, err := os.MkdirTemp("", "stamp-weed-")
	if err != nil {
		return nil, err
	}
	ports, err := freePorts(4)
	if err != nil {
		return nil, err
	}
	master, volume, filer, s3port := ports[0], ports[1], ports[2], ports[3]
	cfg := fmt.Sprintf(`{"identities":[{"name":"stamp","credentials":[{"accessKey":%q,"secretKey":%q}],"actions":["Admin","Read","Write","List","Tagging"]}]}`, AccessKey, SecretKey)
	cfgPath := filepath.Join(dir, "s3.json")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		return nil, err
	}
	log, err := os.Create(filepath.Join(dir, "weed.log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "server",
		"-ip=127.0.0.1", "-ip.bind=127.0.0.1", "-dir="+dir,
		"-master.port="+strconv.Itoa(master), "-master.telemetry=false", "-master.volumeSizeLimitMB=64",
		"-volume.port="+strconv.Itoa(volume), "-volume.max=0",
		"-filer", "-filer.port="+strconv.Itoa(filer), "-filer.localSocket="+filepath.Join(dir, "filer.sock"),
		"-s3", "-s3.port="+strconv.Itoa(s3port), "-s3.config="+cfgPath,
		"-s3.port.iceberg=0", "-s3.port.lance=0", "-s3.autoCreateBucket=false",
		"-s3.localSocket="+filepath.Join(dir, "s3.sock"),
	)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = log, log
	// Credentials from the environment would add an identity: keep them out.
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY=")
	if err := cmd.Start(); err != nil {
		log.Close()
		return nil, err
	}
	s := &Server{Endpoint: fmt.Sprintf("http://127.0.0.1:%d", s3port), Dir: dir, cmd: cmd}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait(); log.Close() }()
	stop := func() {
		_ = cmd.Process.Kill()
		<-exited
		os.RemoveAll(dir)
	}
	if err := s.waitReady(exited); err != nil {
		stop()
		tail, _ := os.ReadFile(filepath.Join(dir, "weed.log"))
		if len(tail) > 2000 {
			tail = tail[len(tail)-2000:]
		}
		return nil, fmt.Errorf("%w; weed log tail:\n%s", err, tail)
	}
	tb.Cleanup(stop)
	return s, nil
}

// waitReady makes the bucket and writes, reads and deletes an object: only
// then are the master, a volume server, the filer and the gateway all up.
func (s *Server) waitReady(exited <-chan error) error {
	c, err := s.Client()
	if err != nil {
		return err
	}
	deadline := time.Now().Add(startTimeout)
	var last error
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return fmt.Errorf("weed exited: %v", err)
		case <-time.After(300 * time.Millisecond):
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		last = s.probe(ctx, c)
		cancel()
		if last == nil {
			return nil
		}
	}
	return fmt.Errorf("not ready after %v: %v", startTimeout, last)
}

func (s *Server) probe(ctx context.Context, c *minio.Client) error {
	ok, err := c.BucketExists(ctx, Bucket)
	if err != nil {
		return err
	}
	if !ok {
		if err := c.MakeBucket(ctx, Bucket, minio.MakeBucketOptions{}); err != nil {
			return err
		}
	}
	st, err := s3.Open(ctx, s.Config("probe/"))
	if err != nil {
		return err
	}
	hashes, err := st.PutAll(ctx, [][]byte{[]byte("probe")})
	if err != nil {
		return err
	}
	rc, err := st.Open(ctx, hashes[0])
	if err != nil {
		return err
	}
	rc.Close()
	return st.Delete(ctx, hashes[0])
}

// Client returns a plain S3 client of the server, for checks behind the store's back.
func (s *Server) Client() (*minio.Client, error) {
	return minio.New(s.Endpoint[len("http://"):], &minio.Options{
		Creds:        credentials.NewStaticV4(AccessKey, SecretKey, ""),
		BucketLookup: minio.BucketLookupPath,
		MaxRetries:   1,
	})
}

// Config returns a store configuration for the server's bucket with key
// prefix (tests use distinct prefixes to share one bucket).
func (s *Server) Config(prefix string) s3.Config {
	return s3.Config{
		Endpoint: s.Endpoint, Bucket: Bucket, Region: "us-east-1",
		AccessKey: AccessKey, SecretKey: SecretKey, PathStyle: true, Prefix: prefix,
		Timeout: 30 * time.Second,
	}
}

// Store opens a store under a prefix of its own.
func (s *Server) Store(tb testing.TB) *s3.Store {
	tb.Helper()
	prefix := fmt.Sprintf("t%d-%d/", os.Getpid(), s.prefixes.Add(1))
	st, err := s3.Open(context.Background(), s.Config(prefix))
	if err != nil {
		tb.Fatalf("open s3 store: %v", err)
	}
	return st
}

// freePorts returns n TCP ports below 55000 that are free on 127.0.0.1
// together with each port + 10000 (SeaweedFS's gRPC ports).
func freePorts(n int) ([]int, error) {
	var out []int
	used := map[int]bool{}
	for tries := 0; len(out) < n && tries < 1000; tries++ {
		p := 20000 + rand.IntN(44999-grpcOffset-20000)
		if used[p] || used[p+grpcOffset] || used[p-grpcOffset] {
			continue
		}
		if !free(p) || !free(p+grpcOffset) {
			continue
		}
		used[p] = true
		out = append(out, p)
	}
	if len(out) < n {
		return nil, errors.New("no free ports")
	}
	return out, nil
}

func free(port int) bool {
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		return false
	}
	ln.Close()
	return true
}
