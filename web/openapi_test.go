package web

import (
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
)

// TestOpenAPIInSync fails when a route is missing from openapi.json or the
// document lists an operation the router does not serve.
func TestOpenAPIInSync(t *testing.T) {
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(openAPIDoc, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Errorf("openapi version: got %q, want 3.x", doc.OpenAPI)
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method := range ops {
			documented[strings.ToUpper(method)+" "+path] = true
		}
	}
	routed := map[string]bool{}
	srv := New(Options{})
	err := chi.Walk(srv.handler.(chi.Routes), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		if route == "/*" { // the webmail's files
			return nil
		}
		routed[method+" "+route] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var missing, extra []string
	for r := range routed {
		if !documented[r] {
			missing = append(missing, r)
		}
	}
	for d := range documented {
		if !routed[d] {
			extra = append(extra, d)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing) > 0 {
		t.Errorf("routes missing from openapi.json: %v", missing)
	}
	if len(extra) > 0 {
		t.Errorf("openapi.json operations without a route: %v", extra)
	}
	if len(routed) < 25 {
		t.Errorf("walked %d routes, want the whole API", len(routed))
	}
}

func TestOpenAPIServed(t *testing.T) {
	e := newEnv(t, Options{})
	anon := &apiClient{e: e, http: &http.Client{}}
	var doc map[string]any
	if st := anon.call("GET", "/v1/openapi.json", nil, &doc); st != 200 || doc["paths"] == nil {
		t.Errorf("GET /v1/openapi.json: got %d, want 200 with paths", st)
	}
}
