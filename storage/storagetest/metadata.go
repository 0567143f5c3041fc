package storagetest

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	"github.com/stamp-mail/stamp/storage"
)

func names(es []storage.MetadataEntry) []string {
	out := []string{}
	for _, e := range es {
		out = append(out, e.Name)
	}
	return out
}

// testMetadata covers RFC 5464 storage: depth, case-insensitive names,
// removal, atomic failure on limits, isolation between users, mailbox scope.
func testMetadata(t *testing.T, s storage.Store) {
	ctx := t.Context()
	u, inbox := newUser(t, s, "md@example.com")
	other, _ := newUser(t, s, "md2@example.com")
	lim := storage.MetadataLimits{MaxValue: 16, MaxEntries: 4}
	set := func(mb int64, es ...storage.MetadataEntry) error { return s.SetMetadata(ctx, u.ID, mb, es, lim) }
	if err := set(0, storage.MetadataEntry{Name: "/private/Comment", Value: []byte("hello")},
		storage.MetadataEntry{Name: "/private/vendor/x/a", Value: []byte("1")},
		storage.MetadataEntry{Name: "/private/vendor/x/a/b", Value: []byte("2")}); err != nil {
		t.Fatal(err)
	}
	if err := set(inbox.ID, storage.MetadataEntry{Name: "/shared/comment", Value: []byte("inbox")}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		names []string
		depth int
		want  []string
	}{
		{[]string{"/private/comment"}, 0, []string{"/private/comment"}},
		{[]string{"/PRIVATE/COMMENT"}, 0, []string{"/private/comment"}},
		{[]string{"/private/vendor/x"}, 0, []string{}},
		{[]string{"/private/vendor/x"}, 1, []string{"/private/vendor/x/a"}},
		{[]string{"/private/vendor"}, -1, []string{"/private/vendor/x/a", "/private/vendor/x/a/b"}},
		{[]string{"/private"}, -1, []string{"/private/comment", "/private/vendor/x/a", "/private/vendor/x/a/b"}},
		{[]string{"/shared/comment"}, 0, []string{}}, // that one is the inbox's
	} {
		got, err := s.GetMetadata(ctx, u.ID, 0, c.names, c.depth)
		if err != nil || !slices.Equal(names(got), c.want) {
			t.Errorf("GetMetadata(%v, depth %d): got %v, %v, want %v", c.names, c.depth, names(got), err, c.want)
		}
	}
	got, err := s.GetMetadata(ctx, u.ID, inbox.ID, []string{"/shared/comment"}, 0)
	if err != nil || len(got) != 1 || !bytes.Equal(got[0].Value, []byte("inbox")) {
		t.Errorf("inbox /shared/comment: got %v, %v", got, err)
	}
	// Limits: all or nothing.
	if err := set(0, storage.MetadataEntry{Name: "/private/ok", Value: []byte("x")},
		storage.MetadataEntry{Name: "/private/big", Value: bytes.Repeat([]byte("x"), 17)}); !errors.Is(err, storage.ErrMetadataTooLarge) {
		t.Errorf("value over MaxValue: got %v, want ErrMetadataTooLarge", err)
	}
	if err := set(0, storage.MetadataEntry{Name: "/private/e5", Value: []byte("x")},
		storage.MetadataEntry{Name: "/private/e6", Value: []byte("x")}); !errors.Is(err, storage.ErrMetadataTooMany) {
		t.Errorf("entries over MaxEntries: got %v, want ErrMetadataTooMany", err)
	}
	if got, _ := s.GetMetadata(ctx, u.ID, 0, []string{"/private"}, -1); len(got) != 3 {
		t.Errorf("after refused sets: %v, want the 3 entries unchanged", names(got))
	}
	// Removal (nil value) makes room; replacing a value keeps the count.
	if err := set(0, storage.MetadataEntry{Name: "/private/vendor/x/a/b"}, storage.MetadataEntry{Name: "/private/comment", Value: []byte("bye")},
		storage.MetadataEntry{Name: "/private/e5", Value: []byte("x")}); err != nil {
		t.Errorf("remove and set: %v", err)
	}
	if got, _ := s.GetMetadata(ctx, u.ID, 0, []string{"/private/comment"}, 0); len(got) != 1 || string(got[0].Value) != "bye" {
		t.Errorf("replaced value: got %v", got)
	}
	for _, bad := range []string{"/private", "/other/x", "/private/x/", "/private//x", "/private/*", "/private/a b", "private/x"} {
		if err := set(0, storage.MetadataEntry{Name: bad, Value: []byte("x")}); !errors.Is(err, storage.ErrInvalid) {
			t.Errorf("SetMetadata(%q): got %v, want ErrInvalid", bad, err)
		}
	}
	// Another user sees none of it, and cannot touch u's mailbox.
	if got, _ := s.GetMetadata(ctx, other.ID, 0, []string{"/private"}, -1); len(got) != 0 {
		t.Errorf("other user's view: got %v, want none", names(got))
	}
	if _, err := s.GetMetadata(ctx, other.ID, inbox.ID, []string{"/shared"}, -1); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("other user's GetMetadata on u's inbox: got %v, want ErrNotFound", err)
	}
	if err := s.SetMetadata(ctx, other.ID, inbox.ID, []storage.MetadataEntry{{Name: "/shared/x", Value: []byte("x")}}, lim); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("other user's SetMetadata on u's inbox: got %v, want ErrNotFound", err)
	}
	// Owner 0: the server's shared entries.
	if err := s.SetMetadata(ctx, 0, 0, []storage.MetadataEntry{{Name: "/shared/admin", Value: []byte("mailto:root@x")}}, lim); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetMetadata(ctx, 0, 0, []string{"/shared/admin"}, 0); len(got) != 1 {
		t.Errorf("server /shared/admin: got %v", got)
	}
}
