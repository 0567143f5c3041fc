package storage

// Notice is a payload published on a channel (Notifier) when a Deliver commits.
type Notice struct {
	Channel, Payload string
}

// TxNotifier is implemented by Notifier backends whose Deliver publishes
// Batch.Notices inside the delivery transaction (PostgreSQL NOTIFY, which
// is delivered at commit and dropped on rollback).
type TxNotifier interface {
	Notifier
	// NotifiesOnDeliver marks the capability; it does nothing.
	NotifiesOnDeliver()
}
