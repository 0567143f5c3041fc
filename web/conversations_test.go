package web

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/stamp-mail/stamp/storage"
)

type conversationPage struct {
	Conversations []conversationJSON `json:"conversations"`
	NextCursor    *string            `json:"next_cursor"`
	FolderTotal   int                `json:"folder_total"`
}

// TestConversationList pages a folder by conversation: one row per thread
// ordered by its newest message in the folder, with count, unread state and
// the ids a bulk action applies to; a thread is never listed twice across
// pages, however its messages interleave with others.
func TestConversationList(t *testing.T) {
	e := newEnv(t, Options{})
	a := e.newUser("alice@example.test")
	ctx := context.Background()
	inbox, sent, trash := a.folderID("inbox"), a.folderID("sent"), a.folderID("trash")
	base := time.Now().Add(-10 * time.Hour)
	n := 0
	add := func(folder int64, seen bool, id, parent, from, subject string) int64 {
		t.Helper()
		n++
		at := base.Add(time.Duration(n) * time.Minute)
		hdr := "From: " + from + "\r\nTo: alice@example.test\r\nSubject: " + subject + "\r\nMessage-ID: <" + id + "@x>\r\nDate: " + at.Format(time.RFC1123Z) + "\r\n"
		if parent != "" {
			hdr += "In-Reply-To: <" + parent + "@x>\r\nReferences: <" + parent + "@x>\r\n"
		}
		var flags []string
		if seen {
			flags = []string{storage.FlagSeen}
		}
		m, err := e.svc.Append(ctx, a.user.ID, folder, flags, at, []byte(hdr+"\r\nbody "+id+"\r\n"))
		if err != nil {
			t.Fatal(err)
		}
		return m.ID
	}
	// Thread A: three messages, interleaved with ten single messages, one
	// reply of Alice's in Sent and one message in Trash.
	a1 := add(inbox, true, "a1", "", "Dan <dan@remote.test>", "Trip")
	for i := range 5 {
		add(inbox, true, fmt.Sprintf("s%d", i), "", "list@remote.test", fmt.Sprintf("Single %d", i))
	}
	add(sent, true, "a2", "a1", "alice@example.test", "Re: Trip")
	a3 := add(inbox, false, "a3", "a2", "Dan <dan@remote.test>", "Re: Trip")
	add(trash, true, "a4", "a3", "Dan <dan@remote.test>", "Re: Trip")
	for i := 5; i < 10; i++ {
		add(inbox, true, fmt.Sprintf("s%d", i), "", "list@remote.test", fmt.Sprintf("Single %d", i))
	}
	a5 := add(inbox, true, "a5", "a3", "Dan <dan@remote.test>", "Re: Trip")

	page := func(q string) conversationPage {
		t.Helper()
		var p conversationPage
		if st := a.call("GET", fmt.Sprintf("/v1/folders/%d/conversations?%s", inbox, q), nil, &p); st != 200 {
			t.Fatalf("GET conversations?%s: %d", q, st)
		}
		return p
	}
	var rows []conversationJSON
	for q := "limit=3"; ; {
		p := page(q)
		if p.FolderTotal != 13 {
			t.Errorf("folder_total: got %d, want 13", p.FolderTotal)
		}
		rows = append(rows, p.Conversations...)
		if p.NextCursor == nil {
			break
		}
		q = "limit=3&cursor=" + url.QueryEscape(*p.NextCursor)
	}
	var subjects []string
	for _, r := range rows {
		subjects = append(subjects, r.Subject)
	}
	want := []string{"Re: Trip", "Single 9", "Single 8", "Single 7", "Single 6", "Single 5", "Single 4", "Single 3", "Single 2", "Single 1", "Single 0"}
	if !slices.Equal(subjects, want) {
		t.Fatalf("rows: got %q, want %q (one per thread, newest first, none twice)", subjects, want)
	}
	trip := rows[0]
	if trip.ID != a5 || trip.Conversation.Count != 4 || !slices.Equal(trip.Conversation.MessageIDs, []int64{a1, a3, a5}) ||
		!slices.Equal(trip.Conversation.UnreadIDs, []int64{a3}) || trip.Seen {
		t.Errorf("trip row: id %d count %d ids %v unread %v seen %v; want id %d, count 4 (Sent counts, Trash does not), ids [%d %d %d], unread [%d], unseen",
			trip.ID, trip.Conversation.Count, trip.Conversation.MessageIDs, trip.Conversation.UnreadIDs, trip.Seen, a5, a1, a3, a5, a3)
	}
	if len(trip.Conversation.Participants) != 2 || trip.Conversation.Participants[0].Address != "dan@remote.test" || trip.Conversation.Participants[1].Address != "alice@example.test" {
		t.Errorf("participants: got %+v, want Dan then Alice", trip.Conversation.Participants)
	}
	if rows[1].Conversation.Count != 1 || !rows[1].Seen {
		t.Errorf("single row: %+v, want count 1, seen", rows[1].Conversation)
	}

	// Unread only: the trip thread, keyed by its unread message.
	p := page("unread=true")
	if len(p.Conversations) != 1 || p.Conversations[0].ID != a3 || p.Conversations[0].Conversation.Count != 4 {
		t.Errorf("unread=true: got %+v, want the trip thread keyed by its unread message %d", p.Conversations, a3)
	}
	// In Trash a conversation is Trash's own messages.
	var tp conversationPage
	if st := a.call("GET", fmt.Sprintf("/v1/folders/%d/conversations", trash), nil, &tp); st != 200 || len(tp.Conversations) != 1 || tp.Conversations[0].Conversation.Count != 1 {
		t.Errorf("trash: %d %+v, want one row of one message", st, tp.Conversations)
	}
	if st, code := a.errorCode("GET", fmt.Sprintf("/v1/folders/%d/conversations?cursor=zz", inbox), nil); st != 400 || code != "bad_request" {
		t.Errorf("bad cursor: %d %s, want 400 bad_request", st, code)
	}
	if st, _ := a.errorCode("GET", "/v1/folders/999999/conversations", nil); st != 404 {
		t.Errorf("unknown folder: %d, want 404", st)
	}
}
