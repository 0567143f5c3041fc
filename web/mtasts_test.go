package web

import (
	"io"
	"strings"
	"testing"
)

func TestMTASTSPolicy(t *testing.T) {
	e := newEnv(t, Options{})
	a := e.newUser("a@example.test")
	resp := a.do("GET", "/.well-known/mta-sts.txt", nil)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("got %d %q, want 200 text/plain", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	// RFC 8461 section 3.2: version first, then mode, mx and max_age lines.
	lines := strings.Split(strings.TrimRight(string(body), "\r\n"), "\r\n")
	if len(lines) != 4 || lines[0] != "version: STSv1" || lines[1] != "mode: testing" ||
		!strings.HasPrefix(lines[2], "mx: ") || lines[3] != "max_age: 604800" {
		t.Errorf("policy: got %q", body)
	}
}
