package web

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

func decode(t *testing.T, resp *http.Response, v any) {
	t.Helper()
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("decode %s: %v", resp.Request.URL, err)
	}
}

func contextWithTimeout(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}

type pollResult struct {
	Events []eventJSON `json:"events"`
	Cursor string      `json:"cursor"`
}

func TestWebSocketEvents(t *testing.T) {
	e := newEnv(t, Options{PingInterval: 50 * time.Millisecond})
	a := e.newUser("a@example.test")
	ctx, cancel := contextWithTimeout(10 * time.Second)
	defer cancel()
	wsURL := "ws" + strings.TrimPrefix(e.url, "http") + "/v1/events"
	c, _, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + a.token}}})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.CloseNow()
	time.Sleep(150 * time.Millisecond) // a few pings go by; the stream must survive them
	e.deliver("a@example.test", "Pushed message", "hello")

	inbox := a.folderID("inbox")
	var gotNew, gotFolder bool
	for !gotNew || !gotFolder {
		_, data, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("read: %v (got new %v, folder %v)", err, gotNew, gotFolder)
		}
		var ev eventJSON
		if err := json.Unmarshal(data, &ev); err != nil {
			t.Fatalf("event %q: %v", data, err)
		}
		switch ev.Type {
		case eventNew:
			if ev.Message == nil || ev.Message.Subject != "Pushed message" || ev.FolderID != inbox || ev.Cursor == "" {
				t.Errorf("message.new: got %s, want the delivered message in INBOX with a cursor", data)
			}
			gotNew = true
		case eventFolder:
			if ev.Folder == nil || ev.Folder.ID != inbox || ev.Folder.Unread != 1 {
				t.Errorf("folder.changed: got %s, want INBOX with 1 unread", data)
			}
			gotFolder = true
		}
	}

	// Other origins may not open a stream with the user's credentials.
	_, resp, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{HTTPHeader: http.Header{
		"Authorization": {"Bearer " + a.token}, "Origin": {"https://evil.example"}}})
	if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("foreign origin: got err %v resp %v, want 403", err, resp)
	}

	// Shutdown ends the stream with 1001 going away.
	sctx, scancel := contextWithTimeout(5 * time.Second)
	defer scancel()
	e.srv.Shutdown(sctx)
	_, _, err = c.Read(ctx)
	if websocket.CloseStatus(err) != websocket.StatusGoingAway {
		t.Errorf("after Shutdown: got %v, want close status 1001", err)
	}
}

func TestLongPoll(t *testing.T) {
	e := newEnv(t, Options{PollWait: 2 * time.Second})
	a := e.newUser("a@example.test")

	// No cursor and nothing happening: an empty answer with the current cursor.
	var first pollResult
	if st := a.call("GET", "/v1/events/poll", nil, &first); st != 200 || len(first.Events) != 0 || first.Cursor == "" {
		t.Fatalf("idle poll: got %d %+v, want 200, no events and a cursor", st, first)
	}

	// A poll waiting with that cursor wakes up for a delivery.
	got := make(chan pollResult, 1)
	go func() {
		var r pollResult
		a.call("GET", "/v1/events/poll?cursor="+first.Cursor, nil, &r)
		got <- r
	}()
	time.Sleep(100 * time.Millisecond)
	e.deliver("a@example.test", "Polled message", "hi")
	var r pollResult
	select {
	case r = <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("long poll did not answer")
	}
	if len(r.Events) == 0 || r.Events[0].Type != eventNew || r.Events[0].Message == nil || r.Events[0].Message.Subject != "Polled message" {
		t.Fatalf("poll: got %+v, want message.new first", r)
	}

	// A client that was away resumes from its cursor and misses nothing.
	e.deliver("a@example.test", "While away 1", "x")
	e.deliver("a@example.test", "While away 2", "x")
	var later pollResult
	a.call("GET", "/v1/events/poll?cursor="+r.Cursor, nil, &later)
	var subjects []string
	for _, ev := range later.Events {
		if ev.Type == eventNew && ev.Message != nil {
			subjects = append(subjects, ev.Message.Subject)
		}
	}
	if strings.Join(subjects, ",") != "While away 1,While away 2" {
		t.Errorf("resume: got %v, want both messages delivered while away, in order", subjects)
	}
	// Flag changes and expunges come through too.
	id := later.Events[0].Message.ID
	a.call("PATCH", "/v1/messages/"+itoa(id), map[string]any{"seen": true}, nil)
	a.call("DELETE", "/v1/messages/"+itoa(id), nil, nil)
	var more pollResult
	a.call("GET", "/v1/events/poll?cursor="+later.Cursor, nil, &more)
	types := map[string]bool{}
	for _, ev := range more.Events {
		types[ev.Type] = true
	}
	for _, want := range []string{eventFlags, eventExpunged, eventNew, eventFolder} {
		if !types[want] {
			t.Errorf("after flag and delete: missing %s in %+v", want, more.Events)
		}
	}
	if st, code := a.errorCode("GET", "/v1/events/poll?cursor=abc", nil); st != 400 || code != codeBadRequest {
		t.Errorf("bad cursor: got %d %q, want 400 bad_request", st, code)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
