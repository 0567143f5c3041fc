package web

import "strings"

// uaBrowsers and uaSystems map User-Agent tokens to names, checked in
// order: Edge, Opera and Samsung Internet also say "Chrome", and Chrome
// also says "Safari", so the more specific tokens come first.
var (
	uaBrowsers = []struct{ token, name string }{
		{"edg/", "Edge"}, {"edga/", "Edge"}, {"edgios/", "Edge"},
		{"opr/", "Opera"}, {"opera", "Opera"},
		{"samsungbrowser/", "Samsung Internet"},
		{"thunderbird/", "Thunderbird"},
		{"firefox/", "Firefox"}, {"fxios/", "Firefox"},
		{"crios/", "Chrome"}, {"chrome/", "Chrome"}, {"chromium/", "Chromium"},
		{"version/", "Safari"}, // Safari's own version token (with "Safari/")
		{"curl/", "curl"}, {"go-http-client/", "a Go program"}, {"python", "a Python program"},
	}
	uaSystems = []struct{ token, name string }{
		{"iphone", "iPhone"}, {"ipad", "iPad"}, {"android", "Android"},
		{"windows", "Windows"}, {"cros", "ChromeOS"},
		{"macintosh", "macOS"}, {"mac os x", "macOS"}, {"linux", "Linux"},
	}
)

// deviceOf summarises a User-Agent as a person would name their device,
// "Chrome on Linux" or "Safari on iPhone"; "" when it names neither a
// browser nor a system this knows.
func deviceOf(ua string) string {
	l := strings.ToLower(ua)
	browser, system := "", ""
	for _, b := range uaBrowsers {
		if strings.Contains(l, b.token) && (b.name != "Safari" || strings.Contains(l, "safari/")) {
			browser = b.name
			break
		}
	}
	for _, s := range uaSystems {
		if strings.Contains(l, s.token) {
			system = s.name
			break
		}
	}
	switch {
	case browser != "" && system != "":
		return browser + " on " + system
	case browser != "":
		return browser
	case system != "":
		return "A browser on " + system
	}
	return ""
}
