package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"

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
			return badRequest("Send the body as JSON (Content-Type: application/json).")
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
			return badRequest("The request body is empty: send a JSON object.")
		}
		return badRequest("%s", jsonProblem(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		return badRequest("The request body has data after the JSON value.")
	}
	return nil
}

// pathID parses the {name} URL parameter as a positive id; anything else
// is 400 (a well-formed id that names nothing is 404).
func pathID(r *http.Request, name string) (int64, error) {
	return parseID(chi.URLParam(r, name), "The id in the path")
}

// parseID parses a positive decimal id; what names the value in the error.
func parseID(v, what string) (int64, error) {
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, badRequest("%s must be a positive whole number, not %q.", what, truncate(v, 40))
	}
	return id, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
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

// jsonProblem describes a JSON decoding error in the API's terms, without
// Go type or struct names.
func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			return "The request body must be a JSON object."
		}
		return fmt.Sprintf("The field %q must be %s, not a JSON %s.", field, jsonKind(te.Type), te.Value)
	case errors.As(err, &se):
		return fmt.Sprintf("The request body is not valid JSON (near byte %d).", se.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "The request body is cut off: the JSON value is incomplete."
	}
	return "The request body is not valid JSON."
}

// jsonKind names a Go type as the JSON value it decodes from.
func jsonKind(t reflect.Type) string {
	if t == nil {
		return "a different type"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return "a base64 string"
		}
		return "a list of " + strings.TrimPrefix(strings.TrimPrefix(jsonKind(t.Elem()), "a "), "an ") + "s"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Pointer:
		return jsonKind(t.Elem())
	}
	return "a different type"
}
