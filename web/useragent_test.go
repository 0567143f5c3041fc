package web

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stamp-mail/stamp/core/coretest"
)

func TestDeviceOf(t *testing.T) {
	for _, c := range []struct{ ua, want string }{
		{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", "Chrome on Linux"},
		{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/140.0.7339.16 Safari/537.36", "Chrome on Linux"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.86", "Edge on Windows"},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15", "Safari on macOS"},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1", "Safari on iPhone"},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/126.0.6478.54 Mobile/15E148 Safari/604.1", "Chrome on iPhone"},
		{"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36", "Chrome on Android"},
		{"Mozilla/5.0 (Linux; Android 14; SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36", "Samsung Internet on Android"},
		{"Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", "Firefox on Linux"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 OPR/112.0.0.0", "Opera on Windows"},
		{"Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36", "Chrome on ChromeOS"},
		{"curl/8.5.0", "curl"},
		{"Go-http-client/1.1", "a Go program"},
		{"Mozilla/5.0 (X11; Linux x86_64)", "A browser on Linux"},
		{"", ""},
		{"something else", ""},
	} {
		if got := deviceOf(c.ua); got != c.want {
			t.Errorf("deviceOf(%q): got %q, want %q", c.ua, got, c.want)
		}
	}
}

// FuzzDeviceOf: any User-Agent gives a short summary made of the known names.
func FuzzDeviceOf(f *testing.F) {
	f.Add("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36")
	f.Add("Version/17 Safari/605 iPad")
	f.Fuzz(func(t *testing.T, ua string) {
		got := deviceOf(ua)
		if len(got) > 64 {
			t.Fatalf("deviceOf(%q) = %q: too long", ua, got)
		}
		rest := got
		for _, b := range uaBrowsers {
			rest = strings.Replace(rest, b.name, "", 1)
		}
		for _, s := range uaSystems {
			rest = strings.Replace(rest, s.name, "", 1)
		}
		rest = strings.NewReplacer(" on ", "", "A browser", "").Replace(rest)
		if strings.TrimSpace(rest) != "" {
			t.Fatalf("deviceOf(%q) = %q: not made of known names (left %q)", ua, got, rest)
		}
	})
}

// TestSessionsShowDevice: a login records its User-Agent and address; the
// list of sessions names the device ("Firefox on Linux") and the IP.
func TestSessionsShowDevice(t *testing.T) {
	e := newEnv(t, Options{})
	a := e.newUser("alice@example.test") // Go's client: "a Go program"
	other := &apiClient{e: e, http: &http.Client{}}
	resp := other.do("POST", "/v1/auth/login", map[string]string{"username": "alice@example.test", "password": coretest.Password},
		"User-Agent", "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0")
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("login: %d", resp.StatusCode)
	}
	var out struct {
		Sessions []sessionJSON `json:"sessions"`
	}
	if st := a.call("GET", "/v1/sessions", nil, &out); st != 200 || len(out.Sessions) != 2 {
		t.Fatalf("sessions: %d %+v", st, out.Sessions)
	}
	devices := map[bool]sessionJSON{}
	for _, s := range out.Sessions {
		devices[s.Current] = s
	}
	if d := devices[false]; d.Device != "Firefox on Linux" || d.IP != "127.0.0.1" || !strings.Contains(d.UserAgent, "Firefox/128.0") {
		t.Errorf("the other session: %+v, want Firefox on Linux from 127.0.0.1", d)
	}
	if d := devices[true]; d.Device != "a Go program" || d.IP != "127.0.0.1" {
		t.Errorf("this session: %+v, want a Go program from 127.0.0.1", d)
	}
}
