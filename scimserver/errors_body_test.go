package scimserver

import (
	"encoding/json"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/axonflow/axonflow-sync/mapping"
)

// TestWriteErrorBody: an RFC 7644 §3.12 error with status as a string, a
// Content-Length that matches, HTML characters as they are, and no ETag or
// Location left from the handler.
func TestWriteErrorBody(t *testing.T) {
	rec := httptest.NewRecorder()
	rec.Header().Set("ETag", `W/"1"`)
	rec.Header().Set("Location", "https://x/Users/1")
	writeError(rec, 404, "", `User <a&b> not found`)
	var v map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatal(err)
	}
	if v["status"] != "404" || v["detail"] != "User <a&b> not found" || v["scimType"] != nil ||
		v["schemas"].([]any)[0] != mapping.SchemaError {
		t.Errorf("body %s", rec.Body)
	}
	if got := rec.Header().Get("Content-Length"); got != strconv.Itoa(rec.Body.Len()) {
		t.Errorf("Content-Length %q for %d bytes", got, rec.Body.Len())
	}
	if rec.Header().Get("ETag") != "" || rec.Header().Get("Location") != "" || rec.Header().Get("Content-Type") != ContentType {
		t.Errorf("headers %v", rec.Header())
	}
	if !json.Valid(rec.Body.Bytes()) || rec.Body.String()[rec.Body.Len()-1] != '\n' {
		t.Errorf("body %q", rec.Body)
	}
	rec = httptest.NewRecorder()
	writeError(rec, 400, mapping.ScimInvalidFilter, "bad")
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil || v["scimType"] != mapping.ScimInvalidFilter {
		t.Errorf("scimType: %s %v", rec.Body, err)
	}
}
