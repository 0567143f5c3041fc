package web

import (
	"errors"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/stamp-mail/stamp/core"
)

// Routing endpoints (COORDINATION.md contract 2): the addresses a user may
// send as, and the webmail's filter rules and vacation form, stored as the
// user's Sieve script by core.

// maxFiltersBody bounds PUT /v1/filters.
const maxFiltersBody = 256 << 10

// routingRoutes registers the routing endpoints on an authenticated router.
func (s *Server) routingRoutes(r chi.Router) {
	r.Get("/identities", s.handleIdentities)
	r.Get("/filters", s.handleGetFilters)
	r.Put("/filters", s.handlePutFilters)
}

type identityJSON struct {
	Address string `json:"address"`
	Name    string `json:"name"`
	Primary bool   `json:"primary"`
}

func (s *Server) handleIdentities(w http.ResponseWriter, r *http.Request) {
	ids, err := s.svc.Identities(r.Context(), userFrom(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := make([]identityJSON, 0, len(ids))
	for _, id := range ids {
		out = append(out, identityJSON{Address: id.Address, Name: id.Name, Primary: id.Primary})
	}
	writeJSON(w, http.StatusOK, map[string]any{"identities": out})
}

func (s *Server) handleGetFilters(w http.ResponseWriter, r *http.Request) {
	f, err := s.svc.GetFilters(r.Context(), userFrom(r).ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, f)
}

type putFiltersRequest struct {
	Rules    []core.FilterRule `json:"rules"`
	Vacation core.VacationForm `json:"vacation"`
	Force    bool              `json:"force"`
}

func (s *Server) handlePutFilters(w http.ResponseWriter, r *http.Request) {
	var req putFiltersRequest
	if err := decodeJSON(w, r, &req, maxFiltersBody); err != nil {
		s.fail(w, r, err)
		return
	}
	f, err := s.svc.SetFilters(r.Context(), userFrom(r), req.Rules, req.Vacation, req.Force)
	if errors.Is(err, core.ErrHandWritten) {
		s.fail(w, r, &apiError{Status: http.StatusConflict, Code: codeExists,
			Message: "your active Sieve filter script was written by hand; saving these filters would replace it (send force to do so)"})
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, f)
}
