package imap

import (
	"container/list"
	"sync"

	"github.com/stamp-mail/stamp/core"
	"github.com/stamp-mail/stamp/imap/internal/sortthread"
)

// The sort cache keeps, per server, the SORT/THREAD rows of recently
// sorted mailboxes (core.SortRows: subject, Date, Message-ID and the
// stored keys), so that a SORT or THREAD reads only the rows of the
// messages delivered since the last one (UIDs only grow within a
// UIDVALIDITY; a message's row never changes once stored). Expunged
// messages are left out by the session's view; when a cached mailbox holds
// many more rows than the view has messages, it is read again whole.
// Rows are shared by the sessions of the server, each entry behind its own
// lock.

// sortCacheBytes bounds the cached rows (estimated, see rowBytes).
const sortCacheBytes = 64 << 20

type sortEntry struct {
	key viewKey

	mu    sync.Mutex // held while a session reads or fills rows
	rows  []core.SortRow
	bytes int // as counted in the cache's size
}

type sortCache struct {
	max int

	mu    sync.Mutex
	size  int
	ll    *list.List
	items map[viewKey]*list.Element
}

func newSortCache(max int) *sortCache {
	return &sortCache{max: max, ll: list.New(), items: map[viewKey]*list.Element{}}
}

// entry returns the entry of k, made empty if there is none.
func (c *sortCache) entry(k viewKey) *sortEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[k]; ok {
		c.ll.MoveToFront(e)
		return e.Value.(*sortEntry)
	}
	se := &sortEntry{key: k}
	c.items[k] = c.ll.PushFront(se)
	return se
}

// resize records that se now holds n bytes and evicts the least recently
// used entries beyond the bound (never se itself).
func (c *sortCache) resize(se *sortEntry, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.items[se.key]
	if !ok || e.Value.(*sortEntry) != se {
		return // evicted meanwhile
	}
	c.size += n - se.bytes
	se.bytes = n
	for c.size > c.max && c.ll.Len() > 0 {
		b := c.ll.Back()
		if b == e {
			if c.ll.Len() == 1 {
				break
			}
			c.ll.MoveToFront(e)
			continue
		}
		c.removeLocked(b)
	}
	if se.bytes > c.max {
		c.removeLocked(e)
	}
}

func (c *sortCache) removeLocked(e *list.Element) {
	se := e.Value.(*sortEntry)
	c.ll.Remove(e)
	c.size -= se.bytes
	delete(c.items, se.key)
}

// rowBytes estimates the memory of a cached row.
func rowBytes(r *core.SortRow) int {
	n := 96 + len(r.Subject) + len(r.MessageIDHdr)
	if k := r.Keys; k != nil {
		n += 160 + len(k.FromName) + len(k.FromAddr) + len(k.ToName) + len(k.ToAddr) + len(k.CcAddr)
		for _, p := range k.Parents {
			n += 16 + len(p)
		}
	}
	return n
}

// withSortRows runs f with the selected mailbox's rows in UID order, read
// through the server's sort cache; f may set rows' Keys (storeSortKeys).
func (s *session) withSortRows(f func(rows []core.SortRow) error) error {
	v := s.sel
	se := s.srv.sorts.entry(viewKey{s.user.ID, v.mb.ID, v.mb.UIDValidity})
	se.mu.Lock()
	defer se.mu.Unlock()
	if len(se.rows) > 2*len(v.uids)+1000 {
		se.rows = nil // mostly expunged: read again
	}
	var after uint32
	if n := len(se.rows); n > 0 {
		after = se.rows[n-1].UID
	}
	fresh, err := s.srv.opts.Core.SortRowsAfter(s.ctx, s.user.ID, v.mb.ID, after)
	if err != nil {
		return err
	}
	se.rows = append(se.rows, fresh...)
	err = f(se.rows)
	n := 64
	for i := range se.rows {
		n += rowBytes(&se.rows[i])
	}
	s.srv.sorts.resize(se, n)
	return err
}

// viewOnly reports whether every sort key is in the view (ARRIVAL, SIZE).
func viewOnly(crit []sortthread.Criterion) bool {
	for _, c := range crit {
		if c.Key != sortthread.Arrival && c.Key != sortthread.Size {
			return false
		}
	}
	return true
}
