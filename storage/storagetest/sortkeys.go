package storagetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/stamp-mail/stamp/storage"
)

// sortKeyCases cover the SORT/THREAD keys of storage/sortkeys.go.
var sortKeyCases = []testCase{
	{"SortKeys", testSortKeys},
	{"SortKeysAtDelivery", testSortKeysAtDelivery},
}

// testSortKeysAtDelivery: keys given with a delivered message are stored
// in the same Deliver, under the id Deliver assigns (a message without
// them has none), and SortRowsAfter lists only the messages above a UID.
func testSortKeysAtDelivery(t *testing.T, s storage.Store) {
	ctx := t.Context()
	u, inbox := newUser(t, s, "sortdeliver@example.com")
	a := newMsg(u.ID, inbox.ID)
	a.SortKeys = &storage.SortKeys{FromName: "Zoë", FromAddr: "zoe@x", ToAddr: "bob@y", CcAddr: "c@z", Parents: []string{"p@x"}}
	b := newMsg(u.ID, inbox.ID)
	c := newMsg(u.ID, inbox.ID)
	c.SortKeys = &storage.SortKeys{FromAddr: "group-name"}
	deliver(t, s, a, b, c)
	rows, err := s.SortRows(ctx, u.ID, inbox.ID)
	if err != nil || len(rows) != 3 {
		t.Fatalf("SortRows: got %+v, %v", rows, err)
	}
	if k := rows[0].Keys; k == nil || k.MessageID != a.ID || k.FromName != "Zoë" || k.FromAddr != "zoe@x" ||
		k.ToAddr != "bob@y" || k.CcAddr != "c@z" || !slices.Equal(k.Parents, []string{"p@x"}) {
		t.Errorf("keys of a after Deliver: got %+v", rows[0].Keys)
	}
	if rows[1].Keys != nil {
		t.Errorf("keys of b (delivered without): got %+v, want none", rows[1].Keys)
	}
	if k := rows[2].Keys; k == nil || k.MessageID != c.ID || k.FromAddr != "group-name" || k.Parents != nil {
		t.Errorf("keys of c after Deliver: got %+v", rows[2].Keys)
	}
	after, err := s.SortRowsAfter(ctx, u.ID, inbox.ID, a.UID)
	if err != nil || len(after) != 2 || after[0].ID != b.ID || after[1].ID != c.ID || after[1].Keys == nil {
		t.Errorf("SortRowsAfter(%d): got %+v, %v; want b then c", a.UID, after, err)
	}
	if after, err := s.SortRowsAfter(ctx, u.ID, inbox.ID, c.UID); err != nil || len(after) != 0 {
		t.Errorf("SortRowsAfter(last UID): got %+v, %v; want none", after, err)
	}
	if _, err := s.SortRowsAfter(ctx, u.ID, 1<<40, 0); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("SortRowsAfter of a missing mailbox: got %v, want ErrNotFound", err)
	}
}

// testSortKeys: SortRows lists a mailbox in UID order with the rows'
// subject, Date and Message-ID and no keys; PutSortKeys stores keys (and
// replaces them), keys stay with a moved message, vanish with an expunged
// one, and never show in another user's rows.
func testSortKeys(t *testing.T, s storage.Store) {
	ctx := t.Context()
	u, inbox := newUser(t, s, "sort@example.com")
	other, otherInbox := newUser(t, s, "sort2@example.com")
	date := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	a := newMsg(u.ID, inbox.ID, withSent(date))
	b := newMsg(u.ID, inbox.ID)
	c := newMsg(other.ID, otherInbox.ID)
	deliver(t, s, a, b)
	deliver(t, s, c)
	rows, err := s.SortRows(ctx, u.ID, inbox.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].ID != a.ID || rows[1].ID != b.ID || rows[0].UID >= rows[1].UID {
		t.Fatalf("SortRows: got %+v, want a then b", rows)
	}
	if rows[0].Subject != a.Subject || !rows[0].Date.Equal(date) || rows[0].MessageIDHdr != a.MessageIDHdr || rows[0].Keys != nil {
		t.Errorf("SortRows[0]: got %+v, want subject %q, date %v, id %q, no keys", rows[0], a.Subject, date, a.MessageIDHdr)
	}
	if !rows[1].Date.IsZero() {
		t.Errorf("SortRows[1] without a Date: got %v, want zero", rows[1].Date)
	}
	ka := storage.SortKeys{MessageID: a.ID, FromName: "Ann", FromAddr: "ann@x", ToName: "", ToAddr: "undisclosed", CcAddr: "c@x",
		Parents: []string{"p1@x", "p2 with\nbreak@x"}}
	if err := s.PutSortKeys(ctx, u.ID, []storage.SortKeys{ka, {MessageID: b.ID}}); err != nil {
		t.Fatal(err)
	}
	// Replacing keys is allowed.
	ka.FromName = "Ann B"
	if err := s.PutSortKeys(ctx, u.ID, []storage.SortKeys{ka}); err != nil {
		t.Fatal(err)
	}
	rows, err = s.SortRows(ctx, u.ID, inbox.ID)
	if err != nil || len(rows) != 2 || rows[0].Keys == nil || rows[1].Keys == nil {
		t.Fatalf("SortRows after PutSortKeys: got %+v, %v", rows, err)
	}
	got := *rows[0].Keys
	if got.FromName != "Ann B" || got.FromAddr != "ann@x" || got.ToAddr != "undisclosed" || got.CcAddr != "c@x" ||
		!slices.Equal(got.Parents, []string{"p1@x", "p2 with break@x"}) {
		t.Errorf("keys of a: got %+v", got)
	}
	if rows[1].Keys.Parents != nil {
		t.Errorf("keys of b: got parents %q, want none", rows[1].Keys.Parents)
	}
	if o, err := s.SortRows(ctx, other.ID, otherInbox.ID); err != nil || len(o) != 1 || o[0].Keys != nil {
		t.Errorf("other user's rows: got %+v, %v; want one row without keys", o, err)
	}
	// Another user's id in PutSortKeys stores nothing visible to either.
	if err := s.PutSortKeys(ctx, u.ID, []storage.SortKeys{{MessageID: c.ID, FromAddr: "intruder"}}); err != nil {
		t.Fatal(err)
	}
	if o, _ := s.SortRows(ctx, other.ID, otherInbox.ID); len(o) != 1 || o[0].Keys != nil {
		t.Errorf("keys put under the wrong user show for the owner: %+v", o)
	}
	// Expunged: its keys go on the next put.
	if _, _, err := s.Expunge(ctx, u.ID, inbox.ID, []int64{b.ID}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutSortKeys(ctx, u.ID, []storage.SortKeys{ka}); err != nil {
		t.Fatal(err)
	}
	rows, _ = s.SortRows(ctx, u.ID, inbox.ID)
	if len(rows) != 1 || rows[0].ID != a.ID || rows[0].Keys == nil {
		t.Errorf("after expunge: got %+v, want a with keys", rows)
	}
	// Moved: the keys go with it (same message id).
	arch, err := s.CreateMailbox(ctx, u.ID, "Sorted", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Move(ctx, u.ID, inbox.ID, []int64{a.ID}, arch.ID); err != nil {
		t.Fatal(err)
	}
	rows, _ = s.SortRows(ctx, u.ID, arch.ID)
	if len(rows) != 1 || rows[0].ID != a.ID || rows[0].Keys == nil || rows[0].Keys.FromName != "Ann B" {
		t.Errorf("after move: got %+v, want a with its keys", rows)
	}
	if _, err := s.SortRows(ctx, u.ID, 1<<40); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("SortRows of a missing mailbox: got %v, want ErrNotFound", err)
	}
}
