// Package blob is the content-addressed store for message bytes and
// attachments. A blob's name is the lower-case hex SHA-256 of its content,
// so identical content is stored once. Reference counts live in the
// metadata store (storage.Store), not here.
package blob

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
)

// ErrNotFound is returned when a blob does not exist.
var ErrNotFound = errors.New("blob not found")

// Store holds immutable blobs by hash. Implementations are safe for concurrent use.
type Store interface {
	// PutAll durably writes every blob that is not yet present (each file is
	// fsynced, and its directory, before PutAll returns) and returns their hashes
	// in order. Writing a blob that exists is a cheap no-op, which also makes
	// PutAll the way to re-create a blob after a racing garbage collection.
	PutAll(ctx context.Context, blobs [][]byte) ([]string, error)
	// Open returns a reader of the blob's bytes; ErrNotFound if absent.
	Open(ctx context.Context, hash string) (io.ReadCloser, error)
	// Delete removes a blob; deleting an absent blob is not an error.
	Delete(ctx context.Context, hash string) error
}

// Hash returns the name of a blob with content b.
func Hash(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
