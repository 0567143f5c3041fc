// Package smtpload is a load generator for SMTP servers: a number of
// connections, each reused for many messages (RSET only after a failed
// transaction, RFC 5321 section 4.1.1.5), measuring per-message latency from MAIL to the 250
// after the end of DATA (RFC 5321 section 4.1.1.4), which with Stamp means
// "durably committed". It reports which messages were accepted (by
// Message-ID) so that a crash test can check that every 250 survived.
package smtpload

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-sasl"
	gosmtp "github.com/emersion/go-smtp"
)

// Client timeouts; RFC 5321 section 4.5.3.2 sets the floors (5 minutes per
// command, 10 minutes after the final dot). A load test against a local
// server would rather fail fast, so they are shorter but named.
const (
	dialTimeout       = 10 * time.Second
	commandTimeout    = time.Minute
	submissionTimeout = 2 * time.Minute
)

// Options describe a load run.
type Options struct {
	Addr        string // host:port of the server
	Connections int    // parallel connections; default 1
	Messages    int    // messages in total; default 1
	Size        int    // approximate message size in bytes; default 10 KiB
	From, To    string // envelope and header addresses
	Username    string // AUTH PLAIN when set
	Password    string
	StartTLS    bool // issue STARTTLS before anything else
	// PerConnection is how many messages one connection sends before QUIT
	// (then a new connection, STARTTLS and AUTH); 0 means no limit.
	PerConnection int
	TLS           *tls.Config // for STARTTLS; default skips certificate checks (load tests target your own server)
	// Text, when set, is the body's text (UTF-8, lines of at most 998
	// bytes), repeated or cut at a line to about Size bytes. Without it the
	// body is one generated line repeated, which compresses and tokenizes
	// far more easily than real mail.
	Text []byte
	// OnAccepted, when set, is called (from several goroutines) with the
	// Message-ID (without brackets) of every message answered 250.
	OnAccepted func(messageID string)
}

// Result is the outcome of a run.
type Result struct {
	Sent      int           // messages answered 250
	Failed    int           // messages refused or lost to connection errors
	Duration  time.Duration // wall clock of the run
	PerSecond float64       // Sent / Duration
	P50, P99  time.Duration // latency of accepted messages, MAIL to final 250
	Accepted  []string      // Message-IDs answered 250, in no particular order
	FirstErr  string        // first error seen, "" if none
}

// Run sends the messages and returns the figures. It returns an error only
// when nothing could be sent at all (for instance no connection could be
// made); partial failures are counted in Result.Failed.
func Run(ctx context.Context, o Options) (Result, error) {
	if o.Connections <= 0 {
		o.Connections = 1
	}
	if o.Messages <= 0 {
		o.Messages = 1
	}
	if o.Size <= 0 {
		o.Size = 10 << 10
	}
	if o.TLS == nil {
		o.TLS = &tls.Config{InsecureSkipVerify: true}
	}
	run := &runner{o: o, body: body(o.Size), tag: randomHex(6), charset: "us-ascii"}
	if len(o.Text) > 0 {
		b, err := textBody(o.Text, o.Size)
		if err != nil {
			return Result{}, err
		}
		run.body, run.charset = b, "utf-8"
	}
	run.next.Store(0)
	start := time.Now()
	var wg sync.WaitGroup
	for i := 0; i < o.Connections; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); run.worker(ctx, i) }()
	}
	wg.Wait()
	res := Result{Duration: time.Since(start)}
	run.mu.Lock()
	defer run.mu.Unlock()
	res.Sent, res.Failed, res.Accepted, res.FirstErr = len(run.accepted), run.failed, run.accepted, run.firstErr
	if res.Duration > 0 {
		res.PerSecond = float64(res.Sent) / res.Duration.Seconds()
	}
	if len(run.lat) > 0 {
		slices.Sort(run.lat)
		res.P50 = run.lat[len(run.lat)*50/100]
		res.P99 = run.lat[min(len(run.lat)-1, len(run.lat)*99/100)]
	}
	if res.Sent == 0 && res.Failed > 0 {
		return res, fmt.Errorf("smtpload: no message accepted: %s", res.FirstErr)
	}
	return res, nil
}

type runner struct {
	o       Options
	body    []byte
	charset string // of the body's Content-Type
	tag     string
	next    atomic.Int64

	// mu guards the fields below.
	mu       sync.Mutex
	accepted []string
	lat      []time.Duration
	failed   int
	firstErr string
}

// take reserves the next message number, or returns false when all are taken.
func (r *runner) take() (int, bool) {
	n := r.next.Add(1)
	return int(n), n <= int64(r.o.Messages)
}

func (r *runner) fail(err error) {
	r.mu.Lock()
	r.failed++
	if r.firstErr == "" {
		r.firstErr = err.Error()
	}
	r.mu.Unlock()
}

func (r *runner) ok(id string, d time.Duration) {
	r.mu.Lock()
	r.accepted = append(r.accepted, id)
	r.lat = append(r.lat, d)
	r.mu.Unlock()
	if r.o.OnAccepted != nil {
		r.o.OnAccepted(id)
	}
}

// worker sends messages over one connection, reconnecting after errors.
func (r *runner) worker(ctx context.Context, conn int) {
	var c *gosmtp.Client
	defer func() {
		if c != nil {
			c.Quit()
		}
	}()
	dirty := false // the last transaction failed midway: RSET before the next
	sent := 0      // messages on this connection
	for ctx.Err() == nil {
		n, ok := r.take()
		if !ok {
			return
		}
		if c != nil && r.o.PerConnection > 0 && sent >= r.o.PerConnection {
			c.Quit()
			c = nil
		}
		if c == nil {
			sent, dirty = 0, false
			var err error
			if c, err = r.dial(ctx); err != nil {
				r.fail(err)
				continue
			}
		} else if dirty {
			// A completed DATA already ends the transaction (RFC 5321
			// section 4.1.1.4); only a failed one needs RSET.
			if err := c.Reset(); err != nil {
				c.Close()
				c = nil
				r.fail(err)
				continue
			}
		}
		dirty = false
		sent++
		id := fmt.Sprintf("load-%s-%d-%d@stamp.load", r.tag, conn, n)
		t0 := time.Now()
		err := r.send(c, id)
		if err == nil {
			r.ok(id, time.Since(t0))
			continue
		}
		r.fail(err)
		dirty = true
		var se *gosmtp.SMTPError
		if !errors.As(err, &se) {
			c.Close() // connection-level failure: start over
			c = nil
		}
	}
}

func (r *runner) dial(ctx context.Context) (*gosmtp.Client, error) {
	d := net.Dialer{Timeout: dialTimeout}
	nc, err := d.DialContext(ctx, "tcp", r.o.Addr)
	if err != nil {
		return nil, err
	}
	var c *gosmtp.Client
	if r.o.StartTLS {
		cfg := r.o.TLS.Clone()
		if cfg.ServerName == "" {
			cfg.ServerName, _, _ = net.SplitHostPort(r.o.Addr)
		}
		if c, err = gosmtp.NewClientStartTLS(nc, cfg); err != nil {
			return nil, err
		}
	} else {
		c = gosmtp.NewClient(nc)
	}
	c.CommandTimeout, c.SubmissionTimeout = commandTimeout, submissionTimeout
	if !r.o.StartTLS { // NewClientStartTLS already said EHLO
		if err := c.Hello("load.stamp"); err != nil {
			c.Close()
			return nil, err
		}
	}
	if r.o.Username != "" {
		if err := c.Auth(sasl.NewPlainClient("", r.o.Username, r.o.Password)); err != nil {
			c.Close()
			return nil, err
		}
	}
	return c, nil
}

// send runs one transaction: MAIL, RCPT, DATA.
func (r *runner) send(c *gosmtp.Client, id string) error {
	if err := c.Mail(r.o.From, &gosmtp.MailOptions{Size: int64(len(r.body) + 300)}); err != nil {
		return err
	}
	if err := c.Rcpt(r.o.To, nil); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "From: <%s>\r\nTo: <%s>\r\nSubject: load %s\r\nDate: %s\r\nMessage-ID: <%s>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=%s\r\nContent-Transfer-Encoding: 8bit\r\n\r\n",
		r.o.From, r.o.To, id, time.Now().Format(time.RFC1123Z), id, r.charset)
	if _, err := w.Write(r.body); err != nil {
		w.Close()
		return err
	}
	return w.Close()
}

// body returns about size bytes of text in 76-character lines.
func body(size int) []byte {
	line := []byte("The quick brown fox jumps over the lazy dog. Stamp load generator text line.\r\n")
	var b bytes.Buffer
	for b.Len()+len(line) <= size {
		b.Write(line)
	}
	if b.Len() == 0 {
		b.Write(line)
	}
	return b.Bytes()
}

// textBody returns text with CRLF line ends, repeated or cut after a line
// to about size bytes (at least one line).
func textBody(text []byte, size int) ([]byte, error) {
	if !utf8.Valid(text) {
		return nil, errors.New("load: the body text is not UTF-8")
	}
	var lines [][]byte
	for _, l := range bytes.Split(bytes.ReplaceAll(text, []byte("\r\n"), []byte("\n")), []byte("\n")) {
		if len(l) > 998 {
			return nil, errors.New("load: the body text has a line longer than 998 bytes (RFC 5322 section 2.1.1)")
		}
		lines = append(lines, l)
	}
	var b bytes.Buffer
	for i := 0; b.Len() == 0 || b.Len() < size; i++ {
		l := lines[i%len(lines)]
		if b.Len() > 0 && b.Len()+len(l)+2 > size {
			break
		}
		b.Write(l)
		b.WriteString("\r\n")
	}
	return b.Bytes(), nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
