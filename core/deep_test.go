package core_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stamp-mail/stamp/core"
	"github.com/stamp-mail/stamp/core/coretest"
)

// deepMessage nests depth multiparts, one inside the other, around one
// text part.
func deepMessage(depth int) []byte {
	var b bytes.Buffer
	b.WriteString("From: a@remote.example\r\nTo: x@example.test\r\nSubject: deep\r\nMIME-Version: 1.0\r\n")
	for i := 0; i < depth; i++ {
		fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=\"b%d\"\r\n\r\n--b%d\r\n", i, i)
	}
	b.WriteString("Content-Type: text/plain\r\n\r\nthe innermost text\r\n")
	for i := depth - 1; i >= 0; i-- {
		fmt.Fprintf(&b, "--b%d--\r\n", i)
	}
	return b.Bytes()
}

// flatMessage is a plain text message of about size bytes.
func flatMessage(size int) []byte {
	head := "From: a@remote.example\r\nTo: x@example.test\r\nSubject: flat\r\nMIME-Version: 1.0\r\n\r\n"
	line := "the quick brown fox jumps over the lazy dog 0123456789 abcdefghij\r\n"
	return []byte(head + strings.Repeat(line, max(1, (size-len(head))/len(line))))
}

// TestDeepNestingLinear: a message nested 10,000 multiparts deep is
// delivered in at most 20 times the time of a flat message of the same
// size (the parser stops descending at its nesting limit and stays linear).
// Best of three runs each, interleaved; only the ratio is asserted.
func TestDeepNestingLinear(t *testing.T) {
	svc := coretest.New(t, coretest.Options{})
	coretest.User(t, svc, "x@example.test")
	deep := deepMessage(10000)
	flat := flatMessage(len(deep))
	env := core.Envelope{MailFrom: "a@remote.example", Recipients: []string{"x@example.test"}, Helo: "remote.example"}
	ctx := context.Background()
	timeIt := func(raw []byte) time.Duration {
		start := time.Now()
		if err := svc.Deliver(ctx, env, raw); err != nil {
			t.Fatalf("deliver: %v", err)
		}
		return time.Since(start)
	}
	bestDeep, bestFlat := time.Duration(1<<62), time.Duration(1<<62)
	for i := 0; i < 3; i++ {
		bestFlat = min(bestFlat, timeIt(flat))
		bestDeep = min(bestDeep, timeIt(deep))
	}
	t.Logf("%d bytes: 10,000-deep %v, flat %v (%.1fx)", len(deep), bestDeep, bestFlat, float64(bestDeep)/float64(bestFlat))
	if bestDeep > 20*bestFlat {
		t.Errorf("10,000-deep message took %v, flat one of the same size %v: want at most 20x", bestDeep, bestFlat)
	}
}
