package imap

import (
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-imap/v2"

	"github.com/stamp-mail/stamp/core"
	"github.com/stamp-mail/stamp/message/structure"
)

// searchPage is how many full-text hits one svc.Search call returns (the
// backends cap a page at 1000).
const searchPage = 1000

// searcher evaluates SEARCH criteria over the selected mailbox's metadata.
// BODY and TEXT keys are answered by core's full-text index, other HEADER
// keys than FROM/TO/CC/SUBJECT by the header section: never by bodies.
type searcher struct {
	s       *session
	headers map[uint32][]kv
	saved   map[uint32]bool            // the SEARCHRES result, by UID
	hits    map[string]map[uint32]bool // indexed BODY ("b:") and TEXT ("t:") terms
	textUID uint32                     // message whose body text is in text1
	textOK  bool
	text1   string
	high    uint32 // largest UID in the view, for "*"
	err     error
}

// searchReq is a parsed SEARCH: RETURN options (RFC 4731 ESEARCH, RFC
// 5182 SEARCHRES) and the criteria.
type searchReq struct {
	esearch                    bool // RETURN given (or IMAP4rev2)
	min, max, all, count, save bool
	criteria                   imap.SearchCriteria
}

// cmdSearch: SEARCH and UID SEARCH (RFC 9051 section 6.4.4).
func cmdSearch(s *session, c *command, p *parser) error {
	uid := c.name == "UID SEARCH"
	r := &searchReq{}
	if p.peekWord("RETURN") {
		p.atom()
		p.sp()
		r.esearch = true
		p.list(true, func() {
			switch strings.ToUpper(p.atom()) {
			case "MIN":
				r.min = true
			case "MAX":
				r.max = true
			case "ALL":
				r.all = true
			case "COUNT":
				r.count = true
			case "SAVE":
				r.save = true
			default:
				p.fail("Unknown SEARCH return option")
			}
		})
		p.sp()
		if !r.min && !r.max && !r.count && !r.save {
			r.all = true
		}
	}
	if p.peekWord("CHARSET") {
		p.atom()
		p.sp()
		cs := strings.ToUpper(p.astring())
		if p.err == nil && cs != "UTF-8" && cs != "US-ASCII" {
			return imapErr(imap.ResponseCode("BADCHARSET (UTF-8 US-ASCII)"), "Unsupported charset")
		}
		p.sp()
	}
	p.searchKeys(&r.criteria)
	if p.end(); p.err != nil {
		return p.err
	}
	if s.rev2 && !r.esearch {
		r.esearch, r.all = true, true
	}
	if hasModSeq(&r.criteria) {
		s.enableCondStore()
	}
	return s.search(c.tag, uid, r)
}

// peekWord reports whether the next atom is w (case-insensitive) followed
// by a space.
func (p *parser) peekWord(w string) bool {
	if p.err != nil || p.pos+len(w) >= len(p.b) {
		return false
	}
	return strings.EqualFold(string(p.b[p.pos:p.pos+len(w)]), w) && p.b[p.pos+len(w)] == ' '
}

// searchKeys reads one or more search keys (ANDed) into c.
func (p *parser) searchKeys(c *imap.SearchCriteria) {
	p.searchKey(c)
	for p.err == nil && p.consume(' ') {
		p.searchKey(c)
	}
}

// searchKey reads one search key (RFC 9051 section 9, search-key).
func (p *parser) searchKey(c *imap.SearchCriteria) {
	if p.err != nil {
		return
	}
	if p.peek() == '(' {
		p.list(false, func() { p.searchKey(c) })
		return
	}
	if p.isSet() {
		switch set := p.numSet(false).(type) {
		case imap.SeqSet:
			c.SeqNum = append(c.SeqNum, set)
		case imap.UIDSet: // "$" (RFC 5182), the saved result, kept by UID
			c.UID = append(c.UID, set)
		}
		return
	}
	key := strings.ToUpper(p.atom())
	str := func() string { p.sp(); return p.astring() }
	date := func() time.Time { p.sp(); return p.date() }
	flag := func(f imap.Flag) { c.Flag = append(c.Flag, f) }
	notFlag := func(f imap.Flag) { c.NotFlag = append(c.NotFlag, f) }
	switch key {
	case "ALL":
	case "ANSWERED":
		flag(imap.FlagAnswered)
	case "DELETED":
		flag(imap.FlagDeleted)
	case "DRAFT":
		flag(imap.FlagDraft)
	case "FLAGGED":
		flag(imap.FlagFlagged)
	case "SEEN":
		flag(imap.FlagSeen)
	case "RECENT":
		flag(flagRecent)
	case "NEW":
		flag(flagRecent)
		notFlag(imap.FlagSeen)
	case "OLD":
		notFlag(flagRecent)
	case "UNANSWERED":
		notFlag(imap.FlagAnswered)
	case "UNDELETED":
		notFlag(imap.FlagDeleted)
	case "UNDRAFT":
		notFlag(imap.FlagDraft)
	case "UNFLAGGED":
		notFlag(imap.FlagFlagged)
	case "UNSEEN":
		notFlag(imap.FlagSeen)
	case "KEYWORD":
		p.sp()
		flag(imap.Flag(p.flag(false)))
	case "UNKEYWORD":
		p.sp()
		notFlag(imap.Flag(p.flag(false)))
	case "BCC", "CC", "FROM", "TO", "SUBJECT":
		c.Header = append(c.Header, imap.SearchCriteriaHeaderField{Key: key, Value: str()})
	case "HEADER":
		k := str()
		c.Header = append(c.Header, imap.SearchCriteriaHeaderField{Key: k, Value: str()})
	case "BODY":
		c.Body = append(c.Body, str())
	case "TEXT":
		c.Text = append(c.Text, str())
	case "BEFORE":
		c.Before = laterOf(c.Before, date(), false)
	case "SINCE":
		c.Since = laterOf(c.Since, date(), true)
	case "ON":
		d := date()
		c.Since = laterOf(c.Since, d, true)
		c.Before = laterOf(c.Before, d.AddDate(0, 0, 1), false)
	case "SENTBEFORE":
		c.SentBefore = laterOf(c.SentBefore, date(), false)
	case "SENTSINCE":
		c.SentSince = laterOf(c.SentSince, date(), true)
	case "SENTON":
		d := date()
		c.SentSince = laterOf(c.SentSince, d, true)
		c.SentBefore = laterOf(c.SentBefore, d.AddDate(0, 0, 1), false)
	case "LARGER":
		p.sp()
		n := int64(p.number64())
		c.Larger = max(c.Larger, n)
	case "SMALLER":
		p.sp()
		n := int64(p.number64())
		if c.Smaller == 0 || n < c.Smaller {
			c.Smaller = n
		}
		if n == 0 {
			c.Smaller = -1 // matches nothing
		}
	case "MODSEQ":
		p.searchModSeq(c)
	case "EMAILID", "THREADID":
		p.searchObjectID(c, key)
	case "UID":
		p.sp()
		if set, ok := p.numSet(true).(imap.UIDSet); ok {
			c.UID = append(c.UID, set)
		}
	case "NOT":
		p.sp()
		var n imap.SearchCriteria
		p.depth++
		if p.depth > maxDepth {
			p.fail("Too deeply nested")
		}
		p.searchKey(&n)
		p.depth--
		c.Not = append(c.Not, n)
	case "OR":
		var a, b imap.SearchCriteria
		p.depth++
		if p.depth > maxDepth {
			p.fail("Too deeply nested")
		}
		p.sp()
		p.searchKey(&a)
		p.sp()
		p.searchKey(&b)
		p.depth--
		c.Or = append(c.Or, [2]imap.SearchCriteria{a, b})
	default:
		if p.err == nil {
			p.fail("Unknown search key %q", clip([]byte(key)))
		}
	}
}

// laterOf combines two bounds of the same kind: the tighter one wins.
func laterOf(old, t time.Time, since bool) time.Time {
	if old.IsZero() {
		return t
	}
	if since == t.After(old) {
		return t
	}
	return old
}

// search runs a parsed SEARCH over the selected mailbox.
func (s *session) search(tag string, uidMode bool, r *searchReq) error {
	v := s.sel
	criteria := &r.criteria
	// rows[i] is the row of view index i when header keys need rows (one
	// query); otherwise messages are made from the view as they are matched.
	var rows []core.Message
	subjects := subjectOnly(criteria) && len(v.subjects) == len(v.uids)
	if needsMeta(criteria) && !subjects {
		all := make([]int, len(v.uids))
		for i := range all {
			all[i] = i
		}
		ms, err := s.load(all)
		if err != nil {
			return s.fail("search", err)
		}
		rows = make([]core.Message, len(v.uids))
		j := 0
		for i, uid := range v.uids {
			for j < len(ms) && ms[j].UID < uid {
				j++
			}
			if j < len(ms) && ms[j].UID == uid {
				rows[i] = ms[j]
			}
		}
		v.subjects = make([]string, len(rows))
		for i := range rows {
			v.subjects[i] = rows[i].Subject
		}
	}
	sr := &searcher{s: s, hits: map[string]map[uint32]bool{}, headers: map[uint32][]kv{}, saved: map[uint32]bool{}, high: v.maxUID()}
	for _, u := range v.saved {
		sr.saved[u] = true
	}
	if err := sr.prepare(criteria); err != nil {
		return s.fail("search", err)
	}
	var nums []uint32
	var matched []uint32
	var mods []uint64 // MODSEQs of the matches, for SEARCH MODSEQ (condstore.go)
	withMod := hasModSeq(criteria)
	var cur core.Message
	for i, uid := range v.uids {
		if v.gone[uid] {
			continue
		}
		m := &cur
		if rows != nil {
			if rows[i].UID != uid {
				continue // expunged meanwhile
			}
			m = &rows[i]
		} else {
			cur = v.msg(i, v.mb.ID)
			if subjects {
				cur.Subject, cur.HeaderSize = v.subjects[i], -1 // -1: subject known, no row
			}
		}
		ok := sr.match(m, uint32(i+1), criteria)
		if sr.err != nil {
			return s.fail("search", sr.err)
		}
		if !ok {
			continue
		}
		matched = append(matched, uid)
		if withMod {
			mods = append(mods, m.ModSeq)
		}
		if uidMode {
			nums = append(nums, uid)
		} else {
			nums = append(nums, uint32(i+1))
		}
	}
	if r.save {
		v.saved = matched
	}
	w := s.w
	w.lock()
	defer w.unlock()
	if !r.esearch {
		w.raw("* SEARCH")
		for _, n := range nums {
			w.sp()
			w.num(n)
		}
		if ms := searchResultModSeq(r, mods); ms > 0 {
			w.raw(" (MODSEQ ")
			w.num64(ms)
			w.byte1(')')
		}
		w.crlf()
		return nil
	}
	if r.save && !r.min && !r.max && !r.all && !r.count {
		return nil // RFC 5182 section 2.4: SAVE alone sends no ESEARCH
	}
	w.raw(`* ESEARCH (TAG "`)
	w.raw(tag)
	w.raw(`")`)
	if uidMode {
		w.raw(" UID")
	}
	if len(nums) > 0 {
		if r.min {
			w.raw(" MIN ")
			w.num(nums[0])
		}
		if r.max {
			w.raw(" MAX ")
			w.num(nums[len(nums)-1])
		}
		if r.all {
			w.raw(" ALL ")
			writeSet(w, nums)
		}
	}
	if r.count {
		w.raw(" COUNT ")
		w.num(uint32(len(nums)))
	}
	if ms := searchResultModSeq(r, mods); ms > 0 {
		w.raw(" MODSEQ ")
		w.num64(ms)
	}
	w.crlf()
	return nil
}

// writeSet writes ascending numbers as a compact sequence set.
func writeSet(w *respWriter, nums []uint32) {
	for i := 0; i < len(nums); {
		j := i
		for j+1 < len(nums) && nums[j+1] == nums[j]+1 {
			j++
		}
		if i > 0 {
			w.byte1(',')
		}
		w.num(nums[i])
		if j > i {
			w.byte1(':')
			w.num(nums[j])
		}
		i = j + 1
	}
}

// subjectOnly reports whether the only row data the criteria need is the
// subject (SUBJECT keys with a value).
func subjectOnly(c *imap.SearchCriteria) bool {
	if !c.SentSince.IsZero() || !c.SentBefore.IsZero() {
		return false
	}
	for _, h := range c.Header {
		if !strings.EqualFold(h.Key, "subject") || h.Value == "" {
			return false
		}
	}
	for i := range c.Not {
		if !subjectOnly(&c.Not[i]) {
			return false
		}
	}
	for i := range c.Or {
		if !subjectOnly(&c.Or[i][0]) || !subjectOnly(&c.Or[i][1]) {
			return false
		}
	}
	return true
}

// needsMeta reports whether the criteria need the message rows (header
// keys, sent dates) rather than the view alone.
func needsMeta(c *imap.SearchCriteria) bool {
	if len(c.Header) > 0 || !c.SentSince.IsZero() || !c.SentBefore.IsZero() {
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

// prepare resolves BODY and TEXT terms of 3 or more characters up front
// through storage's substring index (core.SearchUIDs, RFC 9051 section
// 6.4.4 semantics); shorter needles are scanned in match.
func (sr *searcher) prepare(c *imap.SearchCriteria) error {
	for _, q := range []struct {
		prefix string
		terms  []string
	}{{"b:", c.Body}, {"t:", c.Text}} {
		for _, t := range q.terms {
			key := q.prefix + t
			if _, ok := sr.hits[key]; ok || utf8.RuneCountInString(t) < minIndexedRunes {
				continue
			}
			sq := core.SearchQuery{MailboxID: sr.s.sel.mb.ID}
			if q.prefix == "b:" {
				sq.Body = []string{t}
			} else {
				sq.AnyText = []string{t}
			}
			uids, err := sr.s.srv.opts.Core.SearchUIDs(sr.s.ctx, sr.s.user.ID, sq)
			if err != nil {
				return err
			}
			set := make(map[uint32]bool, len(uids))
			for _, u := range uids {
				set[u] = true
			}
			sr.hits[key] = set
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

func dateOnly(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

func (sr *searcher) match(m *core.Message, seq uint32, c *imap.SearchCriteria) bool {
	if sr.err != nil {
		return false
	}
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
	if !matchModSeq(m, c) {
		return false
	}
	if c.Larger > 0 && m.Size <= c.Larger {
		return false
	}
	if c.Smaller != 0 && m.Size >= c.Smaller {
		return false
	}
	idate := dateOnly(m.InternalDate)
	if !c.Since.IsZero() && idate.Before(dateOnly(c.Since)) {
		return false
	}
	if !c.Before.IsZero() && !idate.Before(dateOnly(c.Before)) {
		return false
	}
	if !c.SentSince.IsZero() || !c.SentBefore.IsZero() {
		// The Date header's own calendar date, disregarding time and zone
		// (RFC 9051 section 6.4.4); the internal date when it has none.
		sdate := idate
		if d, ok := fieldValue(sr.header(m), "Date"); ok {
			if t, err := mail.ParseDate(d); err == nil {
				sdate = dateOnly(t)
			}
		}
		if !c.SentSince.IsZero() && sdate.Before(dateOnly(c.SentSince)) {
			return false
		}
		if !c.SentBefore.IsZero() && !sdate.Before(dateOnly(c.SentBefore)) {
			return false
		}
	}
	for _, h := range c.Header {
		if !sr.matchHeader(m, h.Key, h.Value) {
			return false
		}
	}
	for _, t := range c.Body {
		if hits, ok := sr.hits["b:"+t]; ok {
			if !hits[m.UID] {
				return false
			}
		} else if !sr.matchText(m, t, false) {
			return false
		}
	}
	for _, t := range c.Text {
		if hits, ok := sr.hits["t:"+t]; ok {
			if !hits[m.UID] {
				return false
			}
		} else if !sr.matchText(m, t, true) {
			return false
		}
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

// foldKey lower-cases for case-insensitive substring matching.
func foldKey(s string) string { return strings.ToLower(s) }

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}

// header returns the message's header fields (read once per message).
func (sr *searcher) header(m *core.Message) []kv {
	if h, ok := sr.headers[m.UID]; ok {
		return h
	}
	full := m
	if full.HeaderSize <= 0 {
		// A view-only entry: load the row first.
		ms, err := sr.s.srv.opts.Core.MessagesByUID(sr.s.ctx, sr.s.user.ID, sr.s.sel.mb.ID, m.UID, m.UID)
		if err != nil || len(ms) == 0 {
			sr.err = err
			return nil
		}
		*m = ms[0]
	}
	raw, err := sr.s.srv.opts.Core.ReadHeader(sr.s.ctx, *full)
	if err != nil {
		sr.err = err
		return nil
	}
	h := fields(raw)
	for i := range h {
		h[i].V = decodeWords(h[i].V)
	}
	if len(sr.headers) > 1024 {
		clear(sr.headers)
	}
	sr.headers[m.UID] = h
	return h
}

// matchHeader applies a FROM/TO/CC/BCC/SUBJECT/HEADER key: a
// case-insensitive substring match of the decoded field (RFC 9051 section
// 6.4.4). HEADER with an empty value matches any message with the field.
func (sr *searcher) matchHeader(m *core.Message, key, value string) bool {
	if ok, handled := matchObjectID(m, key, value); handled {
		return ok
	}
	if strings.EqualFold(key, "subject") && value != "" && m.HeaderSize != 0 {
		// The row holds the decoded Subject: no header read.
		return containsFold(m.Subject, value)
	}
	h := sr.header(m)
	want := foldKey(value)
	addr := false
	switch strings.ToLower(key) {
	case "from", "to", "cc", "bcc", "sender", "reply-to":
		addr = true
	}
	for _, f := range h {
		if !strings.EqualFold(f.K, key) {
			continue
		}
		if want == "" || strings.Contains(foldKey(f.V), want) {
			return true
		}
		if addr {
			// Also the addresses as parsed, without comments or routes.
			for _, a := range structure.ParseAddressList(f.V) {
				if strings.Contains(foldKey(a.Name), want) || strings.Contains(foldKey(a.Mailbox+"@"+a.Host), want) {
					return true
				}
			}
		}
	}
	return false
}

// matchText applies BODY (the decoded text of the body parts) and TEXT
// (the header as well), as case-insensitive substrings.
func (sr *searcher) matchText(m *core.Message, t string, withHeader bool) bool {
	want := foldKey(t)
	if want == "" {
		return true
	}
	if withHeader {
		for _, f := range sr.header(m) {
			if strings.Contains(foldKey(f.V), want) || strings.Contains(foldKey(f.K), want) {
				return true
			}
		}
	}
	body, err := sr.bodyText(m)
	if err != nil {
		sr.err = err
		return false
	}
	return strings.Contains(body, want)
}

// bodyText returns the lower-cased decoded text of the message's leaf
// parts (the last message's is kept).
func (sr *searcher) bodyText(m *core.Message) (string, error) {
	if sr.textUID == m.UID && sr.textOK {
		return sr.text1, nil
	}
	if m.HeaderSize <= 0 {
		sr.header(m) // loads the row
		if sr.err != nil {
			return "", sr.err
		}
	}
	raw, err := sr.s.srv.opts.Core.ReadMessage(sr.s.ctx, *m)
	if err != nil {
		return "", err
	}
	root := parseMIME(raw)
	var b strings.Builder
	var walk func(p *part, depth int)
	walk = func(p *part, depth int) {
		if depth > maxMIMEDepth {
			return
		}
		switch {
		case p.Type == "multipart" && len(p.Children) > 0:
			for _, c := range p.Children {
				walk(c, depth+1)
			}
		case p.Msg != nil:
			for _, f := range fields(raw[p.Msg.Hdr:p.Msg.Body]) {
				b.WriteString(decodeWords(f.V))
				b.WriteByte('\n')
			}
			walk(p.Msg, depth+1)
		default:
			if data, err := decodePartBody(raw, p); err == nil {
				b.WriteString(toUTF8(data, paramValue(p.Params, "charset")))
				b.WriteByte('\n')
			}
		}
	}
	walk(root, 0)
	sr.textUID, sr.textOK, sr.text1 = m.UID, true, foldKey(b.String())
	return sr.text1, nil
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

// minIndexedRunes is the shortest needle storage's substring index finds
// (storage.MinIndexedRunes); shorter ones are scanned here.
const minIndexedRunes = 3
