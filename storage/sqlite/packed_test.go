package sqlite

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/stamp-mail/stamp/storage"
)

// letter is text that compresses as mail does, without repeating one line.
func letter(words int) string {
	vocab := strings.Fields(`the invoice for march is attached please find our offer and
		let me know whether the meeting on tuesday still works for you kind regards
		Größe des Pakets Lieferung morgen 日本語のテキスト numbers 2041 7733 budget review`)
	var b strings.Builder
	for i := 0; i < words; i++ {
		b.WriteString(vocab[(i*7+i/3)%len(vocab)])
		if i%13 == 12 {
			b.WriteString(".\r\n")
		} else {
			b.WriteByte(' ')
		}
	}
	return b.String()
}

// TestPackRoundTrip: packed values unpack to what was packed; values that
// would not shrink by an eighth, or are short, are not packed; damaged
// ones are refused, not returned.
func TestPackRoundTrip(t *testing.T) {
	long := []byte(letter(2000))
	p := pack(long)
	if p == nil || !isPacked(p) || len(p) >= len(long)*7/8 {
		t.Fatalf("pack of %d bytes of text: %d bytes, packed %v", len(long), len(p), isPacked(p))
	}
	got, err := unpack(p)
	if err != nil || !bytes.Equal(got, long) {
		t.Fatalf("unpack: %d bytes, %v", len(got), err)
	}
	random := make([]byte, 8000)
	for i := range random {
		random[i] = byte(i*2654435761>>13) ^ byte(i>>5)
	}
	if p := pack(random); p != nil {
		if got, _ := unpack(p); !bytes.Equal(got, random) {
			t.Fatal("incompressible bytes packed and damaged")
		}
	}
	if p := pack([]byte("short text short text short text")); p != nil {
		t.Errorf("a %d-byte value was packed", 32)
	}
	damaged := bytes.Clone(pack(long))
	damaged = damaged[:len(damaged)/2]
	if _, err := unpack(damaged); err == nil {
		t.Error("a cut packed value unpacked")
	}
	huge := []byte(packMagic + "\xff\xff\xff\xff\x0f") // declares 4 GiB
	if _, err := unpack(huge); err == nil {
		t.Error("a packed value declaring 4 GiB unpacked")
	}
}

// FuzzPack: any bytes survive pack and unpack; unpack of anything either
// fails or returns bytes (never panics).
func FuzzPack(f *testing.F) {
	f.Add([]byte(letter(400)))
	f.Add([]byte(packMagic + "\xff\xff\xff\xff\x0f"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		if p := pack(b); p != nil {
			got, err := unpack(p)
			if err != nil || !bytes.Equal(got, b) {
				t.Fatalf("round trip of %d bytes: %d, %v", len(b), len(got), err)
			}
		}
		unpack(b)
	})
}

// TestPackedStorage: a delivered message's inline blob is stored packed
// (smaller than the text) and read back whole by ReadBlob; the search body
// stays text, which BODY search finds words across, also in a COPY; a row
// written before packing (raw codec) reads as before.
func TestPackedStorage(t *testing.T) {
	ctx := context.Background()
	s, u, inbox := keysTestStore(t)
	folder, err := s.CreateMailbox(ctx, u.ID, "Folder", "")
	if err != nil {
		t.Fatal(err)
	}
	body := letter(1500) + " meeting on tuesday " + letter(1500) + " Größe des Pakets zebracrossing"
	raw := []byte("Subject: offer\r\n\r\n" + body)
	m := &storage.NewMessage{UserID: u.ID, MailboxID: inbox.ID, Size: int64(len(raw)), Subject: "offer", SearchText: body,
		Segments: []storage.Segment{{Hash: "hbig", Size: int64(len(raw)), Inline: true}}}
	if err := s.Deliver(ctx, &storage.Batch{Messages: []*storage.NewMessage{m}, Inline: map[string][]byte{"hbig": raw}}); err != nil {
		t.Fatal(err)
	}
	var codec, stored int
	if err := s.w.QueryRow(`SELECT codec, length(data) FROM blob_data WHERE hash = 'hbig'`).Scan(&codec, &stored); err != nil {
		t.Fatal(err)
	}
	if codec != codecS2 || stored >= len(raw)*7/8 {
		t.Errorf("inline blob of %d bytes stored with codec %d in %d bytes", len(raw), codec, stored)
	}
	var typ string
	if err := s.w.QueryRow(`SELECT typeof(body), length(body) FROM search_text WHERE id = ?`, m.ID).Scan(&typ, &stored); err != nil {
		t.Fatal(err)
	}
	if typ != "text" || stored != len([]rune(body)) {
		t.Errorf("search body of %d characters stored as %s of %d", len([]rune(body)), typ, stored)
	}
	if got, err := s.ReadBlob(ctx, "hbig"); err != nil || !bytes.Equal(got, raw) {
		t.Fatalf("ReadBlob: %d bytes, %v; want the %d stored", len(got), err, len(raw))
	}
	for _, needle := range []string{"ZEBRACROSSING", "meeting on tuesday", "des Pakets", "のテキ"} {
		if got := searchBody(t, s, u.ID, inbox.ID, needle); len(got) != 1 {
			t.Errorf("BODY %q found %v, want one", needle, got)
		}
	}
	if got := searchBody(t, s, u.ID, inbox.ID, "zebracrossings"); len(got) != 0 {
		t.Errorf("BODY zebracrossings found %v in a body without it", got)
	}
	if _, err := s.Copy(ctx, u.ID, inbox.ID, []int64{m.ID}, folder.ID); err != nil {
		t.Fatal(err)
	}
	if got := searchBody(t, s, u.ID, folder.ID, "zebracrossing"); len(got) != 1 {
		t.Errorf("copy: BODY zebracrossing found %v, want one", got)
	}

	// As stored before migration 110: the bytes as they are, codec 0.
	if _, err := s.w.Exec(`INSERT INTO blob_data (hash, data) VALUES ('hold', ?)`, raw); err != nil {
		t.Fatal(err)
	}
	if got, err := s.ReadBlob(ctx, "hold"); err != nil || !bytes.Equal(got, raw) {
		t.Errorf("ReadBlob of a raw row: %d bytes, %v", len(got), err)
	}

	// A damaged packed row is an error, not wrong bytes.
	if _, err := s.w.Exec(`UPDATE blob_data SET data = substr(data, 1, 40) WHERE hash = 'hbig'`); err != nil {
		t.Fatal(err)
	}
	if got, err := s.ReadBlob(ctx, "hbig"); err == nil {
		t.Errorf("ReadBlob of a damaged packed row: %d bytes, no error", len(got))
	}
}

// TestPrepareInlineUsed: Deliver stores what PrepareInline left in
// InlineStored (made in the caller's goroutine) rather than packing again,
// a nil entry as the bytes as they are; a batch without it is packed by
// Deliver itself.
func TestPrepareInlineUsed(t *testing.T) {
	ctx := context.Background()
	s, u, inbox := keysTestStore(t)
	raw := []byte(letter(2000))
	other := []byte(letter(2100))
	msg := func(h string) *storage.NewMessage {
		return &storage.NewMessage{UserID: u.ID, MailboxID: inbox.ID, Size: int64(len(raw)), SearchText: "x",
			Segments: []storage.Segment{{Hash: h, Size: int64(len(raw)), Inline: true}}}
	}
	b := &storage.Batch{Messages: []*storage.NewMessage{msg("ha"), msg("hb"), msg("hc")},
		Inline: map[string][]byte{"ha": raw, "hb": raw, "hc": raw}}
	s.PrepareInline(b)
	if len(b.InlineStored) != 3 || b.InlineStored["ha"] == nil {
		t.Fatalf("PrepareInline: %d entries, ha packed %v", len(b.InlineStored), b.InlineStored["ha"] != nil)
	}
	b.InlineStored["ha"] = pack(other) // what Deliver must store as it is
	b.InlineStored["hb"] = nil         // stored unpacked
	delete(b.InlineStored, "hc")       // not prepared: Deliver packs it
	if err := s.Deliver(ctx, b); err != nil {
		t.Fatal(err)
	}
	for h, want := range map[string]struct {
		codec int
		data  []byte
	}{"ha": {codecS2, other}, "hb": {codecRaw, raw}, "hc": {codecS2, raw}} {
		var codec int
		if err := s.w.QueryRow(`SELECT codec FROM blob_data WHERE hash = ?`, h).Scan(&codec); err != nil {
			t.Fatal(err)
		}
		got, err := s.ReadBlob(ctx, h)
		if codec != want.codec || err != nil || !bytes.Equal(got, want.data) {
			t.Errorf("%s: codec %d, %d bytes, %v; want codec %d and %d bytes", h, codec, len(got), err, want.codec, len(want.data))
		}
	}
}
