package imap

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-sasl"

	"github.com/stamp-mail/stamp/core/coretest"
)

const plainMsg = "From: Alice <alice@remote.example>\r\n" +
	"To: bob@example.test\r\n" +
	"Subject: Lunch plans\r\n" +
	"Date: Mon, 02 Mar 2026 10:00:00 +0000\r\n" +
	"Message-ID: <lunch-1@remote.example>\r\n" +
	"\r\n" +
	"Shall we meet for pizza tomorrow?\r\n"

const attachMsg = "From: Carol <carol@remote.example>\r\n" +
	"To: bob@example.test\r\n" +
	"Subject: Report attached\r\n" +
	"Date: Tue, 03 Mar 2026 11:00:00 +0000\r\n" +
	"Message-ID: <report-1@remote.example>\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: multipart/mixed; boundary=\"XYZ\"\r\n" +
	"\r\n" +
	"--XYZ\r\n" +
	"Content-Type: text/plain; charset=utf-8\r\n" +
	"\r\n" +
	"Quarterly numbers inside.\r\n" +
	"--XYZ\r\n" +
	"Content-Type: application/octet-stream; name=\"r.bin\"\r\n" +
	"Content-Disposition: attachment; filename=\"r.bin\"\r\n" +
	"Content-Transfer-Encoding: base64\r\n" +
	"\r\n" +
	"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\r\n" +
	"--XYZ--\r\n"

func TestAuthNeedsTLS(t *testing.T) {
	e := newEnv(t, Options{}) // no AllowInsecureAuth
	rc := e.raw(t)
	caps := rc.ok("CAPABILITY")
	if len(grep(caps, "LOGINDISABLED")) == 0 || len(grep(caps, "STARTTLS")) == 0 {
		t.Fatalf("capabilities before TLS: got %q, want LOGINDISABLED and STARTTLS", caps)
	}
	coretest.User(t, e.svc, "bob@example.test")
	if _, st := rc.cmd("LOGIN bob@example.test %q", coretest.Password); !strings.Contains(st, "NO [PRIVACYREQUIRED]") {
		t.Fatalf("LOGIN before TLS: got %q, want NO [PRIVACYREQUIRED]", st)
	}
	rc.starttls(e.tls)
	caps = rc.ok("CAPABILITY")
	if len(grep(caps, "LOGINDISABLED")) != 0 || len(grep(caps, "AUTH=PLAIN")) == 0 {
		t.Fatalf("capabilities after TLS: got %q, want AUTH=PLAIN without LOGINDISABLED", caps)
	}
	if _, st := rc.cmd("LOGIN bob@example.test wrong-password"); !strings.Contains(st, "NO [AUTHENTICATIONFAILED]") {
		t.Fatalf("wrong password: got %q, want NO [AUTHENTICATIONFAILED]", st)
	}
	rc.ok("LOGIN bob@example.test %q", coretest.Password)
	// The extensions offered after login: ext_test.go and condstore_test.go.
}

func TestUnknownCommandBeforeLogin(t *testing.T) {
	e := newEnv(t, Options{AllowInsecureAuth: true})
	rc := e.raw(t)
	rc.send("HELO there")
	if l := rc.line(); !strings.Contains(l, "BAD") && !strings.Contains(l, "BYE") {
		t.Fatalf("unknown command: got %q, want BAD or BYE", l)
	}
}

func TestAuthenticatePlain(t *testing.T) {
	e := newEnv(t, Options{AllowInsecureAuth: true})
	coretest.User(t, e.svc, "bob@example.test")
	c, err := imapclient.DialInsecure(e.addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Authenticate(sasl.NewPlainClient("", "bob@example.test", coretest.Password)); err != nil {
		t.Fatalf("AUTHENTICATE PLAIN: %v", err)
	}
}

func TestListSelectStatus(t *testing.T) {
	e := newEnv(t, Options{AllowInsecureAuth: true})
	coretest.User(t, e.svc, "bob@example.test")
	e.deliver(t, "bob@example.test", plainMsg)
	c := e.client(t, "bob@example.test", nil)

	if err := c.Create("Projects/2026/Q1", nil).Wait(); err != nil {
		t.Fatalf("CREATE: %v", err)
	}
	list, err := c.List("", "*", &imap.ListOptions{ReturnStatus: &imap.StatusOptions{NumMessages: true, NumUnseen: true, Size: true}}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*imap.ListData{}
	for _, l := range list {
		byName[l.Mailbox] = l
	}
	for name, attr := range map[string]imap.MailboxAttr{"Sent": imap.MailboxAttrSent, "Drafts": imap.MailboxAttrDrafts, "Junk": imap.MailboxAttrJunk, "Trash": imap.MailboxAttrTrash, "Archive": imap.MailboxAttrArchive, "Projects": imap.MailboxAttrHasChildren, "Projects/2026/Q1": imap.MailboxAttrHasNoChildren} {
		l := byName[name]
		if l == nil {
			t.Errorf("LIST: %s missing", name)
			continue
		}
		found := false
		for _, a := range l.Attrs {
			found = found || a == attr
		}
		if !found {
			t.Errorf("LIST %s: got attrs %v, want %s", name, l.Attrs, attr)
		}
	}
	if in := byName["INBOX"]; in == nil || in.Status == nil || *in.Status.NumMessages != 1 || *in.Status.NumUnseen != 1 || *in.Status.Size == 0 {
		t.Fatalf("LIST RETURN (STATUS) INBOX: got %+v, want 1 message, 1 unseen, a size", in)
	}
	// Patterns: % stops at the delimiter, reference names prefix.
	cases := []struct {
		ref, pattern string
		want         []string
	}{
		{"", "%", []string{"Archive", "Drafts", "INBOX", "Junk", "Projects", "Sent", "Trash"}},
		{"", "Projects/%", []string{"Projects/2026"}},
		{"Projects/", "*", []string{"Projects/2026", "Projects/2026/Q1"}},
		{"", "*Q1", []string{"Projects/2026/Q1"}},
		{"", "inbox", []string{"INBOX"}},
		{"", "nothing*", nil},
	}
	for _, tc := range cases {
		got, err := c.List(tc.ref, tc.pattern, nil).Collect()
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, l := range got {
			names = append(names, l.Mailbox)
		}
		if strings.Join(names, ",") != strings.Join(tc.want, ",") {
			t.Errorf("LIST %q %q: got %v, want %v", tc.ref, tc.pattern, names, tc.want)
		}
	}
	if err := c.Create("inbox/Sub", nil).Wait(); err != nil {
		t.Fatalf("CREATE inbox/Sub: %v", err)
	}
	if got, err := c.List("", "INBOX*", nil).Collect(); err != nil || len(got) != 2 || got[1].Mailbox != "INBOX/Sub" || got[0].Attrs[0] != imap.MailboxAttrHasChildren {
		t.Errorf("LIST INBOX*: got %+v %v, want INBOX (\\HasChildren) and INBOX/Sub", got, err)
	}
	st, err := c.Status("INBOX", &imap.StatusOptions{NumMessages: true, NumUnseen: true, Size: true, UIDNext: true}).Wait()
	if err != nil {
		t.Fatal(err)
	}
	if *st.NumMessages != 1 || *st.NumUnseen != 1 || st.UIDNext != 2 {
		t.Errorf("STATUS INBOX: got messages %d unseen %d uidnext %d, want 1 1 2", *st.NumMessages, *st.NumUnseen, st.UIDNext)
	}
	sel, err := c.Select("INBOX", nil).Wait()
	if err != nil {
		t.Fatal(err)
	}
	if sel.NumMessages != 1 || sel.UIDValidity == 0 {
		t.Errorf("SELECT: got %+v, want 1 message and a UIDVALIDITY", sel)
	}
	var permWildcard bool
	for _, f := range sel.PermanentFlags {
		permWildcard = permWildcard || f == imap.FlagWildcard
	}
	if !permWildcard {
		t.Errorf("PERMANENTFLAGS: got %v, want \\*", sel.PermanentFlags)
	}
	// Folder operations.
	for _, tc := range []struct {
		name string
		run  func() error
		code imap.ResponseCode
	}{
		{"delete INBOX", func() error { return c.Delete("INBOX").Wait() }, imap.ResponseCodeCannot},
		{"delete Sent", func() error { return c.Delete("Sent").Wait() }, imap.ResponseCodeCannot},
		{"rename INBOX", func() error { return c.Rename("INBOX", "Old", nil).Wait() }, imap.ResponseCodeCannot},
		{"create existing", func() error { return c.Create("Projects", nil).Wait() }, imap.ResponseCodeAlreadyExists},
		{"delete missing", func() error { return c.Delete("Nope").Wait() }, imap.ResponseCodeNonExistent},
		{"select missing", func() error { _, err := c.Select("Nope", nil).Wait(); return err }, imap.ResponseCodeNonExistent},
	} {
		err := tc.run()
		var ie *imap.Error
		if !errors.As(err, &ie) || ie.Code != tc.code {
			t.Errorf("%s: got %v, want NO [%s]", tc.name, err, tc.code)
		}
	}
	if err := c.Rename("Projects", "Work", nil).Wait(); err != nil {
		t.Fatalf("RENAME: %v", err)
	}
	if _, err := c.Status("Work/2026/Q1", &imap.StatusOptions{NumMessages: true}).Wait(); err != nil {
		t.Errorf("child after RENAME: %v", err)
	}
	if err := c.Delete("Work/2026/Q1").Wait(); err != nil {
		t.Errorf("DELETE: %v", err)
	}
	if err := c.Unsubscribe("Work").Wait(); err != nil {
		t.Errorf("UNSUBSCRIBE: %v", err)
	}
	if err := c.Create("Receipts", &imap.CreateOptions{SpecialUse: []imap.MailboxAttr{imap.MailboxAttrFlagged}}).Wait(); err == nil {
		t.Errorf("CREATE with unsupported special use: got OK, want NO [USEATTR]")
	}
}

func TestFetchBodies(t *testing.T) {
	e := newEnv(t, Options{AllowInsecureAuth: true})
	u := coretest.User(t, e.svc, "bob@example.test")
	e.deliver(t, "bob@example.test", attachMsg)
	c := e.client(t, "bob@example.test", nil)
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	mb, _ := e.svc.GetMailboxByName(context.Background(), u.ID, "INBOX")
	stored, _ := e.svc.MessagesByUID(context.Background(), u.ID, mb.ID, 1, 0)
	want, err := e.svc.ReadMessage(context.Background(), stored[0])
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasSuffix(want, []byte(attachMsg)) {
		t.Fatalf("stored message does not end with the delivered bytes")
	}
	full := &imap.FetchItemBodySection{Peek: true}
	part2 := &imap.FetchItemBodySection{Peek: true, Part: []int{2}}
	mime2 := &imap.FetchItemBodySection{Peek: true, Part: []int{2}, Specifier: imap.PartSpecifierMIME}
	hdr := &imap.FetchItemBodySection{Peek: true, Specifier: imap.PartSpecifierHeader, HeaderFields: []string{"Subject", "From"}}
	text := &imap.FetchItemBodySection{Peek: true, Specifier: imap.PartSpecifierText}
	partial := &imap.FetchItemBodySection{Peek: true, Partial: &imap.SectionPartial{Offset: 10, Size: 20}}
	bin2 := &imap.FetchItemBinarySection{Peek: true, Part: []int{2}}
	msgs, err := c.Fetch(imap.SeqSetNum(1), &imap.FetchOptions{
		UID: true, Flags: true, InternalDate: true, RFC822Size: true, Envelope: true,
		BodyStructure: &imap.FetchItemBodyStructure{Extended: true},
		BodySection:   []*imap.FetchItemBodySection{full, part2, mime2, hdr, text, partial},
		BinarySection: []*imap.FetchItemBinarySection{bin2},
	}).Collect()
	if err != nil {
		t.Fatalf("FETCH: %v", err)
	}
	if len(msgs) != 1 {
		t.Fatalf("FETCH: got %d messages, want 1", len(msgs))
	}
	m := msgs[0]
	checks := []struct {
		name      string
		got, want string
	}{
		{"BODY[]", string(m.FindBodySection(full)), string(want)},
		{"BODY[2]", string(m.FindBodySection(part2)), "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="},
		{"BODY[TEXT]", string(m.FindBodySection(text)), string(want[stored[0].HeaderSize:])},
		{"BODY[]<10.20>", string(m.FindBodySection(partial)), string(want[10:30])},
		{"BINARY[2]", string(m.FindBinarySection(bin2)), "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f"},
		{"ENVELOPE subject", m.Envelope.Subject, "Report attached"},
		{"ENVELOPE message-id", m.Envelope.MessageID, "report-1@remote.example"},
	}
	for _, ck := range checks {
		if ck.got != ck.want {
			t.Errorf("%s: got %q, want %q", ck.name, ck.got, ck.want)
		}
	}
	if h := string(m.FindBodySection(hdr)); !strings.Contains(h, "Subject: Report attached") || strings.Contains(h, "Date:") {
		t.Errorf("HEADER.FIELDS: got %q, want Subject and From only", h)
	}
	if h := string(m.FindBodySection(mime2)); !strings.Contains(h, "Content-Disposition: attachment") {
		t.Errorf("BODY[2.MIME]: got %q, want the part header", h)
	}
	if m.RFC822Size != int64(len(want)) {
		t.Errorf("RFC822.SIZE: got %d, want %d", m.RFC822Size, len(want))
	}
	mp, ok := m.BodyStructure.(*imap.BodyStructureMultiPart)
	if !ok || len(mp.Children) != 2 || mp.Subtype != "mixed" {
		t.Fatalf("BODYSTRUCTURE: got %#v, want multipart/mixed with 2 parts", m.BodyStructure)
	}
	for _, f := range m.Flags {
		if f == imap.FlagSeen {
			t.Fatalf("PEEK fetches set \\Seen")
		}
	}
	// A non-PEEK fetch sets \Seen and reports it.
	msgs, err = c.Fetch(imap.SeqSetNum(1), &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{{Specifier: imap.PartSpecifierText}}}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	seen := false
	for _, f := range msgs[0].Flags {
		seen = seen || f == imap.FlagSeen
	}
	if !seen {
		t.Errorf("BODY[TEXT]: got flags %v, want \\Seen", msgs[0].Flags)
	}
}

func TestFetchBigMessageStreams(t *testing.T) {
	e := newEnv(t, Options{AllowInsecureAuth: true})
	coretest.User(t, e.svc, "bob@example.test")
	var b strings.Builder
	b.WriteString("From: a@remote.example\r\nTo: bob@example.test\r\nSubject: big\r\n\r\n")
	line := strings.Repeat("0123456789", 7) + "\r\n"
	for b.Len() < 3<<20 {
		b.WriteString(line)
	}
	e.deliver(t, "bob@example.test", b.String())
	c := e.client(t, "bob@example.test", nil)
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	sec := &imap.FetchItemBodySection{Peek: true}
	msgs, err := c.Fetch(imap.SeqSetNum(1), &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{sec}}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	if got := msgs[0].FindBodySection(sec); !bytes.HasSuffix(got, []byte(b.String())) {
		t.Errorf("BODY[] of a 3 MB message: got %d bytes, want the delivered %d at the end", len(got), b.Len())
	}
}

func TestSearch(t *testing.T) {
	e := newEnv(t, Options{AllowInsecureAuth: true})
	coretest.User(t, e.svc, "bob@example.test")
	e.deliver(t, "bob@example.test", plainMsg)
	e.deliver(t, "bob@example.test", attachMsg)
	e.deliver(t, "bob@example.test", "From: Dave <dave@other.example>\r\nTo: bob@example.test\r\nCc: eve@other.example\r\nSubject: pizza party\r\nX-Tag: blue\r\n\r\nBring drinks.\r\n")
	c := e.client(t, "bob@example.test", nil)
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if err := c.Store(imap.SeqSetNum(2), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagSeen, "$Work"}, Silent: true}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		c    imap.SearchCriteria
		want []uint32
	}{
		{"ALL", imap.SearchCriteria{}, []uint32{1, 2, 3}},
		{"UNSEEN", imap.SearchCriteria{NotFlag: []imap.Flag{imap.FlagSeen}}, []uint32{1, 3}},
		{"SEEN", imap.SearchCriteria{Flag: []imap.Flag{imap.FlagSeen}}, []uint32{2}},
		{"KEYWORD", imap.SearchCriteria{Flag: []imap.Flag{"$work"}}, []uint32{2}},
		{"FROM", imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "From", Value: "carol@remote"}}}, []uint32{2}},
		{"FROM name", imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "From", Value: "alice"}}}, []uint32{1}},
		{"CC", imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "Cc", Value: "eve"}}}, []uint32{3}},
		{"SUBJECT", imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "Subject", Value: "PIZZA"}}}, []uint32{3}},
		{"HEADER", imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "X-Tag", Value: "blu"}}}, []uint32{3}},
		{"BODY", imap.SearchCriteria{Body: []string{"tomorrow"}}, []uint32{1}},
		{"TEXT", imap.SearchCriteria{Text: []string{"pizza"}}, []uint32{1, 3}},
		{"BODY not subject", imap.SearchCriteria{Body: []string{"party"}}, nil},
		{"TEXT subject", imap.SearchCriteria{Text: []string{"party"}}, []uint32{3}},
		{"NOT BODY", imap.SearchCriteria{Not: []imap.SearchCriteria{{Body: []string{"tomorrow"}}}}, []uint32{2, 3}},
		{"OR", imap.SearchCriteria{Or: [][2]imap.SearchCriteria{{{Body: []string{"quarterly"}}, {Body: []string{"drinks"}}}}}, []uint32{2, 3}},
		{"LARGER", imap.SearchCriteria{Larger: 600}, []uint32{2}},
		{"SEQ", imap.SearchCriteria{SeqNum: []imap.SeqSet{imap.SeqSetNum(2, 3)}}, []uint32{2, 3}},
		{"UID *", imap.SearchCriteria{UID: []imap.UIDSet{{{Start: 0, Stop: 0}}}}, []uint32{3}},
		{"SENTBEFORE", imap.SearchCriteria{SentBefore: time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC)}, []uint32{1}},
		{"SINCE", imap.SearchCriteria{Since: time.Now().Add(-48 * time.Hour)}, []uint32{1, 2, 3}},
		{"BEFORE", imap.SearchCriteria{Before: time.Now().Add(-48 * time.Hour)}, nil},
	}
	for _, tc := range cases {
		data, err := c.Search(&tc.c, nil).Wait()
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		got := data.AllSeqNums()
		if len(got) != len(tc.want) || (len(got) > 0 && !equalU32(got, tc.want)) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
	// ESEARCH and SEARCHRES (raw: imapclient drops SAVE).
	rc := e.raw(t)
	rc.ok("LOGIN bob@example.test %q", coretest.Password)
	rc.ok("SELECT INBOX")
	if l := rc.ok("UID SEARCH RETURN (SAVE COUNT) BODY drinks"); len(grep(l, "COUNT 1")) != 1 {
		t.Errorf("ESEARCH: got %q, want COUNT 1", l)
	}
	if l := rc.ok("FETCH $ (UID)"); len(l) != 1 || !strings.Contains(l[0], "UID 3") {
		t.Errorf("FETCH $: got %q, want UID 3 only", l)
	}
	if l := rc.ok("SEARCH UID $"); len(l) != 1 || l[0] != "* SEARCH 3" {
		t.Errorf("SEARCH UID $: got %q, want * SEARCH 3", l)
	}
}

func equalU32(a, b []uint32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
