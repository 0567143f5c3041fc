package core

import "testing"

func TestParseSize(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"5G", 5 << 30, true}, {"500M", 500 << 20, true}, {"64k", 64 << 10, true}, {"1.5G", 3 << 29, true},
		{"1048576", 1 << 20, true}, {"2GiB", 2 << 30, true}, {"10MB", 10 << 20, true}, {"0", 0, true},
		{"none", 0, true}, {"default", QuotaDefault, true}, {"", 0, false}, {"-1G", 0, false}, {"G", 0, false},
		{"lots", 0, false}, {"1e30", 0, false}, {"NaN", 0, false},
	} {
		got, err := ParseSize(c.in)
		if (err == nil) != c.ok || (c.ok && got != c.want) {
			t.Errorf("ParseSize(%q): got %d, %v, want %d (ok %v)", c.in, got, err, c.want, c.ok)
		}
	}
	for _, n := range []int64{0, 1000, 5 << 30, 3 << 29, 64 << 10} {
		if got, err := ParseSize(FormatSize(n)); err != nil || got != n {
			t.Errorf("ParseSize(FormatSize(%d) = %q): got %d, %v", n, FormatSize(n), got, err)
		}
	}
}
