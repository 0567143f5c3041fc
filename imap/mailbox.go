package imap

import (
	"errors"
	"slices"
	"sort"
	"strings"

	"github.com/emersion/go-imap/v2"

	"github.com/stamp-mail/stamp/core"
)

// roleAttrs maps mailbox roles to RFC 6154 special-use attributes.
var roleAttrs = map[string]imap.MailboxAttr{
	core.RoleSent:    imap.MailboxAttrSent,
	core.RoleDrafts:  imap.MailboxAttrDrafts,
	core.RoleJunk:    imap.MailboxAttrJunk,
	core.RoleTrash:   imap.MailboxAttrTrash,
	core.RoleArchive: imap.MailboxAttrArchive,
}

func specialUse(role string) []imap.MailboxAttr {
	if a, ok := roleAttrs[role]; ok {
		return []imap.MailboxAttr{a}
	}
	return nil
}

// normName strips a trailing delimiter (RFC 9051 section 6.3.4 allows one on
// CREATE) and spells a leading INBOX level in upper case (INBOX is
// case-insensitive, RFC 9051 section 5.1, also as a parent).
func normName(name string) string {
	name = strings.TrimSuffix(name, string(core.MailboxDelimiter))
	if len(name) >= 5 && strings.EqualFold(name[:5], "INBOX") && (len(name) == 5 || name[5] == core.MailboxDelimiter) {
		name = "INBOX" + name[5:]
	}
	return name
}

// listEntry is a mailbox or an implied parent of one (RFC 5258 \NonExistent).
type listEntry struct {
	name     string
	mb       *core.Mailbox // nil for an implied parent or a subscribed name
	children bool
	subChild bool // some descendant is subscribed
	nameSub  bool // a subscription to a name that is not a mailbox
}

// listOpts are LIST's selection and return options (RFC 5258, RFC 5819,
// RFC 6154).
type listOpts struct {
	lsub                                      bool
	subscribed, remote, recursive, specialUse bool // selection
	retSubscribed, retChildren, retSpecialUse bool // return
	extended                                  bool // any option given
	status                                    *statusOptions
}

// cmdList: LIST (RFC 9051 section 6.3.9 with LIST-EXTENDED, LIST-STATUS,
// SPECIAL-USE) and LSUB (RFC 3501 section 6.3.9).
func cmdList(s *session, c *command, p *parser) error {
	o := &listOpts{lsub: c.name == "LSUB"}
	if !o.lsub && p.peek() == '(' {
		o.extended = true
		p.list(true, func() {
			switch strings.ToUpper(p.atom()) {
			case "SUBSCRIBED":
				o.subscribed = true
			case "REMOTE":
				o.remote = true
			case "RECURSIVEMATCH":
				o.recursive = true
			case "SPECIAL-USE":
				o.specialUse = true
			default:
				p.fail("Unknown LIST selection option")
			}
		})
		p.sp()
		if o.recursive && !o.subscribed && !o.specialUse && p.err == nil {
			p.fail("RECURSIVEMATCH needs another selection option")
		}
	}
	ref := p.decodePattern(p.astring())
	p.sp()
	var patterns []string
	if !o.lsub && p.peek() == '(' {
		o.extended = true
		p.list(false, func() { patterns = append(patterns, p.decodePattern(p.listMailbox())) })
	} else {
		patterns = []string{p.decodePattern(p.listMailbox())}
	}
	if !o.lsub && p.consume(' ') {
		if a := p.atom(); !strings.EqualFold(a, "RETURN") && p.err == nil {
			p.fail("Expected RETURN")
		}
		p.sp()
		o.extended = true
		p.list(true, func() {
			switch strings.ToUpper(p.atom()) {
			case "SUBSCRIBED":
				o.retSubscribed = true
			case "CHILDREN":
				o.retChildren = true
			case "SPECIAL-USE":
				o.retSpecialUse = true
			case "STATUS":
				p.sp()
				o.status = p.statusAtts()
			default:
				p.fail("Unknown LIST return option")
			}
		})
	}
	if p.end(); p.err != nil {
		return p.err
	}
	for _, pt := range patterns {
		if len(pt)+len(ref) > 1024 {
			return p.failNow("Pattern too long")
		}
	}
	return s.list(ref, patterns, o)
}

// decodePattern decodes a reference or pattern from modified UTF-7; one
// that is not valid modified UTF-7 is matched as it is.
func (p *parser) decodePattern(raw string) string {
	if p.err != nil || p.utf8 {
		return raw
	}
	if n, err := decodeMUTF7(raw); err == nil {
		return n
	}
	return raw
}

func (s *session) list(ref string, patterns []string, o *listOpts) error {
	verb := "LIST"
	if o.lsub {
		verb = "LSUB"
	}
	if len(patterns) == 1 && patterns[0] == "" && !o.extended {
		// The hierarchy delimiter and root name (RFC 9051 section 6.3.9).
		s.untagged(verb + ` (\Noselect) "/" ""`)
		return nil
	}
	mbs, err := s.srv.opts.Core.ListMailboxes(s.ctx, s.user.ID)
	if err != nil {
		return s.fail("list", err)
	}
	entries := map[string]*listEntry{}
	for i := range mbs {
		mb := &mbs[i]
		e := entries[mb.Name]
		if e == nil {
			e = &listEntry{name: mb.Name}
			entries[mb.Name] = e
		}
		e.mb = mb
		// Register the parents, real or implied.
		for j := strings.LastIndexByte(mb.Name, core.MailboxDelimiter); j > 0; j = strings.LastIndexByte(mb.Name[:j], core.MailboxDelimiter) {
			p := entries[mb.Name[:j]]
			if p == nil {
				p = &listEntry{name: mb.Name[:j]}
				entries[p.name] = p
			}
			p.children = true
			if mb.Subscribed {
				p.subChild = true
			}
		}
	}
	selSub := o.subscribed || o.lsub
	if selSub || o.retSubscribed {
		subs, err := s.srv.opts.Core.NameSubscriptions(s.ctx, s.user.ID)
		if err != nil {
			return s.fail("list", err)
		}
		for _, n := range subs {
			e := entries[n]
			if e == nil {
				e = &listEntry{name: n}
				entries[n] = e
			}
			if e.mb == nil {
				e.nameSub = true
			}
			for j := strings.LastIndexByte(n, core.MailboxDelimiter); j > 0; j = strings.LastIndexByte(n[:j], core.MailboxDelimiter) {
				if p := entries[n[:j]]; p != nil {
					p.subChild = true
				}
			}
		}
	}
	names := make([]string, 0, len(entries))
	for n := range entries {
		names = append(names, n)
	}
	sort.Strings(names)
	hasPercent := strings.Contains(strings.Join(patterns, " "), "%")
	for _, n := range names {
		e := entries[n]
		if !matchAny(n, ref, patterns) {
			continue
		}
		subscribed := (e.mb != nil && e.mb.Subscribed) || e.nameSub
		if e.nameSub && !selSub {
			continue // only subscription listings show names without mailboxes
		}
		// RFC 5258 section 3.5: CHILDINFO for a subscribed descendant that
		// the patterns do not match themselves.
		childInfo := false
		if o.recursive && !subscribed && e.subChild {
			for _, d := range names {
				if de := entries[d]; strings.HasPrefix(d, n+"/") && (de.nameSub || de.mb != nil && de.mb.Subscribed) && !matchAny(d, ref, patterns) {
					childInfo = true
					break
				}
			}
		}
		if selSub && !subscribed && !childInfo && !(o.lsub && e.subChild && hasPercent) {
			continue
		}
		if o.specialUse && (e.mb == nil || specialUse(e.mb.Role) == nil) {
			continue
		}
		if e.mb == nil && !e.nameSub && !(selSub && (o.recursive || o.lsub)) && !hasPercent {
			// "*" already lists the children; an implied parent is only
			// reported for "%" (RFC 9051 section 6.3.9) or RECURSIVEMATCH.
			continue
		}
		var attrs []string
		switch {
		case e.mb == nil && o.extended:
			attrs = append(attrs, `\NonExistent`) // implies \Noselect (RFC 5258 section 3.4)
		case e.mb == nil || (o.lsub && !subscribed):
			attrs = append(attrs, `\Noselect`)
		}
		if !o.lsub {
			if e.children {
				attrs = append(attrs, `\HasChildren`)
			} else {
				attrs = append(attrs, `\HasNoChildren`)
			}
		}
		if subscribed && (o.retSubscribed || o.subscribed) {
			attrs = append(attrs, `\Subscribed`)
		}
		if e.mb != nil {
			for _, a := range specialUse(e.mb.Role) {
				attrs = append(attrs, string(a))
			}
		}
		w := s.w
		w.lock()
		w.raw("* " + verb + " (" + strings.Join(attrs, " ") + `) "/" `)
		w.mailbox(n)
		if childInfo {
			w.raw(` ("CHILDINFO" ("SUBSCRIBED"))`)
		}
		w.crlf()
		w.unlock()
		if o.status != nil && e.mb != nil {
			s.writeStatus(s.statusData(*e.mb, o.status))
		}
	}
	return s.w.failed()
}

// matchAny matches a name against LIST patterns; INBOX is case-insensitive
// (RFC 9051 section 5.1).
func matchAny(name, ref string, patterns []string) bool {
	for _, p := range patterns {
		if matchList(name, core.MailboxDelimiter, ref, p) {
			return true
		}
		if name == "INBOX" && strings.EqualFold(ref+p, "inbox") {
			return true
		}
	}
	return false
}

// cmdCreate: RFC 9051 section 6.3.4 with RFC 6154 CREATE-SPECIAL-USE
// ("CREATE name (USE (\\Sent))"). Missing superior names are created too.
func cmdCreate(s *session, c *command, p *parser) error {
	name := p.mailbox()
	var opts imap.CreateOptions
	if p.consume(' ') {
		p.list(false, func() {
			if a := p.atom(); !strings.EqualFold(a, "USE") && p.err == nil {
				p.fail("Unknown CREATE parameter")
			}
			p.sp()
			p.list(false, func() { opts.SpecialUse = append(opts.SpecialUse, imap.MailboxAttr(p.flag(false))) })
		})
	}
	if p.end(); p.err != nil {
		return p.err
	}
	if name == "" {
		return p.failNow("Empty mailbox name")
	}
	if p.badName {
		return imapErr(imap.ResponseCodeCannot, "Invalid mailbox name: not modified UTF-7")
	}
	return s.create(name, &opts)
}

func (s *session) create(name string, options *imap.CreateOptions) error {
	name = normName(name)
	role := ""
	if options != nil {
		if len(options.SpecialUse) > 1 {
			return errUseAttr
		}
		for _, a := range options.SpecialUse {
			role = ""
			for r, ra := range roleAttrs {
				if strings.EqualFold(string(ra), string(a)) {
					role = r
				}
			}
			if role == "" {
				return errUseAttr
			}
		}
	}
	if err := s.ensureParents(name); err != nil {
		return s.fail("create", err)
	}
	mb, err := s.createUnsubscribed(name, role)
	if err != nil {
		return s.fail("create", err)
	}
	return createdCode(mb)
}

func (s *session) ensureParents(name string) error {
	svc := s.srv.opts.Core
	for i := strings.IndexByte(name, core.MailboxDelimiter); i > 0; {
		p := name[:i]
		if _, err := svc.GetMailboxByName(s.ctx, s.user.ID, p); errors.Is(err, core.ErrNotFound) {
			if _, err := s.createUnsubscribed(p, ""); err != nil && !errors.Is(err, core.ErrExists) {
				return err
			}
		} else if err != nil {
			return err
		}
		j := strings.IndexByte(name[i+1:], core.MailboxDelimiter)
		if j < 0 {
			break
		}
		i += 1 + j
	}
	return nil
}

// cmdDelete: RFC 9051 section 6.3.5.
func cmdDelete(s *session, c *command, p *parser) error {
	name := p.mailbox()
	if p.end(); p.err != nil {
		return p.err
	}
	return s.delete(name)
}

// delete deletes a mailbox. INBOX and special-use folders are
// refused by core (NO [CANNOT]).
func (s *session) delete(name string) error {
	mb, err := s.srv.opts.Core.GetMailboxByName(s.ctx, s.user.ID, normName(name))
	if err != nil {
		return s.fail("delete", err)
	}
	if err := s.srv.opts.Core.DeleteMailbox(s.ctx, s.user.ID, mb.ID); err != nil {
		return s.fail("delete", err)
	}
	// DELETE keeps the subscription (RFC 9051 section 6.3.5).
	if mb.Subscribed {
		if err := s.srv.opts.Core.SetNameSubscription(s.ctx, s.user.ID, mb.Name, true); err != nil {
			return s.fail("delete", err)
		}
	}
	return nil
}

// cmdRename: RFC 9051 section 6.3.6.
func cmdRename(s *session, c *command, p *parser) error {
	from := p.mailbox()
	p.sp()
	to := p.mailbox()
	if p.end(); p.err != nil {
		return p.err
	}
	if to == "" {
		return p.failNow("Empty mailbox name")
	}
	if p.badName {
		return imapErr(imap.ResponseCodeCannot, "Invalid mailbox name: not modified UTF-7")
	}
	return s.rename(from, to)
}

// rename renames a mailbox; children move along (core renames
// the whole "name/" subtree).
func (s *session) rename(name, newName string) error {
	svc := s.srv.opts.Core
	mb, err := svc.GetMailboxByName(s.ctx, s.user.ID, normName(name))
	if err != nil {
		return s.fail("rename", err)
	}
	newName = normName(newName)
	if err := s.ensureParents(newName); err != nil {
		return s.fail("rename", err)
	}
	if err := svc.RenameMailbox(s.ctx, s.user.ID, mb.ID, newName); err != nil {
		return s.fail("rename", err)
	}
	return nil
}

// cmdSubscribe: SUBSCRIBE and UNSUBSCRIBE (RFC 9051 sections 6.3.7, 6.3.8).
func cmdSubscribe(s *session, c *command, p *parser) error {
	name := p.mailbox()
	if p.end(); p.err != nil {
		return p.err
	}
	return s.setSubscribed(name, c.name == "SUBSCRIBE")
}

func (s *session) setSubscribed(name string, on bool) error {
	svc := s.srv.opts.Core
	name = normName(name)
	mb, err := svc.GetMailboxByName(s.ctx, s.user.ID, name)
	if errors.Is(err, core.ErrNotFound) {
		// SUBSCRIBE needs a mailbox here (RFC 9051 section 6.3.7 lets the
		// server refuse); a subscription DELETE kept can still be removed.
		if on {
			return errNonExistent
		}
		subs, err := svc.NameSubscriptions(s.ctx, s.user.ID)
		if err != nil {
			return s.fail("unsubscribe", err)
		}
		if !slices.Contains(subs, name) {
			return errNonExistent
		}
		if err := svc.SetNameSubscription(s.ctx, s.user.ID, name, false); err != nil {
			return s.fail("unsubscribe", err)
		}
		return nil
	}
	if err != nil {
		return s.fail("subscribe", err)
	}
	if err := svc.SetSubscribed(s.ctx, s.user.ID, mb.ID, on); err != nil {
		return s.fail("subscribe", err)
	}
	if !on {
		if err := svc.SetNameSubscription(s.ctx, s.user.ID, name, false); err != nil {
			return s.fail("subscribe", err)
		}
	}
	return nil
}

// cmdStatus: RFC 9051 section 6.3.11 with RFC 8438 STATUS=SIZE and RFC
// 7889 APPENDLIMIT. Counts come from the mailbox row; RECENT and DELETED
// need a metadata listing and are computed only when asked.
func cmdStatus(s *session, c *command, p *parser) error {
	name := p.mailbox()
	p.sp()
	o := p.statusAtts()
	if p.end(); p.err != nil {
		return p.err
	}
	mb, err := s.srv.opts.Core.GetMailboxByName(s.ctx, s.user.ID, name)
	if err != nil {
		return s.fail("status", err)
	}
	s.writeStatus(s.statusData(mb, o))
	return nil
}

// statusAtts reads "(" status-att *(SP status-att) ")".
func (p *parser) statusAtts() *statusOptions {
	o := &statusOptions{}
	p.list(false, func() {
		switch name := strings.ToUpper(p.atom()); name {
		case "MESSAGES":
			o.NumMessages = true
		case "UIDNEXT":
			o.UIDNext = true
		case "UIDVALIDITY":
			o.UIDValidity = true
		case "UNSEEN":
			o.NumUnseen = true
		case "DELETED":
			o.NumDeleted = true
		case "SIZE":
			o.Size = true
		case "RECENT":
			o.NumRecent = true
		case "APPENDLIMIT":
			o.AppendLimit = true
		default:
			if !p.statusAttExt(name, o) {
				p.fail("Unknown STATUS item")
			}
		}
	})
	return o
}

// writeStatus writes "* STATUS name (items)".
func (s *session) writeStatus(d *statusData) {
	w := s.w
	w.lock()
	defer w.unlock()
	w.raw("* STATUS ")
	w.mailbox(d.Mailbox)
	w.raw(" (")
	sep := ""
	item := func(name string, n uint64) {
		w.raw(sep + name + " ")
		w.num64(n)
		sep = " "
	}
	if d.NumMessages != nil {
		item("MESSAGES", uint64(*d.NumMessages))
	}
	if d.UIDNext != 0 {
		item("UIDNEXT", uint64(d.UIDNext))
	}
	if d.UIDValidity != 0 {
		item("UIDVALIDITY", uint64(d.UIDValidity))
	}
	if d.NumUnseen != nil {
		item("UNSEEN", uint64(*d.NumUnseen))
	}
	if d.NumDeleted != nil {
		item("DELETED", uint64(*d.NumDeleted))
	}
	if d.Size != nil {
		item("SIZE", uint64(*d.Size))
	}
	if d.NumRecent != nil {
		item("RECENT", uint64(*d.NumRecent))
	}
	if d.AppendLimit != nil {
		item("APPENDLIMIT", uint64(*d.AppendLimit))
	}
	writeStatusExt(w, d, sep)
	w.raw(")\r\n")
}

func (s *session) statusData(mb core.Mailbox, o *statusOptions) *statusData {
	d := &statusData{StatusData: imap.StatusData{Mailbox: mb.Name}}
	s.statusDataExt(mb, o, d)
	u32 := func(n int) *uint32 { v := uint32(n); return &v }
	if o.NumMessages {
		d.NumMessages = u32(mb.Total)
	}
	if o.UIDNext {
		d.UIDNext = imap.UID(mb.UIDNext)
	}
	if o.UIDValidity {
		d.UIDValidity = mb.UIDValidity
	}
	if o.NumUnseen {
		d.NumUnseen = u32(mb.Unread)
	}
	if o.Size {
		size := mb.Size
		d.Size = &size
	}
	if o.AppendLimit {
		d.AppendLimit = u32(int(s.srv.opts.AppendLimit))
	}
	if o.NumRecent || o.NumDeleted {
		ms, err := s.srv.opts.Core.MessagesByUID(s.ctx, s.user.ID, mb.ID, 1, 0)
		if err != nil {
			s.log.Warn("status counts", "err", err)
		}
		mark, err := s.srv.opts.Core.RecentMark(s.ctx, s.user.ID, mb.ID)
		if err != nil {
			s.log.Warn("status recent", "err", err)
		}
		recent, deleted := 0, 0
		for _, m := range ms {
			if m.UID > mark {
				recent++
			}
			for _, f := range m.Flags {
				if f == core.FlagDeleted {
					deleted++
				}
			}
		}
		if o.NumRecent {
			d.NumRecent = u32(recent)
		}
		if o.NumDeleted {
			d.NumDeleted = u32(deleted)
		}
	}
	return d
}

// matchList matches a mailbox name against a LIST reference and pattern
// (RFC 9051 section 6.3.9): "*" matches anything, "%" anything but the
// delimiter. Time is O(len(name) * len(pattern)), whatever the pattern.
func matchList(name string, delim byte, ref, pattern string) bool {
	if strings.HasPrefix(pattern, string(delim)) && strings.HasSuffix(ref, string(delim)) {
		pattern = pattern[1:]
	}
	return matchPattern(name, delim, ref+pattern)
}

func matchPattern(name string, delim byte, pat string) bool {
	n := len(name)
	prev := make([]bool, n+1) // prev[j]: the pattern so far matches name[:j]
	cur := make([]bool, n+1)
	prev[0] = true
	for i := 0; i < len(pat); i++ {
		switch pat[i] {
		case '*':
			any := false
			for j := 0; j <= n; j++ {
				any = any || prev[j]
				cur[j] = any
			}
		case '%':
			any := false
			for j := 0; j <= n; j++ {
				if j > 0 && name[j-1] == delim {
					any = false
				}
				any = any || prev[j]
				cur[j] = any
			}
		default:
			cur[0] = false
			for j := 1; j <= n; j++ {
				cur[j] = prev[j-1] && name[j-1] == pat[i]
			}
		}
		prev, cur = cur, prev
	}
	return prev[n]
}

// createUnsubscribed creates a mailbox that is not subscribed: IMAP's
// CREATE does not subscribe (RFC 9051 section 6.3.4), although storage
// subscribes new folders for the other frontends.
func (s *session) createUnsubscribed(name, role string) (core.Mailbox, error) {
	svc := s.srv.opts.Core
	mb, err := svc.CreateMailbox(s.ctx, s.user.ID, name, role)
	if err != nil {
		return mb, err
	}
	// A subscription kept for the name (SUBSCRIBE before CREATE, or a
	// DELETE) applies to the new mailbox.
	subs, err := svc.NameSubscriptions(s.ctx, s.user.ID)
	if err != nil {
		return mb, err
	}
	mb.Subscribed = slices.Contains(subs, mb.Name)
	if err := svc.SetSubscribed(s.ctx, s.user.ID, mb.ID, mb.Subscribed); err != nil {
		return mb, err
	}
	if mb.Subscribed {
		err = svc.SetNameSubscription(s.ctx, s.user.ID, mb.Name, false)
	}
	return mb, err
}
