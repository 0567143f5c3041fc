package web

import (
	"fmt"
	"testing"
	"time"
)

// TestPaging walks 1,000 messages page by page, with and without the unread
// filter, and checks that every message comes exactly once, newest first.
func TestPaging(t *testing.T) {
	e := newEnv(t, Options{})
	a := e.newUser("a@example.test")
	inbox := a.folderID("inbox")
	const n = 1000
	appendMany(t, e.svc, a.user.ID, inbox, n, time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))

	for _, c := range []struct {
		name   string
		filter string
		limit  int
		want   int
	}{
		{"all", "", 37, n},
		{"all, biggest pages", "", 200, n},
		{"unread", "&unread=true", 50, n - (n+2)/3},
		{"read", "&unread=false", 61, (n + 2) / 3},
	} {
		seen := map[int64]bool{}
		var last summaryJSON
		cursor := ""
		pages := 0
		for {
			var page struct {
				Messages   []summaryJSON `json:"messages"`
				NextCursor *string       `json:"next_cursor"`
			}
			path := fmt.Sprintf("/v1/folders/%d/messages?limit=%d%s", inbox, c.limit, c.filter)
			if cursor != "" {
				path += "&cursor=" + cursor
			}
			if st := a.call("GET", path, nil, &page); st != 200 {
				t.Fatalf("%s: page %d: got status %d", c.name, pages, st)
			}
			pages++
			if len(page.Messages) > c.limit {
				t.Fatalf("%s: page of %d, want at most %d", c.name, len(page.Messages), c.limit)
			}
			for _, m := range page.Messages {
				if seen[m.ID] {
					t.Fatalf("%s: message %d twice", c.name, m.ID)
				}
				seen[m.ID] = true
				if last.ID != 0 && (m.ReceivedAt.After(last.ReceivedAt) || m.ReceivedAt.Equal(last.ReceivedAt) && m.ID > last.ID) {
					t.Fatalf("%s: message %d (%v) after %d (%v), want newest first", c.name, m.ID, m.ReceivedAt, last.ID, last.ReceivedAt)
				}
				if c.filter == "&unread=true" && m.Seen || c.filter == "&unread=false" && !m.Seen {
					t.Fatalf("%s: message %d seen=%v does not match the filter", c.name, m.ID, m.Seen)
				}
				last = m
			}
			if page.NextCursor == nil {
				break
			}
			cursor = *page.NextCursor
		}
		if len(seen) != c.want {
			t.Errorf("%s: got %d distinct messages in %d pages, want %d", c.name, len(seen), pages, c.want)
		}
	}
}
