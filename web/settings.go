package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"

	"github.com/stamp-mail/stamp/core"
)

// Bounds of the settings document.
const (
	maxDisplayName    = 100
	maxSignature      = 10000
	maxUndoSendSecond = 30
	defaultUndoSend   = 5
)

// settingsJSON is the body of GET and PUT /v1/settings.
type settingsJSON struct {
	DisplayName string `json:"display_name"`
	Signature   string `json:"signature"`
	Density     string `json:"density"` // comfortable | compact
	Theme       string `json:"theme"`   // auto | light | dark
	// UndoSendSeconds is how long the webmail holds a sent message before
	// it is submitted, so that "Undo" can still stop it.
	UndoSendSeconds *int `json:"undo_send_seconds,omitempty"`
	// Conversations groups a folder's list by conversation (one row per
	// thread); false lists single messages. Default true.
	Conversations *bool `json:"conversations,omitempty"`
}

func defaultSettings() settingsJSON {
	n := defaultUndoSend
	conv := true
	return settingsJSON{Density: "comfortable", Theme: "auto", UndoSendSeconds: &n, Conversations: &conv}
}

// validate checks a settings document and fills in defaults.
func (st *settingsJSON) validate() error {
	st.DisplayName = strings.TrimSpace(st.DisplayName)
	if utf8.RuneCountInString(st.DisplayName) > maxDisplayName {
		return invalid("The display name can have at most %d characters.", maxDisplayName)
	}
	if strings.ContainsFunc(st.DisplayName, unicode.IsControl) || !utf8.ValidString(st.DisplayName) {
		return invalid("The display name cannot contain line breaks or control characters.")
	}
	if utf8.RuneCountInString(st.Signature) > maxSignature || !utf8.ValidString(st.Signature) {
		return invalid("The signature can have at most %d characters.", maxSignature)
	}
	switch st.Density {
	case "":
		st.Density = "comfortable"
	case "comfortable", "compact":
	default:
		return invalid("Density must be \"comfortable\" or \"compact\".")
	}
	switch st.Theme {
	case "":
		st.Theme = "auto"
	case "auto", "light", "dark":
	default:
		return invalid("Theme must be \"auto\", \"light\" or \"dark\".")
	}
	if st.UndoSendSeconds == nil {
		n := defaultUndoSend
		st.UndoSendSeconds = &n
	} else if *st.UndoSendSeconds < 0 || *st.UndoSendSeconds > maxUndoSendSecond {
		return invalid("The undo-send delay must be between 0 and %d seconds.", maxUndoSendSecond)
	}
	if st.Conversations == nil {
		conv := true
		st.Conversations = &conv
	}
	return nil
}

// settingsOf returns the user's settings (defaults when none were saved).
func (s *Server) settingsOf(r *http.Request, userID int64) (settingsJSON, error) {
	st := defaultSettings()
	data, err := s.svc.UserSettings(r.Context(), userID)
	if err != nil || data == nil {
		return st, err
	}
	if err := json.Unmarshal(data, &st); err != nil {
		s.reqLog(r).Warn("stored settings unreadable; defaults used", "err", err)
		return defaultSettings(), nil
	}
	_ = st.validate()
	return st, nil
}

func (s *Server) handleGetSettings(w http.ResponseWriter, r *http.Request) {
	st, err := s.settingsOf(r, userFrom(r).ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

func (s *Server) handlePutSettings(w http.ResponseWriter, r *http.Request) {
	var st settingsJSON
	if err := decodeJSON(w, r, &st, maxJSONBody); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := st.validate(); err != nil {
		s.fail(w, r, err)
		return
	}
	data, _ := json.Marshal(st)
	if err := s.svc.SaveUserSettings(r.Context(), userFrom(r).ID, data); err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// sessionJSON is one of the user's sessions.
type sessionJSON struct {
	ID        string    `json:"id"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
	Current   bool      `json:"current"`
	// Device summarises the User-Agent that signed in ("Chrome on Linux"),
	// "" if unknown; IP is the address it signed in from.
	Device    string `json:"device"`
	IP        string `json:"ip"`
	UserAgent string `json:"user_agent"`
}

func (s *Server) handleListSessions(w http.ResponseWriter, r *http.Request) {
	tok, _ := r.Context().Value(tokenKey).(string)
	list, err := s.svc.Sessions(r.Context(), userFrom(r).ID, tok)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := make([]sessionJSON, 0, len(list))
	for _, l := range list {
		out = append(out, sessionJSON{ID: l.ID, CreatedAt: l.CreatedAt.UTC(), ExpiresAt: l.ExpiresAt.UTC(), Current: l.Current,
			Device: deviceOf(l.UserAgent), IP: l.IP, UserAgent: l.UserAgent})
	}
	writeJSON(w, http.StatusOK, map[string]any{"sessions": out})
}

func (s *Server) handleDeleteSession(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	if len(id) != 16 || strings.Trim(id, "0123456789abcdef") != "" {
		s.fail(w, r, badRequest("A session id is 16 hexadecimal digits."))
		return
	}
	if err := s.svc.EndSession(r.Context(), userFrom(r).ID, id); err != nil {
		s.fail(w, r, err)
		return
	}
	s.streams.end(id)
	w.WriteHeader(http.StatusNoContent)
}

type passwordRequest struct {
	Current string `json:"current"`
	New     string `json:"new"`
}

// handleChangePassword checks the current password, sets the new one and
// ends the user's other sessions and their event streams; the session
// making the change stays signed in.
func (s *Server) handleChangePassword(w http.ResponseWriter, r *http.Request) {
	var req passwordRequest
	if err := decodeJSON(w, r, &req, maxJSONBody); err != nil {
		s.fail(w, r, err)
		return
	}
	if req.Current == "" || req.New == "" {
		s.fail(w, r, invalid("Enter your current password and a new one."))
		return
	}
	if req.Current == req.New {
		s.fail(w, r, invalid("The new password is the same as the current one."))
		return
	}
	tok, _ := r.Context().Value(tokenKey).(string)
	ended, err := s.svc.ChangePassword(r.Context(), userFrom(r), req.Current, req.New, tok, clientIP(r))
	if errors.Is(err, core.ErrAuthFailed) {
		s.fail(w, r, &apiError{Status: http.StatusForbidden, Code: codeNotAllowed, Message: "The current password is wrong."})
		return
	}
	s.streams.end(ended...)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"sessions_ended": len(ended)})
}
