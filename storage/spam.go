package storage

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// ErrBadListEntry is returned for an allow/block list entry that is neither
// an address nor "@domain".
var ErrBadListEntry = errors.New("storage: a list entry is an address (bob@example.org) or a domain (@example.org)")

// MaxListEntries bounds one allow or block list.
const MaxListEntries = 10000

// SpamLists are an allow list and a block list of senders: addresses
// ("bob@example.org") and domains ("@example.org", which also covers its
// subdomains), lower case, sorted.
type SpamLists struct {
	Allow []string `json:"allow"`
	Block []string `json:"block"`
}

// SenderCounts is how many messages from one sender a user moved out of
// Junk (Ham) and into it (Spam).
type SenderCounts struct{ Ham, Spam int }

// SpamStore keeps what the spam filter learns per user besides word
// statistics: the user's correspondents, the senders whose mail the user
// moved into or out of Junk, and allow/block lists of users and of local
// domains (a domain's lists apply to every user of that domain).
type SpamStore interface {
	// AddCorrespondents records that userID wrote to addrs at time at.
	AddCorrespondents(ctx context.Context, userID int64, addrs []string, at time.Time) error
	// IsCorrespondent reports whether userID has written to addr.
	IsCorrespondent(ctx context.Context, userID int64, addr string) (bool, error)
	// AddSenderVerdict counts one message from addr that userID moved into
	// Junk (spam) or out of it.
	AddSenderVerdict(ctx context.Context, userID int64, addr string, spam bool) error
	// SenderVerdicts returns the counts of AddSenderVerdict for addr.
	SenderVerdicts(ctx context.Context, userID int64, addr string) (SenderCounts, error)
	// SenderFacts is IsCorrespondent and SenderVerdicts in one statement:
	// the spam judge asks both for every recipient of every message.
	SenderFacts(ctx context.Context, userID int64, addr string) (bool, SenderCounts, error)
	// GetSpamLists returns a user's lists (empty when none); ErrNotFound for an unknown user.
	GetSpamLists(ctx context.Context, userID int64) (SpamLists, error)
	// PutSpamLists replaces a user's lists (entries normalized by NormalizeLists).
	PutSpamLists(ctx context.Context, userID int64, l SpamLists) error
	// GetDomainSpamLists returns a local domain's lists; ErrNotFound for an unknown domain.
	GetDomainSpamLists(ctx context.Context, domain string) (SpamLists, error)
	// PutDomainSpamLists replaces a local domain's lists.
	PutDomainSpamLists(ctx context.Context, domain string, l SpamLists) error
}

// NormalizeAddress lower-cases an address and strips angle brackets and space.
func NormalizeAddress(a string) string {
	return strings.ToLower(strings.Trim(strings.TrimSpace(a), "<>"))
}

// NormalizeEntry returns a list entry in canonical form or ErrBadListEntry.
func NormalizeEntry(e string) (string, error) {
	e = NormalizeAddress(e)
	at := strings.LastIndexByte(e, '@')
	if at < 0 || at == len(e)-1 || len(e) > 320 || strings.ContainsAny(e, " \t\r\n\x00,;<>\"") {
		return "", fmt.Errorf("%w: %q", ErrBadListEntry, e)
	}
	d := strings.Trim(e[at+1:], ".")
	if d == "" || !strings.Contains(d, ".") && d != "localhost" {
		return "", fmt.Errorf("%w: %q", ErrBadListEntry, e)
	}
	return e[:at+1] + d, nil
}

// NormalizeLists normalizes, sorts and dedupes both lists; an entry in both
// lists is an error.
func NormalizeLists(l SpamLists) (SpamLists, error) {
	norm := func(in []string) ([]string, error) {
		out := make([]string, 0, len(in))
		for _, e := range in {
			n, err := NormalizeEntry(e)
			if err != nil {
				return nil, err
			}
			out = append(out, n)
		}
		slices.Sort(out)
		out = slices.Compact(out)
		if len(out) > MaxListEntries {
			return nil, fmt.Errorf("%w: more than %d entries", ErrInvalid, MaxListEntries)
		}
		return out, nil
	}
	var out SpamLists
	var err error
	if out.Allow, err = norm(l.Allow); err != nil {
		return SpamLists{}, err
	}
	if out.Block, err = norm(l.Block); err != nil {
		return SpamLists{}, err
	}
	for _, e := range out.Allow {
		if _, found := slices.BinarySearch(out.Block, e); found {
			return SpamLists{}, fmt.Errorf("%w: %s is on both the allow and the block list", ErrInvalid, e)
		}
	}
	return out, nil
}

// MatchList returns the entry of list that covers addr ("" if none): the
// address itself, or "@domain" for its domain or a parent domain.
func MatchList(list []string, addr string) string {
	addr = NormalizeAddress(addr)
	if addr == "" {
		return ""
	}
	if _, found := slices.BinarySearch(list, addr); found {
		return addr
	}
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return ""
	}
	d := addr[at+1:]
	for d != "" {
		if _, found := slices.BinarySearch(list, "@"+d); found {
			return "@" + d
		}
		i := strings.IndexByte(d, '.')
		if i < 0 {
			break
		}
		d = d[i+1:]
	}
	return ""
}

// Rows is the part of a query result ScanSpamLists reads; database/sql's
// *sql.Rows and pgx's Rows both have it.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// ScanSpamLists reads rows of (entry text, allow bool) into lists, in the
// rows' order: the one reading of list rows both backends share.
func ScanSpamLists(rows Rows) (SpamLists, error) {
	l := SpamLists{Allow: []string{}, Block: []string{}}
	for rows.Next() {
		var e string
		var allow bool
		if err := rows.Scan(&e, &allow); err != nil {
			return l, err
		}
		if allow {
			l.Allow = append(l.Allow, e)
		} else {
			l.Block = append(l.Block, e)
		}
	}
	return l, rows.Err()
}
