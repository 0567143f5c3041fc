// Package sortthread implements the IMAP SORT and THREAD extensions over
// plain inputs, for the protocol engine to call: RFC 5256 (SORT by ARRIVAL,
// CC, DATE, FROM, SIZE, SUBJECT, TO with REVERSE; THREAD=ORDEREDSUBJECT and
// THREAD=REFERENCES; base subject extraction) and RFC 5957 (DISPLAYFROM,
// DISPLAYTO).
//
// The engine fills one Message per message of the searched set (sequence
// number or UID in Num, the header fields decoded) and gets back the
// numbers in order (Sort) or a forest of threads (Thread) with its wire
// form (Format). Strings compare with i;ascii-casemap, the default
// collation of RFC 5256; ties fall back to the order of the input, which is
// sequence order (RFC 5256 section 3: "sequence number order").
//
// Nothing here touches storage or the network, so it is tested against
// the RFC's examples and Dovecot's imaptest expectations, fuzzed, and
// benchmarked on 100,000 messages.
package sortthread

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Address is one address of a header field, as parsed. A group (RFC 5322
// section 3.4) is given as its name alone in Address (no '@'), followed by
// its members, as IMAP's ENVELOPE lists a group's start: SORT then uses the
// name, as Dovecot does.
type Address struct {
	Name    string // display name, decoded; "" if none
	Address string // addr-spec, "local@domain"
}

// mailbox is the addr-mailbox (local part) of an address.
func (a Address) mailbox() string {
	if i := strings.LastIndexByte(a.Address, '@'); i >= 0 {
		return a.Address[:i]
	}
	return a.Address
}

// Message is what SORT and THREAD read of one message.
type Message struct {
	Num        uint32    // what the answer lists: a sequence number or a UID
	Arrival    time.Time // internal date
	Date       time.Time // Date header; zero if absent or unparsable (Arrival is used)
	Size       int64
	Subject    string   // decoded
	MessageID  string   // without angle brackets; "" if none
	References []string // References, oldest first, without brackets
	InReplyTo  []string // In-Reply-To ids, without brackets
	From       []Address
	To         []Address
	Cc         []Address
}

// sent is the sent date of RFC 5256 section 2.2: the Date header, or the
// internal date when it is missing or unparsable.
func (m *Message) sent() time.Time {
	if m.Date.IsZero() {
		return m.Arrival
	}
	return m.Date
}

// Key is a SORT key (RFC 5256 section 3, RFC 5957).
type Key int

// Sort keys.
const (
	Arrival Key = iota
	Cc
	Date
	From
	Size
	Subject
	To
	DisplayFrom
	DisplayTo
)

var keyNames = map[string]Key{
	"ARRIVAL": Arrival, "CC": Cc, "DATE": Date, "FROM": From, "SIZE": Size,
	"SUBJECT": Subject, "TO": To, "DISPLAYFROM": DisplayFrom, "DISPLAYTO": DisplayTo,
}

// Criterion is one sort key, reversed or not.
type Criterion struct {
	Key     Key
	Reverse bool
}

// ParseCriteria reads the atoms of a sort criteria list, e.g. "REVERSE",
// "DATE", "SUBJECT" (case-insensitive, as in "(REVERSE DATE SUBJECT)").
func ParseCriteria(atoms []string) ([]Criterion, error) {
	var out []Criterion
	rev := false
	for _, a := range atoms {
		u := strings.ToUpper(a)
		if u == "REVERSE" {
			if rev {
				return nil, fmt.Errorf("sort: REVERSE REVERSE")
			}
			rev = true
			continue
		}
		k, ok := keyNames[u]
		if !ok {
			return nil, fmt.Errorf("sort: unknown sort key %q", a)
		}
		out = append(out, Criterion{Key: k, Reverse: rev})
		rev = false
	}
	if rev || len(out) == 0 {
		return nil, fmt.Errorf("sort: empty or unterminated sort criteria")
	}
	return out, nil
}

// firstMailbox is the addr-mailbox of the first address, "" if none.
func firstMailbox(as []Address) string {
	if len(as) == 0 {
		return ""
	}
	return as[0].mailbox()
}

// display is RFC 5957's display string of the first address: its display
// name, or its addr-spec when it has none.
func display(as []Address) string {
	if len(as) == 0 {
		return ""
	}
	if n := strings.TrimSpace(as[0].Name); n != "" {
		return n
	}
	return as[0].Address
}

// Sort returns the Num of msgs in the order of the criteria (RFC 5256
// section 3); messages equal on every key keep their input order. Keys are
// computed once per message (strings upper-cased for i;ascii-casemap) and
// an index permutation is sorted, so a 100,000-message SORT costs one
// O(n log n) pass of cheap comparisons.
func Sort(msgs []Message, crit []Criterion) []uint32 {
	n := len(msgs)
	ints := make([][]int64, len(crit))
	strs := make([][]string, len(crit))
	for j, c := range crit {
		switch c.Key {
		case Arrival, Date, Size:
			col := make([]int64, n)
			for i := range msgs {
				m := &msgs[i]
				switch c.Key {
				case Arrival:
					col[i] = m.Arrival.UnixNano()
				case Date:
					col[i] = m.sent().UnixNano()
				default:
					col[i] = m.Size
				}
			}
			ints[j] = col
		default:
			col := make([]string, n)
			for i := range msgs {
				m := &msgs[i]
				var v string
				switch c.Key {
				case Cc:
					v = firstMailbox(m.Cc)
				case From:
					v = firstMailbox(m.From)
				case To:
					v = firstMailbox(m.To)
				case Subject:
					v, _ = BaseSubject(m.Subject)
				case DisplayFrom:
					v = display(m.From)
				case DisplayTo:
					v = display(m.To)
				}
				col[i] = asciiUpper(v)
			}
			strs[j] = col
		}
	}
	idx := make([]int32, n)
	for i := range idx {
		idx[i] = int32(i)
	}
	slices.SortFunc(idx, func(a, b int32) int {
		for j, c := range crit {
			var d int
			if ints[j] != nil {
				d = cmp.Compare(ints[j][a], ints[j][b])
			} else {
				d = strings.Compare(strs[j][a], strs[j][b])
			}
			if d != 0 {
				if c.Reverse {
					return -d
				}
				return d
			}
		}
		return cmp.Compare(a, b)
	})
	out := make([]uint32, n)
	for i, k := range idx {
		out[i] = msgs[k].Num
	}
	return out
}
