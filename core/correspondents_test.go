package core

import (
	"slices"
	"testing"
	"time"
)

func TestCorrespondentMemo(t *testing.T) {
	var c correspondentMemo
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	if got := c.stale(1, []string{"a@x.test", "b@x.test"}, t0); !slices.Equal(got, []string{"a@x.test", "b@x.test"}) {
		t.Fatalf("first record: %v", got)
	}
	if got := c.stale(1, []string{"a@x.test", "c@x.test"}, t0.Add(time.Minute)); !slices.Equal(got, []string{"c@x.test"}) {
		t.Fatalf("within the window: %v, want only the new address", got)
	}
	if got := c.stale(2, []string{"a@x.test"}, t0.Add(time.Minute)); len(got) != 1 {
		t.Fatalf("another user: %v, want the address", got)
	}
	if got := c.stale(1, []string{"a@x.test"}, t0.Add(correspondentsFresh+time.Second)); len(got) != 1 {
		t.Fatalf("after the window: %v, want the address again", got)
	}
	c.forget(1, []string{"b@x.test"})
	if got := c.stale(1, []string{"b@x.test"}, t0.Add(2*time.Minute)); len(got) != 1 {
		t.Fatalf("after forget: %v, want the address again", got)
	}
}
