package web

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// TestQuotaAPI sends over quota with net/http: 507 with a JSON error, and
// neither the sender's Sent folder nor the recipient's inbox changes.
func TestQuotaAPI(t *testing.T) {
	e := newEnv(t, Options{})
	a := e.newUser("a@example.test")
	b := e.newUser("b@example.test")
	ctx := context.Background()
	if err := e.svc.SetQuota(ctx, "a@example.test", 2048); err != nil {
		t.Fatal(err)
	}
	small := map[string]any{"to": []string{"b@example.test"}, "subject": "small", "text": "fits"}
	if st := a.call("POST", "/v1/messages", small, nil); st != 202 {
		t.Fatalf("small send: got %d, want 202", st)
	}
	big := map[string]any{"to": []string{"b@example.test"}, "subject": "big", "text": strings.Repeat("much text ", 400)}
	st, code := a.errorCode("POST", "/v1/messages", big)
	if st != 507 || code != codeOverQuota {
		t.Errorf("send over quota: got %d %q, want 507 %q", st, code, codeOverQuota)
	}
	resp := a.do("POST", "/v1/messages", big)
	resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("507 content type: got %q, want JSON", ct)
	}
	var page struct {
		Messages []summaryJSON `json:"messages"`
	}
	a.call("GET", fmt.Sprintf("/v1/folders/%d/messages", a.folderID("sent")), nil, &page)
	if len(page.Messages) != 1 || page.Messages[0].Subject != "small" {
		t.Errorf("sender's Sent after refusal: got %+v, want only the small message", page.Messages)
	}
	b.call("GET", fmt.Sprintf("/v1/folders/%d/messages", b.folderID("inbox")), nil, &page)
	if len(page.Messages) != 1 {
		t.Errorf("recipient's inbox: got %d messages, want 1", len(page.Messages))
	}
}
