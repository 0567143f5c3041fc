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
