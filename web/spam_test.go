package web

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
)

// TestSpamAPI: contract 3. A message's "spam" is null when it was never
// judged; POST /v1/messages/{id}/spam moves it to Junk or back to INBOX
// and "Not spam" allows its sender; the lists are read and replaced whole;
// bad input is 400 and another user's message 404.
func TestSpamAPI(t *testing.T) {
	e := newEnv(t, Options{})
	c := e.newUser("alice@example.test")
	other := e.newUser("bob@example.test")
	e.deliver("alice@example.test", "hello there", "Just a note.")
	var page struct {
		Messages []summaryJSON `json:"messages"`
	}
	inbox, junk := c.folderID("inbox"), c.folderID("junk")
	if st := c.call("GET", fmt.Sprintf("/v1/folders/%d/messages", inbox), nil, &page); st != 200 || len(page.Messages) != 1 {
		t.Fatalf("INBOX: got %d with %d messages, want 200 with 1", st, len(page.Messages))
	}
	id := page.Messages[0].ID
	var raw map[string]json.RawMessage
	if st := c.call("GET", fmt.Sprintf("/v1/messages/%d", id), nil, &raw); st != 200 || string(raw["spam"]) != "null" {
		t.Errorf("GET message never judged: got %d spam=%s, want 200 spam=null", st, raw["spam"])
	}
	for _, bad := range []any{map[string]any{}, map[string]any{"spam": "yes"}} {
		if st, code := c.errorCode("POST", fmt.Sprintf("/v1/messages/%d/spam", id), bad); st != 400 {
			t.Errorf("POST spam %v: got %d %s, want 400", bad, st, code)
		}
	}
	if st, _ := other.errorCode("POST", fmt.Sprintf("/v1/messages/%d/spam", id), map[string]bool{"spam": true}); st != 404 {
		t.Errorf("POST spam on another user's message: got %d, want 404", st)
	}
	var m messageJSON
	if st := c.call("POST", fmt.Sprintf("/v1/messages/%d/spam", id), map[string]bool{"spam": true}, &m); st != 200 || m.FolderID != junk {
		t.Fatalf("Spam: got %d folder %d, want 200 in Junk (%d)", st, m.FolderID, junk)
	}
	if st := c.call("POST", fmt.Sprintf("/v1/messages/%d/spam", m.ID), map[string]bool{"spam": false}, &m); st != 200 || m.FolderID != inbox {
		t.Fatalf("Not spam: got %d folder %d, want 200 in INBOX (%d)", st, m.FolderID, inbox)
	}
	var lists struct {
		Allow []string `json:"allow"`
		Block []string `json:"block"`
	}
	if st := c.call("GET", "/v1/spam/lists", nil, &lists); st != 200 || !slices.Equal(lists.Allow, []string{"sender@remote.example"}) || len(lists.Block) != 0 {
		t.Errorf("lists after Not spam: got %d %+v, want the sender allowed", st, lists)
	}
	put := map[string][]string{"allow": {"@Friends.example"}, "block": {"x@bad.example"}}
	if st := c.call("PUT", "/v1/spam/lists", put, &lists); st != 200 || !slices.Equal(lists.Allow, []string{"@friends.example"}) || !slices.Equal(lists.Block, []string{"x@bad.example"}) {
		t.Errorf("PUT lists: got %d %+v, want normalized lists", st, lists)
	}
	for _, bad := range []any{
		map[string][]string{"allow": {"no at sign"}, "block": {}},
		map[string][]string{"allow": {"a@b.example"}, "block": {"a@b.example"}},
		map[string][]string{"allow": {}},
	} {
		if st, _ := c.errorCode("PUT", "/v1/spam/lists", bad); st != 400 {
			t.Errorf("PUT lists %v: got %d, want 400", bad, st)
		}
	}
	if st := other.call("GET", "/v1/spam/lists", nil, &lists); st != 200 || len(lists.Allow)+len(lists.Block) != 0 {
		t.Errorf("bob's lists: got %d %+v, want empty (alice's are hers)", st, lists)
	}
}
