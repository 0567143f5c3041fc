package smtp_test

// Routing through a real SMTP conversation (go-smtp's client against the
// MX and submission servers on core): aliases with local and external
// targets (SRS-rewritten into the queue, and the bounce path back),
// catch-all, user+tag, postmaster@ and abuse@, loops, and the Sieve actions
// fileinto, reject, redirect and vacation, with runaway scripts bounded.

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"

	"github.com/stamp-mail/stamp/core"
	"github.com/stamp-mail/stamp/core/coretest"
	"github.com/stamp-mail/stamp/storage"
)

// mxSend runs one MX transaction on a fresh connection and returns its code.
func mxSend(t *testing.T, addr, from string, to []string, body string) string {
	t.Helper()
	c := dial(t, addr)
	defer c.Close()
	return code(send(c, from, to, body))
}

func queue(t *testing.T, svc *core.Service) []core.QueueItem {
	t.Helper()
	q, err := svc.ListQueue(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// queuedTo returns the queue items with rcpt among their recipients.
func queuedTo(t *testing.T, svc *core.Service, rcpt string) []core.QueueItem {
	var out []core.QueueItem
	for _, it := range queue(t, svc) {
		if slices.Contains(it.Recipients, rcpt) {
			out = append(out, it)
		}
	}
	return out
}

func queuedRaw(t *testing.T, svc *core.Service, it core.QueueItem) string {
	t.Helper()
	raw, err := svc.ReadQueueMessage(context.Background(), it)
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

func putScript(t *testing.T, svc *core.Service, u core.User, text string) {
	t.Helper()
	ctx := context.Background()
	if err := svc.PutSieveScript(ctx, u.ID, "test", text); err != nil {
		t.Fatalf("PutSieveScript for %s: %v", u.Address, err)
	}
	if err := svc.SetActiveSieveScript(ctx, u.ID, "test"); err != nil {
		t.Fatal(err)
	}
}

func folder(t *testing.T, svc *core.Service, u core.User, name string) []core.Message {
	t.Helper()
	ctx := context.Background()
	mb, err := svc.GetMailboxByName(ctx, u.ID, name)
	if err != nil {
		t.Fatalf("folder %s of %s: %v", name, u.Address, err)
	}
	ms, err := svc.ListMessages(ctx, u.ID, mb.ID, core.ListQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

// TestAliasTwoLocalOneExternal: mail to an alias reaches both local targets
// and is queued for the external one with an SRS reverse-path and
// Delivered-To; a bounce to that SRS address is returned to the original
// sender, and a forged SRS address is refused.
func TestAliasTwoLocalOneExternal(t *testing.T) {
	svc, us := newService(t)
	ctx := context.Background()
	if _, err := svc.AddAlias(ctx, "team@example.test", []string{"a@example.test", "b@example.test", "far@remote.example"}, nil); err != nil {
		t.Fatal(err)
	}
	addr, _ := start(t, mxOpts(svc))
	if got := mxSend(t, addr, "sender@origin.example", []string{"team@example.test"}, msg("sender@origin.example", "team@example.test", "team news")); got != "ok" {
		t.Fatalf("MX to the alias: got %s, want ok", got)
	}
	for i, want := range []int{1, 1, 0} {
		if got := len(inbox(t, svc, us[i])); got != want {
			t.Errorf("INBOX of %s: got %d, want %d", us[i].Address, got, want)
		}
	}
	fw := queuedTo(t, svc, "far@remote.example")
	if len(fw) != 1 {
		t.Fatalf("queue for far@remote.example: got %d items, want 1", len(fw))
	}
	srs := fw[0].Sender
	if !strings.HasPrefix(srs, "SRS0=") || !strings.HasSuffix(srs, "=origin.example=sender@example.test") {
		t.Errorf("forward reverse-path: got %q, want SRS0=HHHH=TT=origin.example=sender@example.test", srs)
	}
	raw := queuedRaw(t, svc, fw[0])
	if !strings.HasPrefix(raw, "Delivered-To: team@example.test\r\n") || strings.Contains(raw, "Return-Path:") || !strings.Contains(raw, "Subject: team news") {
		t.Errorf("forwarded message: want Delivered-To first, no Return-Path, the original; got\n%.400s", raw)
	}

	// The remote side bounces: the DSN to the SRS address goes back to the original sender.
	bounce := "From: MAILER-DAEMON@remote.example\r\nTo: " + srs + "\r\nSubject: Undelivered Mail\r\nAuto-Submitted: auto-replied\r\n\r\nfar@remote.example: no such user\r\n"
	if got := mxSend(t, addr, "", []string{srs}, bounce); got != "ok" {
		t.Fatalf("bounce to the SRS address: got %s, want ok", got)
	}
	back := queuedTo(t, svc, "sender@origin.example")
	if len(back) != 1 || back[0].Sender != "" {
		t.Fatalf("bounce returned: got %+v, want one item to sender@origin.example with the null sender", back)
	}
	if !strings.Contains(queuedRaw(t, svc, back[0]), "far@remote.example: no such user") {
		t.Errorf("returned bounce lacks the DSN text")
	}
	// Forged or damaged SRS addresses are unknown users.
	for _, bad := range []string{
		"SRS0=AAAA=AB=origin.example=sender@example.test",
		strings.Replace(srs, "sender@", "other@", 1),
	} {
		c := dial(t, addr)
		if err := c.Mail("", nil); err != nil {
			t.Fatal(err)
		}
		if got := code(c.Rcpt(bad, nil)); got != "550 5.1.1" {
			t.Errorf("RCPT %s: got %s, want 550 5.1.1", bad, got)
		}
		c.Close()
	}
}

// TestCatchAll: the catch-all takes unknown local parts only while it exists;
// users and aliases win over it.
func TestCatchAll(t *testing.T) {
	svc, us := newService(t)
	ctx := context.Background()
	addr, _ := start(t, mxOpts(svc))
	rcpt := func(to string) string {
		c := dial(t, addr)
		defer c.Close()
		if err := c.Mail("x@origin.example", nil); err != nil {
			t.Fatal(err)
		}
		return code(c.Rcpt(to, nil))
	}
	if got := rcpt("nobody@example.test"); got != "550 5.1.1" {
		t.Errorf("unknown without catch-all: got %s, want 550 5.1.1", got)
	}
	if _, err := svc.AddAlias(ctx, "@example.test", []string{"c@example.test"}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AddAlias(ctx, "sales@example.test", []string{"b@example.test"}, nil); err != nil {
		t.Fatal(err)
	}
	for _, to := range []string{"nobody@example.test", "a@example.test", "sales@example.test"} {
		if got := mxSend(t, addr, "x@origin.example", []string{to}, msg("x@origin.example", to, "to "+to)); got != "ok" {
			t.Errorf("MX to %s with catch-all: got %s, want ok", to, got)
		}
	}
	for i, want := range []int{1, 1, 1} { // a direct, b by alias, c by catch-all
		if got := len(inbox(t, svc, us[i])); got != want {
			t.Errorf("INBOX of %s: got %d, want %d", us[i].Address, got, want)
		}
	}
	if got := rcpt("other@elsewhere.example"); got != "554 5.7.1" {
		t.Errorf("other domain with catch-all: got %s, want 554 5.7.1 (no relay)", got)
	}
	if err := svc.DeleteAlias(ctx, "@example.test"); err != nil {
		t.Fatal(err)
	}
	if got := rcpt("nobody@example.test"); got != "550 5.1.1" {
		t.Errorf("unknown after deleting the catch-all: got %s, want 550 5.1.1", got)
	}
}

// TestSubaddress: user+tag reaches the user; the tag is Sieve's :detail.
func TestSubaddress(t *testing.T) {
	svc, us := newService(t)
	putScript(t, svc, us[0], `require ["envelope", "subaddress", "fileinto", "mailbox", "variables"];
if envelope :matches :detail "to" "*" { fileinto :create "Tag/${1}"; }`)
	addr, _ := start(t, mxOpts(svc))
	if got := mxSend(t, addr, "x@origin.example", []string{"a+news@example.test"}, msg("x@origin.example", "a+news@example.test", "tagged")); got != "ok" {
		t.Fatalf("MX to a+news: got %s, want ok", got)
	}
	if got := len(folder(t, svc, us[0], "Tag/news")); got != 1 {
		t.Errorf("Tag/news of a: got %d, want 1", got)
	}
	if got := mxSend(t, addr, "x@origin.example", []string{"b+x+y@example.test"}, msg("x@origin.example", "b+x+y@example.test", "two plus")); got != "ok" {
		t.Errorf("MX to b+x+y: got %s, want ok", got)
	}
	if got := len(inbox(t, svc, us[1])); got != 1 {
		t.Errorf("INBOX of b: got %d, want 1", got)
	}
	if got := mxSend(t, addr, "x@origin.example", []string{"nobody+tag@example.test"}, msg("x@origin.example", "nobody+tag@example.test", "x")); got != "550 5.1.1" {
		t.Errorf("MX to nobody+tag: got %s, want 550 5.1.1", got)
	}

	// A configured separator.
	dash := coretest.New(t, coretest.Options{Config: core.Config{Routing: core.RoutingConfig{Separator: "-"}}})
	d := coretest.User(t, dash, "d@example.test")
	addr2, _ := start(t, mxOpts(dash))
	if got := mxSend(t, addr2, "x@origin.example", []string{"d-list@example.test"}, msg("x@origin.example", "d-list@example.test", "dash")); got != "ok" {
		t.Errorf("MX to d-list with separator -: got %s, want ok", got)
	}
	if got := len(inbox(t, dash, d)); got != 1 {
		t.Errorf("INBOX of d: got %d, want 1", got)
	}
}

// TestPostmasterAbuse: postmaster@ and abuse@ of every local domain are
// accepted without any alias and reach the domain's admin (default: its
// first user).
func TestPostmasterAbuse(t *testing.T) {
	svc, us := newService(t)
	ctx := context.Background()
	addr, _ := start(t, mxOpts(svc))
	for _, to := range []string{"postmaster@example.test", "abuse@example.test", "PostMaster@Example.Test"} {
		if got := mxSend(t, addr, "reporter@origin.example", []string{to}, msg("reporter@origin.example", to, "report "+to)); got != "ok" {
			t.Errorf("MX to %s: got %s, want ok", to, got)
		}
	}
	if got := len(inbox(t, svc, us[0])); got != 3 {
		t.Errorf("INBOX of a (first user): got %d, want 3", got)
	}
	if err := svc.SetDomainAdmin(ctx, "example.test", "b@example.test"); err != nil {
		t.Fatal(err)
	}
	if got := mxSend(t, addr, "reporter@origin.example", []string{"abuse@example.test"}, msg("reporter@origin.example", "abuse@example.test", "to admin")); got != "ok" {
		t.Errorf("MX to abuse@ with admin b: got %s, want ok", got)
	}
	if got := len(inbox(t, svc, us[1])); got != 1 {
		t.Errorf("INBOX of b (admin): got %d, want 1", got)
	}
	// A domain without users: its admin elsewhere gets it.
	if err := svc.AddDomain(ctx, "empty.test"); err != nil {
		t.Fatal(err)
	}
	if err := svc.SetDomainAdmin(ctx, "empty.test", "c@example.test"); err != nil {
		t.Fatal(err)
	}
	if got := mxSend(t, addr, "reporter@origin.example", []string{"postmaster@empty.test"}, msg("reporter@origin.example", "postmaster@empty.test", "empty")); got != "ok" {
		t.Errorf("MX to postmaster@empty.test: got %s, want ok", got)
	}
	if got := len(inbox(t, svc, us[2])); got != 1 {
		t.Errorf("INBOX of c (admin of empty.test): got %d, want 1", got)
	}
}

// TestForwardingLoop: mail that already went through a forwarding address
// (Delivered-To) or has too many hops is refused with 554 5.4.6; aliases
// pointing at each other deliver once.
func TestForwardingLoop(t *testing.T) {
	svc, us := newService(t)
	ctx := context.Background()
	if _, err := svc.AddAlias(ctx, "fwd@example.test", []string{"out@remote.example"}, nil); err != nil {
		t.Fatal(err)
	}
	addr, _ := start(t, mxOpts(svc))
	looped := "Delivered-To: fwd@example.test\r\nReceived: from remote.example by mx.remote.example; Tue, 10 Mar 2026 10:00:00 +0000\r\n" +
		msg("x@origin.example", "fwd@example.test", "came back")
	if got := mxSend(t, addr, "SRS0=abcd=AB=origin.example=x@remote.example", []string{"fwd@example.test"}, looped); got != "554 5.4.6" {
		t.Errorf("message back at its forwarder: got %s, want 554 5.4.6", got)
	}
	var hops strings.Builder
	for i := range 60 {
		fmt.Fprintf(&hops, "Received: from hop%d.example by hop%d.example; Tue, 10 Mar 2026 10:00:00 +0000\r\n", i, i+1)
	}
	if got := mxSend(t, addr, "x@origin.example", []string{"a@example.test"}, hops.String()+msg("x@origin.example", "a@example.test", "hops")); got != "554 5.4.6" {
		t.Errorf("60 hops: got %s, want 554 5.4.6", got)
	}
	if got := mxSend(t, addr, "x@origin.example", []string{"fwd@example.test"}, msg("x@origin.example", "fwd@example.test", "first pass")); got != "ok" {
		t.Errorf("first pass through the forwarder: got %s, want ok", got)
	}
	if got := len(queuedTo(t, svc, "out@remote.example")); got != 1 {
		t.Errorf("forwarded: got %d queue items, want 1", got)
	}
	// Local aliases in a cycle: each address once, the user once.
	for _, a := range [][]string{{"x@example.test", "y@example.test"}, {"y@example.test", "x@example.test", "a@example.test"}} {
		if _, err := svc.AddAlias(ctx, a[0], a[1:], nil); err != nil {
			t.Fatal(err)
		}
	}
	if got := mxSend(t, addr, "x@origin.example", []string{"x@example.test"}, msg("x@origin.example", "x@example.test", "cycle")); got != "ok" {
		t.Errorf("alias cycle: got %s, want ok", got)
	}
	if got := len(inbox(t, svc, us[0])); got != 1 {
		t.Errorf("INBOX of a after the alias cycle: got %d, want 1", got)
	}
}

// TestSieveFileintoRejectRedirect runs the three actions through SMTP.
func TestSieveFileintoRejectRedirect(t *testing.T) {
	svc, us := newService(t)
	putScript(t, svc, us[0], `require ["fileinto", "mailbox"]; if header :contains "subject" "report" { fileinto :create "Reports"; }`)
	putScript(t, svc, us[1], `require "reject"; if header :contains "subject" "offer" { reject "I do not want this"; }`)
	putScript(t, svc, us[2], `redirect "elsewhere@remote.example";`)
	addr, _ := start(t, mxOpts(svc))

	if got := mxSend(t, addr, "x@origin.example", []string{"a@example.test"}, msg("x@origin.example", "a@example.test", "weekly report")); got != "ok" {
		t.Fatalf("fileinto: got %s", got)
	}
	if got, in := len(folder(t, svc, us[0], "Reports")), len(inbox(t, svc, us[0])); got != 1 || in != 0 {
		t.Errorf("fileinto: Reports %d, INBOX %d, want 1 and 0", got, in)
	}

	// reject with one recipient: refused in the SMTP conversation.
	c := dial(t, addr)
	err := send(c, "x@origin.example", []string{"b@example.test"}, msg("x@origin.example", "b@example.test", "great offer"))
	c.Close()
	if code(err) != "550 5.7.1" || !strings.Contains(err.Error(), "I do not want this") {
		t.Errorf("reject: got %v, want 550 5.7.1 with the reason", err)
	}
	// reject among several recipients: accepted for the others, a DSN to the sender.
	if got := mxSend(t, addr, "x@origin.example", []string{"a@example.test", "b@example.test"}, msg("x@origin.example", "b@example.test", "another offer")); got != "ok" {
		t.Errorf("reject among two: got %s, want ok", got)
	}
	dsn := queuedTo(t, svc, "x@origin.example")
	if len(dsn) != 1 || dsn[0].Sender != "" || !strings.Contains(queuedRaw(t, svc, dsn[0]), "I do not want this") {
		t.Errorf("rejection notice: got %+v, want one DSN to x@origin.example with the reason", dsn)
	}
	if got := len(inbox(t, svc, us[1])); got != 0 {
		t.Errorf("INBOX of b after rejects: got %d, want 0", got)
	}

	// redirect: nothing kept, forwarded with SRS.
	if got := mxSend(t, addr, "x@origin.example", []string{"c@example.test"}, msg("x@origin.example", "c@example.test", "pass it on")); got != "ok" {
		t.Errorf("redirect: got %s, want ok", got)
	}
	red := queuedTo(t, svc, "elsewhere@remote.example")
	if len(red) != 1 || !strings.HasPrefix(red[0].Sender, "SRS0=") || !strings.HasSuffix(red[0].Sender, "@example.test") {
		t.Errorf("redirect queue: got %+v, want one SRS0 item", red)
	} else if !strings.HasPrefix(queuedRaw(t, svc, red[0]), "Delivered-To: c@example.test\r\n") {
		t.Errorf("redirected message lacks Delivered-To: c@example.test")
	}
	if got := len(inbox(t, svc, us[2])); got != 0 {
		t.Errorf("INBOX of c after redirect: got %d, want 0", got)
	}
}

// TestSieveVacation: one reply per sender per :days, remembered in the
// database; none to lists, bulk, auto-submitted mail or the null sender.
func TestSieveVacation(t *testing.T) {
	svc, us := newService(t)
	putScript(t, svc, us[0], `require "vacation"; vacation :days 7 :subject "Away" "I am away until Monday.";`)
	addr, _ := start(t, mxOpts(svc))
	to := "a@example.test"
	steps := []struct {
		name, from, extra string
		replies           map[string]int // queue items to each sender after the step
	}{
		{"first message", "x@origin.example", "", map[string]int{"x@origin.example": 1}},
		{"same sender again", "x@origin.example", "", map[string]int{"x@origin.example": 1}},
		{"mailing list", "y@origin.example", "List-Id: <dev.lists.origin.example>\r\n", map[string]int{"y@origin.example": 0}},
		{"bulk", "y@origin.example", "Precedence: bulk\r\n", map[string]int{"y@origin.example": 0}},
		{"auto-submitted", "y@origin.example", "Auto-Submitted: auto-replied\r\n", map[string]int{"y@origin.example": 0}},
		{"list owner address", "owner-dev@origin.example", "", map[string]int{"owner-dev@origin.example": 0}},
		{"another sender", "y@origin.example", "", map[string]int{"y@origin.example": 1, "x@origin.example": 1}},
	}
	for i, st := range steps {
		body := st.extra + msg(st.from, to, fmt.Sprintf("hello %d", i))
		if got := mxSend(t, addr, st.from, []string{to}, body); got != "ok" {
			t.Fatalf("%s: got %s, want ok", st.name, got)
		}
		for rcpt, want := range st.replies {
			if got := len(queuedTo(t, svc, rcpt)); got != want {
				t.Errorf("%s: vacation replies to %s: got %d, want %d", st.name, rcpt, got, want)
			}
		}
	}
	// The null sender (a bounce) gets nothing either.
	before := len(queue(t, svc))
	if got := mxSend(t, addr, "", []string{to}, msg("mailer-daemon@origin.example", to, "bounce")); got != "ok" {
		t.Fatal(got)
	}
	if got := len(queue(t, svc)); got != before {
		t.Errorf("null sender: queue grew from %d to %d, want no reply", before, got)
	}
	reply := queuedTo(t, svc, "x@origin.example")[0]
	raw := queuedRaw(t, svc, reply)
	for _, want := range []string{"Subject: Away", "Auto-Submitted: auto-replied", "In-Reply-To: <hello-0@client.test>", "I am away until Monday.", "From: <a@example.test>"} {
		if !strings.Contains(raw, want) {
			t.Errorf("vacation reply lacks %q:\n%s", want, raw)
		}
	}
	if reply.Sender != "" {
		t.Errorf("vacation reply reverse-path: got %q, want the null sender (RFC 3834 section 3.3)", reply.Sender)
	}
	if got := len(inbox(t, svc, us[0])); got != len(steps)+1 {
		t.Errorf("INBOX of a: got %d, want every message kept (%d)", got, len(steps)+1)
	}
}

// TestSieveRunaway: a script with 10,000 rules or a loop of 1,000 actions is
// stopped within its bound and the message is delivered to INBOX.
func TestSieveRunaway(t *testing.T) {
	svc, us := newService(t)
	var many strings.Builder
	many.WriteString("require [\"fileinto\", \"mailbox\"];\n")
	for i := range 10000 {
		fmt.Fprintf(&many, "if header :is \"x-%d\" \"1\" {stop;}\n", i)
	}
	many.WriteString("fileinto :create \"Never\";\n")
	putScript(t, svc, us[0], many.String())
	var acts strings.Builder
	acts.WriteString("require [\"fileinto\", \"mailbox\", \"copy\"];\n")
	for i := range 1000 {
		fmt.Fprintf(&acts, "fileinto :create :copy \"Box%d\";\n", i)
	}
	putScript(t, svc, us[1], acts.String())
	addr, _ := start(t, mxOpts(svc))
	for _, u := range us[:2] {
		startAt := time.Now()
		if got := mxSend(t, addr, "x@origin.example", []string{u.Address}, msg("x@origin.example", u.Address, "runaway "+u.Address)); got != "ok" {
			t.Fatalf("%s: got %s, want ok", u.Address, got)
		}
		took := time.Since(startAt)
		t.Logf("%s: delivered in %v", u.Address, took.Round(time.Millisecond))
		if took > 10*time.Second {
			t.Errorf("%s: delivery took %v, want the script stopped well within 10s", u.Address, took)
		}
		if got := len(inbox(t, svc, u)); got != 1 {
			t.Errorf("INBOX of %s: got %d, want 1", u.Address, got)
		}
		mbs, _ := svc.ListMailboxes(context.Background(), u.ID)
		if len(mbs) != len(storage.DefaultMailboxes) {
			t.Errorf("%s: got %d mailboxes, want no folder created by the stopped script", u.Address, len(mbs))
		}
	}
}

// TestSendAsAlias: an owner of an alias submits with it as envelope sender
// and From; another user may not.
func TestSendAsAlias(t *testing.T) {
	svc, _ := newService(t)
	ctx := context.Background()
	if _, err := svc.AddAlias(ctx, "sales@example.test", []string{"a@example.test"}, nil); err != nil {
		t.Fatal(err)
	}
	addr, _ := start(t, submissionOpts(t, svc))
	for _, c := range []struct{ user, want string }{{"a@example.test", "ok"}, {"b@example.test", "553 5.7.1"}} {
		cl := dialTLS(t, addr)
		if err := cl.Auth(sasl.NewPlainClient("", c.user, coretest.Password)); err != nil {
			t.Fatal(err)
		}
		got := code(send(cl, "sales@example.test", []string{"far@remote.example"}, msg("sales@example.test", "far@remote.example", "from sales "+c.user)))
		cl.Close()
		if got != c.want {
			t.Errorf("%s sending as sales@: got %s, want %s", c.user, got, c.want)
		}
	}
	q := queuedTo(t, svc, "far@remote.example")
	if len(q) != 1 || q[0].Sender != "sales@example.test" {
		t.Errorf("queue: got %+v, want one item from sales@example.test", q)
	}
}

// TestSieveOnSubmission: mail between local users (submission) goes through
// the recipient's script too.
func TestSieveOnSubmission(t *testing.T) {
	svc, us := newService(t)
	putScript(t, svc, us[1], `require ["fileinto", "mailbox"]; if address :is "from" "a@example.test" { fileinto :create "From A"; }`)
	addr, _ := start(t, submissionOpts(t, svc))
	cl := dialTLS(t, addr)
	if err := cl.Auth(sasl.NewPlainClient("", "a@example.test", coretest.Password)); err != nil {
		t.Fatal(err)
	}
	if got := code(send(cl, "a@example.test", []string{"b@example.test"}, msg("a@example.test", "b@example.test", "internal"))); got != "ok" {
		t.Fatalf("submission: got %s, want ok", got)
	}
	if got, in := len(folder(t, svc, us[1], "From A")), len(inbox(t, svc, us[1])); got != 1 || in != 0 {
		t.Errorf("b: From A %d, INBOX %d, want 1 and 0", got, in)
	}
	if got := len(mailbox(t, svc, us[0], storage.RoleSent)); got != 1 {
		t.Errorf("Sent of a: got %d, want 1", got)
	}
}

// testClock is a clock the test moves forward.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// TestVacationPeriodAndSRSExpiry: a second vacation reply to the same
// sender waits for :days to pass; an SRS address stops working after 21 days.
func TestVacationPeriodAndSRSExpiry(t *testing.T) {
	clock := &testClock{now: time.Now()}
	svc := coretest.New(t, coretest.Options{Config: core.Config{Routing: core.RoutingConfig{Now: clock.Now}}})
	a := coretest.User(t, svc, "a@example.test")
	putScript(t, svc, a, `require "vacation"; vacation :days 7 "Away.";`)
	if _, err := svc.AddAlias(context.Background(), "fwd@example.test", []string{"out@remote.example"}, nil); err != nil {
		t.Fatal(err)
	}
	addr, _ := start(t, mxOpts(svc))
	steps := []struct {
		after time.Duration
		want  int
	}{{0, 1}, {6 * 24 * time.Hour, 1}, {2 * 24 * time.Hour, 2}, {time.Hour, 2}}
	for i, st := range steps {
		clock.advance(st.after)
		if got := mxSend(t, addr, "x@origin.example", []string{"a@example.test"}, msg("x@origin.example", "a@example.test", fmt.Sprintf("day %d", i))); got != "ok" {
			t.Fatal(got)
		}
		if got := len(queuedTo(t, svc, "x@origin.example")); got != st.want {
			t.Errorf("step %d (+%v): vacation replies to x: got %d, want %d", i, st.after, got, st.want)
		}
	}

	if got := mxSend(t, addr, "y@origin.example", []string{"fwd@example.test"}, msg("y@origin.example", "fwd@example.test", "to forward")); got != "ok" {
		t.Fatal(got)
	}
	srs := queuedTo(t, svc, "out@remote.example")[0].Sender
	bounce := func() string {
		return mxSend(t, addr, "", []string{srs}, "From: MAILER-DAEMON@remote.example\r\nSubject: failed\r\n\r\nno\r\n")
	}
	clock.advance(20 * 24 * time.Hour)
	if got := bounce(); got != "ok" {
		t.Errorf("bounce to the SRS address after 20 days: got %s, want ok", got)
	}
	clock.advance(3 * 24 * time.Hour)
	if got := bounce(); got != "550 5.1.1" {
		t.Errorf("bounce to the SRS address after 23 days: got %s, want 550 5.1.1 (expired)", got)
	}
}

// TestRedirectRateLimited: redirects out count against the user's hourly
// sending limit; over it the message is kept instead.
func TestRedirectRateLimited(t *testing.T) {
	svc := coretest.New(t, coretest.Options{Config: core.Config{SendPerHour: 2, SendPerDay: 2}})
	a := coretest.User(t, svc, "a@example.test")
	putScript(t, svc, a, `redirect "elsewhere@remote.example";`)
	addr, _ := start(t, mxOpts(svc))
	for i := range 3 {
		if got := mxSend(t, addr, "x@origin.example", []string{"a@example.test"}, msg("x@origin.example", "a@example.test", fmt.Sprintf("r%d", i))); got != "ok" {
			t.Fatal(got)
		}
	}
	if got := len(queuedTo(t, svc, "elsewhere@remote.example")); got != 2 {
		t.Errorf("redirected: got %d, want 2 (the limit)", got)
	}
	if got := len(inbox(t, svc, a)); got != 1 {
		t.Errorf("INBOX: got %d, want the third message kept", got)
	}
}
