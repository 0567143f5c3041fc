package storage

// IndexPreparer is implemented by a store that can compute the search index
// data of messages before their write transaction (SQLite: the trigram keys
// of their texts, storage/sqlite/searchkeys.go), so that a caller with its
// own serial commit stage (core's group committer) does that work in the
// delivering goroutine instead. Deliver computes whatever was not prepared.
type IndexPreparer interface {
	// PrepareIndex sets SearchIndex on each message that has none, from
	// its fields as they are now: call it once they are final.
	PrepareIndex(msgs []*NewMessage)
}

// InlinePreparer is implemented by a store that keeps inline blobs in an
// encoding of its own (SQLite: s2-compressed when that saves,
// storage/sqlite/packed.go): PrepareInline makes it for a batch's Inline
// blobs in the caller's goroutine and keeps it in Batch.InlineStored,
// which a caller merging batches merges as it merges Inline. Deliver
// encodes whatever was not prepared.
type InlinePreparer interface {
	PrepareInline(b *Batch)
}
