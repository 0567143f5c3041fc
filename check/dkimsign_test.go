package check

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"
)

func TestGenerateDKIMKeys(t *testing.T) {
	keys, err := GenerateDKIMKeys("Example.TEST.", time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ sel, alg string }{{"stamp-ed-202603", "ed25519"}, {"stamp-rsa-202603", "rsa"}}
	if len(keys) != len(want) {
		t.Fatalf("keys: got %d, want %d", len(keys), len(want))
	}
	for i, w := range want {
		k := keys[i]
		if k.Domain != "example.test" || k.Selector != w.sel || k.Algorithm != w.alg {
			t.Errorf("key %d: got %s/%s/%s, want example.test/%s/%s", i, k.Domain, k.Selector, k.Algorithm, w.sel, w.alg)
		}
		txt, err := k.TXT()
		if err != nil || !strings.HasPrefix(txt, "v=DKIM1; k="+w.alg+"; p=") {
			t.Errorf("key %d TXT: got %q, %v", i, txt, err)
		}
	}
}

// signAndLookup signs a message for signed.test and returns it with a
// LookupTXT answering from the keys, for verifying without DNS.
func signAndLookup(t *testing.T) ([]byte, []DKIMKey, func(string) ([]string, error)) {
	t.Helper()
	keys, err := GenerateDKIMKeys("signed.test", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSigner(keys)
	if err != nil {
		t.Fatal(err)
	}
	msg := testMessage("Someone <a@sub.signed.test>", "signing", "Body line one.\r\n\r\n\r\nBody  with   spaces  \r\n")
	msg = bytes.Replace(msg, []byte("From: Sender <Someone <a@sub.signed.test>>"), []byte("From: Someone <a@sub.signed.test>"), 1)
	signed, err := s.Sign(msg)
	if err != nil {
		t.Fatal(err)
	}
	lookup := func(name string) ([]string, error) {
		for _, k := range keys {
			if name == k.Selector+"._domainkey.signed.test" {
				txt, _ := k.TXT()
				return []string{txt}, nil
			}
		}
		return nil, os.ErrNotExist
	}
	return signed, keys, lookup
}

func TestSignVerifies(t *testing.T) {
	signed, keys, lookup := signAndLookup(t)
	if got := bytes.Count(signed, []byte("DKIM-Signature:")); got != len(keys) {
		t.Fatalf("DKIM-Signature headers: got %d, want %d", got, len(keys))
	}
	verifs, err := dkim.VerifyWithOptions(bytes.NewReader(signed), &dkim.VerifyOptions{LookupTXT: lookup})
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range verifs {
		if v.Err != nil || v.Domain != "signed.test" {
			t.Errorf("signature %d: got domain %q err %v, want signed.test and no error", i, v.Domain, v.Err)
		}
	}
	// Mail for a domain without keys is refused, not sent unsigned silently.
	s, _ := NewSigner(keys)
	if _, err := s.Sign(testMessage("a@other.test", "x", "y")); err == nil {
		t.Errorf("Sign for other.test: got no error, want ErrNoDKIMKey")
	}
}

// TestSignVerifiesWithPythonDKIM checks the signatures with an independent
// implementation, Debian's python3-dkim (dkimpy), given the public keys.
func TestSignVerifiesWithPythonDKIM(t *testing.T) {
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import dkim, nacl").Run(); err != nil {
		t.Skip("SKIPPED LOUDLY: python3-dkim (with python3-nacl) not installed (apt-get install -y python3-dkim)")
	}
	signed, keys, _ := signAndLookup(t)
	dir := t.TempDir()
	var zone strings.Builder
	for _, k := range keys {
		txt, _ := k.TXT()
		zone.WriteString(k.Selector + "._domainkey.signed.test. " + txt + "\n")
	}
	os.WriteFile(filepath.Join(dir, "zone"), []byte(zone.String()), 0o600)
	os.WriteFile(filepath.Join(dir, "msg"), signed, 0o600)
	script := `
import sys, dkim
zone = {}
for line in open(sys.argv[1]):
    name, txt = line.rstrip("\n").split(" ", 1)
    zone[name] = txt.encode()
def dnsfunc(name, timeout=5):
    if isinstance(name, bytes):
        name = name.decode()
    return zone.get(name if name.endswith(".") else name + ".")
msg = open(sys.argv[2], "rb").read()
d = dkim.DKIM(msg)
ok = [d.verify(idx=i, dnsfunc=dnsfunc) for i in range(msg.count(b"DKIM-Signature:"))]
print(" ".join("pass" if x else "fail" for x in ok))
sys.exit(0 if ok and all(ok) else 1)
`
	out, err := exec.Command(py, "-c", script, filepath.Join(dir, "zone"), filepath.Join(dir, "msg")).CombinedOutput()
	if err != nil {
		t.Fatalf("dkimpy: got %v: %s, want every signature to pass", err, out)
	}
	if got, want := strings.TrimSpace(string(out)), "pass pass"; got != want {
		t.Errorf("dkimpy: got %q, want %q", got, want)
	}
}
