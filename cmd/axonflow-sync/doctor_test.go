package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/axonflow/axonflow-sync/scimserver"
	"github.com/axonflow/axonflow-sync/store"
	"github.com/axonflow/axonflow-sync/store/sqlitestore"
)

// doctorServer serves our SCIM API on an embedded store in a temp dir and
// returns its base URL, the store and a token of tenant acme.
func doctorServer(t *testing.T) (string, store.State, string) {
	t.Helper()
	st, err := sqlitestore.Open(context.Background(), filepath.Join(t.TempDir(), DBFile), zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	secret, _, err := store.IssueToken(context.Background(), st, "acme", "okta", 0, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(scimserver.New(scimserver.Options{Store: st}))
	t.Cleanup(srv.Close)
	return srv.URL + "/scim/v2", st, secret
}

// doctorCLI runs "axonflow-sync doctor args..." in-process.
// doctorCLI runs doctor with args, except that "--token V" is passed as
// AXONFLOW_SYNC_DOCTOR_TOKEN=V (doctor refuses secrets as flags).
func doctorCLI(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var token string
	var kept []string
	for i := 0; i < len(args); i++ {
		if args[i] == "--token" && i+1 < len(args) {
			token = args[i+1]
			i++
			continue
		}
		kept = append(kept, args[i])
	}
	return doctorRaw(t, map[string]string{doctorTokenEnv: token}, kept...)
}

// doctorRaw runs doctor with args and the environment env.
func doctorRaw(t *testing.T, env map[string]string, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), append([]string{"doctor", "--timeout", "5s"}, args...), &out, &errb, func(k string) string { return env[k] })
	return out.String(), errb.String(), code
}

// TestDoctorRefusesTokenFlag: --token would show the token in process
// lists; doctor exits 2 naming the alternatives, before any request.
func TestDoctorRefusesTokenFlag(t *testing.T) {
	out, errOut, code := doctorRaw(t, nil, "--url", "https://scim.example.invalid/scim/v2", "--token", "Bearer scim_secret")
	if code != exitConfig || out != "" || !strings.Contains(errOut, "--token-file") || !strings.Contains(errOut, doctorTokenEnv) {
		t.Fatalf("exit %d, stdout %q, stderr %q; want 2 naming --token-file and %s", code, out, errOut, doctorTokenEnv)
	}
}

func TestDoctorCLI(t *testing.T) {
	url, st, secret := doctorServer(t)

	t.Run("healthy json", func(t *testing.T) {
		out, errOut, code := doctorCLI(t, "--url", url, "--token", "Bearer "+secret, "--tenant", "acme", "--output", "json")
		if code != exitOK {
			t.Fatalf("exit %d, want 0\n%s%s", code, out, errOut)
		}
		var rep struct {
			Tenant string `json:"tenant"`
			Checks []struct {
				Name     string `json:"name"`
				OK       bool   `json:"ok"`
				Severity string `json:"severity"`
			} `json:"checks"`
			Summary struct{ Passed, Failed, Warnings int } `json:"summary"`
		}
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("stdout is not the JSON report: %v\n%s", err, out)
		}
		if rep.Tenant != "acme" || rep.Summary.Failed != 0 || rep.Summary.Passed < 10 || len(rep.Checks) == 0 {
			t.Errorf("report %+v", rep)
		}
	})

	t.Run("healthy write test, human, token file", func(t *testing.T) {
		f := filepath.Join(t.TempDir(), "token")
		if err := os.WriteFile(f, []byte("Bearer "+secret+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		out, errOut, code := doctorCLI(t, "--url", url, "--token-file", f, "--write-test")
		if code != exitOK {
			t.Fatalf("exit %d, want 0\n%s%s", code, out, errOut)
		}
		for _, s := range []string{"✓ users-create", "✓ groups-remove-member", "✓ cleanup-users", "Tenant: acme", "Okta would succeed", "! https"} {
			if !strings.Contains(out, s) {
				t.Errorf("output lacks %q:\n%s", s, out)
			}
		}
		if strings.Contains(out, secret) {
			t.Error("the output shows the token")
		}
		if p, err := st.ListUsers(context.Background(), "acme", 0, 10); err != nil || p.Total != 0 {
			t.Errorf("the write test left %d users (%v)", p.Total, err)
		}
	})

	t.Run("bare token fails", func(t *testing.T) {
		out, _, code := doctorCLI(t, "--url", url, "--token", secret)
		if code != exitFail || !strings.Contains(out, `✗ authorization-format: the Authorization value has no "Bearer "`) {
			t.Errorf("exit %d:\n%s", code, out)
		}
	})

	t.Run("Bearer twice fails", func(t *testing.T) {
		out, _, code := doctorCLI(t, "--url", url, "--token", "Bearer Bearer "+secret)
		if code != exitFail || !strings.Contains(out, `✗ authorization-format`) || !strings.Contains(out, "appears twice") {
			t.Errorf("exit %d:\n%s", code, out)
		}
	})

	t.Run("wrong tenant fails", func(t *testing.T) {
		out, _, code := doctorCLI(t, "--url", url, "--token", "Bearer "+secret, "--tenant", "globex")
		if code != exitFail || !strings.Contains(out, "✗ tenant: the token belongs to tenant acme, not globex") {
			t.Errorf("exit %d:\n%s", code, out)
		}
	})

	t.Run("revoked token fails", func(t *testing.T) {
		secret2, tok2, err := store.IssueToken(context.Background(), st, "acme", "old", 0, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if err := st.RevokeToken(context.Background(), "acme", tok2.ID, time.Now()); err != nil {
			t.Fatal(err)
		}
		out, _, code := doctorCLI(t, "--url", url, "--token", "Bearer "+secret2)
		if code != exitFail || !strings.Contains(out, "✗ authentication") || !strings.Contains(out, "was revoked at") || !strings.Contains(out, `"Test API Credentials" would fail`) {
			t.Errorf("exit %d:\n%s", code, out)
		}
	})

	t.Run("broken server fails", func(t *testing.T) {
		html := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			_, _ = w.Write([]byte("<html><body>Sign in</body></html>"))
		}))
		defer html.Close()
		out, _, code := doctorCLI(t, "--url", html.URL+"/scim/v2", "--token", "Bearer "+secret, "--output", "json")
		if code != exitFail || !strings.Contains(out, `"name": "users-list"`) || !strings.Contains(out, "not JSON") {
			t.Errorf("exit %d:\n%s", code, out)
		}
	})

	t.Run("usage errors exit 2", func(t *testing.T) {
		f := filepath.Join(t.TempDir(), "token")
		_ = os.WriteFile(f, []byte("Bearer x"), 0o600)
		for _, args := range [][]string{
			{},
			{"--token", "Bearer x"},
			{"--url", url},
			{"--url", url, "--token", "Bearer x", "--token-file", f},
			{"--url", url, "--token", "Bearer x", "--output", "xml"},
			{"--url", url, "--token", "   "},
			{"--url", url, "--token-file", filepath.Join(t.TempDir(), "missing")},
			{"--url", url, "--token", "Bearer x", "extra"},
			{"--url", url, "--token", "Bearer x", "--no-such-flag"},
		} {
			out, errOut, code := doctorCLI(t, args...)
			if code != exitConfig || errOut == "" || out != "" {
				t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out, errOut)
			}
		}
	})
}
