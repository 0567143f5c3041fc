package imap

import (
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/stamp-mail/stamp/core"
)

// searchPage is how many full-text hits one svc.Search call returns (the
// backends cap a page at 1000).
const searchPage = 1000

// searcher evaluates SEARCH criteria over the selected mailbox: flags,
// sizes, dates, UIDs and sequence numbers from the view; text and header
// keys and SENT* dates by storage (core.SearchUIDs: the substring index and
// the stored Date day), one query per distinct key, never by reading
// message bytes.
type searcher struct {
	s     *session
	saved map[uint32]bool     // the SEARCHRES result, by UID
	hits  map[string][]uint32 // UIDs (ascending) matching each storage key
	high  uint32              // largest UID in the view, for "*"
}

// searchReq is a parsed SEARCH: RETURN options (RFC 4731 ESEARCH, RFC
// 5182 SEARCHRES) and the criteria.
type searchReq struct {
	esearch bool // RETURN given (or IMAP4rev2)
	returnOpts
	criteria imap.SearchCriteria
}

// returnOpts are the RETURN options of SEARCH (RFC 4731, RFC 5182 SAVE)
// and SORT (RFC 5267 ESORT, which has no SAVE).
type returnOpts struct {
	min, max, all, count, save bool
}

// returnOptions reads "RETURN (" options ")" SP if it comes next, and
// reports whether it did; with none that reports a result, ALL is meant.
// cmd names the command in the error for an unknown option.
func (p *parser) returnOptions(cmd string, saveOK bool) (returnOpts, bool) {
	var o returnOpts
	if !p.peekWord("RETURN") {
		return o, false
	}
	p.atom()
	p.sp()
	p.list(true, func() {
		switch w := strings.ToUpper(p.atom()); {
		case w == "MIN":
			o.min = true
		case w == "MAX":
			o.max = true
		case w == "ALL":
			o.all = true
		case w == "COUNT":
			o.count = true
		case w == "SAVE" && saveOK:
			o.save = true
		default:
			p.fail("Unknown %s return option", cmd)
		}
	})
	p.sp()
	if !o.min && !o.max && !o.count && !o.save {
		o.all = true
	}
	return o, true
}

// cmdSearch: SEARCH and UID SEARCH (RFC 9051 section 6.4.4).
func cmdSearch(s *session, c *command, p *parser) error {
	uid := c.name == "UID SEARCH"
	r := &searchReq{}
	r.returnOpts, r.esearch = p.returnOptions("SEARCH", true)
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
	sr := &searcher{s: s, hits: map[string][]uint32{}, saved: map[uint32]bool{}, high: v.maxUID()}
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
	for i, uid := range v.uids {
		if v.gone[uid] {
			continue
		}
		if !sr.match(i, criteria) {
			continue
		}
		matched = append(matched, uid)
		if withMod {
			mods = append(mods, v.modseqs.at(i))
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
	writeESearch(w, tag, uidMode, nums, r.returnOpts)
	if ms := searchResultModSeq(r, mods); ms > 0 {
		w.raw(" MODSEQ ")
		w.num64(ms)
	}
	w.crlf()
	return nil
}

// writeESearch writes "* ESEARCH (TAG ...) [UID]" and the results the
// RETURN options ask for (RFC 4731 section 3.1), without the line end.
// MIN and MAX are the first and last of nums: the smallest and largest for
// SEARCH, the first and last in sort order for SORT (RFC 5267 section 3.2).
func writeESearch(w *respWriter, tag string, uidMode bool, nums []uint32, o returnOpts) {
	w.raw(`* ESEARCH (TAG "`)
	w.raw(tag)
	w.raw(`")`)
	if uidMode {
		w.raw(" UID")
	}
	if len(nums) > 0 {
		if o.min {
			w.raw(" MIN ")
			w.num(nums[0])
		}
		if o.max {
			w.raw(" MAX ")
			w.num(nums[len(nums)-1])
		}
		if o.all {
			w.raw(" ALL ")
			writeSet(w, nums) // in SORT's order, ascending runs become ranges
		}
	}
	if o.count {
		w.raw(" COUNT ")
		w.num(uint32(len(nums)))
	}
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

// storage keys of the criteria answered by core.SearchUIDs.
func bodyKey(t string) string { return "b\x00" + t }
func textKey(t string) string { return "t\x00" + t }
func headerKey(h imap.SearchCriteriaHeaderField) string {
	return "h\x00" + strings.ToLower(h.Key) + "\x00" + h.Value
}
func sentKey(c *imap.SearchCriteria) string {
	return "s\x00" + c.SentSince.Format(time.DateOnly) + "\x00" + c.SentBefore.Format(time.DateOnly)
}

// prepare runs, once per distinct key, the criteria that storage answers
// (RFC 9051 section 6.4.4): BODY and TEXT as case-insensitive substrings of
// the decoded text (the trigram index for words of 4+ characters, 3+ in
// headers or CJK, a scan of the indexed text of this folder for others),
// HEADER/FROM/TO/CC/BCC/SUBJECT as substrings of the decoded field (an empty HEADER value: the
// field is present), SENTBEFORE/SENTON/SENTSINCE on the Date header's own
// calendar day.
func (sr *searcher) prepare(c *imap.SearchCriteria) error {
	type query struct {
		key string
		q   core.SearchQuery
	}
	var qs []query
	for _, t := range c.Body {
		qs = append(qs, query{bodyKey(t), core.SearchQuery{Body: []string{t}}})
	}
	for _, t := range c.Text {
		qs = append(qs, query{textKey(t), core.SearchQuery{AnyText: []string{t}}})
	}
	for _, h := range c.Header {
		if h.Key == searchEmailID || h.Key == searchThreadID {
			if err := sr.prepareObjectID(h); err != nil {
				return err
			}
			continue
		}
		qs = append(qs, query{headerKey(h), core.SearchQuery{Header: []core.HeaderTerm{{Name: h.Key, Value: h.Value}}}})
	}
	if !c.SentSince.IsZero() || !c.SentBefore.IsZero() {
		qs = append(qs, query{sentKey(c), core.SearchQuery{SentSince: c.SentSince, SentBefore: c.SentBefore}})
	}
	for _, q := range qs {
		if _, ok := sr.hits[q.key]; ok {
			continue
		}
		q.q.MailboxID = sr.s.sel.mb.ID
		uids, err := sr.s.srv.opts.Core.SearchUIDs(sr.s.ctx, sr.s.user.ID, q.q)
		if err != nil {
			return err
		}
		sr.hits[q.key] = uids
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

// prepareObjectID resolves SEARCH EMAILID/THREADID (RFC 8474 section 6,
// objectid.go) to the UIDs of this mailbox: an EMAILID names a message id
// the view holds, a THREADID the thread's messages (core.Thread).
func (sr *searcher) prepareObjectID(h imap.SearchCriteriaHeaderField) error {
	key := headerKey(h)
	if _, ok := sr.hits[key]; ok {
		return nil
	}
	v := sr.s.sel
	var uids []uint32
	if h.Key == searchEmailID {
		if id, err := core.ParseObjectID('M', h.Value); err == nil {
			if i := slices.Index(v.ids, id); i >= 0 {
				uids = []uint32{v.uids[i]}
			}
		}
	} else if tid, err := core.ParseObjectID('T', h.Value); err == nil {
		ms, err := sr.s.srv.opts.Core.Thread(sr.s.ctx, sr.s.user.ID, tid)
		if err != nil && !errors.Is(err, core.ErrNotFound) {
			return err
		}
		for _, m := range ms {
			if m.MailboxID == v.mb.ID {
				uids = append(uids, m.UID)
			}
		}
		slices.Sort(uids)
	}
	sr.hits[key] = uids
	return nil
}

// hit reports whether uid is among the storage key's matches.
func (sr *searcher) hit(key string, uid uint32) bool {
	_, ok := slices.BinarySearch(sr.hits[key], uid)
	return ok
}

func dateOnly(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// match evaluates the criteria for the message at view index i.
func (sr *searcher) match(i int, c *imap.SearchCriteria) bool {
	v := sr.s.sel
	uid := v.uids[i]
	for _, set := range c.SeqNum {
		if !seqContains(set, uint32(i+1), uint32(len(v.uids))) {
			return false
		}
	}
	for _, set := range c.UID {
		if imap.IsSearchRes(set) {
			if !sr.saved[uid] {
				return false
			}
		} else if !uidContains(set, uid, sr.high) {
			return false
		}
	}
	for _, f := range c.Flag {
		if !sr.hasFlag(i, f) {
			return false
		}
	}
	for _, f := range c.NotFlag {
		if sr.hasFlag(i, f) {
			return false
		}
	}
	if !matchModSeq(&core.Message{ModSeq: v.modseqs.at(i)}, c) {
		return false
	}
	if size := v.sizes[i]; c.Larger > 0 && size <= c.Larger || c.Smaller != 0 && size >= c.Smaller {
		return false
	}
	if !c.Since.IsZero() || !c.Before.IsZero() {
		idate := dateOnly(time.Unix(v.dates[i], 0).UTC())
		if !c.Since.IsZero() && idate.Before(dateOnly(c.Since)) {
			return false
		}
		if !c.Before.IsZero() && !idate.Before(dateOnly(c.Before)) {
			return false
		}
	}
	if (!c.SentSince.IsZero() || !c.SentBefore.IsZero()) && !sr.hit(sentKey(c), uid) {
		return false
	}
	for _, h := range c.Header {
		if !sr.hit(headerKey(h), uid) {
			return false
		}
	}
	for _, t := range c.Body {
		if !sr.hit(bodyKey(t), uid) {
			return false
		}
	}
	for _, t := range c.Text {
		if !sr.hit(textKey(t), uid) {
			return false
		}
	}
	for k := range c.Not {
		if sr.match(i, &c.Not[k]) {
			return false
		}
	}
	for k := range c.Or {
		if !sr.match(i, &c.Or[k][0]) && !sr.match(i, &c.Or[k][1]) {
			return false
		}
	}
	return true
}

// hasFlag answers a flag key from the view (\Recent from the session).
func (sr *searcher) hasFlag(i int, f imap.Flag) bool {
	v := sr.s.sel
	if strings.EqualFold(string(f), string(flagRecent)) {
		return v.recent.Contains(imap.UID(v.uids[i]))
	}
	return hasFlag(v.flagsAt(i), string(f))
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
