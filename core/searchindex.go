package core

import "github.com/stamp-mail/stamp/storage"

// prepareIndex has the store compute the search index data of a batch's
// messages (storage.IndexPreparer) and its own encoding of the batch's
// inline blobs (storage.InlinePreparer) in the delivering goroutine, before the
// batch joins the group commit, whose committer is one goroutine for the
// whole server.
func (s *Service) prepareIndex(b *storage.Batch) {
	if p, ok := s.store.(storage.IndexPreparer); ok {
		p.PrepareIndex(b.Messages)
	}
	if p, ok := s.store.(storage.InlinePreparer); ok {
		p.PrepareInline(b)
	}
}
