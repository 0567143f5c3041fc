package web

import (
	"context"
	"slices"
	"testing"
	"time"
)

// TestSearchSort: results are newest first by default (sort=date), ranked
// with sort=relevance, and another sort is a 400.
func TestSearchSort(t *testing.T) {
	e := newEnv(t, Options{})
	a := e.newUser("alice@example.test")
	ctx := context.Background()
	inbox := a.folderID("inbox")
	now := time.Now()
	add := func(ago time.Duration, id, subject, body string) {
		raw := "Message-ID: <" + id + "@x>\r\nFrom: Dan <dan@remote.example>\r\nTo: alice@example.test\r\nSubject: " + subject + "\r\n\r\n" + body + "\r\n"
		if _, err := e.svc.Append(ctx, a.user.ID, inbox, nil, now.Add(-ago), []byte(raw)); err != nil {
			t.Fatal(err)
		}
	}
	add(72*time.Hour, "old", "Trip in May", "Shall we go on a trip in May?")
	add(2*time.Hour, "mid", "Dates", "The trip could start on the 3rd.")
	add(time.Hour, "new", "Booked", "Booked it for the trip.")
	order := func(sort string) (int, []string) {
		var res struct {
			Messages []summaryJSON `json:"messages"`
		}
		path := "/v1/search?q=trip"
		if sort != "" {
			path += "&sort=" + sort
		}
		st := a.call("GET", path, nil, &res)
		var out []string
		for _, m := range res.Messages {
			out = append(out, m.Subject)
		}
		return st, out
	}
	newest := []string{"Booked", "Dates", "Trip in May"}
	for _, s := range []string{"", "date"} {
		if st, got := order(s); st != 200 || !slices.Equal(got, newest) {
			t.Errorf("sort=%q: got %d %q, want 200 %q", s, st, got, newest)
		}
	}
	if st, got := order("relevance"); st != 200 || len(got) != 3 || got[0] != "Trip in May" {
		t.Errorf("sort=relevance: got %d %q, want the subject match first", st, got)
	}
	if st, _ := order("size"); st != 400 {
		t.Errorf("sort=size: got %d, want 400", st)
	}
}
