package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

// repairAttachmentsCmd recomputes the attachment flag (the paperclip, and
// search's has:attachment) of stored mail: a cid: image shown in the body
// no longer counts as an attachment. `stamp serve` repairs mail stored
// before that change once by itself, in the background after start; this
// runs the same repair now. Safe to run again and while `stamp serve` runs.
func repairAttachmentsCmd(g *globals) *cobra.Command {
	return g.appCmd("repair-attachments", "Clear the attachment flag of stored mail whose only attachments are images shown in the body (cid:)", cobra.NoArgs, func(r run) error {
		checked, cleared, err := r.app.Service.RepairAttachmentFlags(r.ctx)
		if err != nil {
			return fmt.Errorf("repair attachment flags: %w", err)
		}
		fmt.Fprintf(r.out, "read %d messages whose attachments are all images; %d had only inline images and no longer count as having attachments\n", checked, cleared)
		return nil
	})
}
