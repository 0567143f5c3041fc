package postgres

import (
	"context"
	"slices"
	"testing"

	"github.com/stamp-mail/stamp/storage"
	"github.com/stamp-mail/stamp/storage/internal/textkeys"
)

// storedBody returns the search body and body keys stored for message id.
func storedBody(t *testing.T, s *Store, userID, id int64) (string, []int64) {
	t.Helper()
	var body string
	var keys []int64
	err := s.pool.QueryRow(context.Background(),
		`SELECT body, body_keys FROM search_text WHERE user_id = $1 AND message_id = $2`, userID, id).Scan(&body, &keys)
	if err != nil {
		t.Fatalf("search_text row of %d: %v", id, err)
	}
	return body, keys
}

// TestPrepareIndexUsed checks that Deliver stores the row PrepareIndex made
// in the delivering goroutine rather than making its own: the prepared row
// is altered before delivery and the alteration is what is stored.
func TestPrepareIndexUsed(t *testing.T) {
	s := openTest(t, 2)
	u, inbox := mustUser(t, s, "prep@example.com")
	m := newMsg(u.ID, inbox.ID, "prepared", 1)
	m.SearchText = "alpha text"
	s.PrepareIndex([]*storage.NewMessage{m})
	r, ok := m.SearchIndex.(*prepRow)
	if !ok {
		t.Fatalf("PrepareIndex set %T, want *prepRow", m.SearchIndex)
	}
	r.body, r.bodyKeys = "omega text", textkeys.BodyKeys("omega text")
	deliver(t, s, m)
	if body, keys := storedBody(t, s, u.ID, m.ID); body != "omega text" || !slices.Equal(keys, r.bodyKeys) {
		t.Errorf("stored %q (%d keys), want the prepared row's %q (%d keys)", body, len(keys), r.body, len(r.bodyKeys))
	}
	if m.SearchIndex != nil {
		t.Errorf("the prepared row outlived the delivery: %T", m.SearchIndex)
	}
}

// TestReusedMessagePreparedAgain delivers one NewMessage twice with other
// texts and addresses the second time: the second copy stores its own,
// not the row prepared for the first delivery.
func TestReusedMessagePreparedAgain(t *testing.T) {
	s := openTest(t, 2)
	u, inbox := mustUser(t, s, "reuse@example.com")
	m := newMsg(u.ID, inbox.ID, "first", 1)
	m.SearchText = "first body alpha"
	s.PrepareIndex([]*storage.NewMessage{m})
	deliver(t, s, m)
	first := m.ID
	m.SearchText, m.Subject = "second body omega", "second"
	m.From = []storage.Address{{Name: "Carol", Address: "carol@example.net"}}
	deliver(t, s, m)
	if body, _ := storedBody(t, s, u.ID, first); body != "first body alpha" {
		t.Errorf("first copy: %q", body)
	}
	if body, keys := storedBody(t, s, u.ID, m.ID); body != "second body omega" || !slices.Equal(keys, textkeys.BodyKeys(body)) {
		t.Errorf("second copy: %q (%d keys), want its own text", body, len(keys))
	}
	var subj, from string
	if err := s.pool.QueryRow(context.Background(), `SELECT subject, from_text FROM messages WHERE user_id = $1 AND id = $2`,
		u.ID, m.ID).Scan(&subj, &from); err != nil {
		t.Fatal(err)
	}
	if subj != "second" || from != addrText(m.From) {
		t.Errorf("second copy's subject %q, from %q", subj, from)
	}
}
