package imap

import (
	"testing"

	"github.com/stamp-mail/stamp/core"
)

// FuzzExtArgs fuzzes the argument parsers of cmd_metadata.go, cmd_sort.go
// and cmd_quota.go: errors are always BAD (badArgs), never a panic, and
// what parses is well formed (valid entry names, a sort key, an algorithm).
func FuzzExtArgs(f *testing.F) {
	for _, s := range []string{
		`(MAXSIZE 1024 DEPTH infinity) "" (/private/comment /shared)`,
		`INBOX (DEPTH 1) /shared/vendor/x`,
		`INBOX (/private/a "v" /shared/b NIL /private/c ~{2}` + "\r\n" + `a` + "\x00" + `)`,
		`"" (/private/x {3}` + "\r\n" + `abc)`,
		`RETURN (MIN MAX ALL COUNT) (REVERSE DATE DISPLAYFROM) UTF-8 OR FROM a (SUBJECT b)`,
		`(ARRIVAL) US-ASCII $ UNSEEN`,
		`REFERENCES UTF-8 ALL`,
		`ORDEREDSUBJECT KOI8-R SUBJECT x`,
		`"" (STORAGE 1024 MESSAGE 5)`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		run := func(name string, fn func(p *parser) func()) {
			p := newParser(in)
			check := fn(p)
			p.end()
			if p.err != nil {
				if _, ok := p.err.(badArgs); !ok {
					t.Fatalf("%s: parser error %T, want badArgs", name, p.err)
				}
				return
			}
			check()
		}
		run("GETMETADATA", func(p *parser) func() {
			r := p.parseGetMetadata()
			return func() {
				if len(r.entries) == 0 || r.depth < -1 || r.depth > 1 {
					t.Fatalf("GETMETADATA %q: got %+v", in, r)
				}
				for _, e := range r.entries {
					if e != "/private" && e != "/shared" && !core.ValidMetadataName(e) {
						t.Fatalf("GETMETADATA %q: invalid entry %q accepted", in, e)
					}
				}
			}
		})
		run("SETMETADATA", func(p *parser) func() {
			_, es := p.parseSetMetadata()
			return func() {
				if len(es) == 0 {
					t.Fatalf("SETMETADATA %q: no entries", in)
				}
				for _, e := range es {
					if !core.ValidMetadataName(e.Name) {
						t.Fatalf("SETMETADATA %q: invalid entry %q accepted", in, e.Name)
					}
				}
			}
		})
		run("SORT", func(p *parser) func() {
			r, _ := p.parseSort()
			return func() {
				if len(r.crit) == 0 {
					t.Fatalf("SORT %q: no sort key", in)
				}
			}
		})
		run("THREAD", func(p *parser) func() {
			r, _ := p.parseThread()
			return func() {
				if r.algorithm != "REFERENCES" && r.algorithm != "ORDEREDSUBJECT" {
					t.Fatalf("THREAD %q: algorithm %q", in, r.algorithm)
				}
			}
		})
		run("SETQUOTA", func(p *parser) func() { p.setQuotaArgs(); return func() {} })
	})
}
