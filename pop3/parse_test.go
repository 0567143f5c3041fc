package pop3

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

func TestParseCommand(t *testing.T) {
	cases := []struct {
		line    string
		name    string
		args    []string
		rest    string
		wantErr bool
	}{
		{line: "STAT", name: "STAT"},
		{line: "stat", name: "STAT"},
		{line: "LIST 1", name: "LIST", args: []string{"1"}, rest: "1"},
		{line: "TOP 1 10", name: "TOP", args: []string{"1", "10"}, rest: "1 10"},
		{line: "PASS my secret  pass", name: "PASS", args: []string{"my", "secret", "pass"}, rest: "my secret  pass"},
		{line: "TOP  1   2", name: "TOP", args: []string{"1", "2"}, rest: " 1   2"},
		{line: "", wantErr: true},
		{line: "   ", wantErr: true},
		{line: "NO", wantErr: true},
		{line: "TOOLONG", wantErr: true},
		{line: "ST4T", wantErr: true},
		{line: " STAT", wantErr: true},
		{line: "USER a\x00b", wantErr: true},
		{line: "USER a\rb", wantErr: true},
		{line: "LIST 1 2 3 4 5", wantErr: true},
		{line: "USER jörg", name: "USER", args: []string{"jörg"}, rest: "jörg"},
	}
	for _, tc := range cases {
		got, err := parseCommand([]byte(tc.line))
		if tc.wantErr {
			if err == nil {
				t.Errorf("parseCommand(%q): got %+v, want an error", tc.line, got)
			}
			continue
		}
		if err != nil {
			t.Errorf("parseCommand(%q): got error %v, want %s", tc.line, err, tc.name)
			continue
		}
		if got.name != tc.name || !slices.Equal(got.args, tc.args) || got.rest != tc.rest {
			t.Errorf("parseCommand(%q): got %q %q rest %q, want %q %q rest %q", tc.line, got.name, got.args, got.rest, tc.name, tc.args, tc.rest)
		}
	}
}

func TestParseNumber(t *testing.T) {
	cases := []struct {
		in   string
		want int
		ok   bool
	}{
		{"1", 1, true}, {"0", 0, true}, {"007", 7, true}, {"999999999", 999999999, true},
		{"", 0, false}, {"-1", 0, false}, {"+1", 0, false}, {"1x", 0, false}, {"1000000000", 0, false},
	}
	for _, tc := range cases {
		got, err := parseNumber(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseNumber(%q): got %d, %v; want %d, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{"STAT", "LIST 1", "TOP 1 10", "PASS a b c", "AUTH PLAIN =", "", " ", "USER \x00", "uidl", "RETR 99999999999"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		cmd, err := parseCommand(line)
		if err != nil {
			return
		}
		if n := len(cmd.name); n < 3 || n > 4 || strings.ToUpper(cmd.name) != cmd.name {
			t.Fatalf("parseCommand(%q): keyword %q, want 3-4 upper-case letters", line, cmd.name)
		}
		if len(cmd.args) > maxArgs {
			t.Fatalf("parseCommand(%q): %d args, want at most %d", line, len(cmd.args), maxArgs)
		}
		for _, a := range cmd.args {
			if a == "" || strings.ContainsAny(a, " \r\n\x00") {
				t.Fatalf("parseCommand(%q): bad argument %q", line, a)
			}
			if !strings.Contains(cmd.rest, a) {
				t.Fatalf("parseCommand(%q): argument %q not in rest %q", line, a, cmd.rest)
			}
			if n, err := parseNumber(a); err == nil && n < 0 {
				t.Fatalf("parseNumber(%q) = %d, want non-negative", a, n)
			}
		}
		if !bytes.HasPrefix(bytes.ToUpper(line), []byte(cmd.name)) {
			t.Fatalf("parseCommand(%q): keyword %q is not the line's start", line, cmd.name)
		}
	})
}

// convert runs the converter over in, split into chunks of size chunk.
func convert(in string, stuff bool, limit, chunk int) (string, int64) {
	var out bytes.Buffer
	cv := newConverter(&out, stuff, limit)
	b := []byte(in)
	for len(b) > 0 && !cv.done {
		n := min(chunk, len(b))
		cv.write(b[:n])
		b = b[n:]
	}
	n := cv.finish()
	return out.String(), n
}

func TestConverter(t *testing.T) {
	cases := []struct {
		name, in, want string
		limit          int
	}{
		{"empty", "", "", -1},
		{"crlf", "a\r\nb\r\n", "a\r\nb\r\n", -1},
		{"bare lf", "a\nb\n", "a\r\nb\r\n", -1},
		{"no final newline", "a\nb", "a\r\nb\r\n", -1},
		{"dots", ".\n..\nx.\n.a", "..\r\n...\r\nx.\r\n..a\r\n", -1},
		{"bare cr kept", "a\rb\n", "a\rb\r\n", -1},
		{"cr at end dropped", "a\r", "a\r\n", -1},
		{"cr cr lf", "a\r\r\n", "a\r\r\n", -1},
		{"dot after cr", "\r.x\n", "\r.x\r\n", -1},
		{"top 0", "H: 1\n\nbody\n", "H: 1\r\n\r\n", 0},
		{"top 1 crlf", "H: 1\r\n\r\nb1\r\nb2\r\n", "H: 1\r\n\r\nb1\r\n", 1},
		{"top header only", "H: 1\nH: 2", "H: 1\r\nH: 2\r\n", 3},
		{"top leading blank", "\nb1\nb2\n", "\r\nb1\r\n", 1},
		{"top stuffed", "H: 1\n\n.b1\n.b2\n", "H: 1\r\n\r\n..b1\r\n", 1},
	}
	for _, tc := range cases {
		for chunk := 1; chunk <= len(tc.in)+1; chunk++ {
			got, n := convert(tc.in, true, tc.limit, chunk)
			if got != tc.want {
				t.Errorf("%s (chunks of %d): got %q, want %q", tc.name, chunk, got, tc.want)
				break
			}
			unstuffed := strings.ReplaceAll("\n"+got, "\n.", "\n")[1:]
			if n != int64(len(unstuffed)) {
				t.Errorf("%s (chunks of %d): size got %d, want %d", tc.name, chunk, n, len(unstuffed))
				break
			}
			if tc.limit < 0 {
				plainOut, pn := convert(tc.in, false, -1, chunk)
				if plainOut != unstuffed || pn != n {
					t.Errorf("%s: unstuffed conversion got %q (%d), want %q (%d)", tc.name, plainOut, pn, unstuffed, n)
				}
			}
		}
	}
}
