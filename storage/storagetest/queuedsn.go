package storagetest

import (
	"reflect"
	"testing"
	"time"

	"github.com/stamp-mail/stamp/storage"
)

var queueDSNCases = []testCase{
	{"QueueDSNColumns", testQueueDSNColumns},
}

// testQueueDSNColumns: the RFC 3461 parameters and REQUIRETLS come back as
// stored (on Deliver, ClaimQueue, ListQueue), results keep only recipients,
// and UpdateQueue records that the delay notice went out.
func testQueueDSNColumns(t *testing.T, s storage.Store) {
	ctx := t.Context()
	u, _ := newUser(t, s, "a@example.com")
	now := time.Now()
	seg := segment("queued with DSN parameters")
	dsn := storage.QueueDSN{Ret: "FULL", EnvID: "env-42 ü", Rcpts: map[string]storage.RcptDSN{
		"x@r.example": {Notify: []string{"SUCCESS", "FAILURE"}, ORcpt: "rfc822;X@r.example"},
		"y@r.example": {Notify: []string{"NEVER"}},
	}}
	q := &storage.QueueItem{UserID: u.ID, Sender: "a@example.com", Recipients: []string{"x@r.example", "y@r.example"},
		Segments: []storage.Segment{seg}, Size: seg.Size, NextAttemptAt: now.Add(-time.Second), DSN: dsn, RequireTLS: true}
	plain := &storage.QueueItem{Sender: "", Recipients: []string{"z@r.example"}, NextAttemptAt: now.Add(time.Hour)}
	if err := s.Deliver(ctx, &storage.Batch{Queue: []*storage.QueueItem{q, plain}}); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetQueueItem(ctx, q.ID)
	if err != nil || !reflect.DeepEqual(got.DSN, dsn) || !got.RequireTLS {
		t.Fatalf("GetQueueItem: got DSN %+v, require_tls %v, %v; want %+v, true", got.DSN, got.RequireTLS, err, dsn)
	}
	if len(got.Results) != 0 {
		t.Errorf("results: got %v, want none (DSN parameters are columns)", got.Results)
	}
	p, err := s.GetQueueItem(ctx, plain.ID)
	if err != nil || p.RequireTLS || p.DSN.Ret != "" || p.DSN.EnvID != "" || len(p.DSN.Rcpts) != 0 || p.DSN.DelayNotified {
		t.Errorf("item without parameters: got %+v, %v, want empty DSN and no REQUIRETLS", p, err)
	}
	claimed, err := s.ClaimQueue(ctx, now, 10, time.Minute)
	if err != nil || len(claimed) != 1 || !reflect.DeepEqual(claimed[0].DSN, dsn) || !claimed[0].RequireTLS {
		t.Fatalf("ClaimQueue: got %+v, %v, want the item with its DSN", claimed, err)
	}
	it := claimed[0]
	it.Attempts, it.DSN.DelayNotified = 1, true
	it.Results = map[string]string{"x@r.example": "451 4.4.1 later"}
	it.NextAttemptAt = now.Add(time.Hour)
	if err := s.UpdateQueue(ctx, it); err != nil {
		t.Fatal(err)
	}
	list, err := s.ListQueue(ctx)
	if err != nil || len(list) != 2 {
		t.Fatalf("ListQueue: got %d items, %v, want 2", len(list), err)
	}
	want := dsn
	want.DelayNotified = true
	if !reflect.DeepEqual(list[0].DSN, want) || !list[0].RequireTLS || list[0].Results["x@r.example"] != "451 4.4.1 later" {
		t.Errorf("after UpdateQueue: got DSN %+v, require_tls %v, results %v; want %+v", list[0].DSN, list[0].RequireTLS, list[0].Results, want)
	}
}
