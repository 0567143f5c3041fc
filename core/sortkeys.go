package core

import (
	"bytes"
	"context"
	"mime"
	"strings"

	"github.com/emersion/go-message/charset"

	"github.com/stamp-mail/stamp/message"
	"github.com/stamp-mail/stamp/message/structure"
	"github.com/stamp-mail/stamp/storage"
)

// SORT and THREAD (RFC 5256) keys: computed at delivery (newMessage) and
// stored with the message in the same transaction; mail stored before
// that has them computed by the IMAP engine on its first SORT and stored
// then (storage/sortkeys.go).

// SortRow is one message of a mailbox as SORT and THREAD read it.
type SortRow = storage.SortRow

// SortKeys are the stored SORT/THREAD keys of one message.
type SortKeys = storage.SortKeys

// SortRows returns a mailbox's messages in UID order with their stored
// keys (nil for messages whose keys are not stored yet).
func (s *Service) SortRows(ctx context.Context, userID, mailboxID int64) ([]SortRow, error) {
	return s.store.SortRows(ctx, userID, mailboxID)
}

// SortRowsAfter is SortRows for the messages with UID above after.
func (s *Service) SortRowsAfter(ctx context.Context, userID, mailboxID int64, after uint32) ([]SortRow, error) {
	return s.store.SortRowsAfter(ctx, userID, mailboxID, after)
}

// PutSortKeys stores keys of the user's messages.
func (s *Service) PutSortKeys(ctx context.Context, userID int64, keys []SortKeys) error {
	return s.store.PutSortKeys(ctx, userID, keys)
}

// SortKeysOf computes a message's SORT/THREAD keys from its header
// section: the first From, To and Cc address as IMAP's ENVELOPE parses
// them (a group is its name alone, a bare local part has no host, names
// have their encoded words decoded), and the parents THREAD=REFERENCES
// links it to (RFC 5256 section 3: References, or else the first
// In-Reply-To id). MessageID is left for the caller.
func SortKeysOf(h []byte) SortKeys {
	return sortKeysFrom(structure.Fields(h), message.Parse(h))
}

func sortKeysFrom(fs []structure.KV, p *message.Parsed) SortKeys {
	dec := &mime.WordDecoder{CharsetReader: charset.Reader}
	first := func(k string) (name, addr string) {
		v, _ := structure.FieldValue(fs, k)
		for _, a := range structure.ParseAddressList(v) {
			switch {
			case a.GroupEnd:
				continue
			case a.GroupStart:
				return "", a.Mailbox
			case a.Host == "":
				return decodeSortWords(dec, a.Name), a.Mailbox
			default:
				return decodeSortWords(dec, a.Name), a.Mailbox + "@" + a.Host
			}
		}
		return "", ""
	}
	var k SortKeys
	k.FromName, k.FromAddr = first("From")
	k.ToName, k.ToAddr = first("To")
	_, k.CcAddr = first("Cc")
	k.Parents = p.References
	if len(k.Parents) == 0 && len(p.InReplyTo) > 0 {
		k.Parents = p.InReplyTo[:1]
	}
	return k
}

func decodeSortWords(dec *mime.WordDecoder, s string) string {
	if !strings.Contains(s, "=?") {
		return s
	}
	if d, err := dec.DecodeHeader(s); err == nil {
		return d
	}
	return s
}

// sortKeysOf returns the keys of a message stored as head followed by the
// bytes of d: from the parsed message unless head holds a field the keys
// read, in which case the stored header is parsed again.
func (d *prepared) sortKeysOf(head []byte) *SortKeys {
	if len(head) == 0 && d.bareKeys != nil {
		k := *d.bareKeys
		return &k
	}
	h := d.raw[:min(max(int(d.parsed.HeaderSize), 0), len(d.raw))]
	var k SortKeys
	if len(head) > 0 && (headTouchesStructure(head) || headHasReferences(head)) {
		k = SortKeysOf(append(bytes.Clone(head), h...))
	} else {
		k = sortKeysFrom(structure.Fields(h), d.parsed)
	}
	if len(head) == 0 {
		d.bareKeys = &k
		c := k
		return &c
	}
	return &k
}

func headHasReferences(head []byte) bool {
	for _, f := range structure.Fields(head) {
		if lowerASCII(f.K) == "references" {
			return true
		}
	}
	return false
}
