package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// TestLogCLI runs serve on the embedded store, pushes users as Okta would
// (one into the wrong tenant, one rejected), and asks `axonflow-sync log`
// (a second process) what happened.
func TestLogCLI(t *testing.T) {
	env := []string{"AXONFLOW_SYNC_DATA_DIR=" + t.TempDir(), "USER=tester"}
	token := func(tenant string) (secret, id string) {
		t.Helper()
		out, stderr, code := cli(t, env, "token", "create", "--tenant", tenant, "--name", "okta-prod")
		if code != 0 {
			t.Fatalf("token create: %d %s", code, stderr)
		}
		out2, stderr, code := cli(t, env, "token", "list", "--tenant", tenant, "--output", "json")
		var toks []struct{ ID string }
		if code != 0 || json.Unmarshal([]byte(out2), &toks) != nil || len(toks) != 1 {
			t.Fatalf("token list: %d %s %s", code, out2, stderr)
		}
		return strings.TrimSpace(out), toks[0].ID
	}
	acmeTok, _ := token("acme")
	globexTok, globexID := token("globex")
	d := startServe(t, env)
	base := "http://" + d.api + "/scim/v2"
	const password = "Hunter2-never-stored"
	withPassword := func(body string) string {
		return strings.Replace(body, `"active":true`, `"active":true,"password":"`+password+`"`, 1)
	}

	// Okta's acme app holds globex's token: ada lands in globex.
	if resp, body := scimReq(t, "POST", base+"/Users", globexTok, withPassword(fmt.Sprintf(userBody, "ada@example.com", "ada@example.com"))); resp.StatusCode != 201 {
		t.Fatalf("POST ada: %d %s", resp.StatusCode, body)
	}
	resp, body := scimReq(t, "POST", base+"/Users", acmeTok, withPassword(fmt.Sprintf(userBody, "bob@example.com", "bob@example.com")))
	if resp.StatusCode != 201 {
		t.Fatalf("POST bob: %d %s", resp.StatusCode, body)
	}
	var bob struct{ ID string }
	_ = json.Unmarshal(body, &bob)
	if resp, body := scimReq(t, "PATCH", base+"/Users/"+bob.ID, acmeTok,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":false}}]}`); resp.StatusCode != 200 {
		t.Fatalf("PATCH bob: %d %s", resp.StatusCode, body)
	}
	carol := strings.Replace(fmt.Sprintf(userBody, "carol@example.com", "carol@example.com"), `"active":true`, `"active":"sometimes"`, 1)
	if resp, body := scimReq(t, "POST", base+"/Users", acmeTok, carol); resp.StatusCode != 400 {
		t.Fatalf("POST carol: %d %s", resp.StatusCode, body)
	}
	// A GET is not logged.
	if resp, _ := scimReq(t, "GET", base+"/Users?count=1", acmeTok, ""); resp.StatusCode != 200 {
		t.Fatalf("GET: %d", resp.StatusCode)
	}

	run := func(wantCode int, args ...string) string {
		t.Helper()
		out, stderr, code := cli(t, env, append([]string{"log"}, args...)...)
		if code != wantCode {
			t.Fatalf("log %v: exit %d, want %d; stdout %s stderr %s", args, code, wantCode, out, stderr)
		}
		return out + stderr
	}
	wantIn := func(what, out string, subs ...string) {
		t.Helper()
		for _, s := range subs {
			if !strings.Contains(out, s) {
				t.Errorf("%s: output lacks %q:\n%s", what, s, out)
			}
		}
	}

	out := run(0, "--tenant", "acme", "--user", "ADA@example.com")
	wantIn("ada", out, "no matching entries", "other_tenant: user \"ADA@example.com\" was never pushed to acme; pushed to tenant globex at ",
		"(token "+globexID+" create, 201)")
	out = run(0, "--tenant", "acme", "--user", "carol@example.com", "--outcome", "rejected")
	wantIn("carol", out, "okta-push", "create", "carol@example.com", "400", "invalidValue", "rejected: the latest create of user")
	out = run(0, "--tenant", "acme", "--user", "bob@example.com")
	wantIn("bob", out, "TIME", "CHANGES", "deactivate", "active: true → false", `name.familyName: - → "Okafor"`,
		"present: user \"bob@example.com\": latest deactivate in acme", "deactivated")
	out = run(0, "--tenant", "acme", "--user", "nobody@example.com", "--since", "1h")
	wantIn("nobody", out, "never_pushed: user \"nobody@example.com\" was never pushed to any tenant: check the Okta assignment")
	out = run(0, "--tenant", "acme", "--actor", "operator")
	wantIn("operator", out, "operator cli:tester", "create_token", "okta-prod")

	out, stderr, code := cli(t, env, "log", "--tenant", "acme", "--output", "json", "--limit", "50")
	if code != 0 {
		t.Fatalf("log --output json: %d %s", code, stderr)
	}
	var res struct {
		Tenant  string
		Entries []struct {
			Operation, Name, Actor string
			Status                 int
		}
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("json output: %v\n%s", err, out)
	}
	var ops []string
	for _, e := range res.Entries {
		ops = append(ops, fmt.Sprintf("%s %s %s %d", e.Actor, e.Operation, e.Name, e.Status))
	}
	want := []string{"okta-push create carol@example.com 400", "okta-push deactivate bob@example.com 200",
		"okta-push create bob@example.com 201", "operator create_token okta-prod 201"}
	if res.Tenant != "acme" || strings.Join(ops, "\n") != strings.Join(want, "\n") {
		t.Errorf("json entries of acme:\n%s\nwant\n%s", strings.Join(ops, "\n"), strings.Join(want, "\n"))
	}
	if strings.Contains(out, password) || strings.Contains(out, acmeTok) {
		t.Error("the log output contains the password or the token")
	}

	// Usage errors exit 2; an unknown tenant exits 1 naming the tenants.
	for _, args := range [][]string{{}, {"--tenant", "acme", "--user", "a", "--group", "b"}, {"--tenant", "acme", "--since", "last week"},
		{"--tenant", "acme", "--outcome", "meh"}, {"--tenant", "acme", "--output", "yaml"}, {"--tenant", "acme", "--limit", "0"}} {
		run(exitConfig, args...)
	}
	out = run(exitFail, "--tenant", "initech")
	wantIn("unknown tenant", out, "tenant initech does not exist", "acme", "globex")
}
