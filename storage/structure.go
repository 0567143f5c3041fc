package storage

import "context"

// Structures keeps each message's MIME structure and envelope, encoded by
// message/structure, computed once at delivery (NewMessage.Structure) so
// that IMAP FETCH ENVELOPE, BODY and BODYSTRUCTURE never read message
// bytes. Mail stored before migration 11 has none until the backfill
// (core) or a FETCH computes it; Copy carries it along.
type Structures interface {
	// MessageStructures returns the messages of a mailbox with UID in
	// [first, last], in UID order, with their stored structure (Data nil
	// where none is stored yet).
	MessageStructures(ctx context.Context, userID, mailboxID int64, first, last uint32) ([]StructureRow, error)
	// SetStructures stores the structure of existing messages by ID;
	// messages that no longer exist are skipped.
	SetStructures(ctx context.Context, userID int64, rows []StructureRow) error
	// MissingStructures returns up to limit messages of any user without a
	// stored structure, ordered by (UserID, ID) after the given pair: the
	// backfill pages with the last row's UserID and ID.
	MissingStructures(ctx context.Context, afterUser, afterID int64, limit int) ([]Message, error)
}

// StructureRow is one message's stored structure.
type StructureRow struct {
	ID   int64
	UID  uint32
	Data []byte
}
