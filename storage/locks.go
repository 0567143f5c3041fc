package storage

import (
	"context"
	"errors"
)

// ErrLocked is returned by Locker.TryLock when another session, on this node
// or another, holds the lock.
var ErrLocked = errors.New("locked by another session")

// Locker is implemented by backends that can hold locks for the whole
// cluster (PostgreSQL session advisory locks). A lock held by a node that
// dies is released by the database when the node's connection drops, so a
// killed node never leaves a user locked out. Backends without it (SQLite:
// one node) need only the process's own locks.
type Locker interface {
	// TryLock takes the cluster-wide lock called name without waiting;
	// ErrLocked if it is held. unlock releases it and may be called more
	// than once.
	TryLock(ctx context.Context, name string) (unlock func(), err error)
}
