package sortthread

import (
	"bufio"
	"bytes"
	"mime"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// imaptestDir finds Dovecot's imaptest scripts (shared/tools/imaptest/tests
// in a parent directory, or $STAMP_IMAPTEST_TESTS).
func imaptestDir(t *testing.T) string {
	if d := os.Getenv("STAMP_IMAPTEST_TESTS"); d != "" {
		return d
	}
	dir, _ := filepath.Abs(".")
	for {
		c := filepath.Join(dir, "shared", "tools", "imaptest", "tests")
		if st, err := os.Stat(c); err == nil && st.IsDir() {
			return c
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("SKIP: imaptest's tests not found (shared/tools/imaptest/tests above the repository, or STAMP_IMAPTEST_TESTS)")
		}
		dir = parent
	}
}

var msgIDRe = regexp.MustCompile(`<([^<>]*)>`)

// readMbox parses an imaptest mbox into Messages numbered from 1, the
// internal date from each From_ line, as imaptest appends them.
func readMbox(t *testing.T, path string) []Message {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var raws [][]byte
	var froms []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var cur *bytes.Buffer
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "From ") {
			if cur != nil {
				raws = append(raws, cur.Bytes())
			}
			cur = &bytes.Buffer{}
			froms = append(froms, line)
			continue
		}
		if cur != nil {
			cur.WriteString(line + "\r\n")
		}
	}
	if cur != nil {
		raws = append(raws, cur.Bytes())
	}
	dec := &mime.WordDecoder{}
	var out []Message
	for i, raw := range raws {
		raw = bytes.TrimSuffix(raw, []byte("\r\n")) // the blank line before the next From_
		m := Message{Num: uint32(i + 1), Size: int64(len(raw))}
		f := strings.Fields(froms[i])
		if len(f) >= 7 {
			layout, v := "Mon Jan _2 15:04:05 2006", strings.Join(f[2:7], " ")
			if len(f) >= 8 {
				layout, v = layout+" -0700", v+" "+f[7]
			}
			if d, err := time.Parse(layout, v); err == nil {
				m.Arrival = d
			}
		}
		msg, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			out = append(out, m)
			continue
		}
		h := msg.Header
		if d, err := mail.ParseDate(h.Get("Date")); err == nil {
			m.Date = d
		}
		if s, err := dec.DecodeHeader(h.Get("Subject")); err == nil {
			m.Subject = s
		} else {
			m.Subject = h.Get("Subject")
		}
		if ids := msgIDRe.FindAllStringSubmatch(h.Get("Message-ID"), 1); len(ids) == 1 {
			m.MessageID = ids[0][1]
		}
		for _, x := range msgIDRe.FindAllStringSubmatch(h.Get("References"), -1) {
			m.References = append(m.References, x[1])
		}
		for _, x := range msgIDRe.FindAllStringSubmatch(h.Get("In-Reply-To"), -1) {
			m.InReplyTo = append(m.InReplyTo, x[1])
		}
		addrs := func(k string) []Address { return lenientAddrs(dec, h.Get(k)) }
		m.From, m.To, m.Cc = addrs("From"), addrs("To"), addrs("Cc")
		out = append(out, m)
	}
	return out
}

// TestImaptest runs the SORT and THREAD cases of Dovecot's imaptest
// scripts (sort-*, thread*) over the same messages and compares with the
// answers written there: a yardstick we did not write. Only "all" searches
// before the first other command of a script are run.
func TestImaptest(t *testing.T) {
	dir := imaptestDir(t)
	scripts, _ := filepath.Glob(filepath.Join(dir, "sort-*"))
	threads, _ := filepath.Glob(filepath.Join(dir, "thread*"))
	ran := 0
	for _, script := range append(scripts, threads...) {
		if strings.HasSuffix(script, ".mbox") {
			continue
		}
		mbox := script + ".mbox"
		if _, err := os.Stat(mbox); err != nil {
			continue
		}
		msgs := readMbox(t, mbox)
		lines := strings.Split(readFile(t, script), "\n")
		for i := 0; i < len(lines); i++ {
			l := strings.TrimSpace(lines[i])
			if !strings.HasPrefix(l, "ok ") {
				continue
			}
			cmd := strings.Fields(strings.ToLower(l[3:]))
			if len(cmd) == 0 || (cmd[0] != "sort" && cmd[0] != "thread") {
				break // store, expunge...: the rest depends on it
			}
			if cmd[len(cmd)-1] != "all" || i+1 >= len(lines) || cmd[1] == "return" {
				continue
			}
			want := strings.TrimSpace(lines[i+1])
			var got string
			switch cmd[0] {
			case "sort":
				inner := strings.Trim(strings.Join(cmd[1:len(cmd)-2], " "), "()")
				crit, err := ParseCriteria(strings.Fields(inner))
				if err != nil {
					t.Errorf("%s: %s: %v", filepath.Base(script), l, err)
					continue
				}
				var b strings.Builder
				b.WriteString("* sort")
				for _, n := range Sort(msgs, crit) {
					b.WriteString(" " + strconv.Itoa(int(n)))
				}
				got = b.String()
			case "thread":
				var ts []*Thread
				switch cmd[1] {
				case "references":
					ts = References(msgs)
				case "orderedsubject":
					ts = OrderedSubject(msgs)
				default:
					continue
				}
				got = "* thread " + Format(ts)
			}
			ran++
			if !strings.EqualFold(strings.TrimSpace(got), want) {
				t.Errorf("%s: %s\n got %s\nwant %s", filepath.Base(script), l, got, want)
			}
		}
	}
	if ran < 10 {
		t.Errorf("ran %d imaptest cases, want at least 10", ran)
	}
	t.Logf("%d imaptest SORT/THREAD cases", ran)
}

func readFile(t *testing.T, p string) string {
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// lenientAddrs parses an address list as an IMAP envelope shows it: a group
// is its name (an Address without '@') followed by its members, and a bare
// local part is an address of its own.
func lenientAddrs(dec *mime.WordDecoder, v string) []Address {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil
	}
	p := &mail.AddressParser{WordDecoder: dec}
	if i := strings.IndexByte(v, ':'); i > 0 && !strings.ContainsAny(v[:i], "<@\"") {
		out := []Address{{Address: strings.TrimSpace(v[:i])}}
		rest := strings.TrimSpace(strings.TrimRight(strings.TrimSpace(v[i+1:]), ";,"))
		return append(out, lenientAddrs(dec, rest)...)
	}
	if l, err := p.ParseList(v); err == nil {
		var out []Address
		for _, a := range l {
			out = append(out, Address{Name: a.Name, Address: a.Address})
		}
		return out
	}
	var out []Address
	for _, part := range strings.Split(v, ",") {
		if a, err := p.Parse(part); err == nil {
			out = append(out, Address{Name: a.Name, Address: a.Address})
		} else if part = strings.TrimSpace(part); part != "" {
			out = append(out, Address{Address: part})
		}
	}
	return out
}
