package web

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/stamp-mail/stamp/core"
	"github.com/stamp-mail/stamp/core/coretest"
	"github.com/stamp-mail/stamp/storage"
)

// subjects returns the subjects of a search, sorted.
func (c *apiClient) searchSubjects(q string) (int, []string, string) {
	c.e.t.Helper()
	var res struct {
		Messages []summaryJSON `json:"messages"`
		Error    struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	st := c.call("GET", "/v1/search?q="+urlQuery(q), nil, &res)
	var out []string
	for _, m := range res.Messages {
		out = append(out, m.Subject)
	}
	slices.Sort(out)
	return st, out, res.Error.Message
}

func TestSearchOperators(t *testing.T) {
	e := newEnv(t, Options{})
	a := e.newUser("alice@example.test")
	ctx := context.Background()
	inbox, archive := a.folderID("inbox"), a.folderID("archive")
	// Arrival (internal) dates are all now; the Date headers differ, and
	// before:/after: must follow the Date headers.
	add := func(folder int64, flags []string, date, hdr string) {
		raw := "Date: " + date + "\r\nMessage-ID: <" + fmt.Sprint(time.Now().UnixNano()) + "@x>\r\n" + hdr
		if _, err := e.svc.Append(ctx, a.user.ID, folder, flags, time.Now(), []byte(raw)); err != nil {
			t.Fatal(err)
		}
	}
	add(inbox, nil, "Mon, 15 Jan 2024 10:00:00 +0000", "From: Ann <ann@remote.example>\r\nTo: alice@example.test\r\nCc: Carol <carol@remote.example>\r\nSubject: Quarterly report\r\n\r\nThe quarterly report is attached below.\r\n")
	add(inbox, []string{storage.FlagFlagged}, "Thu, 15 Feb 2024 10:00:00 +0000", "From: Bob <bob@remote.example>\r\nTo: alice@example.test\r\nSubject: Report draft\r\n\r\nA report that is quarterly, but not the phrase.\r\n")
	add(archive, nil, "Fri, 15 Mar 2024 10:00:00 +0000", "From: Ann <ann@remote.example>\r\nTo: alice@example.test\r\nSubject: Invoice\r\nMIME-Version: 1.0\r\n"+
		"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nSee the invoice.\r\n--b\r\n"+
		"Content-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"invoice-2024-03.pdf\"\r\n\r\n%PDF-1\r\n--b--\r\n")
	add(inbox, nil, "Sat, 16 Mar 2024 10:00:00 +0000", "From: Out <ooo@remote.example>\r\nTo: alice@example.test\r\nSubject: Automatic reply\r\n\r\nI am out of office this week.\r\n")

	for _, c := range []struct {
		q    string
		want []string
	}{
		{`"quarterly report"`, []string{"Quarterly report"}},
		{`quarterly report`, []string{"Quarterly report", "Report draft"}},
		{`report -draft`, []string{"Quarterly report"}},
		{`report -from:bob`, []string{"Quarterly report"}},
		{`-"out of office" -invoice -report`, nil},
		{`-"out of office" week`, nil},
		{`cc:carol`, []string{"Quarterly report"}},
		{`is:flagged`, []string{"Report draft"}},
		{`is:unflagged report`, []string{"Quarterly report"}},
		{`in:archive`, []string{"Invoice"}},
		{`in:Inbox from:ann`, []string{"Quarterly report"}},
		{`before:2024-02-01`, []string{"Quarterly report"}},
		{`after:2024-02-01 before:2024-03-16`, []string{"Invoice", "Report draft"}},
		{`filename:invoice`, []string{"Invoice"}},
		{`filename:2024-03.PDF`, []string{"Invoice"}},
		{`filename:nothing`, nil},
		{`from:ann`, []string{"Invoice", "Quarterly report"}},
		{`subject:"report draft"`, []string{"Report draft"}},
	} {
		st, got, msg := a.searchSubjects(c.q)
		if st != 200 || !slices.Equal(got, c.want) {
			t.Errorf("search %s: got %d %q %s, want 200 %q", c.q, st, got, msg, c.want)
		}
	}
	for _, q := range []string{"", "*", "from:", "in:Nowhere", "is:whatever", "before:March"} {
		st, got, msg := a.searchSubjects(q)
		if st != 400 || msg == "" || strings.Contains(msg, "invalid argument") || len(got) != 0 {
			t.Errorf("search %q: got %d %q %q, want 400 with a human message and no results", q, st, got, msg)
		}
	}
}

func TestSettingsAPI(t *testing.T) {
	e := newEnv(t, Options{})
	a := e.newUser("alice@example.test")
	e.newUser("bob@example.test")
	var st settingsJSON
	if code := a.call("GET", "/v1/settings", nil, &st); code != 200 || st.Density != "comfortable" || st.Theme != "auto" || st.DisplayName != "" {
		t.Fatalf("GET /v1/settings (defaults): got %d %+v", code, st)
	}
	put := map[string]any{"display_name": "  Alice Liddell ", "signature": "-- \nAlice", "density": "compact", "theme": "dark", "undo_send_seconds": 10}
	if code := a.call("PUT", "/v1/settings", put, &st); code != 200 || st.DisplayName != "Alice Liddell" || st.Theme != "dark" || *st.UndoSendSeconds != 10 {
		t.Fatalf("PUT /v1/settings: got %d %+v", code, st)
	}
	var again settingsJSON
	if a.call("GET", "/v1/settings", nil, &again); again.Signature != "-- \nAlice" || again.Density != "compact" {
		t.Errorf("GET after PUT: got %+v", again)
	}
	for _, bad := range []map[string]any{
		{"theme": "purple"}, {"density": "huge"}, {"display_name": "Eve\r\nBcc: x@y"}, {"undo_send_seconds": 99},
		{"display_name": strings.Repeat("x", 101)}, {"theme": 3},
	} {
		var res struct {
			Error struct{ Message string } `json:"error"`
		}
		if code := a.call("PUT", "/v1/settings", bad, &res); code != 400 || res.Error.Message == "" || strings.Contains(res.Error.Message, "Go ") || strings.Contains(res.Error.Message, "settingsJSON") {
			t.Errorf("PUT %v: got %d %q, want 400 with a human message", bad, code, res.Error.Message)
		}
	}
	// The display name goes into From of mail sent through the API.
	if code := a.call("POST", "/v1/messages", map[string]any{"to": []string{"bob@example.test"}, "subject": "named", "text": "hi"}, nil); code != 202 {
		t.Fatalf("send: got %d", code)
	}
	bobUser, _ := e.svc.LookupUser(context.Background(), "bob@example.test")
	ib, _ := e.svc.GetMailboxByRole(context.Background(), bobUser.ID, storage.RoleInbox)
	ms, _ := e.svc.ListMessages(context.Background(), bobUser.ID, ib.ID, storage.ListQuery{Limit: 5})
	if len(ms) != 1 || len(ms[0].From) != 1 || ms[0].From[0].Name != "Alice Liddell" {
		t.Errorf("bob's copy: got %+v, want From named Alice Liddell", ms)
	}
}

func TestSessionsAndPasswordChange(t *testing.T) {
	e := newEnv(t, Options{})
	a := e.newUser("alice@example.test")
	other := &apiClient{e: e, http: &http.Client{}, user: a.user}
	var out struct {
		Token string `json:"token"`
	}
	if st := other.call("POST", "/v1/auth/login", map[string]string{"username": "alice@example.test", "password": coretest.Password}, &out); st != 200 {
		t.Fatal(st)
	}
	other.token = out.Token
	third := &apiClient{e: e, http: &http.Client{}, user: a.user}
	third.call("POST", "/v1/auth/login", map[string]string{"username": "alice@example.test", "password": coretest.Password}, &out)
	third.token = out.Token

	var list struct {
		Sessions []sessionJSON `json:"sessions"`
	}
	if st := a.call("GET", "/v1/sessions", nil, &list); st != 200 || len(list.Sessions) != 3 {
		t.Fatalf("GET /v1/sessions: got %d %+v, want 3", st, list)
	}
	var current []string
	for _, s := range list.Sessions {
		if s.Current {
			current = append(current, s.ID)
		}
		if strings.Contains(a.token, s.ID) || strings.Contains(other.token, s.ID) {
			t.Errorf("session id %q is part of a token", s.ID)
		}
	}
	if len(current) != 1 || current[0] != sessionIDOf(a.token) {
		t.Errorf("current sessions: got %v, want only %s", current, sessionIDOf(a.token))
	}
	// Sign out "other" from a's settings.
	if st := a.call("DELETE", "/v1/sessions/"+sessionIDOf(other.token), nil, nil); st != 204 {
		t.Fatalf("DELETE session: got %d, want 204", st)
	}
	if st := other.call("GET", "/v1/me", nil, nil); st != 401 {
		t.Errorf("ended session: got %d, want 401", st)
	}
	if st, code := a.errorCode("DELETE", "/v1/sessions/zzz", nil); st != 400 || code != codeBadRequest {
		t.Errorf("DELETE malformed session id: got %d %s, want 400", st, code)
	}
	if st, _ := a.errorCode("DELETE", "/v1/sessions/0123456789abcdef", nil); st != 404 {
		t.Errorf("DELETE unknown session: got %d, want 404", st)
	}

	// Password change: wrong current password, too short, then right.
	var res struct {
		Error struct{ Message string } `json:"error"`
	}
	if st := a.call("POST", "/v1/auth/password", map[string]string{"current": "nope nope nope", "new": "a brand new password"}, &res); st != 403 || !strings.Contains(res.Error.Message, "current password is wrong") {
		t.Errorf("wrong current password: got %d %q, want 403", st, res.Error.Message)
	}
	if st := a.call("POST", "/v1/auth/password", map[string]string{"current": coretest.Password, "new": "short"}, &res); st != 400 {
		t.Errorf("short new password: got %d %q, want 400", st, res.Error.Message)
	}
	// The third session has a WebSocket open: the change closes it.
	ctx, cancel := contextWithTimeout(10 * time.Second)
	defer cancel()
	wsURL := "ws" + strings.TrimPrefix(e.url, "http") + "/v1/events"
	ws, _, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + third.token}}})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	waitStreams(t, e.srv, third.token, 1)
	var changed struct {
		Ended int `json:"sessions_ended"`
	}
	if st := a.call("POST", "/v1/auth/password", map[string]string{"current": coretest.Password, "new": "a brand new password"}, &changed); st != 200 || changed.Ended != 1 {
		t.Fatalf("change password: got %d %+v, want 200 ending 1 session", st, changed)
	}
	if _, _, err := ws.Read(ctx); websocket.CloseStatus(err) != statusSessionEnded {
		t.Errorf("third session's WebSocket after the password change: got %v, want close %d", err, statusSessionEnded)
	}
	if st := third.call("GET", "/v1/me", nil, nil); st != 401 {
		t.Errorf("other session after the password change: got %d, want 401", st)
	}
	if st := a.call("GET", "/v1/me", nil, nil); st != 200 {
		t.Errorf("the changing session: got %d, want 200 (it stays signed in)", st)
	}
	if _, err := e.svc.Authenticate(context.Background(), "alice@example.test", "a brand new password", "127.0.0.1"); err != nil {
		t.Errorf("login with the new password: %v", err)
	}
}

func sessionIDOf(tok string) string { return core.SessionID(tok) }

func waitStreams(t *testing.T, srv *Server, tok string, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for srv.streams.count(sessionIDOf(tok)) != n {
		if time.Now().After(deadline) {
			t.Fatalf("open streams of the session: got %d, want %d", srv.streams.count(sessionIDOf(tok)), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestLogoutClosesStreams: logging out ends that session's WebSocket (close
// 4001, no more events) and long poll (401) at once; another session's
// stream of the same user goes on.
func TestLogoutClosesStreams(t *testing.T) {
	e := newEnv(t, Options{PollWait: 20 * time.Second})
	a := e.newUser("alice@example.test")
	keep := &apiClient{e: e, http: &http.Client{}, user: a.user}
	var out struct {
		Token string `json:"token"`
	}
	keep.call("POST", "/v1/auth/login", map[string]string{"username": "alice@example.test", "password": coretest.Password}, &out)
	keep.token = out.Token

	ctx, cancel := contextWithTimeout(15 * time.Second)
	defer cancel()
	wsURL := "ws" + strings.TrimPrefix(e.url, "http") + "/v1/events"
	dial := func(tok string) *websocket.Conn {
		c, _, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + tok}}})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	ws, kept := dial(a.token), dial(keep.token)
	defer ws.CloseNow()
	defer kept.CloseNow()
	polled := make(chan int, 1)
	go func() {
		resp := a.do("GET", "/v1/events/poll", nil)
		resp.Body.Close()
		polled <- resp.StatusCode
	}()
	waitStreams(t, e.srv, a.token, 2)

	start := time.Now()
	if st := a.call("POST", "/v1/auth/logout", nil, nil); st != 204 {
		t.Fatalf("logout: got %d", st)
	}
	if _, _, err := ws.Read(ctx); websocket.CloseStatus(err) != statusSessionEnded {
		t.Errorf("WebSocket after logout: got %v, want close %d", err, statusSessionEnded)
	}
	select {
	case st := <-polled:
		if st != 401 {
			t.Errorf("long poll after logout: got %d, want 401", st)
		}
	case <-time.After(5 * time.Second):
		t.Errorf("long poll still open 5 s after logout")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("streams closed %v after logout, want at once", d)
	}
	// The other session still gets events.
	e.deliver("alice@example.test", "After logout", "hello")
	for {
		_, b, err := kept.Read(ctx)
		if err != nil {
			t.Fatalf("other session's WebSocket: %v", err)
		}
		if strings.Contains(string(b), "After logout") {
			break
		}
	}
}

func TestFutureCursorAndMalformedIDs(t *testing.T) {
	e := newEnv(t, Options{PollWait: 20 * time.Second})
	a := e.newUser("alice@example.test")
	start := time.Now()
	if st, code := a.errorCode("GET", "/v1/events/poll?cursor=999999999", nil); st != 400 || code != codeBadRequest {
		t.Errorf("poll with a future cursor: got %d %s, want 400", st, code)
	}
	if time.Since(start) > 2*time.Second {
		t.Errorf("poll with a future cursor took %v, want an answer at once", time.Since(start))
	}
	for _, p := range []struct{ method, path string }{
		{"GET", "/v1/messages/abc"}, {"GET", "/v1/messages/-3"}, {"GET", "/v1/messages/0"}, {"DELETE", "/v1/messages/1e3"},
		{"GET", "/v1/folders/x/messages"}, {"PATCH", "/v1/folders/-1"}, {"DELETE", "/v1/folders/abc"}, {"GET", "/v1/threads/zz"},
		{"GET", "/v1/messages/abc/raw"}, {"PUT", "/v1/drafts/abc"}, {"GET", "/v1/search?q=x&folder_id=abc"},
		{"GET", "/v1/folders/1/messages?cursor=!!"},
	} {
		var body any
		if p.method == "PATCH" || p.method == "PUT" {
			body = map[string]any{"name": "x"}
		}
		var res struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if st := a.call(p.method, p.path, body, &res); st != 400 || res.Error.Code != codeBadRequest || res.Error.Message == "" {
			t.Errorf("%s %s: got %d %+v, want 400 bad_request", p.method, p.path, st, res.Error)
		}
	}
}

func TestHumanErrors(t *testing.T) {
	e := newEnv(t, Options{})
	a := e.newUser("alice@example.test")
	for _, c := range []struct {
		body any
		want string
	}{
		{[]byte(`{"to":"bob@example.test","text":"x"}`), `"to"`},
		{[]byte(`{"subject":5}`), `"subject"`},
		{[]byte(`{"to":[`), "JSON"},
		{[]byte(`{"to":["bob@"],"text":"x"}`), "To:"},
		{[]byte(`{"to":["Bob <bob@example.test"],"text":"x"}`), "To:"},
		{[]byte(`{"to":["a@example.test"],"cc":["not an address"],"text":"x"}`), "Cc:"},
	} {
		var res struct {
			Error struct{ Message string } `json:"error"`
		}
		st := a.call("POST", "/v1/messages", c.body, &res)
		msg := res.Error.Message
		if st != 400 || !strings.Contains(msg, c.want) {
			t.Errorf("POST %s: got %d %q, want 400 mentioning %s", c.body, st, msg, c.want)
		}
		for _, internal := range []string{"Go struct", "composeRequest", "mail: ", "angle-addr", "[]string", "json: ", "invalid argument"} {
			if strings.Contains(msg, internal) {
				t.Errorf("POST %s: error %q shows Go internals (%q)", c.body, msg, internal)
			}
		}
	}
}

func TestFolderNamesAndTotals(t *testing.T) {
	e := newEnv(t, Options{})
	a := e.newUser("alice@example.test")
	for _, name := range []string{"   ", "a/../b", "./x", "a/./b", " lead", "trail ", "a//b", "x/", ""} {
		var res struct {
			Error struct{ Message string } `json:"error"`
		}
		if st := a.call("POST", "/v1/folders", map[string]string{"name": name}, &res); st != 400 || strings.Contains(res.Error.Message, "invalid argument") {
			t.Errorf("create folder %q: got %d %q, want 400 with a human message", name, st, res.Error.Message)
		}
	}
	var f folderJSON
	if st := a.call("POST", "/v1/folders", map[string]string{"name": "Projects/2024"}, &f); st != 201 {
		t.Fatalf("create Projects/2024: got %d", st)
	}
	if st := a.call("PATCH", fmt.Sprintf("/v1/folders/%d", f.ID), map[string]string{"name": "Projects/../x"}, nil); st != 400 {
		t.Errorf("rename to Projects/../x: got %d, want 400", st)
	}
	for i := 0; i < 3; i++ {
		e.deliver("alice@example.test", fmt.Sprintf("total %d", i), "x")
	}
	var page struct {
		Messages []summaryJSON `json:"messages"`
		Total    int           `json:"total"`
		Unread   int           `json:"folder_unread"`
	}
	if st := a.call("GET", fmt.Sprintf("/v1/folders/%d/messages?limit=2", a.folderID("inbox")), nil, &page); st != 200 || page.Total != 3 || page.Unread != 3 || len(page.Messages) != 2 {
		t.Errorf("folder page: got %d %d messages, total %d, unread %d, want 2 of 3, 3 unread", st, len(page.Messages), page.Total, page.Unread)
	}
}

func TestPathsOutsideTheApp(t *testing.T) {
	e := newEnv(t, Options{Autoconfig: AutoconfigInfo{IMAPSPort: 993, SubmissionsPort: 465}})
	get := func(p string) (int, string, string) {
		resp, err := http.Get(e.url + p)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
	}
	for _, p := range []string{"/mail/config-v1.1.xml?emailaddress=alice@example.test", "/.well-known/autoconfig/mail/config-v1.1.xml"} {
		if st, ct, body := get(p); st != 200 || !strings.Contains(ct, "xml") || !strings.Contains(body, "<clientConfig") || !strings.Contains(body, "993") {
			t.Errorf("GET %s: got %d %s %.80q, want the clientConfig XML", p, st, ct, body)
		}
	}
	for _, p := range []string{"/no/such/page", "/admin", "/index.php"} {
		if st, _, _ := get(p); st != 404 {
			t.Errorf("GET %s: got %d, want 404", p, st)
		}
	}
	if st, ct, body := get("/v1/nope"); st != 404 || !strings.Contains(ct, "json") || !strings.Contains(body, "not_found") {
		t.Errorf("GET /v1/nope: got %d %s %q, want a JSON 404", st, ct, body)
	}
	if st, _, body := get("/"); st != 200 || !strings.Contains(body, "login-form") {
		t.Errorf("GET /: got %d, want the webmail", st)
	}
}

func TestMetricsAccess(t *testing.T) {
	open := newEnv(t, Options{})
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/metrics", nil)
	req.RemoteAddr = "203.0.113.9:4000"
	open.srv.Handler().ServeHTTP(rec, req)
	if rec.Code != 404 {
		t.Errorf("/metrics from a public address without a token configured: got %d, want 404", rec.Code)
	}
	if resp, err := http.Get(open.url + "/metrics"); err != nil || resp.StatusCode != 200 {
		t.Errorf("/metrics from loopback: got %v %v, want 200", resp, err)
	} else {
		resp.Body.Close()
	}

	locked := newEnv(t, Options{MetricsToken: "s3cret-metrics"})
	for _, c := range []struct {
		auth string
		want int
	}{{"", 404}, {"Bearer wrong", 404}, {"Bearer s3cret-metrics", 200}} {
		req, _ := http.NewRequest("GET", locked.url+"/metrics", nil)
		if c.auth != "" {
			req.Header.Set("Authorization", c.auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("/metrics with token configured, Authorization %q: got %d, want %d", c.auth, resp.StatusCode, c.want)
		}
	}
}
