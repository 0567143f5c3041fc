package web

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"

	"github.com/stamp-mail/stamp/core"
)

// decodeJSON reads a JSON body of at most limit bytes into v. A body that is
// not JSON is 400 bad_request, a bigger one 413 too_large. Content types
// other than application/json are refused, which also keeps cross-site HTML
// forms (that cannot send JSON without a CORS preflight) out.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any, limit int64) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return badRequest("Content-Type must be application/json")
		}
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		if errors.Is(err, io.EOF) {
			return badRequest("empty request body")
		}
		return badRequest("malformed JSON: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		return badRequest("malformed JSON: trailing data after the value")
	}
	return nil
}

// pathID parses the {name} URL parameter as a positive id; anything else is 404.
func pathID(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(chi.URLParam(r, name), 10, 64)
	if err != nil || id <= 0 {
		return 0, errNotFound
	}
	return id, nil
}

// folderJSON is the API's view of a mailbox.
type folderJSON struct {
	ID         int64  `json:"id"`
	Name       string `json:"name"`
	Role       string `json:"role"`
	Total      int    `json:"total"`
	Unread     int    `json:"unread"`
	Size       int64  `json:"size"`
	Subscribed bool   `json:"subscribed"`
}

func toFolder(mb core.Mailbox) folderJSON {
	return folderJSON{ID: mb.ID, Name: mb.Name, Role: mb.Role, Total: mb.Total, Unread: mb.Unread, Size: mb.Size, Subscribed: mb.Subscribed}
}

func (s *Server) handleListFolders(w http.ResponseWriter, r *http.Request) {
	mbs, err := s.svc.ListMailboxes(r.Context(), userFrom(r).ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := make([]folderJSON, 0, len(mbs))
	for _, mb := range mbs {
		out = append(out, toFolder(mb))
	}
	writeJSON(w, http.StatusOK, out)
}

type folderRequest struct {
	Name string `json:"name"`
}

func (s *Server) handleCreateFolder(w http.ResponseWriter, r *http.Request) {
	var req folderRequest
	if err := decodeJSON(w, r, &req, maxJSONBody); err != nil {
		s.fail(w, r, err)
		return
	}
	mb, err := s.svc.CreateMailbox(r.Context(), userFrom(r).ID, req.Name, "")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, toFolder(mb))
}

func (s *Server) handleRenameFolder(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var req folderRequest
	if err := decodeJSON(w, r, &req, maxJSONBody); err != nil {
		s.fail(w, r, err)
		return
	}
	uid := userFrom(r).ID
	if err := s.svc.RenameMailbox(r.Context(), uid, id, req.Name); err != nil {
		s.fail(w, r, err)
		return
	}
	mb, err := s.svc.GetMailbox(r.Context(), uid, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toFolder(mb))
}

func (s *Server) handleDeleteFolder(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.svc.DeleteMailbox(r.Context(), userFrom(r).ID, id); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
