package core

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/stamp-mail/stamp/message"
	"github.com/stamp-mail/stamp/storage"
)

// RepairAttachmentFlags clears HasAttachments on stored messages whose only
// attachments are cid: images their HTML body shows: delivery stopped
// counting those (storage.Attachment.Inline), mail stored before keeps the
// old flag until repaired. Only messages whose attachments are all images
// are read and parsed. It returns how many messages it read and how many
// it cleared; it is safe to run again and while the server runs.
func (s *Service) RepairAttachmentFlags(ctx context.Context) (checked, cleared int, err error) {
	users, err := s.store.ListUsers(ctx)
	if err != nil {
		return 0, 0, err
	}
	for _, u := range users {
		mbs, err := s.store.ListMailboxes(ctx, u.ID)
		if err != nil {
			return checked, cleared, err
		}
		for _, mb := range mbs {
			q := ListQuery{Limit: 500}
			for {
				ms, err := s.store.ListMessages(ctx, u.ID, mb.ID, q)
				if err != nil {
					return checked, cleared, err
				}
				var fix []int64
				for _, m := range ms {
					ok, err := s.onlyInline(ctx, m)
					if err != nil {
						return checked, cleared, fmt.Errorf("message %d of %s: %w", m.ID, u.Address, err)
					}
					if ok != nil {
						checked++
						if *ok {
							fix = append(fix, m.ID)
						}
					}
				}
				if err := s.store.ClearHasAttachments(ctx, u.ID, fix); err != nil {
					return checked, cleared, err
				}
				cleared += len(fix)
				if len(ms) < q.Limit {
					break
				}
				last := ms[len(ms)-1]
				q.BeforeDate, q.BeforeID = last.InternalDate, last.ID
			}
		}
	}
	return checked, cleared, nil
}

// onlyInline tells whether a message flagged with attachments has only
// inline (cid:) ones; nil when it was not worth reading (no flag, or an
// attachment that is not an image).
func (s *Service) onlyInline(ctx context.Context, m Message) (*bool, error) {
	if !m.HasAttachments {
		return nil, nil
	}
	atts, err := s.store.ListAttachments(ctx, m.UserID, m.ID)
	if err != nil {
		return nil, err
	}
	for _, a := range atts {
		if !strings.HasPrefix(strings.ToLower(a.ContentType), "image/") {
			return nil, nil
		}
	}
	raw, err := s.ReadMessage(ctx, m)
	if err != nil {
		return nil, err
	}
	p := message.Parse(raw)
	inline := message.InlineParts(p)
	var as []storage.Attachment
	for _, a := range p.Attachments {
		path := ""
		if a.Part != nil {
			path = a.Part.Path
		}
		as = append(as, storage.Attachment{Part: path, Inline: a.Part != nil && inline[path]})
	}
	only := len(as) > 0 && !storage.ListedAttachments(as)
	return &only, nil
}

// attachmentRepairKey marks, in the key-value table, that the attachment
// flags of mail stored before inline images stopped counting were repaired.
const attachmentRepairKey = "core/attachment-repair-done"

// runAttachmentRepair runs RepairAttachmentFlags once per database, in the
// background after start, so that an upgraded server shows no paperclip on
// old mail whose only "attachments" are images in the body. Mail delivered
// since is flagged right at delivery; `stamp repair-attachments` reruns it.
func (s *Service) runAttachmentRepair(ctx context.Context) {
	if _, err := s.store.GetKV(ctx, attachmentRepairKey); err == nil {
		return
	}
	checked, cleared, err := s.RepairAttachmentFlags(ctx)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Warn("repair attachment flags", "err", err)
		}
		return
	}
	if err := s.store.PutKV(ctx, attachmentRepairKey, []byte(time.Now().UTC().Format(time.RFC3339))); err != nil {
		s.log.Warn("repair attachment flags: record completion", "err", err)
		return
	}
	if cleared > 0 {
		s.log.Info("attachment flags repaired", "read", checked, "cleared", cleared)
	}
}
