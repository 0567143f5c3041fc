package imap

import (
	"context"
	"fmt"
	"testing"

	"github.com/emersion/go-imap/v2"

	"github.com/stamp-mail/stamp/core/coretest"
)

// TestAppendOverQuota: an APPEND that would pass the user's quota answers
// NO [OVERQUOTA] (RFC 9208) and stores nothing; one that fits is stored.
func TestAppendOverQuota(t *testing.T) {
	e := newEnv(t, Options{AllowInsecureAuth: true})
	coretest.User(t, e.svc, "bob@example.test")
	if err := e.svc.SetQuota(context.Background(), "bob@example.test", 2000); err != nil {
		t.Fatal(err)
	}
	c := e.client(t, "bob@example.test", nil)
	appendMsg := func(size int) error {
		msg := fmt.Sprintf("From: bob@example.test\r\nSubject: q\r\n\r\n%0*d\r\n", size, 0)
		cmd := c.Append("INBOX", int64(len(msg)), nil)
		cmd.Write([]byte(msg))
		cmd.Close()
		_, err := cmd.Wait()
		return err
	}
	if err := appendMsg(500); err != nil {
		t.Fatalf("APPEND within quota: %v", err)
	}
	if err := appendMsg(5000); !isCode(err, imap.ResponseCodeOverQuota) {
		t.Fatalf("APPEND over quota: got %v, want NO [OVERQUOTA]", err)
	}
	st, err := c.Status("INBOX", &imap.StatusOptions{NumMessages: true}).Wait()
	if err != nil {
		t.Fatal(err)
	}
	if st.NumMessages == nil || *st.NumMessages != 1 {
		t.Errorf("messages after the refused APPEND: got %v, want 1", st.NumMessages)
	}
}
