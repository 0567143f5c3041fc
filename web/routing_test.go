package web

import (
	"context"
	"strings"
	"testing"

	"github.com/stamp-mail/stamp/core"
	"github.com/stamp-mail/stamp/storage"
)

// TestIdentities: GET /v1/identities lists the user's address then the
// aliases it owns; POST /v1/messages accepts any of them as "from" and
// refuses another address.
func TestIdentities(t *testing.T) {
	e := newEnv(t, Options{})
	alice := e.newUser("alice@example.test")
	e.newUser("bob@example.test")
	ctx := context.Background()
	if _, err := e.svc.AddAlias(ctx, "sales@example.test", []string{"alice@example.test", "bob@example.test"}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.AddAlias(ctx, "@example.test", []string{"alice@example.test"}, nil); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Identities []identityJSON `json:"identities"`
	}
	if st := alice.call("GET", "/v1/identities", nil, &got); st != 200 {
		t.Fatalf("GET /v1/identities: got %d, want 200", st)
	}
	want := []identityJSON{{Address: "alice@example.test", Primary: true}, {Address: "sales@example.test"}}
	if len(got.Identities) != len(want) || got.Identities[0] != want[0] || got.Identities[1] != want[1] {
		t.Errorf("identities: got %+v, want %+v (the catch-all is not an identity)", got.Identities, want)
	}
	for _, c := range []struct {
		from string
		want int
	}{
		{"sales@example.test", 202},
		{"alice@example.test", 202},
		{"", 202},
		{"bob@example.test", 403},
		{"ceo@example.test", 403},
	} {
		body := map[string]any{"from": c.from, "to": []string{"friend@remote.example"}, "subject": "from " + c.from, "text": "hi"}
		if st := alice.call("POST", "/v1/messages", body, nil); st != c.want {
			t.Errorf("POST /v1/messages from %q: got %d, want %d", c.from, st, c.want)
		}
	}
	q, err := e.svc.ListQueue(ctx)
	if err != nil {
		t.Fatal(err)
	}
	senders := map[string]bool{}
	for _, it := range q {
		senders[it.Sender] = true
	}
	if !senders["sales@example.test"] || !senders["alice@example.test"] {
		t.Errorf("queued senders: got %v, want sales@ and alice@", senders)
	}
}

// TestFilters: PUT /v1/filters stores rules and vacation as a managed Sieve
// script that delivery runs; a hand-written script is reported and kept
// unless force is set; bad rules are 400.
func TestFilters(t *testing.T) {
	e := newEnv(t, Options{})
	alice := e.newUser("alice@example.test")
	var f core.Filters
	if st := alice.call("GET", "/v1/filters", nil, &f); st != 200 || !f.Managed || len(f.Rules) != 0 || f.Vacation.Days != 7 {
		t.Fatalf("GET /v1/filters (none): got %d %+v, want 200 managed, no rules, 7 days", st, f)
	}
	put := map[string]any{
		"rules": []map[string]string{
			{"field": "subject", "contains": "invoice", "action": "move", "target": "Bills"},
			{"field": "from", "contains": "boss@", "action": "flag"},
			{"field": "body", "contains": "unsubscribe", "action": "read"},
		},
		"vacation": map[string]any{"enabled": true, "subject": "Away", "body": "Back on Monday.", "days": 3},
	}
	if st := alice.call("PUT", "/v1/filters", put, &f); st != 200 {
		t.Fatalf("PUT /v1/filters: got %d, want 200", st)
	}
	if !f.Managed || len(f.Rules) != 3 || f.Rules[0].Target != "Bills" || !f.Vacation.Enabled || f.Vacation.Days != 3 ||
		!strings.Contains(f.Script, `fileinto :create "Bills"`) || !strings.Contains(f.Script, "vacation :days 3") {
		t.Errorf("after PUT: got %+v, want the three rules, vacation 3 days and their script", f)
	}
	var again core.Filters
	if alice.call("GET", "/v1/filters", nil, &again); len(again.Rules) != 3 || again.Rules[1].Action != "flag" || again.Script != f.Script {
		t.Errorf("GET after PUT: got %+v, want what PUT returned", again)
	}

	// The script runs on delivery: the invoice goes to Bills, flagged and read as the rules say.
	e.deliver("alice@example.test", "Your invoice", "Pay now. To unsubscribe, reply.")
	bills, err := e.svc.GetMailboxByName(context.Background(), alice.user.ID, "Bills")
	if err != nil {
		t.Fatalf("Bills folder after delivery: %v", err)
	}
	ms, err := e.svc.ListMessages(context.Background(), alice.user.ID, bills.ID, core.ListQuery{Limit: 10})
	if err != nil || len(ms) != 1 {
		t.Fatalf("Bills: got %d messages (%v), want 1", len(ms), err)
	}
	if !strings.Contains(strings.Join(ms[0].Flags, " "), storage.FlagSeen) {
		t.Errorf("invoice flags: got %v, want \\Seen from the read rule", ms[0].Flags)
	}

	// Bad input.
	for _, bad := range []map[string]any{
		{"rules": []map[string]string{{"field": "cc", "contains": "x", "action": "move", "target": "A"}}},
		{"rules": []map[string]string{{"field": "from", "contains": "", "action": "flag"}}},
		{"rules": []map[string]string{{"field": "from", "contains": "x", "action": "forward", "target": "not an address"}}},
		{"rules": []map[string]string{{"field": "from", "contains": "x", "action": "explode"}}},
		{"vacation": map[string]any{"enabled": true, "body": "", "days": 3}},
		{"vacation": map[string]any{"enabled": false, "days": 400}},
	} {
		if st, _ := alice.errorCode("PUT", "/v1/filters", bad); st != 400 {
			t.Errorf("PUT %v: got %d, want 400", bad, st)
		}
	}

	// A hand-written script (ManageSieve, CLI) is shown as such, not overwritten without force.
	ctx := context.Background()
	if err := e.svc.PutSieveScript(ctx, alice.user.ID, "mine", "require \"fileinto\";\nfileinto \"Archive\";\n"); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.SetActiveSieveScript(ctx, alice.user.ID, "mine"); err != nil {
		t.Fatal(err)
	}
	if st := alice.call("GET", "/v1/filters", nil, &f); st != 200 || f.Managed || !strings.Contains(f.Script, `fileinto "Archive"`) {
		t.Errorf("GET with a hand-written script: got %d %+v, want managed false and its text", st, f)
	}
	if st, _ := alice.errorCode("PUT", "/v1/filters", put); st != 409 {
		t.Errorf("PUT over a hand-written script: got %d, want 409", st)
	}
	if sc, _ := e.svc.ActiveSieveScript(ctx, alice.user.ID); sc.Name != "mine" {
		t.Errorf("active script after refused PUT: got %q, want mine", sc.Name)
	}
	put["force"] = true
	if st := alice.call("PUT", "/v1/filters", put, &f); st != 200 || !f.Managed {
		t.Errorf("PUT with force: got %d %+v, want 200 managed", st, f)
	}
	if sc, err := e.svc.GetSieveScript(ctx, alice.user.ID, "mine"); err != nil || sc.Active {
		t.Errorf("hand-written script after force: got %+v, %v, want kept and inactive", sc, err)
	}
}
