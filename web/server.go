// Package web is Stamp's HTTP frontend: the JSON API under /v1 (sessions,
// folders, messages, sending, drafts, search, threads), change events pushed
// over WebSocket or long polling, mail client autoconfiguration, health and
// Prometheus metrics, and the webmail's static files (package web/ui) at /.
//
// Standards followed:
//   - RFC 9110 and RFC 9112 (HTTP semantics and HTTP/1.1), via net/http;
//   - RFC 8259 (JSON) for every API body, errors included;
//   - RFC 6455 (WebSocket) for /v1/events, via github.com/coder/websocket;
//   - RFC 6265 (cookies: HttpOnly, SameSite=Strict, Secure) for browser sessions;
//   - RFC 6266 and RFC 8187 (Content-Disposition filename*) for attachments;
//   - RFC 6750 (Bearer tokens) for API clients;
//   - RFC 6585 section 4 (429 Too Many Requests, Retry-After) for login failures;
//   - RFC 5322 and RFC 2045-2049 through package message when composing mail;
//   - Mozilla's autoconfig (clientConfig v1.1) and Microsoft's POX Autodiscover.
//
// CSRF protection: a request authenticated by the session cookie that may
// change state (any method but GET, HEAD and OPTIONS) must carry the header
// X-Stamp-CSRF equal to the non-HttpOnly cookie stamp_csrf set at login
// (double submit). Requests with an Authorization: Bearer header are not
// subject to it: browsers never attach that header on their own.
//
// Events: the in-process bus (core.Subscribe) only wakes a client's stream
// up; the events themselves are read from the user's change log
// (core.ChangesSince), so a cursor (the user's MODSEQ) lets a reconnecting
// client resume without losing anything.
package web

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/stamp-mail/stamp/core"
	"github.com/stamp-mail/stamp/web/ui"
)

// Timeouts of the HTTP server. RFC 9112 sets no floor; these leave room for
// slow mobile clients while bounding idle and half-open connections.
const (
	// readHeaderTimeout bounds reading a request's header (slowloris defence).
	readHeaderTimeout = 10 * time.Second
	// readTimeout bounds reading a whole request, uploads included.
	readTimeout = 5 * time.Minute
	// writeTimeout bounds writing a response; streaming handlers (raw
	// messages, WebSocket) extend or clear it with http.ResponseController.
	writeTimeout = 2 * time.Minute
	// idleTimeout closes keep-alive connections idle for this long.
	idleTimeout = 2 * time.Minute
	// defaultPollWait is how long a long poll waits for an event (below the
	// common 30 s proxy idle timeout).
	defaultPollWait = 25 * time.Second
	// defaultMaxUpload bounds a message sent through the API.
	defaultMaxUpload = 25 << 20
	// maxJSONBody bounds JSON bodies that are not messages.
	maxJSONBody = 1 << 20
)

// AutoconfigInfo tells mail clients where the protocol listeners are. A zero
// port leaves that service out of the autoconfiguration documents.
type AutoconfigInfo struct {
	IMAPHost        string // host name clients connect to; Options.Hostname when empty
	IMAPPort        int    // IMAP with STARTTLS (143)
	IMAPSPort       int    // IMAP over implicit TLS (993)
	POP3Port        int    // POP3 with STARTTLS (110)
	POP3SPort       int    // POP3 over implicit TLS (995)
	SubmissionPort  int    // submission with STARTTLS (587)
	SubmissionsPort int    // submission over implicit TLS (465)
}

// Options configure a Server.
type Options struct {
	Core     *core.Service
	Logger   *slog.Logger
	Hostname string
	Secure   bool // served over TLS: cookies get the Secure attribute
	// HSTS sends Strict-Transport-Security on every answer (with a
	// configured certificate, on the HTTPS listener).
	HSTS bool
	// HTTPSPort, when set, makes this the plain-HTTP listener of a server
	// with a configured certificate: it only redirects to HTTPS on this
	// port and refuses every request that could carry credentials (transport.go).
	HTTPSPort      string
	MaxUploadBytes int64 // largest message body accepted by send and drafts; default 25 MiB
	Autoconfig     AutoconfigInfo
	// PollWait is how long GET /v1/events/poll waits for an event; default 25 s.
	PollWait time.Duration
	// PingInterval is the WebSocket keepalive period; default 30 s.
	PingInterval time.Duration
	// MetricsToken, when set, is the bearer token GET /metrics requires;
	// when empty, /metrics answers loopback clients only (404 to others).
	MetricsToken string
}

// Server is the HTTP frontend. Create it with New.
type Server struct {
	svc     *core.Service
	log     *slog.Logger
	opts    Options
	handler http.Handler
	http    *http.Server
	streams *streams // open event streams per session, closed at logout

	// done is closed by Shutdown and Close so that WebSocket streams and
	// long polls end promptly.
	done     chan struct{}
	doneOnce sync.Once

	// mu guards conns, the session counters of open connections.
	mu    sync.Mutex
	conns map[net.Conn]func()
}

// New returns a server; call Serve with a listener or mount Handler.
func New(o Options) *Server {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.MaxUploadBytes <= 0 {
		o.MaxUploadBytes = defaultMaxUpload
	}
	if o.PollWait <= 0 {
		o.PollWait = defaultPollWait
	}
	if o.PingInterval <= 0 {
		o.PingInterval = 30 * time.Second
	}
	if o.Hostname == "" && o.Core != nil {
		o.Hostname = o.Core.Config().Hostname
	}
	s := &Server{
		svc:     o.Core,
		log:     o.Logger.With("proto", "http"),
		opts:    o,
		done:    make(chan struct{}),
		conns:   map[net.Conn]func(){},
		streams: newStreams(),
	}
	s.handler = s.routes()
	if o.HSTS {
		s.handler = withHSTS(s.handler)
	}
	if o.HTTPSPort != "" {
		s.handler = plainOnly(o.HTTPSPort, s.handler)
	}
	s.http = &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		ConnState:         s.connState,
	}
	s.http.RegisterOnShutdown(s.stopStreams)
	return s
}

// Handler returns the server's HTTP handler (API, autoconfig, health, metrics and webmail).
func (s *Server) Handler() http.Handler { return s.handler }

// Serve accepts connections on ln until Shutdown or Close; it then returns
// http.ErrServerClosed.
func (s *Server) Serve(ln net.Listener) error {
	return s.http.Serve(ln)
}

// Shutdown stops accepting connections, ends WebSocket streams (close code
// 1001 going away) and long polls, waits for requests in flight until ctx
// ends, then closes what is left.
func (s *Server) Shutdown(ctx context.Context) error {
	s.stopStreams()
	err := s.http.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		s.http.Close()
	}
	return err
}

// Close closes the listeners and every connection at once.
func (s *Server) Close() error {
	s.stopStreams()
	return s.http.Close()
}

func (s *Server) stopStreams() { s.doneOnce.Do(func() { close(s.done) }) }

// connState counts open HTTP connections as sessions of proto "http".
func (s *Server) connState(c net.Conn, st http.ConnState) {
	if s.svc == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch st {
	case http.StateNew:
		s.conns[c] = s.svc.Metrics().SessionStarted("http")
	case http.StateHijacked, http.StateClosed:
		if done := s.conns[c]; done != nil {
			done()
			delete(s.conns, c)
		}
	}
}

// routes builds the router. Every route here must be in openapi.json (a test checks).
func (s *Server) routes() http.Handler {
	r := chi.NewRouter()
	r.Use(s.recoverer, s.observe)

	r.Get("/healthz", s.handleHealth)
	r.Get("/metrics", s.handleMetrics)
	r.Get("/.well-known/autoconfig/mail/config-v1.1.xml", s.handleAutoconfig)
	r.Get("/mail/config-v1.1.xml", s.handleAutoconfig) // what autoconfig.<domain> serves
	r.Get("/.well-known/mta-sts.txt", s.handleMTASTS)
	r.Get("/autodiscover/autodiscover.xml", s.handleAutodiscover)
	r.Post("/autodiscover/autodiscover.xml", s.handleAutodiscover)
	r.Get("/Autodiscover/Autodiscover.xml", s.handleAutodiscover)
	r.Post("/Autodiscover/Autodiscover.xml", s.handleAutodiscover)

	r.Route("/v1", func(r chi.Router) {
		r.NotFound(func(w http.ResponseWriter, r *http.Request) {
			writeError(w, &apiError{Status: http.StatusNotFound, Code: "not_found", Message: "no such endpoint"})
		})
		r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
			writeError(w, &apiError{Status: http.StatusMethodNotAllowed, Code: "method_not_allowed", Message: "method not allowed"})
		})
		r.Get("/openapi.json", s.handleOpenAPI)
		r.Post("/auth/login", s.handleLogin)
		r.Group(func(r chi.Router) {
			r.Use(s.authenticate)
			r.Post("/auth/logout", s.handleLogout)
			r.Get("/me", s.handleMe)

			r.Get("/folders", s.handleListFolders)
			r.Post("/folders", s.handleCreateFolder)
			r.Patch("/folders/{id}", s.handleRenameFolder)
			r.Delete("/folders/{id}", s.handleDeleteFolder)
			r.Get("/folders/{id}/messages", s.handleListMessages)
			r.Get("/folders/{id}/conversations", s.handleListConversations)

			r.Post("/messages", s.handleSend)
			r.Post("/messages/bulk", s.handleBulk)
			r.Get("/messages/{id}", s.handleGetMessage)
			r.Patch("/messages/{id}", s.handlePatchMessage)
			r.Delete("/messages/{id}", s.handleDeleteMessage)
			r.Get("/messages/{id}/raw", s.handleRaw)
			r.Get("/messages/{id}/html", s.handleMessageHTML)
			r.Get("/messages/{id}/attachments/{attachment_id}", s.handleAttachment)
			r.Post("/messages/{id}/spam", s.handleMarkSpam)
			r.Get("/spam/lists", s.handleGetSpamLists)
			r.Put("/spam/lists", s.handlePutSpamLists)

			r.Post("/drafts", s.handleCreateDraft)
			r.Put("/drafts/{id}", s.handleReplaceDraft)

			r.Get("/search", s.handleSearch)
			r.Get("/threads/{id}", s.handleThread)

			r.Get("/events", s.handleEvents)
			r.Get("/events/poll", s.handlePoll)
			r.Get("/export", s.handleExport)

			s.routingRoutes(r)

			r.Get("/settings", s.handleGetSettings)
			r.Put("/settings", s.handlePutSettings)
			r.Get("/sessions", s.handleListSessions)
			r.Delete("/sessions/{id}", s.handleDeleteSession)
			r.Post("/auth/password", s.handleChangePassword)
		})
	})
	r.Handle("/*", ui.Handler())
	return r
}

// observe records each request's latency per route in the service's metrics.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		next.ServeHTTP(w, r)
		if s.svc == nil {
			return
		}
		pattern := "other"
		if rc := chi.RouteContext(r.Context()); rc != nil {
			if p := rc.RoutePattern(); p != "" {
				pattern = p
			}
		}
		if pattern == "/*" || pattern == "/" {
			pattern = "ui"
		}
		method := r.Method
		switch method {
		case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions:
		default:
			method = "OTHER" // bound the metric's label values
		}
		s.svc.Metrics().Observe("http "+method+" "+pattern, time.Since(start))
	})
}
