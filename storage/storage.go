// Package storage defines the metadata store that every Stamp node shares:
// users, domains, mailboxes, messages and their flags, threads, full-text
// search, the per-user change log and the outbound queue.
//
// Two backends implement Store: storage/sqlite (the embedded default) and
// storage/postgres (per-user tables PARTITION BY HASH (user_id)). Both pass
// the shared suite in storage/storagetest. Message bytes are not kept here:
// they live in the content-addressed blob store (storage/blob); the store
// keeps the list of blob segments a message is made of and a reference
// count per blob, updated in the same transaction as the message rows.
//
// Small blobs (up to core.Config.InlineMax, 64 KiB by default: most whole
// messages, per-recipient headers, DKIM signatures) are "inline": their
// bytes live in the store's blob_data table, written by the same Deliver
// transaction. This departs from ARCHITECTURE.md's "bytes in the blob store"
// for a measured reason: on the 2-core test machines each blob file cost a
// file create, an fsync and a directory fsync, and group commit could not
// share those; inline, a whole group of messages costs one fsync, which took
// durable deliveries from about 520 to about 1,200 per second (BENCHMARKS.md).
// Attachments and large messages still go to the blob store, deduplicated
// the same way (same hash, same reference counts).
//
// The store knows nothing of protocols. It returns its own row types and the
// named errors below, wrapped with context.
package storage

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"
)

// Named errors returned (wrapped) by every backend.
var (
	// ErrNotFound is returned when a user, mailbox, message or other row does not exist
	// (or belongs to another user: the two are indistinguishable by design).
	ErrNotFound = errors.New("not found")
	// ErrExists is returned when creating a row whose unique key is already taken.
	ErrExists = errors.New("already exists")
	// ErrNotAllowed is returned for operations the model forbids, such as deleting INBOX.
	ErrNotAllowed = errors.New("operation not allowed")
	// ErrInvalid is returned for malformed arguments, such as an empty mailbox name.
	ErrInvalid = errors.New("invalid argument")
)

// Mailbox roles (RFC 6154 special-use), stored lower case.
const (
	RoleNone    = ""
	RoleInbox   = "inbox"
	RoleSent    = "sent"
	RoleDrafts  = "drafts"
	RoleJunk    = "junk"
	RoleTrash   = "trash"
	RoleArchive = "archive"
)

// DefaultMailboxes are created, in this order, for every new user.
var DefaultMailboxes = []struct{ Name, Role string }{
	{"INBOX", RoleInbox},
	{"Sent", RoleSent},
	{"Drafts", RoleDrafts},
	{"Junk", RoleJunk},
	{"Trash", RoleTrash},
	{"Archive", RoleArchive},
}

// System flags (RFC 9051 section 2.3.2). Keywords are any other atom.
const (
	FlagSeen     = `\Seen`
	FlagAnswered = `\Answered`
	FlagFlagged  = `\Flagged`
	FlagDeleted  = `\Deleted`
	FlagDraft    = `\Draft`
)

// Store is the metadata store. Every method that touches per-user data takes
// the user id and never returns another user's rows. Implementations are
// safe for concurrent use.
type Store interface {
	Searcher     // substring search for IMAP (storage/search.go)
	Quotas       // per-user quotas (storage/quota.go)
	ChangeLog    // CONDSTORE/QRESYNC (storage/changelog.go)
	Metadata     // METADATA (storage/metadata.go)
	SortKeyStore // SORT/THREAD keys (storage/sortkeys.go)
	IMAPState
	Structures
	Throttles // throttle.go: shared login slow-down and rate counters

	// Close releases the store's connections.
	Close() error
	// Ping checks that the database answers.
	Ping(ctx context.Context) error
	// WebmailStore: settings, session list and draft aliases (webmail.go).
	WebmailStore

	// CreateDomain adds a local domain; ErrExists if present.
	CreateDomain(ctx context.Context, name string) error
	// ListDomains returns every local domain, sorted.
	ListDomains(ctx context.Context) ([]Domain, error)
	// DeleteDomain removes a domain; ErrNotFound if absent.
	DeleteDomain(ctx context.Context, name string) error
	// PutDKIMKey stores a DKIM signing key for a domain and selector (replacing one with the same selector).
	PutDKIMKey(ctx context.Context, k DKIMKey) error
	// ListDKIMKeys returns the DKIM keys of a domain.
	ListDKIMKeys(ctx context.Context, domain string) ([]DKIMKey, error)

	// CreateUser adds a user and its DefaultMailboxes in one transaction.
	// The address must be lower case; ErrExists if taken.
	CreateUser(ctx context.Context, address, passwordHash string) (User, error)
	// GetUser returns a user by id.
	GetUser(ctx context.Context, id int64) (User, error)
	// GetUserByAddress returns a user by (lower-case) address.
	GetUserByAddress(ctx context.Context, address string) (User, error)
	// ListUsers returns every user sorted by address.
	ListUsers(ctx context.Context) ([]User, error)
	// SetPassword replaces a user's password hash.
	SetPassword(ctx context.Context, userID int64, passwordHash string) error
	// DeleteUser removes a user with all its mailboxes, messages and sessions.
	// It returns the blob hashes whose reference count dropped to zero.
	DeleteUser(ctx context.Context, userID int64) (freed []string, err error)

	// CreateSession stores an API session keyed by the SHA-256 of its token.
	CreateSession(ctx context.Context, s Session) error
	// GetSession returns an unexpired session by token hash.
	GetSession(ctx context.Context, tokenHash string, now time.Time) (Session, error)
	// DeleteSession removes a session.
	DeleteSession(ctx context.Context, tokenHash string) error

	// ListMailboxes returns a user's mailboxes with counts, sorted by name.
	ListMailboxes(ctx context.Context, userID int64) ([]Mailbox, error)
	// GetMailbox returns one mailbox (with counts) by id.
	GetMailbox(ctx context.Context, userID, mailboxID int64) (Mailbox, error)
	// GetMailboxByName returns one mailbox by exact name ("INBOX" is matched case-insensitively).
	GetMailboxByName(ctx context.Context, userID int64, name string) (Mailbox, error)
	// GetMailboxByRole returns the mailbox with a special-use role.
	GetMailboxByRole(ctx context.Context, userID int64, role string) (Mailbox, error)
	// CreateMailbox creates a mailbox with a fresh UIDVALIDITY; ErrExists if the name is taken.
	CreateMailbox(ctx context.Context, userID int64, name, role string) (Mailbox, error)
	// RenameMailbox renames a mailbox and every mailbox below it (name + "/" prefix).
	// INBOX cannot be renamed (ErrNotAllowed); ErrExists if the new name is taken.
	RenameMailbox(ctx context.Context, userID, mailboxID int64, newName string) error
	// DeleteMailbox deletes a mailbox without role and its messages (ErrNotAllowed for a role mailbox).
	DeleteMailbox(ctx context.Context, userID, mailboxID int64) (freed []string, err error)
	// SetSubscribed sets a mailbox's subscription.
	SetSubscribed(ctx context.Context, userID, mailboxID int64, subscribed bool) error

	// Deliver commits a batch in one transaction: every message gets the next
	// UID of its mailbox, a new MODSEQ and a thread, its search row, its blob
	// references; queue items are inserted. On return without error the
	// fields ID, UID, ModSeq and ThreadID of each NewMessage are set and
	// QueueItem.ID is set. On error nothing of the batch is committed.
	Deliver(ctx context.Context, b *Batch) error

	// ListMessages pages a mailbox newest first (by internal date, then id),
	// optionally only unseen or only seen messages.
	ListMessages(ctx context.Context, userID, mailboxID int64, q ListQuery) ([]Message, error)
	// MessagesByUID returns the messages of a mailbox with UID in [first, last], UID order.
	// last == 0 means no upper bound.
	MessagesByUID(ctx context.Context, userID, mailboxID int64, first, last uint32) ([]Message, error)
	// GetMessage returns one message by id.
	GetMessage(ctx context.Context, userID, messageID int64) (Message, error)
	// ListAttachments returns a message's attachments in part order.
	ListAttachments(ctx context.Context, userID, messageID int64) ([]Attachment, error)
	// ListThread returns a thread's messages oldest first.
	ListThread(ctx context.Context, userID, threadID int64) ([]Message, error)

	// UpdateFlags changes the flags of messages identified by id within one mailbox.
	// Each changed message gets a new MODSEQ; unchanged messages are not returned.
	UpdateFlags(ctx context.Context, userID, mailboxID int64, ids []int64, op FlagOp, flags []string) ([]Message, error)
	// Move moves messages (by id) from one mailbox into another, giving them new UIDs
	// in the target (RFC 6851). The result pairs old and new UIDs in input order.
	Move(ctx context.Context, userID, fromMailboxID int64, ids []int64, toMailboxID int64) ([]Moved, error)
	// Copy copies messages (by id) into another mailbox, sharing their blobs.
	Copy(ctx context.Context, userID, fromMailboxID int64, ids []int64, toMailboxID int64) ([]Moved, error)
	// Expunge removes messages (by id) from a mailbox for good, returning the UIDs
	// removed and the blob hashes whose reference count dropped to zero.
	Expunge(ctx context.Context, userID, mailboxID int64, ids []int64) (uids []uint32, freed []string, err error)

	// Search runs a full-text query with filters over a user's messages.
	Search(ctx context.Context, userID int64, q SearchQuery) ([]Message, error)

	// HighestModSeq returns the user's current MODSEQ (also the event cursor).
	HighestModSeq(ctx context.Context, userID int64) (uint64, error)
	// ChangesSince returns the user's change log after modseq, oldest first.
	ChangesSince(ctx context.Context, userID int64, modseq uint64, limit int) ([]Change, error)

	// BlobRefs returns the reference count of a blob (0 if unknown).
	BlobRefs(ctx context.Context, hash string) (int64, error)
	// ReadBlob returns the bytes of an inline blob; ErrNotFound if none is stored.
	ReadBlob(ctx context.Context, hash string) ([]byte, error)
	// CollectBlobs calls remove for each blob whose reference count has been
	// zero since before olderThan, and deletes its row (and inline bytes, if
	// any) when remove succeeds.
	// It holds the rows locked while remove runs, so a concurrent delivery of
	// the same blob waits and then re-creates it.
	CollectBlobs(ctx context.Context, olderThan time.Time, remove func(hash string) error) (int, error)

	// ClaimQueue leases up to limit queue items due at now (state queued,
	// next_attempt_at <= now) until now+lease, so no other worker takes them.
	ClaimQueue(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]QueueItem, error)
	// UpdateQueue records the outcome of an attempt on a claimed item.
	UpdateQueue(ctx context.Context, item QueueItem) error
	// ListQueue lists queue items, all states, by id.
	ListQueue(ctx context.Context) ([]QueueItem, error)
	// GetQueueItem returns a queue item.
	GetQueueItem(ctx context.Context, id int64) (QueueItem, error)
	// DeleteQueueItem removes a queue item and returns freed blobs.
	DeleteQueueItem(ctx context.Context, id int64) (freed []string, err error)

	// SpamStore keeps correspondents, sender verdicts and allow/block lists (storage/spam.go).
	SpamStore

	// RecordTraining stores a spam-training event (message moved into or out of Junk).
	RecordTraining(ctx context.Context, t Training) error
	// TrainingSince returns a user's training events after id.
	TrainingSince(ctx context.Context, userID int64, afterID int64) ([]Training, error)

	// GetKV returns the value stored under key; ErrNotFound if absent. The
	// key-value table holds small state such as spam models and suppression lists.
	GetKV(ctx context.Context, key string) ([]byte, error)
	// PutKV stores value under key, replacing any previous value.
	PutKV(ctx context.Context, key string, value []byte) error
	// DeleteKV removes a key; absent keys are not an error.
	DeleteKV(ctx context.Context, key string) error
	// ListKV returns the keys starting with prefix, sorted.
	ListKV(ctx context.Context, prefix string) ([]string, error)

	Routing
}

// Notifier is implemented by backends that can carry events between nodes
// (PostgreSQL LISTEN/NOTIFY).
type Notifier interface {
	// Notify publishes payload on the channel to every node (including this one).
	Notify(ctx context.Context, channel, payload string) error
	// Listen calls fn for every payload published on channel until ctx ends.
	Listen(ctx context.Context, channel string, fn func(payload string)) error
}

// Domain is a local mail domain.
type Domain struct {
	Name      string
	CreatedAt time.Time
}

// DKIMKey is a signing key of a domain.
type DKIMKey struct {
	Domain     string
	Selector   string
	Algorithm  string // "ed25519" or "rsa"
	PrivatePEM string
	CreatedAt  time.Time
}

// User is a mail account.
type User struct {
	ID           int64
	Address      string
	PasswordHash string
	CreatedAt    time.Time
}

// Session is an API login session.
type Session struct {
	TokenHash string
	UserID    int64
	CreatedAt time.Time
	ExpiresAt time.Time
	// UserAgent and IP describe the client that signed in (set by
	// WebmailStore.SetSessionClient; read by ListUserSessions).
	UserAgent string
	IP        string
}

// Mailbox is a folder with its IMAP state and counts.
type Mailbox struct {
	ID            int64
	UserID        int64
	Name          string
	Role          string
	UIDValidity   uint32
	UIDNext       uint32
	HighestModSeq uint64
	Subscribed    bool
	Total         int
	Unread        int
	Size          int64
}

// Segment is one content-addressed blob making up part of a message's bytes.
// A message's raw RFC 5322 bytes are its segments concatenated in order.
// Inline segments are small blobs whose bytes live in the metadata store
// itself (ReadBlob), written in the same transaction as the message, so a
// typical message costs one fsync for everything; the others live in the
// blob store (storage/blob).
type Segment struct {
	Hash   string `json:"h"`
	Size   int64  `json:"n"`
	Inline bool   `json:"i,omitempty"`
}

// Address is a parsed mailbox address.
type Address struct {
	Name    string `json:"name,omitempty"`
	Address string `json:"address"`
}

// Attachment describes one attachment of a message.
type Attachment struct {
	MessageID   int64
	Part        string // MIME part path, e.g. "2" or "1.3"
	Filename    string
	ContentType string
	Size        int64  // decoded size
	Hash        string // SHA-256 of the decoded content
	// Inline marks, on delivery, a part the HTML body shows through a cid:
	// reference: it is stored like the others but does not make the
	// message's HasAttachments (see ListedAttachments). Not stored itself:
	// ListAttachments leaves it false.
	Inline bool
}

// ListedAttachments reports whether a message being delivered has an
// attachment a reader lists (one that is not Inline): its HasAttachments.
func ListedAttachments(atts []Attachment) bool {
	for _, a := range atts {
		if !a.Inline {
			return true
		}
	}
	return false
}

// Message is a message in a mailbox.
type Message struct {
	ID             int64
	UserID         int64
	MailboxID      int64
	UID            uint32
	ThreadID       int64
	ModSeq         uint64
	Flags          []string // sorted; system flags and keywords
	InternalDate   time.Time
	Size           int64
	HeaderSize     int64 // bytes of the header section including the blank line
	Segments       []Segment
	Subject        string
	From           []Address
	To             []Address
	Cc             []Address
	Date           time.Time // Date header, zero if absent or unparsable
	MessageIDHdr   string    // Message-ID without angle brackets
	Snippet        string
	HasAttachments bool
}

// NewMessage is a message to be stored by Deliver.
type NewMessage struct {
	UserID       int64
	MailboxID    int64
	Flags        []string
	InternalDate time.Time
	Size         int64
	HeaderSize   int64
	Segments     []Segment
	Subject      string
	From         []Address
	To           []Address
	Cc           []Address
	Date         time.Time
	MessageIDHdr string
	InReplyTo    []string // message ids without brackets
	References   []string
	Snippet      string
	Attachments  []Attachment // MessageID is filled by Deliver
	SearchText   string       // body text to index (subject and addresses are indexed too)
	SearchHeader string       // header lines to index for substring search (message.HeaderText)
	Structure    []byte       // message/structure encoding of its MIME tree and envelope (nil: none)
	SortKeys     *SortKeys    // SORT/THREAD keys, stored in sort_keys (nil: none; MessageID is set by Deliver)
	SearchIndex  any          // the store's search index data made by IndexPreparer.PrepareIndex (nil: Deliver makes it)

	// Set by Deliver.
	ID       int64
	UID      uint32
	ModSeq   uint64
	ThreadID int64
}

// Batch is the unit of Deliver: one transaction, one fsync.
type Batch struct {
	Messages []*NewMessage
	Queue    []*QueueItem
	// Inline holds the bytes of the batch's inline segments by hash. Deliver
	// stores each one that is not stored yet, after taking its reference, so
	// a concurrent CollectBlobs either keeps the old copy or sees the new one.
	Inline map[string][]byte
	// InlineStored holds what an InlinePreparer made of Inline blobs, by
	// hash, for its own Deliver (nil: nothing prepared).
	InlineStored map[string][]byte
	// Notices, when set, is called by the Deliver of a TxNotifier once the
	// ids, UIDs and MODSEQs of Messages are assigned, and its notices are
	// published in the same transaction: other nodes hear of the messages
	// exactly when they are committed, at no extra round trip (notify.go).
	Notices func() []Notice
}

// ListQuery pages a mailbox listing. The cursor is the (InternalDate, ID) of
// the last message of the previous page; zero values start from the newest.
type ListQuery struct {
	BeforeDate time.Time
	BeforeID   int64
	Limit      int
	Unread     *bool // nil: all; true: only unseen; false: only seen
}

// FlagOp says how UpdateFlags applies its flags.
type FlagOp int

// Flag operations (RFC 9051 STORE FLAGS, +FLAGS, -FLAGS).
const (
	FlagsSet FlagOp = iota
	FlagsAdd
	FlagsRemove
)

// Moved pairs a message's UID in the source and target mailboxes.
type Moved struct {
	ID     int64 // id in the target mailbox (same as source for Move)
	OldID  int64
	OldUID uint32
	NewUID uint32
}

// SearchQuery is a full-text query with filters. Text is matched against
// subject, from/to addresses and body; the other fields narrow the result.
type SearchQuery struct {
	Text          string // free text, all terms must match (prefix match on the last term is not implied)
	BodyOnly      bool   // Text must match the body, not the subject or addresses (IMAP SEARCH BODY)
	MailboxID     int64  // 0: every mailbox
	From          string // substring of a From address or name
	To            string // substring of a To/Cc address or name
	Subject       string // substring of the subject
	HasAttachment bool
	Unread        *bool
	Before        time.Time // internal date before
	After         time.Time // internal date on or after
	Offset        int
	Limit         int
	Newest        bool // newest first even when Text terms would rank by relevance

	// Substring criteria of IMAP SEARCH (RFC 9051 section 6.4.4), each a
	// case-insensitive substring that must be found (see storage/search.go).
	Body    []string     // in the body text (SEARCH BODY)
	AnyText []string     // in the header or the body (SEARCH TEXT)
	Header  []HeaderTerm // in a header field (SEARCH HEADER, FROM, TO, CC, BCC, SUBJECT)

	// Date criteria of IMAP SEARCH: only the calendar date of each value
	// counts (its year, month and day as written), time and zone are ignored.
	SentBefore, SentOn, SentSince time.Time // the Date header's own calendar date (the internal date's if absent)
	DateBefore, DateOn, DateSince time.Time // the internal date's calendar date in Zone
	Zone                          *time.Location
	MinModSeq                     uint64 // only messages with MODSEQ >= MinModSeq (RFC 7162 SEARCH MODSEQ)
}

// ChangeKind says what a change log entry records.
type ChangeKind string

// Change kinds.
const (
	ChangeNew     ChangeKind = "new"
	ChangeFlags   ChangeKind = "flags"
	ChangeExpunge ChangeKind = "expunge"
	ChangeMailbox ChangeKind = "mailbox" // created, renamed or deleted
)

// Change is an entry of a user's change log, ordered by ModSeq.
type Change struct {
	ModSeq    uint64
	MailboxID int64
	MessageID int64
	UID       uint32
	Kind      ChangeKind
}

// Queue states.
const (
	QueueQueued    = "queued"
	QueueDelivered = "delivered"
	QueueFailed    = "failed" // dead letter: bounced or expired, kept for the operator
)

// QueueItem is an outbound message waiting for remote delivery.
type QueueItem struct {
	ID            int64
	UserID        int64 // sender's user id, 0 for bounces and forwarded mail
	Sender        string
	Recipients    []string
	Segments      []Segment
	Size          int64
	State         string
	Attempts      int
	NextAttemptAt time.Time
	CreatedAt     time.Time
	LastError     string
	// Results holds per-recipient outcomes after attempts, e.g. "ok", "4xx ...", "5xx ...".
	Results map[string]string
	// DSN holds the submitter's RFC 3461 parameters (queuedsn.go).
	DSN QueueDSN
	// RequireTLS is RFC 8689 REQUIRETLS: relay only over TLS with a
	// verified certificate, else bounce.
	RequireTLS bool
}

// Training is a spam-training event.
type Training struct {
	ID        int64
	UserID    int64
	MessageID int64
	Spam      bool
	CreatedAt time.Time
}

// ApplyFlags returns the flags op makes of cur with flags. Both inputs are
// normalized (system flags in canonical spelling, no case-insensitive
// duplicates, no \Recent, sorted), and so is the result.
func ApplyFlags(cur []string, op FlagOp, flags []string) []string {
	has := func(fs []string, f string) bool {
		return slices.ContainsFunc(fs, func(c string) bool { return strings.EqualFold(c, f) })
	}
	switch op {
	case FlagsSet:
		return flags
	case FlagsAdd:
		out := slices.Clone(cur)
		for _, f := range flags {
			if !has(out, f) {
				out = append(out, f)
			}
		}
		slices.Sort(out)
		return out
	default:
		out := make([]string, 0, len(cur))
		for _, c := range cur {
			if !has(flags, c) {
				out = append(out, c)
			}
		}
		return out
	}
}

// KeywordsOf returns the keywords among flags (those without a leading
// backslash, RFC 9051 section 2.3.2), first spelling of each, in order.
func KeywordsOf(flags []string) []string {
	var out []string
	for _, f := range flags {
		if f == "" || strings.HasPrefix(f, `\`) {
			continue
		}
		if !slices.ContainsFunc(out, func(o string) bool { return strings.EqualFold(o, f) }) {
			out = append(out, f)
		}
	}
	return out
}
