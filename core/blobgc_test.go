package core_test

import (
	"bytes"
	"context"
	"io/fs"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/stamp-mail/stamp/core"
	"github.com/stamp-mail/stamp/core/coretest"
)

// blobFiles counts the blob files under dir/blobs.
func blobFiles(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	filepath.WalkDir(filepath.Join(dir, "blobs"), func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() && d.Name()[0] != '.' {
			n++
		}
		return nil
	})
	return n
}

// TestBlobsCollectedUnderPressure: with the disk short, an expunged
// message's attachment file goes away on its own within seconds, while a
// server with room keeps it for the normal grace period.
func TestBlobsCollectedUnderPressure(t *testing.T) {
	ctx := context.Background()
	type node struct {
		dir string
		svc *core.Service
	}
	mk := func(low int64) node {
		dir := t.TempDir()
		svc := coretest.New(t, coretest.Options{Dir: dir, Config: core.Config{BlobLowSpace: low, BlobGraceShort: time.Second}})
		return node{dir, svc}
	}
	short := mk(1 << 62) // never that much free: always short
	roomy := mk(1)       // (the 5% rule still applies; the test machine must have more)
	if roomy.svc.DiskShort() {
		t.Skip("SKIPPED: this machine's disk is short of space (under 5% free)")
	}
	att := make([]byte, 256<<10) // larger than the inline limit: a file of its own
	for i := range att {
		att[i] = byte(rand.Uint32())
	}
	for _, n := range []node{short, roomy} {
		u := coretest.User(t, n.svc, "x@example.test")
		before := blobFiles(t, n.dir)
		if err := n.svc.Deliver(ctx, core.Envelope{MailFrom: "a@remote.example", Recipients: []string{u.Address}}, withAttachment("big", bytes.Clone(att))); err != nil {
			t.Fatal(err)
		}
		if blobFiles(t, n.dir) <= before {
			t.Fatalf("the attachment made no blob file")
		}
		mb := inbox(t, n.svc, u)
		ms, err := n.svc.ListMessages(ctx, u.ID, mb.ID, core.ListQuery{Limit: 10})
		if err != nil || len(ms) != 1 {
			t.Fatalf("list: %v %d", err, len(ms))
		}
		if _, err := n.svc.Expunge(ctx, u.ID, mb.ID, []int64{ms[0].ID}); err != nil {
			t.Fatal(err)
		}
	}
	if !short.svc.DiskShort() || short.svc.BlobGraceNow() != time.Second {
		t.Fatalf("pressured service: DiskShort %v grace %v, want true and 1s", short.svc.DiskShort(), short.svc.BlobGraceNow())
	}
	deadline := time.Now().Add(time.Minute)
	for blobFiles(t, short.dir) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("disk short: %d blob files still there a minute after the expunge", blobFiles(t, short.dir))
		}
		time.Sleep(200 * time.Millisecond)
	}
	if n := blobFiles(t, roomy.dir); n == 0 {
		t.Errorf("disk not short: the blob was collected before the grace period")
	}
}
