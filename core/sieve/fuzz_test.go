package sieve

import (
	"context"
	"errors"
	"testing"
	"time"
)

// FuzzParse: any input either parses or fails with a positioned *Error, and
// whatever parses runs within its limits without panicking.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		``, `keep;`, `require ["fileinto", "variables"]; if header :matches "subject" "*x*" { fileinto "${1}"; }`,
		"require \"vacation\";\nvacation :days 1 text:\nhi\n.\n;",
		`if anyof (not size :over 1M, exists "x") { discard; } elsif true { stop; } else { keep; }`,
		`require ["imap4flags", "relational", "regex", "date", "body"]; if body :regex "a(b)c" { addflag "x"; }`,
		`/* comment */ # x`, `"unterminated`, `if header :is [ "a", ] "b" {`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		s, err := Parse(src)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) || pe.Line < 1 || pe.Column < 1 {
				t.Fatalf("Parse(%q): got %v, want a positioned *Error", src, err)
			}
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if _, err := Run(ctx, s, sample, env, Options{}); err != nil && !errors.Is(err, ErrLimit) {
			t.Fatalf("Run(%q): %v", src, err)
		}
	})
}
