package imap

import (
	"strings"
	"time"
	"unicode"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-message/textproto"

	"github.com/stamp-mail/stamp/core"
)

// searchPage is how many full-text hits one svc.Search call returns (the
// backends cap a page at 1000).
const searchPage = 1000

// searcher evaluates SEARCH criteria over the selected mailbox's metadata.
// BODY and TEXT keys are answered by core's full-text index, other HEADER
// keys than FROM/TO/CC/SUBJECT by the header section: never by bodies.
type searcher struct {
	s       *session
	byUID   map[uint32]*core.Message
	text    map[string]map[uint32]bool // full-text hits per query
	headers map[uint32]textproto.Header
	saved   map[uint32]bool // the SEARCHRES result, by UID
	high    uint32          // largest UID in the view, for "*"
	err     error
}

// Search implements imapserver.Session (RFC 9051 section 6.4.4 with
// ESEARCH and SEARCHRES).
func (s *session) Search(kind imapserver.NumKind, criteria *imap.SearchCriteria, options *imap.SearchOptions) (*imap.SearchData, error) {
	defer s.enter()()
	v := s.sel
	if v == nil {
		return nil, errNoSelected
	}
	var ms []core.Message
	if needsMeta(criteria) {
		all := make([]int, len(v.uids))
		for i := range all {
			all[i] = i
		}
		var err error
		if ms, err = s.load(all); err != nil {
			return nil, s.fail("search", err)
		}
	} else {
		// Only full-text, UID and sequence keys: the view is enough.
		ms = make([]core.Message, 0, len(v.uids))
		for _, u := range v.uids {
			if !v.gone[u] {
				ms = append(ms, core.Message{UID: u})
			}
		}
	}
	sr := &searcher{s: s, byUID: make(map[uint32]*core.Message, len(ms)), text: map[string]map[uint32]bool{}, headers: map[uint32]textproto.Header{}, saved: map[uint32]bool{}, high: v.maxUID()}
	for i := range ms {
		sr.byUID[ms[i].UID] = &ms[i]
	}
	for _, u := range v.saved {
		sr.saved[u] = true
	}
	if err := sr.prepare(criteria); err != nil {
		return nil, s.fail("search", err)
	}
	data := &imap.SearchData{}
	var seqs imap.SeqSet
	var uids imap.UIDSet
	var matched []uint32
	for i, uid := range v.uids {
		m := sr.byUID[uid]
		if m == nil {
			continue // expunged meanwhile
		}
		ok := sr.match(m, uint32(i+1), criteria)
		if sr.err != nil {
			return nil, s.fail("search", sr.err)
		}
		if !ok {
			continue
		}
		matched = append(matched, uid)
		n := uint32(i + 1)
		if kind == imapserver.NumKindUID {
			n = uid
			uids.AddNum(imap.UID(uid))
		} else {
			seqs.AddNum(n)
		}
		if data.Min == 0 {
			data.Min = n
		}
		data.Max = n
		data.Count++
	}
	if kind == imapserver.NumKindUID {
		data.All = uids
	} else {
		data.All = seqs
	}
	if options.ReturnSave {
		v.saved = matched
	}
	return data, nil
}

// needsMeta reports whether the criteria look at message metadata (flags,
// dates, sizes, headers) rather than only at UIDs, sequence numbers and
// full-text hits.
func needsMeta(c *imap.SearchCriteria) bool {
	if !c.Since.IsZero() || !c.Before.IsZero() || !c.SentSince.IsZero() || !c.SentBefore.IsZero() ||
		len(c.Header) > 0 || len(c.Flag) > 0 || len(c.NotFlag) > 0 || c.Larger > 0 || c.Smaller > 0 {
		return true
	}
	for i := range c.Not {
		if needsMeta(&c.Not[i]) {
			return true
		}
	}
	for i := range c.Or {
		if needsMeta(&c.Or[i][0]) || needsMeta(&c.Or[i][1]) {
			return true
		}
	}
	return false
}

// prepare runs the full-text queries of the criteria tree.
func (sr *searcher) prepare(c *imap.SearchCriteria) error {
	// BODY matches the body only; TEXT the header and body (RFC 9051 section 6.4.4).
	for _, q := range []struct {
		key      string
		terms    []string
		bodyOnly bool
	}{{"b:", c.Body, true}, {"t:", c.Text, false}} {
		for _, t := range q.terms {
			if _, ok := sr.text[q.key+t]; ok {
				continue
			}
			hits, err := sr.fullText(t, q.bodyOnly)
			if err != nil {
				return err
			}
			sr.text[q.key+t] = hits
		}
	}
	for i := range c.Not {
		if err := sr.prepare(&c.Not[i]); err != nil {
			return err
		}
	}
	for i := range c.Or {
		if err := sr.prepare(&c.Or[i][0]); err != nil {
			return err
		}
		if err := sr.prepare(&c.Or[i][1]); err != nil {
			return err
		}
	}
	return nil
}

// fullText returns the UIDs of the selected mailbox whose indexed text
// (subject, addresses, body; only the body when bodyOnly) contains every
// word of t. A nil map means "everything" (t has no word at all).
func (sr *searcher) fullText(t string, bodyOnly bool) (map[uint32]bool, error) {
	if !strings.ContainsFunc(t, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) {
		return nil, nil
	}
	v := sr.s.sel
	hits := map[uint32]bool{}
	for off := 0; ; off += searchPage {
		ms, err := sr.s.srv.opts.Core.Search(sr.s.ctx, sr.s.user.ID, core.SearchQuery{Text: t, BodyOnly: bodyOnly, MailboxID: v.mb.ID, Offset: off, Limit: searchPage})
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			if m.MailboxID == v.mb.ID {
				hits[m.UID] = true
			}
		}
		if len(ms) < searchPage {
			return hits, nil
		}
	}
}

func dateOnly(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

func (sr *searcher) match(m *core.Message, seq uint32, c *imap.SearchCriteria) bool {
	v := sr.s.sel
	for _, set := range c.SeqNum {
		if !seqContains(set, seq, uint32(len(v.uids))) {
			return false
		}
	}
	for _, set := range c.UID {
		if imap.IsSearchRes(set) {
			if !sr.saved[m.UID] {
				return false
			}
		} else if !uidContains(set, m.UID, sr.high) {
			return false
		}
	}
	idate := dateOnly(m.InternalDate)
	if !c.Since.IsZero() && idate.Before(dateOnly(c.Since)) {
		return false
	}
	if !c.Before.IsZero() && !idate.Before(dateOnly(c.Before)) {
		return false
	}
	sent := m.Date
	if sent.IsZero() {
		sent = m.InternalDate
	}
	sdate := dateOnly(sent)
	if !c.SentSince.IsZero() && sdate.Before(dateOnly(c.SentSince)) {
		return false
	}
	if !c.SentBefore.IsZero() && !sdate.Before(dateOnly(c.SentBefore)) {
		return false
	}
	for _, h := range c.Header {
		if !sr.matchHeader(m, h.Key, h.Value) {
			return false
		}
	}
	for _, t := range c.Body {
		if hits := sr.text["b:"+t]; hits != nil && !hits[m.UID] {
			return false
		}
	}
	for _, t := range c.Text {
		if hits := sr.text["t:"+t]; hits != nil && !hits[m.UID] {
			return false
		}
	}
	for _, f := range c.Flag {
		if !sr.hasFlag(m, f) {
			return false
		}
	}
	for _, f := range c.NotFlag {
		if sr.hasFlag(m, f) {
			return false
		}
	}
	if c.Larger > 0 && m.Size <= c.Larger {
		return false
	}
	if c.Smaller > 0 && m.Size >= c.Smaller {
		return false
	}
	for i := range c.Not {
		if sr.match(m, seq, &c.Not[i]) {
			return false
		}
	}
	for i := range c.Or {
		if !sr.match(m, seq, &c.Or[i][0]) && !sr.match(m, seq, &c.Or[i][1]) {
			return false
		}
	}
	return true
}

func (sr *searcher) hasFlag(m *core.Message, f imap.Flag) bool {
	if strings.EqualFold(string(f), string(flagRecent)) {
		return sr.s.sel.recent.Contains(imap.UID(m.UID))
	}
	return hasFlag(m.Flags, string(f))
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}

func addrMatch(as []core.Address, v string) bool {
	for _, a := range as {
		if containsFold(a.Name, v) || containsFold(a.Address, v) || containsFold(a.Name+" <"+a.Address+">", v) {
			return true
		}
	}
	return false
}

// matchHeader applies a FROM/TO/CC/SUBJECT/HEADER key: a case-insensitive
// substring match (RFC 9051 section 6.4.4).
func (sr *searcher) matchHeader(m *core.Message, key, value string) bool {
	switch strings.ToLower(key) {
	case "from":
		return addrMatch(m.From, value)
	case "to":
		return addrMatch(m.To, value)
	case "cc":
		return addrMatch(m.Cc, value)
	case "subject":
		return containsFold(m.Subject, value)
	}
	h, ok := sr.headers[m.UID]
	if !ok {
		raw, err := sr.s.srv.opts.Core.ReadHeader(sr.s.ctx, *m)
		if err != nil {
			sr.err = err
			return false
		}
		h = parseHeader(raw)
		sr.headers[m.UID] = h
	}
	vals := h.Values(key)
	for _, x := range vals {
		if containsFold(x, value) {
			return true
		}
	}
	return false
}

// bounds returns a range of a sequence or UID set in ascending order, with
// "*" (stored as 0) standing for star: the last sequence number or the
// highest UID (RFC 9051 section 9, seq-range: "4:2" is "2:4").
func bounds(start, stop, star uint32) (uint32, uint32) {
	if start == 0 {
		start = star
	}
	if stop == 0 {
		stop = star
	}
	if start > stop {
		start, stop = stop, start
	}
	return start, stop
}

func seqContains(set imap.SeqSet, n, total uint32) bool {
	for _, r := range set {
		a, b := bounds(r.Start, r.Stop, total)
		if n >= a && n <= b {
			return true
		}
	}
	return false
}

func uidContains(set imap.UIDSet, uid, high uint32) bool {
	for _, r := range set {
		a, b := bounds(uint32(r.Start), uint32(r.Stop), high)
		if uid >= a && uid <= b {
			return true
		}
	}
	return false
}
