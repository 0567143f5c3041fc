package mailfile

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"
	"time"
)

// Quoting says how "From " lines inside messages are escaped in an mbox
// (RFC 4155 section 2 and its appendix).
type Quoting int

const (
	// MboxRD: every line matching ^>*From  got one more '>' on writing;
	// reading removes one '>' from each. Writing always uses it.
	MboxRD Quoting = iota
	// MboxO: only ^From  got a '>' on writing; reading removes the '>' of
	// ^>From  and leaves deeper quoting alone.
	MboxO
)

// maxMboxLine bounds one line of an mbox file (the message size limit
// bounds a message).
const maxMboxLine = 64 << 20

// asctime is the date layout of the "From " separator line.
const asctime = "Mon Jan _2 15:04:05 2006"

// ReadMbox calls fn for each message of the mbox r, in file order, with
// folder set and flags taken from the Status and X-Status header fields
// that mutt, pine and Thunderbird write (R/O: seen, A: answered, F: flagged,
// D: deleted, T: draft). The date is the one of the "From " line.
func ReadMbox(r io.Reader, folder string, q Quoting, fn func(Message) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var cur *Message
	var body bytes.Buffer
	flush := func() error {
		if cur == nil {
			return nil
		}
		raw := body.Bytes()
		// The blank line before the next "From " line belongs to the mbox.
		if bytes.HasSuffix(raw, []byte("\n\n")) {
			raw = raw[:len(raw)-1]
		} else if bytes.HasSuffix(raw, []byte("\r\n\r\n")) {
			raw = raw[:len(raw)-2]
		}
		cur.Raw = ToCRLF(append([]byte(nil), raw...))
		cur.Flags = statusFlags(cur.Raw)
		err := fn(*cur)
		cur = nil
		body.Reset()
		return err
	}
	lineNo := 0
	for {
		line, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			// A long line: gather it whole.
			long := append([]byte(nil), line...)
			for err == bufio.ErrBufferFull && len(long) < maxMboxLine {
				line, err = br.ReadSlice('\n')
				long = append(long, line...)
			}
			line = long
		}
		if err != nil && err != io.EOF {
			if err == bufio.ErrBufferFull {
				return fmt.Errorf("mbox line %d: longer than %d bytes", lineNo+1, maxMboxLine)
			}
			return fmt.Errorf("mbox: %w", err)
		}
		if len(line) == 0 && err == io.EOF {
			break
		}
		lineNo++
		if bytes.HasPrefix(line, []byte("From ")) {
			if ferr := flush(); ferr != nil {
				return ferr
			}
			sender, date := parseFromLine(line)
			cur = &Message{Folder: folder, Sender: sender, Date: date}
		} else {
			if cur == nil {
				if len(bytes.TrimSpace(line)) == 0 {
					if err == io.EOF {
						break
					}
					continue
				}
				return fmt.Errorf("mbox line %d: not an mbox file (want a \"From \" line first)", lineNo)
			}
			body.Write(unquote(line, q))
		}
		if err == io.EOF {
			break
		}
	}
	return flush()
}

// unquote removes one '>' from a quoted "From " line.
func unquote(line []byte, q Quoting) []byte {
	if len(line) == 0 || line[0] != '>' {
		return line
	}
	i := 0
	for i < len(line) && line[i] == '>' {
		i++
	}
	if !bytes.HasPrefix(line[i:], []byte("From ")) {
		return line
	}
	if q == MboxO && i != 1 {
		return line
	}
	return line[1:]
}

// parseFromLine reads "From sender Thu Aug 22 12:36:23 2002".
func parseFromLine(line []byte) (string, time.Time) {
	f := strings.Fields(strings.TrimRight(string(line[5:]), "\r\n"))
	if len(f) == 0 {
		return "", time.Time{}
	}
	sender := f[0]
	if sender == "MAILER-DAEMON" {
		sender = ""
	}
	rest := strings.Join(f[1:], " ")
	for _, layout := range []string{asctime, "Mon Jan 2 15:04:05 2006", "Mon Jan 2 15:04:05 MST 2006", "Mon Jan 2 15:04:05 -0700 2006", time.RFC1123Z} {
		if t, err := time.Parse(layout, rest); err == nil {
			return sender, t
		}
	}
	return sender, time.Time{}
}

// statusFlags reads mutt/pine/Thunderbird status header fields.
func statusFlags(raw []byte) []string {
	head := raw
	if i := bytes.Index(raw, []byte("\r\n\r\n")); i >= 0 {
		head = raw[:i+2]
	}
	var flags []string
	add := func(f string) {
		for _, g := range flags {
			if g == f {
				return
			}
		}
		flags = append(flags, f)
	}
	for _, l := range bytes.Split(head, []byte("\r\n")) {
		name, val, ok := bytes.Cut(l, []byte(":"))
		if !ok {
			continue
		}
		v := string(bytes.TrimSpace(val))
		switch strings.ToLower(string(name)) {
		case "status":
			if strings.ContainsRune(v, 'R') {
				add(FlagSeen)
			}
		case "x-status":
			for _, c := range v {
				switch c {
				case 'A':
					add(FlagAnswered)
				case 'F':
					add(FlagFlagged)
				case 'D':
					add(FlagDeleted)
				case 'T':
					add(FlagDraft)
				}
			}
		}
	}
	return flags
}

// WriteMbox appends m to w as one mboxrd entry: a "From " line with the
// sender (MAILER-DAEMON when none) and date, the message with LF line
// endings and ^>*From  lines quoted, and a blank line.
func WriteMbox(w io.Writer, m Message) error {
	sender := m.Sender
	if sender == "" || strings.ContainsAny(sender, " \t\r\n") {
		sender = "MAILER-DAEMON"
	}
	date := m.Date
	if date.IsZero() {
		date = time.Unix(0, 0)
	}
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "From %s %s\n", sender, date.UTC().Format(asctime))
	raw := ToLF(m.Raw)
	for len(raw) > 0 {
		line := raw
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			line = raw[:i+1]
		}
		raw = raw[len(line):]
		j := 0
		for j < len(line) && line[j] == '>' {
			j++
		}
		if bytes.HasPrefix(line[j:], []byte("From ")) {
			bw.WriteByte('>')
		}
		bw.Write(line)
	}
	if n := len(m.Raw); n > 0 && m.Raw[n-1] != '\n' {
		bw.WriteByte('\n')
	}
	bw.WriteByte('\n')
	return bw.Flush()
}
