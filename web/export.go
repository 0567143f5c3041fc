package web

import (
	"archive/zip"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/stamp-mail/stamp/core"
	"github.com/stamp-mail/stamp/core/mailfile"
)

// exportTimeout bounds the whole download of an export; a mailbox of
// several gigabytes on a slow link needs long.
const exportTimeout = 6 * time.Hour

// handleExport is GET /v1/export: all of the user's mail as a zip with one
// mbox file (mboxrd) per folder, for the user's right to take their data.
// The zip is streamed as it is built; an error after the first byte can
// only cut the download short (the zip then lacks its central directory,
// which every unzip tool reports).
func (s *Server) handleExport(w http.ResponseWriter, r *http.Request) {
	u := userFrom(r)
	ctx := r.Context()
	if _, err := s.svc.ListMailboxes(ctx, u.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(exportTimeout))
	h := w.Header()
	h.Set("Content-Type", "application/zip")
	h.Set("Content-Disposition", contentDisposition("attachment", fmt.Sprintf("mail-%s-%s.zip",
		strings.ReplaceAll(u.Address, "@", "_at_"), time.Now().UTC().Format("2006-01-02"))))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "private, no-store")
	w.WriteHeader(http.StatusOK)
	zw := zip.NewWriter(w)
	var cur int64 = -1
	var entry interface{ Write([]byte) (int, error) }
	err := s.svc.Export(ctx, u.ID, func(mb core.Mailbox, m mailfile.Message) error {
		if mb.ID != cur {
			var err error
			entry, err = zw.CreateHeader(&zip.FileHeader{Name: core.MboxFileName(mb.Name), Method: zip.Deflate, Modified: time.Now()})
			if err != nil {
				return err
			}
			cur = mb.ID
		}
		return mailfile.WriteMbox(entry, m)
	})
	if err != nil {
		s.reqLog(r).Warn("export cut short", "err", err)
		return
	}
	// Empty folders get an empty mbox file too, so every folder is listed.
	mbs, err := s.svc.ListMailboxes(ctx, u.ID)
	if err == nil {
		for _, mb := range mbs {
			if mb.Total == 0 {
				if _, err := zw.CreateHeader(&zip.FileHeader{Name: core.MboxFileName(mb.Name), Method: zip.Deflate, Modified: time.Now()}); err != nil {
					break
				}
			}
		}
	}
	if err := zw.Close(); err != nil {
		s.reqLog(r).Warn("export cut short", "err", err)
	}
}
