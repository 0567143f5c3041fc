// Package fs is a blob.Store on a local file system. A blob with hash
// "abcdef..." lives at dir/ab/cd/abcdef...; files are immutable once renamed
// into place.
//
// Durability follows the usual POSIX recipe: each new blob is written to a
// temporary file in its final directory, fsynced, renamed into place, and
// every directory that received a new entry (including newly made fan-out
// directories and their parents) is fsynced once per PutAll. The files of one
// batch are fsynced in parallel so that a journaling file system can commit
// them together.
package fs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/stamp-mail/stamp/storage/blob"
)

// ErrBadHash is returned for a name that is not 64 lower-case hex digits.
var ErrBadHash = errors.New("invalid blob hash")

// maxParallelSync bounds the goroutines writing one batch.
const maxParallelSync = 16

// Store is a blob.Store in a directory.
type Store struct {
	dir      string
	parallel int // files of one batch written and fsynced at once
}

var _ blob.Store = (*Store)(nil)

// Open returns a Store rooted at dir, creating dir if needed.
func Open(dir string) (*Store, error) {
	if dir == "" {
		return nil, errors.New("blob fs: empty directory")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("blob fs: %w", err)
	}
	if err := os.MkdirAll(abs, 0o750); err != nil {
		return nil, fmt.Errorf("blob fs: %w", err)
	}
	// The 256 fan-out directories exist from the start, so writing a blob
	// never creates (and fsyncs) a directory on the delivery path.
	created := false
	for i := 0; i < 256; i++ {
		err := os.Mkdir(filepath.Join(abs, fmt.Sprintf("%02x", i)), 0o750)
		if err == nil {
			created = true
		} else if !errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("blob fs: %w", err)
		}
	}
	if created {
		if err := syncDir(abs); err != nil {
			return nil, err
		}
	}
	return &Store{dir: abs, parallel: maxParallelSync}, nil
}

// validHash reports whether h is 64 lower-case hex digits, so it can never
// name a path outside the store.
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

// path returns the file name of hash h: one level of 256 directories keeps
// a directory near 4,000 entries per million blobs, which ext4's hashed
// directories handle without effort.
func (s *Store) path(h string) string {
	return filepath.Join(s.dir, h[0:2], h)
}

// PutAll writes the blobs that are not present yet and returns all hashes in
// order. It returns only after new files and their directories are fsynced.
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
		if seen[h] {
			continue
		}
		seen[h] = true
		if _, err := os.Stat(s.path(h)); err == nil {
			continue
		}
		jobs = append(jobs, job{h, b})
	}
	if len(jobs) == 0 {
		return hashes, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	var mu sync.Mutex
	dirty := map[string]bool{}

	sem := make(chan struct{}, max(s.parallel, 1))
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
			d, err := s.writeOne(j.hash, j.data)
			if err != nil {
				errs[i] = err
				return
			}
			mu.Lock()
			dirty[d] = true
			mu.Unlock()
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	// Directory fsyncs in parallel too, so concurrent ones share a journal commit.
	derrs := make(chan error, len(dirty))
	for d := range dirty {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			derrs <- syncDir(d)
		}()
	}
	wg.Wait()
	close(derrs)
	for err := range derrs {
		if err != nil {
			return nil, err
		}
	}
	return hashes, nil
}

// writeOne writes one blob through a temporary file and returns its directory.
func (s *Store) writeOne(h string, data []byte) (string, error) {
	final := s.path(h)
	dir := filepath.Dir(final)
	f, err := os.CreateTemp(dir, ".tmp-"+h[:8]+"-*")
	if err != nil {
		return "", fmt.Errorf("blob fs: %w", err)
	}
	tmp := f.Name()
	fail := func(err error) (string, error) {
		_ = f.Close()
		_ = os.Remove(tmp)
		return "", fmt.Errorf("blob fs: write %s: %w", h, err)
	}
	if _, err := f.Write(data); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		return fail(err)
	}
	// Rename is atomic: a concurrent writer of the same content renames an
	// identical file over this one, which is harmless.
	if err := os.Rename(tmp, final); err != nil {
		_ = os.Remove(tmp)
		return "", fmt.Errorf("blob fs: rename %s: %w", h, err)
	}
	return dir, nil
}

// syncDir fsyncs a directory so that new entries in it are durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("blob fs: %w", err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("blob fs: sync %s: %w", dir, err)
	}
	return nil
}

// Open returns the blob's bytes as an *os.File; blob.ErrNotFound if absent.
func (s *Store) Open(ctx context.Context, hash string) (io.ReadCloser, error) {
	if !validHash(hash) {
		return nil, fmt.Errorf("%w: %q", ErrBadHash, hash)
	}
	f, err := os.Open(s.path(hash))
	if errors.Is(err, os.ErrNotExist) {
		f, err = os.Open(s.legacyPath(hash))
	}
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", blob.ErrNotFound, hash)
	}
	if err != nil {
		return nil, fmt.Errorf("blob fs: %w", err)
	}
	return f, nil
}

// Delete removes a blob; an absent blob is not an error. The removal is not
// fsynced: a blob that reappears after a crash is only garbage.
func (s *Store) Delete(ctx context.Context, hash string) error {
	if !validHash(hash) {
		return fmt.Errorf("%w: %q", ErrBadHash, hash)
	}
	err := os.Remove(s.path(hash))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("blob fs: %w", err)
	}
	if err := os.Remove(s.legacyPath(hash)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("blob fs: %w", err)
	}
	return nil
}

// legacyPath is where the first releases kept a blob (two levels of
// fan-out, ab/cd/abcd...). Blobs written there are still read and deleted
// there; new ones go to path. The upgrade tests (storage/upgradetest) hold
// a blob folder in that layout.
func (s *Store) legacyPath(h string) string {
	return filepath.Join(s.dir, h[0:2], h[2:4], h)
}
