package imap

import (
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/stamp-mail/stamp/core"
	"github.com/stamp-mail/stamp/imap/internal/sortthread"
)

// SORT and THREAD (RFC 5256), DISPLAYFROM/DISPLAYTO (RFC 5957) and ESORT
// (RFC 5267 section 3). The search criteria are parsed and run by the
// SEARCH code (search.go); the sort and thread keys come from the stored
// message rows (subject, addresses, Date header, size, internal date,
// Message-ID) and, for THREAD=REFERENCES, the References and In-Reply-To
// ids (threadRefs), never from message bodies.

// sortCaps are the capabilities of this file.
const sortCaps = "SORT SORT=DISPLAY ESORT THREAD=ORDEREDSUBJECT THREAD=REFERENCES"

// sortReq is a parsed SORT or THREAD.
type sortReq struct {
	esort bool
	returnOpts
	crit      []sortthread.Criterion
	algorithm string // THREAD: "ORDEREDSUBJECT" or "REFERENCES"
	criteria  imap.SearchCriteria
}

// sortCriteria reads "(" sort-criterion *(SP sort-criterion) ")".
func (p *parser) sortCriteria() []sortthread.Criterion {
	var atoms []string
	p.list(false, func() { atoms = append(atoms, p.atom()) })
	if p.err != nil {
		return nil
	}
	crit, err := sortthread.ParseCriteria(atoms)
	if err != nil {
		p.fail("Invalid sort criteria")
		return nil
	}
	return crit
}

// searchCharset reads the charset SORT and THREAD require; only UTF-8 and
// US-ASCII are known (RFC 5256 section 3: NO [BADCHARSET] otherwise).
func (p *parser) searchCharset() (ok bool) {
	cs := strings.ToUpper(p.astring())
	return p.err != nil || cs == "UTF-8" || cs == "US-ASCII"
}

var errBadCharset = imapErr(imap.ResponseCode("BADCHARSET (UTF-8 US-ASCII)"), "Unsupported charset")

// parseSort reads SORT's arguments: [RETURN (options)] (criteria) charset keys.
func (p *parser) parseSort() (*sortReq, bool) {
	r := &sortReq{}
	r.returnOpts, r.esort = p.returnOptions("SORT", false)
	r.crit = p.sortCriteria()
	p.sp()
	cs := p.searchCharset()
	p.sp()
	p.searchKeys(&r.criteria)
	p.end()
	return r, cs
}

// parseThread reads THREAD's arguments: algorithm charset keys.
func (p *parser) parseThread() (*sortReq, bool) {
	r := &sortReq{}
	r.algorithm = strings.ToUpper(p.atom())
	if p.err == nil && r.algorithm != "ORDEREDSUBJECT" && r.algorithm != "REFERENCES" {
		p.fail("Unknown THREAD algorithm")
	}
	p.sp()
	cs := p.searchCharset()
	p.sp()
	p.searchKeys(&r.criteria)
	p.end()
	return r, cs
}

// matchUIDs runs SEARCH criteria through the SEARCH code and returns the
// matching UIDs, ascending. It uses SEARCHRES's save path (RFC 5182: SAVE
// alone writes no response) and restores the saved result after.
func (s *session) matchUIDs(tag string, criteria imap.SearchCriteria) ([]uint32, error) {
	v := s.sel
	prev := v.saved
	defer func() { v.saved = prev }()
	if err := s.search(tag, true, &searchReq{esearch: true, returnOpts: returnOpts{save: true}, criteria: criteria}); err != nil {
		return nil, err
	}
	return v.saved, nil
}

// needsAddrs reports whether a sort key compares addresses.
func needsAddrs(crit []sortthread.Criterion) bool {
	for _, c := range crit {
		switch c.Key {
		case sortthread.From, sortthread.To, sortthread.Cc, sortthread.DisplayFrom, sortthread.DisplayTo:
			return true
		}
	}
	return false
}

// sortInput returns the messages of uids as sortthread reads them (Num is
// the UID or the sequence number): size and arrival from the view,
// subject, Date and Message-ID from the stored rows (core.SortRows) and,
// with keys, the first addresses as ENVELOPE parses them (groups, comment
// names and bare local parts, which the rows' address lists leave out) and
// the References parents. Those keys are stored per message, at delivery
// (core.SortKeysOf): only older messages without them have their header
// read, once (storeSortKeys). The rows come through the server's sort
// cache (sortcache.go); with only ARRIVAL and SIZE keys (viewOnly) no rows
// are read at all.
func (s *session) sortInput(uids []uint32, uidMode, keys, viewOnly bool) ([]sortthread.Message, error) {
	v := s.sel
	out := make([]sortthread.Message, 0, len(uids))
	if viewOnly {
		// ARRIVAL and SIZE are in the view: no query.
		for _, u := range uids {
			i := v.index(u)
			if i < 0 || v.gone[u] {
				continue
			}
			num := u
			if !uidMode {
				num = uint32(i + 1)
			}
			out = append(out, sortthread.Message{Num: num, Arrival: time.Unix(v.dates[i], 0), Size: v.sizes[i]})
		}
		return out, nil
	}
	want := make(map[uint32]bool, len(uids))
	for _, u := range uids {
		want[u] = true
	}
	err := s.withSortRows(func(rows []core.SortRow) error {
		if keys {
			if err := s.storeSortKeys(rows, want); err != nil {
				return err
			}
		}
		for _, r := range rows {
			if !want[r.UID] {
				continue
			}
			i := v.index(r.UID)
			if i < 0 || v.gone[r.UID] {
				continue
			}
			num := r.UID
			if !uidMode {
				num = uint32(i + 1)
			}
			sm := sortthread.Message{
				Num: num, Arrival: time.Unix(v.dates[i], 0), Date: r.Date, Size: v.sizes[i],
				Subject: r.Subject, MessageID: r.MessageIDHdr,
			}
			if k := r.Keys; k != nil {
				sm.From = oneAddr(k.FromName, k.FromAddr)
				sm.To = oneAddr(k.ToName, k.ToAddr)
				sm.Cc = oneAddr("", k.CcAddr)
				sm.References = k.Parents
			}
			out = append(out, sm)
		}
		return nil
	})
	return out, err
}

func oneAddr(name, addr string) []sortthread.Address {
	if name == "" && addr == "" {
		return nil
	}
	return []sortthread.Address{{Name: name, Address: addr}}
}

// sortKeysBatch is how many computed keys one PutSortKeys stores.
const sortKeysBatch = 2000

// storeSortKeys computes the keys of the wanted rows that have none from
// their header sections, stores them and sets them in rows.
func (s *session) storeSortKeys(rows []core.SortRow, want map[uint32]bool) error {
	v := s.sel
	var idxs []int
	at := map[int64]int{} // message id -> index in rows
	for j, r := range rows {
		if r.Keys != nil || !want[r.UID] {
			continue
		}
		if i := v.index(r.UID); i >= 0 && !v.gone[r.UID] {
			idxs = append(idxs, i)
			at[r.ID] = j
		}
	}
	for len(idxs) > 0 {
		n := min(len(idxs), sortKeysBatch)
		msgs, err := s.load(idxs[:n])
		if err != nil {
			return err
		}
		idxs = idxs[n:]
		batch := make([]core.SortKeys, 0, len(msgs))
		for _, m := range msgs {
			h, err := s.srv.opts.Core.ReadHeader(s.ctx, m)
			if err != nil {
				return err
			}
			k := sortKeysOf(m.ID, h)
			batch = append(batch, k)
			if j, ok := at[m.ID]; ok {
				rows[j].Keys = &batch[len(batch)-1]
			}
		}
		if err := s.srv.opts.Core.PutSortKeys(s.ctx, s.user.ID, batch); err != nil {
			return err
		}
	}
	return nil
}

// sortKeysOf computes a message's SORT/THREAD keys from its header, as
// delivery does (core.SortKeysOf).
func sortKeysOf(id int64, h []byte) core.SortKeys {
	k := core.SortKeysOf(h)
	k.MessageID = id
	return k
}

// orderInput is what SORT and THREAD share once their arguments are
// parsed: the parse error or BADCHARSET, the search, and the matching
// messages with the keys the ordering needs (sortInput's keys, viewOnly).
func (s *session) orderInput(tag string, p *parser, r *sortReq, csOK, uidMode, keys, viewOnly bool) ([]sortthread.Message, error) {
	if p.err != nil {
		return nil, p.err
	}
	if !csOK {
		return nil, errBadCharset
	}
	uids, err := s.matchUIDs(tag, r.criteria)
	if err != nil {
		return nil, err
	}
	msgs, err := s.sortInput(uids, uidMode, keys, viewOnly)
	if err != nil {
		return nil, s.fail(strings.ToLower(r.command()), err)
	}
	return msgs, nil
}

// command names the request's command, for logs.
func (r *sortReq) command() string {
	if r.algorithm != "" {
		return "THREAD"
	}
	return "SORT"
}

// cmdSort: SORT and UID SORT (RFC 5256 section 3), with RETURN (ESORT).
func cmdSort(s *session, c *command, p *parser) error {
	r, csOK := p.parseSort()
	uidMode := c.name == "UID SORT"
	msgs, err := s.orderInput(c.tag, p, r, csOK, uidMode, needsAddrs(r.crit), viewOnly(r.crit))
	if err != nil {
		return err
	}
	nums := sortthread.Sort(msgs, r.crit)
	w := s.w
	w.lock()
	defer w.unlock()
	if !r.esort {
		w.raw("* SORT")
		for _, n := range nums {
			w.sp()
			w.num(n)
		}
		w.crlf()
		return nil
	}
	writeESearch(w, c.tag, uidMode, nums, r.returnOpts)
	w.crlf()
	return nil
}

// cmdThread: THREAD and UID THREAD (RFC 5256 section 4).
func cmdThread(s *session, c *command, p *parser) error {
	r, csOK := p.parseThread()
	refs := r.algorithm == "REFERENCES"
	msgs, err := s.orderInput(c.tag, p, r, csOK, c.name == "UID THREAD", refs, false)
	if err != nil {
		return err
	}
	var ts []*sortthread.Thread
	if refs {
		ts = sortthread.References(msgs)
	} else {
		ts = sortthread.OrderedSubject(msgs)
	}
	s.w.lock()
	s.w.raw("* THREAD")
	if len(ts) > 0 {
		s.w.sp()
		s.w.raw(sortthread.Format(ts))
	}
	s.w.crlf()
	s.w.unlock()
	return nil
}
