package admin_test

import (
	"encoding/json"
	"net/http/httptest"
	"testing"

	"github.com/rs/zerolog"

	"github.com/axonflow/axonflow-sync/internal/admin"
)

// Token names and role-mapping group names with control or bidi
// formatting characters are refused with invalid_request and nothing is
// stored (issue 12 item 4).
func TestAdminRejectsControlCharactersInNames(t *testing.T) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			st := open(t)
			srv := httptest.NewServer(admin.New(admin.Options{Store: st, Token: adminToken, Logger: zerolog.Nop()}))
			defer srv.Close()
			c := client{t, srv.URL}
			base := "/admin/v1/tenants/acme"
			for _, bad := range []string{"okta\x1b[2J", "okta\x00", "okta\u009b", "okta\u202e", "okta\u2067", "ok\nta"} {
				body, _ := json.Marshal(map[string]any{"name": bad})
				if code, m := c.do("POST", base+"/tokens", adminToken, string(body)); code != 400 || errCode(m) != "invalid_request" {
					t.Errorf("POST token %q: %d %v", bad, code, m)
				}
				body, _ = json.Marshal(map[string]any{"group": bad, "role": "admin", "byName": true})
				if code, m := c.do("PUT", base+"/roles/mappings", adminToken, string(body)); code != 400 || errCode(m) != "invalid_request" {
					t.Errorf("PUT mapping %q: %d %v", bad, code, m)
				}
			}
			if toks, err := st.ListTokens(t.Context(), "acme"); err != nil || len(toks) != 0 {
				t.Errorf("tokens stored: %v %v", toks, err)
			}
			if ms, err := st.ListRoleMappings(t.Context(), "acme"); err != nil || len(ms) != 0 {
				t.Errorf("mappings stored: %v %v", ms, err)
			}
		})
	}
}
