package storagetest

import (
	"errors"
	"slices"
	"testing"

	"github.com/stamp-mail/stamp/storage"
)

var mailboxCases = []testCase{
	{"MailboxCreateAndNames", testMailboxNames},
	{"MailboxRenameWithChildren", testRename},
	{"MailboxDelete", testMailboxDelete},
}

func testMailboxNames(t *testing.T, s storage.Store) {
	ctx := t.Context()
	u, inbox := newUser(t, s, "a@example.com")
	for _, tc := range []struct {
		name, mbox, role string
		want             error
	}{
		{"new", "Projects", "", nil},
		{"taken", "Projects", "", storage.ErrExists},
		{"inbox lower case", "inbox", "", storage.ErrExists},
		{"inbox mixed case", "InBoX", "", storage.ErrExists},
		{"second sent role", "Sent2", storage.RoleSent, storage.ErrExists},
		{"empty", "", "", storage.ErrInvalid},
		{"child", "Projects/2026", "", nil},
	} {
		_, err := s.CreateMailbox(ctx, u.ID, tc.mbox, tc.role)
		if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("%s: CreateMailbox(%q, %q): got %v, want %v", tc.name, tc.mbox, tc.role, err, tc.want)
		}
	}
	for _, name := range []string{"INBOX", "inbox", "Inbox"} {
		m, err := s.GetMailboxByName(ctx, u.ID, name)
		if err != nil || m.ID != inbox.ID {
			t.Errorf("GetMailboxByName(%q): got %+v, %v, want INBOX %d", name, m, err, inbox.ID)
		}
	}
	if _, err := s.GetMailboxByName(ctx, u.ID, "projects"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("GetMailboxByName(wrong case, not INBOX): got %v, want ErrNotFound", err)
	}

	// A recreated name gets a new UIDVALIDITY; values never repeat.
	seen := map[uint32]bool{}
	mbs, _ := s.ListMailboxes(ctx, u.ID)
	for _, m := range mbs {
		if seen[m.UIDValidity] {
			t.Errorf("mailbox %q: UIDVALIDITY %d repeated", m.Name, m.UIDValidity)
		}
		seen[m.UIDValidity] = true
	}
	for i := 0; i < 3; i++ {
		m, err := s.CreateMailbox(ctx, u.ID, "Tmp", "")
		if err != nil {
			t.Fatalf("CreateMailbox(Tmp) round %d: %v", i, err)
		}
		if seen[m.UIDValidity] {
			t.Errorf("recreated Tmp round %d: got UIDVALIDITY %d again, want a new value", i, m.UIDValidity)
		}
		seen[m.UIDValidity] = true
		if _, err := s.DeleteMailbox(ctx, u.ID, m.ID); err != nil {
			t.Fatal(err)
		}
	}

	// Subscription.
	p, _ := s.GetMailboxByName(ctx, u.ID, "Projects")
	if err := s.SetSubscribed(ctx, u.ID, p.ID, false); err != nil {
		t.Fatal(err)
	}
	if m := mailbox(t, s, u.ID, p.ID); m.Subscribed {
		t.Errorf("after SetSubscribed(false): got subscribed, want not")
	}
	if err := s.SetSubscribed(ctx, u.ID, 1<<40, true); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("SetSubscribed(unknown): got %v, want ErrNotFound", err)
	}
}

func testRename(t *testing.T, s storage.Store) {
	ctx := t.Context()
	u, inbox := newUser(t, s, "a@example.com")
	made := map[string]storage.Mailbox{}
	for _, n := range []string{"A", "A/B", "A/B/C", "AB", "A-other", "X"} {
		m, err := s.CreateMailbox(ctx, u.ID, n, "")
		if err != nil {
			t.Fatalf("CreateMailbox(%q): %v", n, err)
		}
		made[n] = m
	}
	deliver(t, s, newMsg(u.ID, made["A/B"].ID))
	before, _ := s.HighestModSeq(ctx, u.ID)
	if err := s.RenameMailbox(ctx, u.ID, made["A"].ID, "Z"); err != nil {
		t.Fatalf("RenameMailbox(A, Z): %v", err)
	}
	mbs, _ := s.ListMailboxes(ctx, u.ID)
	var names []string
	for _, m := range mbs {
		names = append(names, m.Name)
	}
	for _, want := range []string{"Z", "Z/B", "Z/B/C", "AB", "A-other", "X"} {
		if !slices.Contains(names, want) {
			t.Errorf("after rename: %q missing from %v", want, names)
		}
	}
	for _, gone := range []string{"A", "A/B", "A/B/C"} {
		if slices.Contains(names, gone) {
			t.Errorf("after rename: %q still in %v", gone, names)
		}
	}
	zb := mailbox(t, s, u.ID, made["A/B"].ID)
	if zb.Name != "Z/B" || zb.Total != 1 || zb.UIDValidity != made["A/B"].UIDValidity {
		t.Errorf("renamed child: got %+v, want Z/B with its message and UIDVALIDITY", zb)
	}
	if after, _ := s.HighestModSeq(ctx, u.ID); after < before+3 {
		t.Errorf("rename of 3 mailboxes: modseq got %d, want >= %d", after, before+3)
	}
	for _, tc := range []struct {
		name string
		id   int64
		to   string
		want error
	}{
		{"INBOX", inbox.ID, "Old", storage.ErrNotAllowed},
		{"onto existing", made["X"].ID, "AB", storage.ErrExists},
		{"child onto existing", made["AB"].ID, "Z/B/C", storage.ErrExists},
		{"to inbox", made["X"].ID, "inbox", storage.ErrExists},
		{"empty", made["X"].ID, "", storage.ErrInvalid},
		{"unknown", 1 << 40, "Q", storage.ErrNotFound},
	} {
		if err := s.RenameMailbox(ctx, u.ID, tc.id, tc.to); !errors.Is(err, tc.want) {
			t.Errorf("RenameMailbox(%s): got %v, want %v", tc.name, err, tc.want)
		}
	}
	if m := mailbox(t, s, u.ID, made["X"].ID); m.Name != "X" {
		t.Errorf("after failed renames: got %q, want X", m.Name)
	}
}

func testMailboxDelete(t *testing.T, s storage.Store) {
	ctx := t.Context()
	u, inbox := newUser(t, s, "a@example.com")
	for _, d := range storage.DefaultMailboxes {
		m := mustRole(t, s, u.ID, d.Role)
		if _, err := s.DeleteMailbox(ctx, u.ID, m.ID); !errors.Is(err, storage.ErrNotAllowed) {
			t.Errorf("DeleteMailbox(%s): got %v, want ErrNotAllowed", d.Name, err)
		}
	}
	m, err := s.CreateMailbox(ctx, u.ID, "Old", "")
	if err != nil {
		t.Fatal(err)
	}
	shared := segment("a shared attachment for delete")
	msgs := []*storage.NewMessage{newMsg(u.ID, m.ID, withSegs(shared)), newMsg(u.ID, inbox.ID, withSegs(shared)),
		newMsg(u.ID, m.ID, withBody("zebracorn"))}
	deliver(t, s, msgs...)
	freed, err := s.DeleteMailbox(ctx, u.ID, m.ID)
	if err != nil {
		t.Fatalf("DeleteMailbox: %v", err)
	}
	want := []string{msgs[0].Segments[0].Hash, msgs[2].Segments[0].Hash}
	slices.Sort(want)
	slices.Sort(freed)
	if !slices.Equal(freed, want) {
		t.Errorf("DeleteMailbox freed: got %v, want the two unique header blobs %v", freed, want)
	}
	if n, _ := s.BlobRefs(ctx, shared.Hash); n != 1 {
		t.Errorf("shared blob after delete: got %d refs, want 1", n)
	}
	if _, err := s.GetMessage(ctx, u.ID, msgs[0].ID); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("GetMessage(in deleted mailbox): got %v, want ErrNotFound", err)
	}
	if res, _ := s.Search(ctx, u.ID, storage.SearchQuery{Text: "zebracorn"}); len(res) != 0 {
		t.Errorf("Search after DeleteMailbox: got %d results, want 0", len(res))
	}
	if _, err := s.GetMailbox(ctx, u.ID, m.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("GetMailbox(deleted): got %v, want ErrNotFound", err)
	}
	chs, _ := s.ChangesSince(ctx, u.ID, 0, 0)
	if last := chs[len(chs)-1]; last.Kind != storage.ChangeMailbox || last.MailboxID != m.ID {
		t.Errorf("last change: got %+v, want a mailbox change of %d", last, m.ID)
	}
	// DeleteUser frees the rest.
	freed, err = s.DeleteUser(ctx, u.ID)
	if err != nil || !slices.Contains(freed, shared.Hash) {
		t.Errorf("DeleteUser: got freed %v, %v, want it to contain the shared blob", freed, err)
	}
}
