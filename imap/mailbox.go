package imap

import (
	"errors"
	"sort"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"

	"github.com/stamp-mail/stamp/core"
	"github.com/stamp-mail/stamp/storage"
)

// roleAttrs maps mailbox roles to RFC 6154 special-use attributes.
var roleAttrs = map[string]imap.MailboxAttr{
	storage.RoleSent:    imap.MailboxAttrSent,
	storage.RoleDrafts:  imap.MailboxAttrDrafts,
	storage.RoleJunk:    imap.MailboxAttrJunk,
	storage.RoleTrash:   imap.MailboxAttrTrash,
	storage.RoleArchive: imap.MailboxAttrArchive,
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
	mb       *core.Mailbox // nil for an implied parent
	children bool
	subChild bool // some descendant is subscribed
}

// List implements imapserver.Session: LIST (RFC 9051 section 6.3.9 with
// RFC 5258 LIST-EXTENDED, RFC 5819 LIST-STATUS, RFC 6154 SPECIAL-USE) and LSUB.
func (s *session) List(w *imapserver.ListWriter, ref string, patterns []string, options *imap.ListOptions) error {
	defer s.enter()()
	if (len(patterns) == 0 || len(patterns) == 1 && patterns[0] == "") && !options.SelectSubscribed {
		// The hierarchy delimiter and root name (RFC 9051 section 6.3.9).
		return w.WriteList(&imap.ListData{Attrs: []imap.MailboxAttr{imap.MailboxAttrNoSelect}, Delim: core.MailboxDelimiter})
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
	names := make([]string, 0, len(entries))
	for n := range entries {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		e := entries[n]
		if !matchAny(n, ref, patterns) {
			continue
		}
		subscribed := e.mb != nil && e.mb.Subscribed
		if options.SelectSubscribed && !subscribed && !(options.SelectRecursiveMatch && e.subChild) {
			continue
		}
		if options.SelectSpecialUse && (e.mb == nil || specialUse(e.mb.Role) == nil) {
			continue
		}
		if e.mb == nil && !(options.SelectSubscribed && options.SelectRecursiveMatch) && !strings.Contains(strings.Join(patterns, " "), "%") {
			// "*" already lists the children; an implied parent is only
			// reported for "%" (RFC 9051 section 6.3.9) or RECURSIVEMATCH.
			continue
		}
		data := &imap.ListData{Delim: core.MailboxDelimiter, Mailbox: n}
		if e.mb == nil {
			data.Attrs = append(data.Attrs, imap.MailboxAttrNoSelect)
			if hasExtended(options) {
				data.Attrs = append(data.Attrs, imap.MailboxAttrNonExistent)
			}
		}
		if e.children {
			data.Attrs = append(data.Attrs, imap.MailboxAttrHasChildren)
		} else {
			data.Attrs = append(data.Attrs, imap.MailboxAttrHasNoChildren)
		}
		if subscribed && (options.ReturnSubscribed || options.SelectSubscribed) && !isLSub(options) {
			data.Attrs = append(data.Attrs, imap.MailboxAttrSubscribed)
		}
		if e.mb != nil {
			data.Attrs = append(data.Attrs, specialUse(e.mb.Role)...)
		}
		if options.SelectRecursiveMatch && !subscribed && e.subChild {
			data.ChildInfo = &imap.ListDataChildInfo{Subscribed: true}
		}
		if options.ReturnStatus != nil && e.mb != nil {
			data.Status = s.statusData(*e.mb, options.ReturnStatus)
		}
		if err := w.WriteList(data); err != nil {
			return err
		}
	}
	return nil
}

// isLSub recognises the options imapserver passes for LSUB.
func isLSub(o *imap.ListOptions) bool {
	return o.SelectSubscribed && !o.ReturnSubscribed && !o.SelectRecursiveMatch && o.ReturnStatus == nil && !o.ReturnChildren && !o.ReturnSpecialUse && !o.SelectSpecialUse
}

func hasExtended(o *imap.ListOptions) bool {
	return o.SelectSubscribed || o.SelectRemote || o.SelectRecursiveMatch || o.SelectSpecialUse ||
		o.ReturnSubscribed || o.ReturnChildren || o.ReturnStatus != nil || o.ReturnSpecialUse
}

// matchAny matches a name against LIST patterns; INBOX is case-insensitive
// (RFC 9051 section 5.1).
func matchAny(name, ref string, patterns []string) bool {
	for _, p := range patterns {
		if imapserver.MatchList(name, core.MailboxDelimiter, ref, p) {
			return true
		}
		if name == "INBOX" && strings.EqualFold(ref+p, "inbox") {
			return true
		}
	}
	return false
}

// Create implements imapserver.Session (RFC 9051 section 6.3.4, RFC 6154
// CREATE-SPECIAL-USE). Missing superior names are created too.
func (s *session) Create(name string, options *imap.CreateOptions) error {
	defer s.enter()()
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
	if _, err := s.srv.opts.Core.CreateMailbox(s.ctx, s.user.ID, name, role); err != nil {
		return s.fail("create", err)
	}
	return nil
}

func (s *session) ensureParents(name string) error {
	svc := s.srv.opts.Core
	for i := strings.IndexByte(name, core.MailboxDelimiter); i > 0; {
		p := name[:i]
		if _, err := svc.GetMailboxByName(s.ctx, s.user.ID, p); errors.Is(err, core.ErrNotFound) {
			if _, err := svc.CreateMailbox(s.ctx, s.user.ID, p, ""); err != nil && !errors.Is(err, core.ErrExists) {
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

// Delete implements imapserver.Session. INBOX and special-use folders are
// refused by core (NO [CANNOT]).
func (s *session) Delete(name string) error {
	defer s.enter()()
	mb, err := s.srv.opts.Core.GetMailboxByName(s.ctx, s.user.ID, normName(name))
	if err != nil {
		return s.fail("delete", err)
	}
	if err := s.srv.opts.Core.DeleteMailbox(s.ctx, s.user.ID, mb.ID); err != nil {
		return s.fail("delete", err)
	}
	return nil
}

// Rename implements imapserver.Session; children move along (core renames
// the whole "name/" subtree).
func (s *session) Rename(name, newName string, options *imap.RenameOptions) error {
	defer s.enter()()
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

// Subscribe implements imapserver.Session.
func (s *session) Subscribe(name string) error { return s.setSubscribed(name, true) }

// Unsubscribe implements imapserver.Session.
func (s *session) Unsubscribe(name string) error { return s.setSubscribed(name, false) }

func (s *session) setSubscribed(name string, on bool) error {
	defer s.enter()()
	svc := s.srv.opts.Core
	mb, err := svc.GetMailboxByName(s.ctx, s.user.ID, normName(name))
	if err != nil {
		return s.fail("subscribe", err)
	}
	if err := svc.SetSubscribed(s.ctx, s.user.ID, mb.ID, on); err != nil {
		return s.fail("subscribe", err)
	}
	return nil
}

// Status implements imapserver.Session (RFC 9051 section 6.3.11, RFC 8438
// STATUS=SIZE). Counts come from the mailbox row; RECENT and DELETED need
// a metadata listing and are computed only when asked.
func (s *session) Status(name string, options *imap.StatusOptions) (*imap.StatusData, error) {
	defer s.enter()()
	mb, err := s.srv.opts.Core.GetMailboxByName(s.ctx, s.user.ID, name)
	if err != nil {
		return nil, s.fail("status", err)
	}
	return s.statusData(mb, options), nil
}

func (s *session) statusData(mb core.Mailbox, o *imap.StatusOptions) *imap.StatusData {
	d := &imap.StatusData{Mailbox: mb.Name}
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
		d.AppendLimit = u32(int(s.AppendLimit()))
	}
	if o.NumRecent || o.NumDeleted {
		ms, err := s.srv.opts.Core.MessagesByUID(s.ctx, s.user.ID, mb.ID, 1, 0)
		if err != nil {
			s.log.Warn("status counts", "err", err)
		}
		mark := s.srv.recent.peek(mb.ID)
		recent, deleted := 0, 0
		for _, m := range ms {
			if m.UID > mark {
				recent++
			}
			for _, f := range m.Flags {
				if f == storage.FlagDeleted {
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
