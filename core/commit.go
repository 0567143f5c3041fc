package core

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/stamp-mail/stamp/storage"
)

// commitJob is one delivery waiting for the group committer.
type commitJob struct {
	batch storage.Batch
	blobs [][]byte // re-ensured after commit, see runCommitter
	done  chan error
}

// commit hands a batch and its blobs to the group-commit pipeline and waits
// until both are durable.
func (s *Service) commit(ctx context.Context, b storage.Batch, blobs [][]byte) error {
	s.prepareIndex(&b)
	job := &commitJob{batch: b, blobs: blobs, done: make(chan error, 1)}
	select {
	case s.commits <- job:
	case <-ctx.Done():
		return ctx.Err()
	}
	// Once handed over the job will be committed or failed; wait for the
	// answer even if ctx ends, so a 250 is never sent for a lost message and
	// a committed one is never reported as failed.
	return <-job.done
}

// takeJobs returns first and every job waiting behind it, up to MaxBatch messages.
func (s *Service) takeJobs(first *commitJob, from chan *commitJob) []*commitJob {
	jobs := []*commitJob{first}
	n := len(first.batch.Messages) + len(first.batch.Queue)
	for n < s.cfg.MaxBatch {
		select {
		case j := <-from:
			jobs = append(jobs, j)
			n += len(j.batch.Messages) + len(j.batch.Queue)
		default:
			return jobs
		}
	}
	return jobs
}

// runBlobWriter is the first stage of group commit: it writes the blobs of
// every waiting job in one PutAll (parallel fsyncs, one directory sync per
// directory) and passes the jobs on to the database stage, so the blobs of
// the next group are written while the previous group's transaction commits.
func (s *Service) runBlobWriter(ctx context.Context) {
	for {
		var first *commitJob
		select {
		case first = <-s.commits:
		case <-ctx.Done():
			return
		}
		jobs := s.takeJobs(first, s.commits)
		var all [][]byte
		seen := map[string]bool{}
		for _, j := range jobs {
			for _, b := range j.blobs {
				k := string(b)
				if len(b) < 4096 { // cheap exact dedup of small identical blobs (common headers)
					if seen[k] {
						continue
					}
					seen[k] = true
				}
				all = append(all, b)
			}
		}
		if _, err := s.blobs.PutAll(context.WithoutCancel(ctx), all); err != nil {
			for _, j := range jobs {
				j.done <- temporary("write blobs", err)
			}
			continue
		}
		for _, j := range jobs {
			s.durable <- j
		}
	}
}

// runCommitter is the database stage of group commit: it takes every job
// whose blobs are durable (up to MaxBatch messages) and commits them in one
// storage transaction, so one fsync serves many concurrent deliveries
// (ARCHITECTURE.md, durability rule).
func (s *Service) runCommitter(ctx context.Context) {
	for {
		var first *commitJob
		select {
		case first = <-s.durable:
		case <-ctx.Done():
			// Finish what already passed the blob stage, then stop.
			for {
				select {
				case j := <-s.durable:
					s.commitJobs(context.WithoutCancel(ctx), []*commitJob{j})
				default:
					return
				}
			}
		}
		s.commitJobs(context.WithoutCancel(ctx), s.takeJobs(first, s.durable))
	}
}

// mergeBlobs adds src's blobs to dst, made when there is something to add.
func mergeBlobs(dst, src map[string][]byte) map[string][]byte {
	if len(src) > 0 && dst == nil {
		dst = make(map[string][]byte, len(src))
	}
	maps.Copy(dst, src)
	return dst
}

func (s *Service) commitJobs(ctx context.Context, jobs []*commitJob) {
	var merged storage.Batch
	for _, j := range jobs {
		merged.Messages = append(merged.Messages, j.batch.Messages...)
		merged.Queue = append(merged.Queue, j.batch.Queue...)
		merged.Inline = mergeBlobs(merged.Inline, j.batch.Inline)
		merged.InlineStored = mergeBlobs(merged.InlineStored, j.batch.InlineStored)
	}
	err := s.deliverNotify(ctx, &merged)
	if err != nil && len(jobs) > 1 {
		// One bad job must not fail its neighbours: commit each alone.
		for _, j := range jobs {
			s.finishJob(ctx, j, s.deliverNotify(ctx, &j.batch))
		}
		return
	}
	for _, j := range jobs {
		s.finishJob(ctx, j, err)
	}
}

// deliverNotify commits a batch and tells the other nodes of its messages:
// within the transaction when the store can (one NOTIFY per group commit
// in the same round trip as COMMIT), else right after it.
func (s *Service) deliverNotify(ctx context.Context, b *storage.Batch) error {
	if _, ok := s.store.(storage.TxNotifier); ok && len(b.Messages) > 0 {
		b.Notices = func() []storage.Notice {
			var out []storage.Notice
			for _, p := range s.encodeEvents(newEvents(b.Messages)) {
				out = append(out, storage.Notice{Channel: notifyChannel, Payload: p})
			}
			return out
		}
		return s.store.Deliver(ctx, b)
	}
	err := s.store.Deliver(ctx, b)
	if n, ok := s.store.(storage.Notifier); ok && err == nil && len(b.Messages) > 0 {
		for _, payload := range s.encodeEvents(newEvents(b.Messages)) {
			nctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			if nerr := n.Notify(nctx, notifyChannel, payload); nerr != nil {
				s.log.Warn("notify other nodes failed", "err", nerr)
			}
			cancel()
		}
	}
	return err
}

func (s *Service) finishJob(ctx context.Context, j *commitJob, err error) {
	if err == nil && len(j.blobs) > 0 {
		// A blob collection racing with this delivery may have deleted a
		// file whose row this commit re-created; PutAll re-creates missing
		// blobs and only stats existing ones (see storage.Store.CollectBlobs).
		if _, perr := s.blobs.PutAll(ctx, j.blobs); perr != nil {
			s.log.Error("re-ensuring blobs after commit failed", "err", perr)
		}
	}
	if err != nil && !isNamed(err) {
		err = temporary("commit", fmt.Errorf("store: %w", err))
	}
	j.done <- err
}

// isNamed reports whether err is one of the store's named (permanent) errors.
func isNamed(err error) bool {
	return errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrExists) ||
		errors.Is(err, storage.ErrNotAllowed) || errors.Is(err, storage.ErrInvalid)
}
