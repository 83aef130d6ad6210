package telemetry

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"

	"github.com/axonflow/axonflow-sync/scimserver"
	"github.com/axonflow/axonflow-sync/store/sqlitestore"
)

// TestMadeUpMethodsDoNotGrowMetrics: unauthenticated requests with
// invented HTTP methods (long and all different) leave /metrics as large
// as after the first of them: every such method is counted as "other".
func TestMadeUpMethodsDoNotGrowMetrics(t *testing.T) {
	st, err := sqlitestore.Open(context.Background(), filepath.Join(t.TempDir(), "a.db"), zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	reg := prometheus.NewRegistry()
	srv := httptest.NewServer(scimserver.New(scimserver.Options{Store: st, Logger: zerolog.Nop(), Observer: NewSCIM(reg, nil)}))
	defer srv.Close()
	metrics := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer metrics.Close()
	scrape := func() string {
		resp, err := http.Get(metrics.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	send := func(i int, path string) {
		method := "X" + strings.Repeat("M", 1000) + string(rune('A'+i%26)) + strings.Repeat("Q", i)
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	// Warm-up: every path's series, and the address throttled (429) after
	// its burst of authentication failures.
	for i := 0; i < 3*(scimserver.DefaultAuthFailBurst+2); i++ {
		send(0, []string{"/scim/v2/Users", "/scim/v2/ServiceProviderConfig", "/elsewhere"}[i%3])
	}
	series := func(text string) int {
		n := 0
		for _, l := range strings.Split(text, "\n") {
			if l != "" && !strings.HasPrefix(l, "#") {
				n++
			}
		}
		return n
	}
	first := scrape()
	before := series(first)
	for i := 1; i <= 200; i++ {
		send(i, []string{"/scim/v2/Users", "/scim/v2/ServiceProviderConfig", "/elsewhere"}[i%3])
	}
	after := scrape()
	if strings.Contains(after, "MMMM") {
		t.Fatal("a made-up method is a label value in /metrics")
	}
	if n := series(after); n != before {
		t.Fatalf("/metrics grew from %d to %d series after 200 made-up methods", before, n)
	}
	if len(after) > 2*len(first) {
		t.Fatalf("/metrics grew from %d to %d bytes", len(first), len(after))
	}
	if !strings.Contains(after, `method="other"`) {
		t.Fatal(`no method="other" series`)
	}
}
