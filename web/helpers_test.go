package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stamp-mail/stamp/core"
	"github.com/stamp-mail/stamp/core/coretest"
)

// testEnv is a real service behind a real HTTP server.
type testEnv struct {
	t   testing.TB
	svc *core.Service
	srv *Server
	url string // base URL of the real listener
}

func newEnv(t testing.TB, o Options) *testEnv {
	t.Helper()
	svc := coretest.New(t, coretest.Options{})
	o.Core = svc
	if o.Hostname == "" {
		o.Hostname = "mail.example.test"
	}
	srv := New(o)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return &testEnv{t: t, svc: svc, srv: srv, url: "http://" + ln.Addr().String()}
}

// apiClient calls the API as one user with a bearer token (or cookies).
type apiClient struct {
	e     *testEnv
	token string
	http  *http.Client
	user  core.User
	csrf  string // sent as X-Stamp-CSRF when set
}

// newUser creates a user and logs it in with a bearer token.
func (e *testEnv) newUser(addr string) *apiClient {
	e.t.Helper()
	u := coretest.User(e.t, e.svc, addr)
	c := &apiClient{e: e, http: &http.Client{}, user: u}
	var out struct {
		Token string `json:"token"`
	}
	if st := c.call("POST", "/v1/auth/login", map[string]string{"username": addr, "password": coretest.Password}, &out); st != 200 {
		e.t.Fatalf("login %s: got status %d, want 200", addr, st)
	}
	c.token = out.Token
	return c
}

// cookieClient logs in and authenticates with the session cookie only.
func (e *testEnv) cookieClient(addr string) *apiClient {
	e.t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &apiClient{e: e, http: &http.Client{Jar: jar}}
	var out struct {
		CSRF string `json:"csrf_token"`
	}
	if st := c.call("POST", "/v1/auth/login", map[string]string{"username": addr, "password": coretest.Password}, &out); st != 200 {
		e.t.Fatalf("cookie login %s: got status %d, want 200", addr, st)
	}
	c.csrf = out.CSRF
	return c
}

// do sends a request; body may be nil, []byte (sent as is) or a value sent as JSON.
func (c *apiClient) do(method, path string, body any, hdr ...string) *http.Response {
	c.e.t.Helper()
	var rd io.Reader
	ctype := ""
	switch b := body.(type) {
	case nil:
	case []byte:
		rd, ctype = bytes.NewReader(b), "application/json"
	default:
		j, err := json.Marshal(b)
		if err != nil {
			c.e.t.Fatal(err)
		}
		rd, ctype = bytes.NewReader(j), "application/json"
	}
	req, err := http.NewRequest(method, c.e.url+path, rd)
	if err != nil {
		c.e.t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if c.csrf != "" {
		req.Header.Set(csrfHeader, c.csrf)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.e.t.Fatalf("%s %s: %v", method, path, err)
	}
	return resp
}

// call sends a request and decodes a JSON answer into out (if not nil); it returns the status.
func (c *apiClient) call(method, path string, body, out any) int {
	c.e.t.Helper()
	resp := c.do(method, path, body)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			c.e.t.Fatalf("%s %s: decoding %q: %v", method, path, b, err)
		}
	}
	return resp.StatusCode
}

// errorCode calls and returns the status and the error code of the answer.
func (c *apiClient) errorCode(method, path string, body any) (int, string) {
	c.e.t.Helper()
	var out struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	st := c.call(method, path, body, &out)
	return st, out.Error.Code
}

// folderID returns the id of the user's folder with a role.
func (c *apiClient) folderID(role string) int64 {
	c.e.t.Helper()
	var fs []folderJSON
	if st := c.call("GET", "/v1/folders", nil, &fs); st != 200 {
		c.e.t.Fatalf("list folders: got %d, want 200", st)
	}
	for _, f := range fs {
		if f.Role == role {
			return f.ID
		}
	}
	c.e.t.Fatalf("no %s folder in %+v", role, fs)
	return 0
}

// deliver runs a message for to through core's inbound pipeline (as SMTP does).
func (e *testEnv) deliver(to, subject, body string) {
	e.t.Helper()
	raw := fmt.Sprintf("From: Sender <sender@remote.example>\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <%d.%s@remote.example>\r\n\r\n%s\r\n",
		to, subject, time.Now().Format(time.RFC1123Z), time.Now().UnixNano(), strings.ReplaceAll(subject, " ", "."), body)
	env := core.Envelope{MailFrom: "sender@remote.example", Recipients: []string{to}, Helo: "remote.example"}
	if err := e.svc.Deliver(context.Background(), env, []byte(raw)); err != nil {
		e.t.Fatalf("deliver to %s: %v", to, err)
	}
}

// appendMany appends n small messages to a user's folder, in parallel so
// that core's group commit batches them; dates are i seconds after base,
// with pairs sharing a date to exercise the cursor's id tie-break. Every
// third message is seen.
func appendMany(t testing.TB, svc *core.Service, userID, folder int64, n int, base time.Time) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, 1)
	work := make(chan int)
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				raw := fmt.Sprintf("From: Bulk <bulk%d@remote.example>\r\nTo: user@example.test\r\nSubject: Bulk message %d about topic%d\r\nMessage-ID: <bulk%d@remote.example>\r\n\r\nBody number %d mentions alpha%d.\r\n", i%50, i, i%100, i, i, i%10)
				var flags []string
				if i%3 == 0 {
					flags = []string{`\Seen`}
				}
				if _, err := svc.Append(context.Background(), userID, folder, flags, base.Add(time.Duration(i/2)*time.Second), []byte(raw)); err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			}
		}()
	}
	for i := 0; i < n; i++ {
		work <- i
	}
	close(work)
	wg.Wait()
	select {
	case err := <-errs:
		t.Fatalf("append: %v", err)
	default:
	}
}
