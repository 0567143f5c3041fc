package pop3

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"sync"

	"github.com/stamp-mail/stamp/core"
)

// sizeCacheEntries bounds the cache of message sizes (about 40 bytes each).
const sizeCacheEntries = 100_000

// maildrop is the session's snapshot of the INBOX (RFC 1939 section 5:
// message numbers are fixed for the session).
type maildrop struct {
	mailbox core.Mailbox
	msgs    []core.Message // UID order; message n is msgs[n-1]
	deleted []bool
	sizes   []int64 // octets as sent, CRLF included; -1 until computed
}

// lockMaildrop takes the user's maildrop lock (RFC 1939 section 4): this
// server's, then the cluster's (core.LockMaildrop: a PostgreSQL advisory
// lock, so a second session on another node is told [IN-USE] too). It
// returns core.ErrMaildropLocked when either is held. The cluster lock also
// ends with the session's context, so a dropped connection releases it.
func (s *session) lockMaildrop(userID int64) error {
	if !s.srv.lockUser(userID) {
		return core.ErrMaildropLocked
	}
	unlock, err := s.srv.core.LockMaildrop(s.ctx, userID)
	if err != nil {
		s.srv.unlockUser(userID)
		return err
	}
	s.holdsLock = true
	s.dropLock = unlock
	return nil
}

// unlockMaildrop releases both maildrop locks.
func (s *session) unlockMaildrop(userID int64) {
	if s.dropLock != nil {
		s.dropLock()
		s.dropLock = nil
	}
	s.srv.unlockUser(userID)
	s.holdsLock = false
}

// loadMaildrop snapshots a user's INBOX.
func loadMaildrop(ctx context.Context, svc *core.Service, userID int64) (*maildrop, error) {
	mb, err := svc.GetMailboxByRole(ctx, userID, core.RoleInbox)
	if err != nil {
		return nil, fmt.Errorf("find inbox: %w", err)
	}
	msgs, err := svc.MessagesByUID(ctx, userID, mb.ID, 1, 0)
	if err != nil {
		return nil, fmt.Errorf("list inbox: %w", err)
	}
	d := &maildrop{mailbox: mb, msgs: msgs, deleted: make([]bool, len(msgs)), sizes: make([]int64, len(msgs))}
	for i := range d.sizes {
		d.sizes[i] = -1
	}
	return d, nil
}

// uidl is message i's unique id (RFC 1939 section 7: 1 to 70 characters in
// 0x21..0x7E): the mailbox's UIDVALIDITY and the message's UID, which
// together never name another message.
func (d *maildrop) uidl(i int) string {
	return fmt.Sprintf("%d.%d", d.mailbox.UIDValidity, d.msgs[i].UID)
}

// size returns message i's size as RETR sends it: computed once by running
// the message through the same conversion RETR uses, then cached by content.
func (s *session) size(i int) (int64, error) {
	d := s.drop
	if d.sizes[i] >= 0 {
		return d.sizes[i], nil
	}
	m := d.msgs[i]
	key := contentKey(m)
	if n, ok := s.srv.sizes.get(key); ok {
		d.sizes[i] = n
		return n, nil
	}
	rc, err := s.srv.core.OpenMessage(s.ctx, m)
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	cv := newConverter(io.Discard, false, -1)
	if err := cv.copyFrom(rc); err != nil {
		return 0, fmt.Errorf("read message %d: %w", m.ID, err)
	}
	n := cv.finish()
	s.srv.sizes.put(key, n)
	d.sizes[i] = n
	return n, nil
}

// contentKey identifies a message's bytes: its segments are content
// addressed, so the same list of hashes means the same bytes.
func contentKey(m core.Message) [32]byte {
	h := sha256.New()
	for _, seg := range m.Segments {
		h.Write([]byte(seg.Hash))
		h.Write([]byte{0})
	}
	var k [32]byte
	h.Sum(k[:0])
	return k
}

// sizeCache remembers converted sizes by content; safe for concurrent use.
type sizeCache struct {
	max int

	mu sync.Mutex
	m  map[[32]byte]int64
}

func newSizeCache(max int) *sizeCache {
	return &sizeCache{max: max, m: map[[32]byte]int64{}}
}

func (c *sizeCache) get(k [32]byte) (int64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, ok := c.m[k]
	return n, ok
}

func (c *sizeCache) put(k [32]byte, n int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		// Evict an arbitrary entry (map order is random): cheap and good enough
		// for a cache whose misses cost one read of a message.
		for old := range c.m {
			delete(c.m, old)
			break
		}
	}
	c.m[k] = n
}
