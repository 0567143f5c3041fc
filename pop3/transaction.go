package pop3

// msgArg resolves a message-number argument (RFC 1939 section 5) to an
// index into the maildrop, replying -ERR and returning false when it does
// not name an existing, undeleted message.
func (s *session) msgArg(arg string) (int, bool) {
	n, err := parseNumber(arg)
	if err != nil || n < 1 || n > len(s.drop.msgs) {
		s.reply("-ERR no such message")
		return 0, false
	}
	if s.drop.deleted[n-1] {
		s.reply("-ERR message %d already deleted", n)
		return 0, false
	}
	return n - 1, true
}

// stat is STAT (RFC 1939 section 5): count and total size of undeleted messages.
func (s *session) stat(cmd command) {
	if len(cmd.args) != 0 {
		s.bad++
		s.reply("-ERR STAT takes no arguments")
		return
	}
	count, total := 0, int64(0)
	for i := range s.drop.msgs {
		if s.drop.deleted[i] {
			continue
		}
		n, err := s.size(i)
		if err != nil {
			s.replyErr(err)
			return
		}
		count++
		total += n
	}
	s.reply("+OK %d %d", count, total)
}

// list is LIST [msg] (RFC 1939 section 5).
func (s *session) list(cmd command) {
	switch len(cmd.args) {
	case 0:
		// Sizes first, so that a failure is reported before "+OK".
		for i := range s.drop.msgs {
			if s.drop.deleted[i] {
				continue
			}
			if _, err := s.size(i); err != nil {
				s.replyErr(err)
				return
			}
		}
		s.reply("+OK scan listing follows")
		for i := range s.drop.msgs {
			if !s.drop.deleted[i] {
				s.reply("%d %d", i+1, s.drop.sizes[i])
			}
		}
		s.reply(".")
	case 1:
		i, ok := s.msgArg(cmd.args[0])
		if !ok {
			return
		}
		n, err := s.size(i)
		if err != nil {
			s.replyErr(err)
			return
		}
		s.reply("+OK %d %d", i+1, n)
	default:
		s.bad++
		s.reply("-ERR usage: LIST [msg]")
	}
}

// uidl is UIDL [msg] (RFC 1939 section 7).
func (s *session) uidl(cmd command) {
	switch len(cmd.args) {
	case 0:
		s.reply("+OK unique-id listing follows")
		for i := range s.drop.msgs {
			if !s.drop.deleted[i] {
				s.reply("%d %s", i+1, s.drop.uidl(i))
			}
		}
		s.reply(".")
	case 1:
		if i, ok := s.msgArg(cmd.args[0]); ok {
			s.reply("+OK %d %s", i+1, s.drop.uidl(i))
		}
	default:
		s.bad++
		s.reply("-ERR usage: UIDL [msg]")
	}
}

// dele is DELE msg (RFC 1939 section 5): mark only; QUIT removes.
func (s *session) dele(cmd command) {
	if len(cmd.args) != 1 {
		s.bad++
		s.reply("-ERR usage: DELE msg")
		return
	}
	if i, ok := s.msgArg(cmd.args[0]); ok {
		s.drop.deleted[i] = true
		s.reply("+OK message %d deleted", i+1)
	}
}

// rset is RSET (RFC 1939 section 5): unmark every deleted message.
func (s *session) rset(cmd command) {
	if len(cmd.args) != 0 {
		s.bad++
		s.reply("-ERR RSET takes no arguments")
		return
	}
	for i := range s.drop.deleted {
		s.drop.deleted[i] = false
	}
	s.reply("+OK maildrop has %d messages", len(s.drop.msgs))
}

// noop is NOOP (RFC 1939 section 5).
func (s *session) noop(cmd command) {
	if len(cmd.args) != 0 {
		s.bad++
		s.reply("-ERR NOOP takes no arguments")
		return
	}
	s.reply("+OK")
}

// quit is QUIT (RFC 1939 sections 4 and 6). In the TRANSACTION state it
// enters UPDATE: the messages marked deleted are expunged, which core
// announces to other sessions (IMAP IDLE, web) at once.
func (s *session) quit() bool {
	if s.state != stateTransaction {
		s.reply("+OK %s POP3 server signing off", s.srv.opts.Hostname)
		return true
	}
	s.state = stateUpdate
	var ids []int64
	for i, del := range s.drop.deleted {
		if del {
			ids = append(ids, s.drop.msgs[i].ID)
		}
	}
	var err error
	if len(ids) > 0 {
		_, err = s.srv.core.Expunge(s.ctx, s.user.ID, s.drop.mailbox.ID, ids)
	}
	// Release the lock before answering, so that a client reconnecting
	// right after QUIT is not told [IN-USE].
	s.unlockMaildrop(s.user.ID)
	if err != nil {
		// RFC 1939 section 6: -ERR when some messages could not be removed.
		s.replyErr(err)
		return true
	}
	s.log.Debug("update done", "deleted", len(ids))
	s.reply("+OK %s POP3 server signing off (%d messages deleted)", s.srv.opts.Hostname, len(ids))
	return true
}
