package web

import (
	"bytes"
	"context"
	"crypto/subtle"
	_ "embed"
	"encoding/xml"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// healthTimeout bounds the storage ping of /healthz.
const healthTimeout = 5 * time.Second

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), healthTimeout)
	defer cancel()
	if err := s.svc.Ping(ctx); err != nil {
		s.reqLog(r).Warn("health check failed", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// handleMTASTS serves the MTA-STS policy (RFC 8461 section 3.2) for the
// domains whose mta-sts.<domain> name points at this server: mail for them
// is accepted by this host only, over TLS.
func (s *Server) handleMTASTS(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "max-age=3600")
	_, _ = w.Write([]byte(s.svc.MTASTSPolicy()))
}

// handleMetrics serves Prometheus metrics to whoever holds
// Options.MetricsToken (as a bearer token) or, without a token configured,
// to loopback clients only: the counters say much about the users'
// traffic, so the public listener answers others 404.
func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request) {
	if !s.metricsAllowed(r) {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	s.svc.Metrics().WritePrometheus(w)
}

//go:embed openapi.json
var openAPIDoc []byte

func (s *Server) handleOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(openAPIDoc)
}

// Thunderbird's autoconfig document (clientConfig version 1.1).
type clientConfig struct {
	XMLName  xml.Name      `xml:"clientConfig"`
	Version  string        `xml:"version,attr"`
	Provider emailProvider `xml:"emailProvider"`
}

type emailProvider struct {
	ID               string         `xml:"id,attr"`
	Domain           string         `xml:"domain"`
	DisplayName      string         `xml:"displayName"`
	DisplayShortName string         `xml:"displayShortName"`
	Incoming         []serverConfig `xml:"incomingServer"`
	Outgoing         []serverConfig `xml:"outgoingServer"`
}

type serverConfig struct {
	Type           string `xml:"type,attr"`
	Hostname       string `xml:"hostname"`
	Port           int    `xml:"port"`
	SocketType     string `xml:"socketType"`
	Username       string `xml:"username"`
	Authentication string `xml:"authentication"`
}

// mailHost is the host name clients connect to.
func (s *Server) mailHost() string {
	if h := s.opts.Autoconfig.IMAPHost; h != "" {
		return h
	}
	return s.opts.Hostname
}

// handleAutoconfig serves /.well-known/autoconfig/mail/config-v1.1.xml;
// implicit TLS is listed before STARTTLS (RFC 8314 section 3 prefers it).
func (s *Server) handleAutoconfig(w http.ResponseWriter, r *http.Request) {
	a, host := s.opts.Autoconfig, s.mailHost()
	domain := s.opts.Hostname
	if e := r.URL.Query().Get("emailaddress"); strings.Contains(e, "@") {
		domain = strings.ToLower(e[strings.LastIndexByte(e, '@')+1:])
	}
	srv := func(typ string, port int, socket string) serverConfig {
		return serverConfig{Type: typ, Hostname: host, Port: port, SocketType: socket, Username: "%EMAILADDRESS%", Authentication: "password-cleartext"}
	}
	p := emailProvider{ID: domain, Domain: domain, DisplayName: "Stamp mail (" + domain + ")", DisplayShortName: "Stamp"}
	for _, c := range []struct {
		out      bool
		typ      string
		port     int
		starttls bool
	}{
		{false, "imap", a.IMAPSPort, false}, {false, "imap", a.IMAPPort, true},
		{false, "pop3", a.POP3SPort, false}, {false, "pop3", a.POP3Port, true},
		{true, "smtp", a.SubmissionsPort, false}, {true, "smtp", a.SubmissionPort, true},
	} {
		if c.port == 0 {
			continue
		}
		socket := "SSL"
		if c.starttls {
			socket = "STARTTLS"
		}
		if c.out {
			p.Outgoing = append(p.Outgoing, srv(c.typ, c.port, socket))
		} else {
			p.Incoming = append(p.Incoming, srv(c.typ, c.port, socket))
		}
	}
	writeXML(w, clientConfig{Version: "1.1", Provider: p})
}

// Microsoft Autodiscover "plain old XML" (POX) request and response.
type autodiscoverRequest struct {
	Request struct {
		EMailAddress string `xml:"EMailAddress"`
	} `xml:"Request"`
}

type autodiscoverResponse struct {
	XMLName  xml.Name `xml:"http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006 Autodiscover"`
	Response struct {
		XMLName xml.Name `xml:"http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a Response"`
		Account struct {
			AccountType string       `xml:"AccountType"`
			Action      string       `xml:"Action"`
			Protocols   []adProtocol `xml:"Protocol"`
		} `xml:"Account"`
	}
}

type adProtocol struct {
	Type         string `xml:"Type"`
	Server       string `xml:"Server"`
	Port         int    `xml:"Port"`
	LoginName    string `xml:"LoginName"`
	DomainReq    string `xml:"DomainRequired"`
	SPA          string `xml:"SPA"`
	SSL          string `xml:"SSL"`
	AuthRequired string `xml:"AuthRequired"`
	Encryption   string `xml:"Encryption,omitempty"`
}

// handleAutodiscover answers Outlook's POX Autodiscover with IMAP and SMTP
// settings; the login name is the address from the request, or
// %EMAILADDRESS% when the request names none.
func (s *Server) handleAutodiscover(w http.ResponseWriter, r *http.Request) {
	login := "%EMAILADDRESS%"
	if r.Method == http.MethodPost {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
		if err == nil {
			var req autodiscoverRequest
			if xml.Unmarshal(body, &req) == nil && strings.Contains(req.Request.EMailAddress, "@") {
				login = strings.TrimSpace(req.Request.EMailAddress)
			}
		}
	}
	a, host := s.opts.Autoconfig, s.mailHost()
	var resp autodiscoverResponse
	resp.Response.Account.AccountType = "email"
	resp.Response.Account.Action = "settings"
	add := func(typ string, port int, implicit bool) {
		if port == 0 {
			return
		}
		p := adProtocol{Type: typ, Server: host, Port: port, LoginName: login, DomainReq: "off", SPA: "off", SSL: "on", AuthRequired: "on"}
		if implicit {
			p.Encryption = "SSL"
		} else {
			p.Encryption = "TLS"
		}
		resp.Response.Account.Protocols = append(resp.Response.Account.Protocols, p)
	}
	if a.IMAPSPort != 0 {
		add("IMAP", a.IMAPSPort, true)
	} else {
		add("IMAP", a.IMAPPort, false)
	}
	if a.POP3SPort != 0 {
		add("POP3", a.POP3SPort, true)
	} else {
		add("POP3", a.POP3Port, false)
	}
	if a.SubmissionsPort != 0 {
		add("SMTP", a.SubmissionsPort, true)
	} else {
		add("SMTP", a.SubmissionPort, false)
	}
	writeXML(w, resp)
}

func writeXML(w http.ResponseWriter, v any) {
	var b bytes.Buffer
	b.WriteString(xml.Header)
	enc := xml.NewEncoder(&b)
	enc.Indent("", "  ")
	if err := enc.Encode(v); err != nil {
		writeError(w, &apiError{Status: http.StatusInternalServerError, Code: codeInternal, Message: "internal error"})
		return
	}
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
	_, _ = w.Write(b.Bytes())
}

func (s *Server) metricsAllowed(r *http.Request) bool {
	if s.opts.MetricsToken != "" {
		return subtle.ConstantTimeCompare([]byte(bearer(r)), []byte(s.opts.MetricsToken)) == 1
	}
	ip := net.ParseIP(clientIP(r))
	return ip != nil && ip.IsLoopback()
}
