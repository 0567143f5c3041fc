package core_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stamp-mail/stamp/core"
	"github.com/stamp-mail/stamp/core/coretest"
)

// TestMetadataScopes: server /shared entries are the operator's and seen by
// every user; /private server entries are each user's own.
func TestMetadataScopes(t *testing.T) {
	ctx := context.Background()
	svc := coretest.New(t, coretest.Options{})
	a := coretest.User(t, svc, "a@example.test")
	b := coretest.User(t, svc, "b@example.test")
	if err := svc.SetServerMetadata(ctx, []core.MetadataEntry{{Name: "/shared/comment", Value: []byte("Stamp test server")}}); err != nil {
		t.Fatal(err)
	}
	if err := svc.SetMetadata(ctx, a.ID, 0, []core.MetadataEntry{{Name: "/shared/comment", Value: []byte("mine")}}); !errors.Is(err, core.ErrNotAllowed) {
		t.Errorf("user setting a server /shared entry: got %v, want ErrNotAllowed", err)
	}
	if err := svc.SetMetadata(ctx, a.ID, 0, []core.MetadataEntry{{Name: "/private/comment", Value: []byte("a's note")}}); err != nil {
		t.Fatal(err)
	}
	big := make([]byte, core.MetadataMaxValue+1)
	if err := svc.SetMetadata(ctx, a.ID, 0, []core.MetadataEntry{{Name: "/private/big", Value: big}}); !errors.Is(err, core.ErrMetadataTooLarge) {
		t.Errorf("value over MetadataMaxValue: got %v, want ErrMetadataTooLarge", err)
	}
	for _, c := range []struct {
		u    core.User
		want []string
	}{{a, []string{"/private/comment", "/shared/comment"}}, {b, []string{"/shared/comment"}}} {
		got, err := svc.GetMetadata(ctx, c.u.ID, 0, []string{"/shared/comment", "/private/comment"}, 0)
		if err != nil || len(got) != len(c.want) {
			t.Fatalf("%s: GetMetadata: got %v, %v, want %v", c.u.Address, got, err, c.want)
		}
		for i, e := range got {
			if e.Name != c.want[i] {
				t.Errorf("%s: entry %d: got %s, want %s", c.u.Address, i, e.Name, c.want[i])
			}
		}
	}
}
