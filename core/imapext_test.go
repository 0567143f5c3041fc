package core

import "testing"

func TestObjectIDs(t *testing.T) {
	m := Message{ID: 123456789, ThreadID: 42}
	for _, c := range []struct {
		kind byte
		id   string
		want int64
	}{{'M', EmailID(m), m.ID}, {'T', ThreadID(m), 42}, {'F', MailboxObjectID(Mailbox{ID: 7}), 7}} {
		got, err := ParseObjectID(c.kind, c.id)
		if err != nil || got != c.want {
			t.Errorf("ParseObjectID(%c, %q): got %d, %v, want %d", c.kind, c.id, got, err, c.want)
		}
		for _, r := range c.id[1:] {
			if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z') {
				t.Errorf("%q: %q is not an RFC 8474 objectid character we expect", c.id, r)
			}
		}
	}
	for _, bad := range []string{"", "M", "T1", "M-1", "M+1", "M0", "Mzzzzzzzzzzzzzzzzzz", "M01", "M1!"} {
		if _, err := ParseObjectID('M', bad); err == nil {
			t.Errorf("ParseObjectID(M, %q): got no error", bad)
		}
	}
}
