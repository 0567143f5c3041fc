package core

import (
	"bytes"
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/stamp-mail/stamp/storage"
)

// Event kinds.
const (
	EventNew     = "new"     // a message arrived in a mailbox
	EventFlags   = "flags"   // a message's flags changed
	EventExpunge = "expunge" // a message left a mailbox (expunged, moved away, deleted)
	EventMailbox = "mailbox" // a mailbox was created, renamed or deleted
	// EventKeywords: a keyword was defined in a mailbox (AddKeywords);
	// IMAP sessions of it read the mailbox's keywords again.
	EventKeywords = "keywords"
)

// notifyChannel is the PostgreSQL NOTIFY channel carrying events between nodes.
const notifyChannel = "stamp_events"

// Event tells subscribers that a user's mail changed. It is a wake-up: a
// subscriber that may have missed events catches up from the change log
// (ChangesSince) by ModSeq, so a lost event costs latency, never correctness.
type Event struct {
	UserID    int64    `json:"u"`
	MailboxID int64    `json:"m,omitempty"`
	Kind      string   `json:"k"`
	MessageID int64    `json:"id,omitempty"`
	UID       uint32   `json:"uid,omitempty"`
	ModSeq    uint64   `json:"ms,omitempty"`
	Flags     []string `json:"f,omitempty"`
	Node      string   `json:"n,omitempty"`
}

// Bus fans events out to the subscribers of each user, in process.
type Bus struct {
	mu   sync.Mutex
	subs map[int64]map[*Subscription]struct{}
}

// Subscription receives a user's events on C until Close.
type Subscription struct {
	// C delivers events. When the subscriber is too slow the oldest
	// undelivered events are dropped and Missed is incremented; the
	// subscriber should then resynchronize from the change log.
	C      <-chan Event
	c      chan Event
	bus    *Bus
	userID int64

	mu     sync.Mutex
	missed int
}

// Missed returns and resets the count of events dropped for this subscriber.
func (s *Subscription) Missed() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.missed
	s.missed = 0
	return n
}

// Close unsubscribes.
func (s *Subscription) Close() {
	s.bus.mu.Lock()
	defer s.bus.mu.Unlock()
	if m := s.bus.subs[s.userID]; m != nil {
		delete(m, s)
		if len(m) == 0 {
			delete(s.bus.subs, s.userID)
		}
	}
}

func newBus() *Bus { return &Bus{subs: map[int64]map[*Subscription]struct{}{}} }

func (b *Bus) subscribe(userID int64) *Subscription {
	// Events are wake-ups (subscribers catch up from the change log), so a
	// small buffer suffices and keeps an idle IMAP session's memory low.
	c := make(chan Event, 16)
	s := &Subscription{C: c, c: c, bus: b, userID: userID}
	b.mu.Lock()
	defer b.mu.Unlock()
	m := b.subs[userID]
	if m == nil {
		m = map[*Subscription]struct{}{}
		b.subs[userID] = m
	}
	m[s] = struct{}{}
	return s
}

func (b *Bus) publish(ev Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := range b.subs[ev.UserID] {
		select {
		case s.c <- ev:
		default:
			s.mu.Lock()
			s.missed++
			s.mu.Unlock()
		}
	}
}

// Subscribe returns a subscription to a user's events from every node.
func (s *Service) Subscribe(userID int64) *Subscription { return s.bus.subscribe(userID) }

// publish sends events to local subscribers and, when the store can, to other nodes.
func (s *Service) publish(ctx context.Context, evs ...Event) {
	s.publishLocal(evs)
	n, ok := s.store.(storage.Notifier)
	if !ok {
		return
	}
	for _, payload := range s.encodeEvents(evs) {
		nctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		if err := n.Notify(nctx, notifyChannel, payload); err != nil {
			s.log.Warn("notify other nodes failed", "err", err)
		}
		cancel()
	}
}

// publishLocal sends events to this node's subscribers.
func (s *Service) publishLocal(evs []Event) {
	for i := range evs {
		evs[i].Node = s.cfg.NodeID
		s.bus.publish(evs[i])
	}
}

// encodeEvents turns events into NOTIFY payloads: events from one commit
// travel together as JSON arrays of under 8000 bytes (PostgreSQL's limit),
// each event encoded once.
func (s *Service) encodeEvents(evs []Event) []string {
	var out []string
	var batch [][]byte
	size := 0
	flush := func() {
		if len(batch) > 0 {
			out = append(out, "["+string(bytes.Join(batch, []byte(",")))+"]")
		}
		batch, size = nil, 0
	}
	for _, ev := range evs {
		ev.Node = s.cfg.NodeID
		b, _ := json.Marshal(ev)
		if size+len(b) > 7000 {
			flush()
		}
		batch = append(batch, b)
		size += len(b) + 1
	}
	flush()
	return out
}

// listenRemote republishes other nodes' events on the local bus.
func (s *Service) listenRemote(ctx context.Context, n storage.Notifier) {
	err := n.Listen(ctx, notifyChannel, func(payload string) {
		var evs []Event
		if err := json.Unmarshal([]byte(payload), &evs); err != nil {
			s.log.Warn("bad event payload from another node", "err", err)
			return
		}
		for _, ev := range evs {
			if ev.Node == s.cfg.NodeID {
				continue
			}
			if ev.Kind == eventLookups {
				s.remoteSettingsChanged(ev) // lookups.go
				continue
			}
			s.bus.publish(ev)
		}
	})
	if err != nil && ctx.Err() == nil {
		s.log.Error("listening for other nodes' events stopped", "err", err)
	}
}

// HighestModSeq returns the user's current MODSEQ, the event cursor.
func (s *Service) HighestModSeq(ctx context.Context, userID int64) (uint64, error) {
	return s.store.HighestModSeq(ctx, userID)
}

// ChangesSince returns the user's changes after modseq, oldest first.
func (s *Service) ChangesSince(ctx context.Context, userID int64, modseq uint64, limit int) ([]Change, error) {
	return s.store.ChangesSince(ctx, userID, modseq, limit)
}
