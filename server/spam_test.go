package server_test

// End-to-end spam-filter tests over real SMTP, IMAP and HTTP: the
// project's own multilingual test set (check/testdata/corpus, held-out
// part) delivered to a fresh account whose DNS has no answers for any
// sender, and learning by moving a sender's mail into and out of Junk.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-sasl"
)

// corpusDir is the committed copy of the project's own test set.
const corpusDir = "../check/testdata/corpus"

// fromOf returns the address in a message's From field.
func fromOf(raw []byte) string {
	m := regexp.MustCompile(`(?m)^From: (?:.*<)?([^<>\s]+@[^<>\s]+)>?\r?$`).FindSubmatch(raw)
	if m == nil {
		return ""
	}
	return string(m[1])
}

var messageIDRe = regexp.MustCompile(`(?mi)^Message-ID:\s*<([^>]+)>`)

// TestSpamOwnCorpusOverSMTP delivers the held-out part of the project's
// own set (ham and spam in Korean, Japanese, Chinese, German, French,
// Spanish and English, UTF-8 and legacy charsets) over SMTP to a fresh
// account, with a DNS server that answers nothing for the senders'
// domains (the cold start of a new server), and prints where it went.
func TestSpamOwnCorpusOverSMTP(t *testing.T) {
	reader := "reader@" + localDomain
	s := startStamp(t, stampOptions{users: []string{reader}, smtpRate: 100000})
	name := map[string]string{} // Message-ID -> file
	spam := map[string]bool{}
	type job struct {
		file string
		raw  []byte
	}
	var jobs []job
	for _, kind := range []string{"ham", "spam"} {
		files, _ := filepath.Glob(filepath.Join(corpusDir, "heldout", kind, "*.eml"))
		if len(files) == 0 {
			t.Fatalf("no messages in %s/heldout/%s", corpusDir, kind)
		}
		for _, f := range files {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			id := messageIDRe.FindSubmatch(raw)
			if id == nil {
				t.Fatalf("%s: no Message-ID", f)
			}
			name[string(id[1])] = kind + "/" + filepath.Base(f)
			spam[string(id[1])] = kind == "spam"
			jobs = append(jobs, job{f, writtenNow(raw)})
		}
	}
	// Four senders at once, as several MTAs would deliver.
	ch := make(chan job)
	errs := make(chan error, len(jobs))
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range ch {
				from := fromOf(j.raw)
				if err := send(s.addr["smtp"], "mail."+domainOf(from), nil, from, []string{reader}, j.raw); err != nil {
					errs <- fmt.Errorf("%s: reply to DATA: got %q, want 250", j.file, replyOf(err))
				}
			}
		}()
	}
	for _, j := range jobs {
		ch <- j
	}
	close(ch)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	c := s.imapLogin(t, reader)
	defer c.Close()
	var hamJunk, hamTotal, spamJunk, spamTotal int
	var wrong []string
	seen := 0
	for _, mb := range []string{"INBOX", "Junk"} {
		for _, m := range headers(t, c, mb) {
			id := strings.Trim(headerValue(m.header, "Message-ID"), "<> ")
			n, ok := name[id]
			if !ok {
				t.Errorf("%s: unexpected message %q", mb, id)
				continue
			}
			seen++
			junk := mb == "Junk"
			if spam[id] {
				spamTotal++
				if junk {
					spamJunk++
				}
			} else {
				hamTotal++
				if junk {
					hamJunk++
				}
			}
			if junk != spam[id] {
				wrong = append(wrong, fmt.Sprintf("%s in %s: %s", n, mb, headerValue(m.header, "X-Stamp-Spam")))
			}
		}
	}
	if seen != len(name) {
		t.Fatalf("messages in INBOX and Junk: got %d, want the %d sent", seen, len(name))
	}
	sort.Strings(wrong)
	for _, w := range wrong {
		t.Log(w)
	}
	hamRate := 100 * float64(hamJunk) / float64(hamTotal)
	recall := 100 * float64(spamJunk) / float64(spamTotal)
	fmt.Printf("own corpus (held-out) over SMTP, fresh account, no DNS answers: legitimate to Junk %d of %d (%.2f%%), spam to Junk %d of %d (%.1f%%)\n",
		hamJunk, hamTotal, hamRate, spamJunk, spamTotal, recall)
	if hamRate > 0.5 {
		t.Errorf("legitimate mail to Junk: got %.2f%%, want at most 0.5%%", hamRate)
	}
	if recall < 90 {
		t.Errorf("spam to Junk: got %.1f%%, want at least 90%%", recall)
	}
}

// writtenNow dates a stored message now: the set is replayed as new mail
// (a message dated months before it arrives is a sign of spam, see
// check/internal/rules).
func writtenNow(raw []byte) []byte {
	return regexp.MustCompile(`(?m)^Date: .*\r\n`).ReplaceAll(raw, []byte("Date: "+time.Now().Format(time.RFC1123Z)+"\r\n"))
}

// corpusMessage is a message of the development part with its From and
// Subject replaced.
func corpusMessage(t *testing.T, file, from, subject string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(corpusDir, "dev", file))
	if err != nil {
		t.Fatal(err)
	}
	raw = regexp.MustCompile(`(?m)^From: .*\r\n`).ReplaceAll(raw, []byte("From: <"+from+">\r\n"))
	raw = regexp.MustCompile(`(?m)^Subject: .*\r\n`).ReplaceAll(raw, []byte("Subject: "+subject+"\r\n"))
	raw = writtenNow(raw)
	raw = regexp.MustCompile(`(?m)^Message-ID: .*\r\n`).ReplaceAll(raw, []byte(fmt.Sprintf("Message-ID: <%d.%s>\r\n", time.Now().UnixNano(), from)))
	return raw
}

// mover moves messages between INBOX and Junk as a user would: over IMAP
// or over the API's Spam / Not spam buttons.
type mover interface {
	// move moves the user's messages with these subjects into Junk (spam) or out of it.
	move(t *testing.T, subjects []string, spam bool)
}

type imapMover struct {
	s    *stamp
	user string
}

func (m imapMover) move(t *testing.T, subjects []string, spam bool) {
	from, to := "INBOX", "Junk"
	if !spam {
		from, to = "Junk", "INBOX"
	}
	c := m.s.imapLogin(t, m.user)
	defer c.Close()
	var uids []imap.UID
	for _, h := range headers(t, c, from) {
		for _, s := range subjects {
			if headerValue(h.header, "Subject") == s {
				uids = append(uids, h.uid)
			}
		}
	}
	if len(uids) != len(subjects) {
		t.Fatalf("IMAP: messages to move from %s: got %d, want %d", from, len(uids), len(subjects))
	}
	if _, err := c.Select(from, nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Move(imap.UIDSetNum(uids...), to).Wait(); err != nil {
		t.Fatalf("UID MOVE to %s: %v", to, err)
	}
}

type apiMover struct {
	base, token string
}

func (a apiMover) call(t *testing.T, method, path string, body any, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, a.base+path, rd)
	req.Header.Set("Content-Type", "application/json")
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
	return resp.StatusCode
}

type apiSummary struct {
	ID      int64  `json:"id"`
	Subject string `json:"subject"`
}

func (a apiMover) folderMessages(t *testing.T, role string) []apiSummary {
	var folders []struct {
		ID   int64  `json:"id"`
		Role string `json:"role"`
	}
	var wrap struct {
		Folders json.RawMessage `json:"folders"`
	}
	var raw json.RawMessage
	if code := a.call(t, "GET", "/v1/folders", nil, &raw); code != 200 {
		t.Fatalf("GET /v1/folders: %d", code)
	}
	if json.Unmarshal(raw, &folders) != nil {
		json.Unmarshal(raw, &wrap)
		json.Unmarshal(wrap.Folders, &folders)
	}
	for _, f := range folders {
		if f.Role == role {
			var page struct {
				Messages []apiSummary `json:"messages"`
			}
			if code := a.call(t, "GET", fmt.Sprintf("/v1/folders/%d/messages?limit=200", f.ID), nil, &page); code != 200 {
				t.Fatalf("GET messages of %s: %d", role, code)
			}
			return page.Messages
		}
	}
	t.Fatalf("no folder with role %s in %s", role, raw)
	return nil
}

func (a apiMover) move(t *testing.T, subjects []string, spam bool) {
	from := "junk"
	if spam {
		from = "inbox"
	}
	n := 0
	for _, m := range a.folderMessages(t, from) {
		for _, s := range subjects {
			if m.Subject != s {
				continue
			}
			var out struct {
				ID   int64 `json:"id"`
				Spam *struct {
					Junk bool `json:"junk"`
				} `json:"spam"`
			}
			if code := a.call(t, "POST", fmt.Sprintf("/v1/messages/%d/spam", m.ID), map[string]bool{"spam": spam}, &out); code != 200 {
				t.Fatalf("POST /v1/messages/%d/spam: got %d, want 200", m.ID, code)
			}
			if out.Spam == nil {
				t.Errorf("POST /v1/messages/%d/spam: answer has no spam verdict", m.ID)
			}
			n++
		}
	}
	if n != len(subjects) {
		t.Fatalf("API: messages marked: got %d, want %d", n, len(subjects))
	}
}

// TestSpamLearnsFromMoves: a user who moves ten messages from one sender
// out of Junk gets that sender's next message in INBOX, and one who moves
// ten messages of a sender into Junk gets the next one in Junk; over IMAP
// (MOVE, RFC 6851) and over the API (the Spam / Not spam buttons).
func TestSpamLearnsFromMoves(t *testing.T) {
	imapUser, apiUser := "imapuser@"+localDomain, "apiuser@"+localDomain
	s := startStamp(t, stampOptions{users: []string{imapUser, apiUser}, http: true, smtpRate: 100000})
	api := apiMover{base: "http://" + s.addr["http"]}
	var login struct {
		Token string `json:"token"`
	}
	if code := api.call(t, "POST", "/v1/auth/login", map[string]string{"username": apiUser, "password": trustPassword}, &login); code != 200 {
		t.Fatalf("login: got %d, want 200", code)
	}
	api.token = login.Token

	for _, c := range []struct {
		name string
		user string
		mv   mover
	}{
		{"imap", imapUser, imapMover{s: s, user: imapUser}},
		{"api", apiUser, api},
	} {
		t.Run(c.name, func(t *testing.T) {
			n := 0
			deliver := func(file, from string) string {
				n++
				subject := fmt.Sprintf("%s message %d from %s", c.name, n, from)
				raw := corpusMessage(t, file, from, subject)
				if err := send(s.addr["smtp"], "mail."+domainOf(from), nil, from, []string{c.user}, raw); err != nil {
					t.Fatalf("reply to DATA: got %q, want 250", replyOf(err))
				}
				return subject
			}
			spamFiles := []string{"spam/en-pharma-002.eml", "spam/en-pharma-016.eml", "spam/en-pharma-030.eml"}
			hamFiles := []string{"ham/en-note-000.eml", "ham/en-note-006.eml", "ham/en-note-007.eml"}

			// Out of Junk: a sender whose mail reads like pharmacy spam.
			promo := "deals@promo-" + c.name + ".example"
			var subjects []string
			for i := 0; i < 10; i++ {
				sub := deliver(spamFiles[i%len(spamFiles)], promo)
				if m := s.findOne(t, c.user, sub); m.mailbox != "Junk" {
					t.Fatalf("before moving, %s: got %s (%s), want Junk", sub, m.mailbox, headerValue(m.header, "X-Stamp-Spam"))
				}
				subjects = append(subjects, sub)
			}
			c.mv.move(t, subjects, false)
			next := deliver(spamFiles[0], promo)
			if m := s.findOne(t, c.user, next); m.mailbox != "INBOX" {
				t.Errorf("after moving ten out of Junk: next message got %s (%s), want INBOX", m.mailbox, headerValue(m.header, "X-Stamp-Spam"))
			}

			// Into Junk: a sender whose mail reads like a personal note.
			pal := "friendly@notes-" + c.name + ".example"
			subjects = nil
			for i := 0; i < 10; i++ {
				sub := deliver(hamFiles[i%len(hamFiles)], pal)
				if m := s.findOne(t, c.user, sub); m.mailbox != "INBOX" {
					t.Fatalf("before moving, %s: got %s (%s), want INBOX", sub, m.mailbox, headerValue(m.header, "X-Stamp-Spam"))
				}
				subjects = append(subjects, sub)
			}
			c.mv.move(t, subjects, true)
			next = deliver(hamFiles[0], pal)
			if m := s.findOne(t, c.user, next); m.mailbox != "Junk" {
				t.Errorf("after moving ten into Junk: next message got %s (%s), want Junk", m.mailbox, headerValue(m.header, "X-Stamp-Spam"))
			}
		})
	}

	// The lists of contract 3: "Not spam" allowed the promo sender.
	var lists struct {
		Allow []string `json:"allow"`
		Block []string `json:"block"`
	}
	if code := api.call(t, "GET", "/v1/spam/lists", nil, &lists); code != 200 {
		t.Fatalf("GET /v1/spam/lists: %d", code)
	}
	if !strings.Contains(strings.Join(lists.Allow, " "), "deals@promo-api.example") {
		t.Errorf("allow list after Not spam: got %v, want deals@promo-api.example", lists.Allow)
	}
	put := map[string][]string{"allow": {"@friends.example"}, "block": {"Spammer@Bad.example"}}
	if code := api.call(t, "PUT", "/v1/spam/lists", put, &lists); code != 200 || len(lists.Allow) != 1 || lists.Block[0] != "spammer@bad.example" {
		t.Errorf("PUT /v1/spam/lists: got %d %+v, want 200 with normalized lists", code, lists)
	}
	if code := api.call(t, "PUT", "/v1/spam/lists", map[string][]string{"allow": {"not an address"}, "block": {}}, nil); code != 400 {
		t.Errorf("PUT /v1/spam/lists with a bad entry: got %d, want 400", code)
	}
	// A blocked sender goes to Junk whatever it says.
	raw := corpusMessage(t, "ham/en-note-000.eml", "spammer@bad.example", "hello from a blocked sender")
	if err := send(s.addr["smtp"], "mail.bad.example", nil, "spammer@bad.example", []string{apiUser}, raw); err != nil {
		t.Fatal(err)
	}
	if m := s.findOne(t, apiUser, "hello from a blocked sender"); m.mailbox != "Junk" || !strings.Contains(headerValue(m.header, "X-Stamp-Spam"), "block=") {
		t.Errorf("blocked sender: got %s (%s), want Junk with a block signal", m.mailbox, headerValue(m.header, "X-Stamp-Spam"))
	}
}

// TestSpamCorrespondentNotJunkedOnContent: once a user has written to an
// address, mail from it is not junked on content alone, while the same
// content from a stranger is.
func TestSpamCorrespondentNotJunkedOnContent(t *testing.T) {
	writer := "writer@" + localDomain
	s := startStamp(t, stampOptions{users: []string{writer}, smtpRate: 100000})
	pal, stranger := "pen.pal@faraway.example", "stranger@faraway.example"
	note := simpleMessage(writer, pal, "our trip", "Shall we book the train for the 12th?")
	if err := send(s.addr["submission"], "client.stamp.test", sasl.NewPlainClient("", writer, trustPassword),
		writer, []string{pal}, note); err != nil {
		t.Fatalf("submission: got %q, want 250", replyOf(err))
	}
	for _, c := range []struct {
		from, subject, mailbox, signal string
	}{
		{stranger, "pills from a stranger", "Junk", ""},
		{pal, "pills from a pen pal", "INBOX", "correspondent=-3.0"},
	} {
		raw := corpusMessage(t, "spam/en-pharma-002.eml", c.from, c.subject)
		if err := send(s.addr["smtp"], "mail.faraway.example", nil, c.from, []string{writer}, raw); err != nil {
			t.Fatalf("%s: reply to DATA: got %q, want 250", c.from, replyOf(err))
		}
		m := s.findOne(t, writer, c.subject)
		h := headerValue(m.header, "X-Stamp-Spam")
		if m.mailbox != c.mailbox || !strings.Contains(h, c.signal) {
			t.Errorf("%s: got %s (%s), want %s with %q", c.from, m.mailbox, h, c.mailbox, c.signal)
		}
	}
}
