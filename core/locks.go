package core

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/stamp-mail/stamp/storage"
)

// ErrMaildropLocked is returned by LockMaildrop when another POP3 session,
// on any node, holds the user's maildrop.
var ErrMaildropLocked = errors.New("maildrop locked by another session")

// LockMaildrop takes the user's POP3 maildrop lock for the whole cluster
// (RFC 1939 section 4's exclusive access) when the store can hold
// cluster-wide locks (PostgreSQL advisory locks; a node that dies releases
// them with its connection). With a single-node store it only returns an
// unlock that does nothing: the frontend's own lock then suffices. The lock
// is released by unlock or when ctx ends, whichever comes first.
func (s *Service) LockMaildrop(ctx context.Context, userID int64) (unlock func(), err error) {
	l, ok := s.store.(storage.Locker)
	if !ok {
		return func() {}, nil
	}
	release, err := l.TryLock(ctx, "pop3-maildrop:"+strconv.FormatInt(userID, 10))
	if errors.Is(err, storage.ErrLocked) {
		return nil, ErrMaildropLocked
	}
	if err != nil {
		return nil, temporary("lock maildrop", fmt.Errorf("store: %w", err))
	}
	stop := context.AfterFunc(ctx, release)
	return func() { stop(); release() }, nil
}
