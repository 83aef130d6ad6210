package scimserver_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestErrorDetailsDoNotEchoLargeInput: an unauthenticated request with a
// made-up 60 KB method or a 60 KB path gets an error whose body stays
// small (the method is not repeated, the path is cut), so it cannot make
// responses or logs large.
func TestErrorDetailsDoNotEchoLargeInput(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		for _, c := range []struct {
			method, path string
			status       int
		}{
			{strings.Repeat("Y", 60000), "/ServiceProviderConfig", http.StatusMethodNotAllowed},
			{http.MethodPost, "/ServiceProviderConfig/" + strings.Repeat("p", 60000), 0},
			{http.MethodGet, "/" + strings.Repeat("é", 30000), 0},
		} {
			req, _ := http.NewRequest(c.method, e.base+c.path, nil)
			resp, err := e.client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if c.status != 0 && resp.StatusCode != c.status {
				t.Errorf("%.10s %.30s: %d, want %d", c.method, c.path, resp.StatusCode, c.status)
			}
			if resp.StatusCode >= 500 || len(b) > 2048 {
				t.Errorf("%.10s %.30s: %d with a %d-byte body: %.300s", c.method, c.path, resp.StatusCode, len(b), b)
			}
		}
	})
}
