package core

import (
	"errors"
	"strings"
	"testing"
	"time"
)

var testCodec = srsCodec{secret: []byte("0123456789abcdef0123456789abcdef")}

func TestSRSRoundTrip(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	cases := []struct{ sender, want string }{
		{"bob@example.org", "SRS0="},
		{"Bob.Smith+x@Example.ORG", "SRS0="},
		{"", ""},
	}
	for _, c := range cases {
		got := testCodec.forward(c.sender, "fwd.example", now)
		if !strings.HasPrefix(got, c.want) || (c.sender != "" && !strings.HasSuffix(got, "@fwd.example")) {
			t.Errorf("forward(%q): got %q, want prefix %q at fwd.example", c.sender, got, c.want)
			continue
		}
		if c.sender == "" {
			continue
		}
		local := got[:strings.LastIndexByte(got, '@')]
		back, err := testCodec.reverse(local, now.Add(20*24*time.Hour))
		if err != nil || back != c.sender {
			t.Errorf("reverse(%q): got %q, %v, want %q", local, back, err, c.sender)
		}
		if _, err := testCodec.reverse(local, now.Add(23*24*time.Hour)); !errors.Is(err, ErrSRSExpired) {
			t.Errorf("reverse after 23 days: got %v, want ErrSRSExpired", err)
		}
		other := srsCodec{secret: []byte("another secret, another hash!!!")}
		if _, err := other.reverse(local, now); !errors.Is(err, ErrSRSInvalid) {
			t.Errorf("reverse with another secret: got %v, want ErrSRSInvalid", err)
		}
		tampered := strings.Replace(local, "example.org", "evil.example", 1)
		tampered = strings.Replace(tampered, "Example.ORG", "evil.example", 1)
		if _, err := testCodec.reverse(tampered, now); !errors.Is(err, ErrSRSInvalid) {
			t.Errorf("reverse(%q) tampered: got %v, want ErrSRSInvalid", tampered, err)
		}
	}
	// A second forwarder turns SRS0 into SRS1; reversing SRS1 gives the first hop's SRS0 address.
	first := testCodec.forward("bob@example.org", "hop1.example", now)
	second := testCodec.forward(first, "hop2.example", now)
	if !strings.HasPrefix(second, "SRS1=") || !strings.HasSuffix(second, "@hop2.example") {
		t.Fatalf("forward(SRS0): got %q, want SRS1 at hop2.example", second)
	}
	back, err := testCodec.reverse(second[:strings.LastIndexByte(second, '@')], now)
	if err != nil || !strings.EqualFold(back, first) {
		t.Errorf("reverse(SRS1): got %q, %v, want %q", back, err, first)
	}
	// Our own SRS address is not rewritten again.
	if got := testCodec.forward(first, "hop1.example", now); got != first {
		t.Errorf("forward(our SRS0): got %q, want it unchanged", got)
	}
}

// FuzzSRSReverse: the decoder never panics, only accepts what verifies, and
// what it accepts re-encodes to the same address.
func FuzzSRSReverse(f *testing.F) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	good := testCodec.forward("bob@example.org", "fwd.example", now)
	f.Add(good[:strings.LastIndexByte(good, '@')])
	f.Add("SRS0=xxxx=AB=example.org=bob")
	f.Add("SRS1=xxxx=hop.example==yyyy=AB=example.org=bob")
	f.Add("SRS0====")
	f.Add("srs0=")
	f.Fuzz(func(t *testing.T, local string) {
		orig, err := testCodec.reverse(local, now)
		if err != nil {
			if !errors.Is(err, ErrSRSInvalid) && !errors.Is(err, ErrSRSExpired) {
				t.Fatalf("reverse(%q): unexpected error %v", local, err)
			}
			return
		}
		if !strings.Contains(orig, "@") {
			t.Fatalf("reverse(%q) = %q: no @", local, orig)
		}
	})
}
