package imap

import (
	"container/list"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stamp-mail/stamp/core"
)

// The view cache keeps, per server, the last view each mailbox was selected
// with and the change log cursor it was read at. A later SELECT of the same
// mailbox (a client reconnecting to resynchronise with QRESYNC, a second
// connection, imaptest) starts from a copy and replays the change log since
// that cursor instead of listing every message again: O(changes) queries
// instead of O(messages) rows. The change log is shared by every node, so
// the replay is right in a cluster too.

const (
	// viewCacheBytes bounds the cached views (about 32 bytes a message).
	viewCacheBytes = 64 << 20
	// viewCacheAge is how long a cached view may be replayed from. Far
	// below core.ChangeRetention: its cursor is always inside the log.
	viewCacheAge = time.Hour
	// viewCatchUpMax is how many change log entries (of all the user's
	// mailboxes) a replay may read; further behind, listing is cheaper.
	viewCatchUpMax = 5000
	// viewCacheMin is the smallest mailbox worth caching (tests lower
	// viewCache.min to run every SELECT through the cache).
	viewCacheMin = 1000
)

type viewKey struct {
	user, mailbox int64
	uidValidity   uint32
}

// viewSnap is an immutable copy of a view at a change log cursor.
type viewSnap struct {
	key    viewKey
	cursor uint64 // the user's MODSEQ read before the view was
	at     time.Time
	view   view
}

func (sn *viewSnap) bytes() int { return 64 + len(sn.view.uids)*32 }

type viewCache struct {
	max  int
	min  atomic.Int64 // fewest messages cached
	hits atomic.Int64 // SELECTs served from the cache

	mu    sync.Mutex
	size  int
	ll    *list.List
	items map[viewKey]*list.Element
}

func newViewCache(max int) *viewCache {
	c := &viewCache{max: max, ll: list.New(), items: map[viewKey]*list.Element{}}
	c.min.Store(viewCacheMin)
	return c
}

// get returns the cached view of key, if young enough.
func (c *viewCache) get(k viewKey, now time.Time) *viewSnap {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.items[k]
	if !ok {
		return nil
	}
	sn := e.Value.(*viewSnap)
	if now.Sub(sn.at) > viewCacheAge {
		c.removeLocked(e)
		return nil
	}
	c.ll.MoveToFront(e)
	return sn
}

// put stores sn, replacing the entry of its key.
func (c *viewCache) put(sn *viewSnap) {
	if sn.bytes() > c.max {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[sn.key]; ok {
		c.removeLocked(e)
	}
	c.items[sn.key] = c.ll.PushFront(sn)
	c.size += sn.bytes()
	for c.size > c.max && c.ll.Len() > 1 {
		c.removeLocked(c.ll.Back())
	}
}

// clear empties the cache.
func (c *viewCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.items)
	c.ll.Init()
	c.size = 0
}

func (c *viewCache) removeLocked(e *list.Element) {
	sn := e.Value.(*viewSnap)
	c.ll.Remove(e)
	c.size -= sn.bytes()
	delete(c.items, sn.key)
}

// clone copies the view's columns: views are changed
// in place, so the cache and the sessions never share arrays.
func (v *view) clone() view {
	c := view{
		uids: slices.Clone(v.uids), ids: slices.Clone(v.ids), flags: slices.Clone(v.flags),
		sizes: slices.Clone(v.sizes), dates: slices.Clone(v.dates),
		modseqs: modSeqs{narrow: slices.Clone(v.modseqs.narrow), wide: slices.Clone(v.modseqs.wide)},
		fsets:   slices.Clone(v.fsets), // the flag lists themselves are never modified
		findex:  make(map[string]uint32, len(v.findex)),
	}
	for k, i := range v.findex {
		c.findex[k] = i
	}
	return c
}

// cacheView stores the selected view for the next SELECT of its mailbox.
func (s *session) cacheView(v *selected) {
	if int64(len(v.uids)) < s.srv.views.min.Load() || len(v.gone) > 0 {
		return
	}
	s.srv.views.put(&viewSnap{
		key:    viewKey{s.user.ID, v.mb.ID, v.mb.UIDValidity},
		cursor: v.modseq, at: time.Now(), view: v.clone(),
	})
}

// viewFromCache fills v from the cached view of its mailbox and replays the
// change log since it; false when there is none or it is too far behind
// (v is then untouched). v.modseq is the cursor the caller read.
func (s *session) viewFromCache(v *selected) (bool, error) {
	sn := s.srv.views.get(viewKey{s.user.ID, v.mb.ID, v.mb.UIDValidity}, time.Now())
	if sn == nil {
		return false, nil
	}
	nv := sn.view.clone()
	ok, err := s.replay(v, &nv, sn.cursor)
	if err != nil || !ok {
		return false, err
	}
	v.view = nv
	s.srv.views.hits.Add(1)
	return true, nil
}

// replay applies the change log entries of v's mailbox after from to nv
// (new messages listed above its highest UID, expunged ones dropped, flags
// and MODSEQs of changed ones read again), records their MODSEQs in v.hms
// and moves v.modseq past what it read. false (nv partly changed) when more
// than viewCatchUpMax entries would have to be read.
func (s *session) replay(v *selected, nv *view, from uint64) (bool, error) {
	svc := s.srv.opts.Core
	var cs []core.Change
	read := 0
	last := from
	for {
		page, err := svc.ChangesSince(s.ctx, s.user.ID, last, changesPage)
		if err != nil {
			return false, err
		}
		read += len(page)
		for _, c := range page {
			last = max(last, c.ModSeq)
			if c.MailboxID == v.mb.ID {
				cs = append(cs, c)
			}
		}
		if len(page) < changesPage {
			break
		}
		if read >= viewCatchUpMax {
			return false, nil
		}
	}
	high := nv.maxUIDOf()
	gone := map[uint32]bool{}
	flagged := map[int64]uint32{} // message id -> UID
	hasNew := false
	for _, c := range cs {
		switch c.Kind {
		case core.ChangeNew:
			hasNew = hasNew || c.UID > high
		case core.ChangeExpunge:
			gone[c.UID] = true
		case core.ChangeFlags:
			flagged[c.MessageID] = c.UID
		}
	}
	if len(gone) > 0 {
		nv.removeUIDs(gone)
	}
	for id, uid := range flagged {
		i, ok := slices.BinarySearch(nv.uids, uid)
		if !ok || nv.ids[i] != id {
			continue
		}
		m, err := svc.GetMessage(s.ctx, s.user.ID, id)
		if err != nil || m.MailboxID != v.mb.ID || m.UID != uid {
			continue // moved or expunged since: the log says so, or will
		}
		nv.flags[i] = nv.flagSet(m.Flags)
		nv.modseqs.set(i, m.ModSeq)
	}
	if hasNew {
		rows, err := svc.MailboxView(s.ctx, s.user.ID, v.mb.ID, high+1)
		if err != nil {
			return false, err
		}
		for _, r := range rows {
			if r.UID > nv.maxUIDOf() {
				nv.addRow(r)
			}
		}
	}
	for _, c := range cs {
		v.noteModSeq(c.ModSeq)
	}
	v.modseq = max(v.modseq, last)
	return true, nil
}

func (v *view) maxUIDOf() uint32 {
	if len(v.uids) == 0 {
		return 0
	}
	return v.uids[len(v.uids)-1]
}

// removeUIDs drops the messages with the given UIDs in one pass.
func (v *view) removeUIDs(gone map[uint32]bool) {
	j := 0
	for i, u := range v.uids {
		if gone[u] {
			continue
		}
		v.uids[j], v.ids[j], v.flags[j], v.sizes[j], v.dates[j] = u, v.ids[i], v.flags[i], v.sizes[i], v.dates[i]
		v.modseqs.set(j, v.modseqs.at(i))
		j++
	}
	v.modseqs.truncate(j)
	v.uids, v.ids, v.flags, v.sizes, v.dates = v.uids[:j], v.ids[:j], v.flags[:j], v.sizes[:j], v.dates[:j]
}

// flagSummary returns the first unseen sequence number (0 if none) and the
// keywords of the view's messages.
func (v *view) flagSummary() (uint32, map[string]string) {
	kw := map[string]string{}
	used := make([]bool, len(v.fsets))
	seen := make([]bool, len(v.fsets))
	for k, fs := range v.fsets {
		seen[k] = slices.Contains(fs, core.FlagSeen)
	}
	var firstUnseen uint32
	for i, f := range v.flags {
		used[f] = true
		if firstUnseen == 0 && !seen[f] {
			firstUnseen = uint32(i + 1)
		}
	}
	for k, fs := range v.fsets {
		if !used[k] {
			continue
		}
		for _, f := range fs {
			if !strings.HasPrefix(f, `\`) {
				kw[strings.ToLower(f)] = f
			}
		}
	}
	return firstUnseen, kw
}
