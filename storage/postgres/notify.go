package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/stamp-mail/stamp/storage"
)

// MaxPayload is the largest Notify payload in bytes; PostgreSQL refuses
// 8000 and more.
const MaxPayload = 7999

// Reconnect backoff of Listen.
const (
	listenBackoffMin = 100 * time.Millisecond
	listenBackoffMax = 10 * time.Second
)

// Notify publishes payload on channel to every listening node, this one
// included, through pg_notify (delivered when the sending transaction, here
// the statement, commits).
// NotifiesOnDeliver marks Deliver as publishing Batch.Notices in its
// transaction (storage.TxNotifier).
func (s *Store) NotifiesOnDeliver() {}

var _ storage.TxNotifier = (*Store)(nil)

func (s *Store) Notify(ctx context.Context, channel, payload string) error {
	if channel == "" || len(payload) > MaxPayload {
		return fmt.Errorf("postgres: notify %q: channel empty or payload of %d bytes: %w", channel, len(payload), storage.ErrInvalid)
	}
	_, err := s.pool.Exec(ctx, "SELECT pg_notify($1, $2)", channel, payload)
	return mapErr("notify", err)
}

// Listen calls fn, in order, for every payload published on channel until
// ctx ends, and then returns nil. It holds a dedicated connection outside the
// pool; when that connection fails it reconnects with exponential backoff
// (payloads sent while disconnected are lost: readers catch up from the
// change log).
func (s *Store) Listen(ctx context.Context, channel string, fn func(payload string)) error {
	if channel == "" {
		return fmt.Errorf("postgres: listen: empty channel: %w", storage.ErrInvalid)
	}
	cfg := s.pool.Config().ConnConfig
	cfg.RuntimeParams["application_name"] = listenAppName(channel)
	backoff := listenBackoffMin
	for ctx.Err() == nil {
		err := s.listenOnce(ctx, cfg, channel, fn, func() { backoff = listenBackoffMin })
		if ctx.Err() != nil {
			break
		}
		s.log.Warn("postgres: listen: connection lost, reconnecting", "channel", channel, "err", err, "backoff", backoff)
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
		backoff = min(2*backoff, listenBackoffMax)
	}
	return nil
}

// listenAppName names Listen's connection in pg_stat_activity.
func listenAppName(channel string) string {
	return truncateUTF8("stamp-listen "+channel, 63)
}

// listenOnce connects, LISTENs and dispatches until an error; connected is
// called once the LISTEN is in place.
func (s *Store) listenOnce(ctx context.Context, cfg *pgx.ConnConfig, channel string, fn func(string), connected func()) error {
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
		return err
	}
	connected()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		fn(n.Payload)
	}
}
