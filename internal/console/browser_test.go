package console_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/axonflow/axonflow-sync/config"
	"github.com/axonflow/axonflow-sync/internal/admin"
	"github.com/axonflow/axonflow-sync/mapping"
)

// EnvScreenshots names a directory where the browser tests write the
// README's screenshots (make screenshots).
const EnvScreenshots = "AXONFLOW_SCREENSHOTS"

// chromiumPath finds Debian's chromium (or CHROMIUM_PATH). A missing
// browser fails the test: CI installs it (.ci/run, make test).
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CHROMIUM_PATH"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("no chromium found: install Debian's chromium package (apt-get install -y chromium), as make test does, or set CHROMIUM_PATH")
	return ""
}

// browser starts a headless chromium at 1280x900 and returns its context.
func browser(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromiumPath(t)), chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.WindowSize(1280, 900), chromedp.Flag("disable-dev-shm-usage", true))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	if err := chromedp.Do(ctx); err != nil { // starts the browser, without a timeout
		t.Fatalf("start chromium: %v", err)
	}
	ctx, cancel3 := context.WithTimeout(ctx, 3*time.Minute) // generous: CI runs it with -race on shared cores
	t.Cleanup(cancel3)
	return ctx
}

// run runs actions, failing the test with what on error.
func run(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
		t.Fatalf("%s: %v\npage text:\n%s", what, err, body)
	}
}

// screenshot saves the page as NAME.png in $AXONFLOW_SCREENSHOTS, if set.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv(EnvScreenshots)
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// textOf returns the text of the first element matching sel.
func textOf(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("read %s: %v", sel, err)
	}
	return s
}

// browserSignIn signs in with the token form.
func (f *fixture) browserSignIn(ctx context.Context) {
	f.t.Helper()
	run(f.t, ctx, "token sign-in",
		chromedp.Navigate(f.srv.URL+"/ui/"),
		chromedp.WaitVisible(chromedp.CSS("#token")),
		chromedp.SendKeys(chromedp.CSS("#token"), f.token),
		chromedp.Click(chromedp.CSS("#signin")),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/ui/tenants/`+f.tenant+`"]`)))
}

// noHorizontalScroll checks that the page fits the viewport's width.
func noHorizontalScroll(t *testing.T, ctx context.Context, page string) {
	t.Helper()
	over, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`))
	if err != nil {
		t.Fatal(err)
	}
	if over {
		t.Errorf("%s scrolls sideways at this width", page)
	}
}

// TestBrowserTokenSignIn signs in with the token form on both stores, at
// 1280 px and at a phone's width.
func TestBrowserTokenSignIn(t *testing.T) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, open(t), config.ConsoleConfig{})
			f.seed()
			ctx := browser(t)
			f.browserSignIn(ctx)
			if got := textOf(t, ctx, "h1"); got != "Overview" {
				t.Errorf("after sign-in h1 = %q", got)
			}
			if body := textOf(t, ctx, "main"); !strings.Contains(body, "Users") || !strings.Contains(body, "3") {
				t.Errorf("overview lacks the tenant's user count:\n%s", body)
			}
			noHorizontalScroll(t, ctx, "overview at 1280 px")
			if name == "sqlite" {
				screenshot(t, ctx, "overview")
			}
			run(t, ctx, "phone width", chromedp.EmulateViewport(390, 844),
				chromedp.Navigate(f.srv.URL+"/ui/tenants/"+f.tenant+"/tokens"), chromedp.WaitVisible(chromedp.CSS("#tokens")))
			noHorizontalScroll(t, ctx, "tokens page at 390 px")
			run(t, ctx, "user page at phone width", chromedp.Navigate(f.srv.URL+"/ui/tenants/"+f.tenant+"/users/ann@example.com"),
				chromedp.WaitVisible(chromedp.CSS("#roles")))
			noHorizontalScroll(t, ctx, "user page at 390 px")
		})
	}
}

// seed creates ann, bob and carl; ann and bob in "AxonFlow Admins", carl in
// "Developers"; a token "okta".
func (f *fixture) seed() {
	f.t.Helper()
	ctx := context.Background()
	ids := map[string]string{}
	for _, n := range []string{"ann", "bob", "carl"} {
		u := &mapping.User{ID: fmt.Sprintf("u-%s-%d", n, time.Now().UnixNano()), Attrs: mapping.Attrs{"userName": n + "@example.com",
			"active": true, "name": map[string]any{"givenName": strings.ToUpper(n[:1]) + n[1:], "familyName": "Example"}}, Created: time.Now()}
		if err := f.st.CreateUser(ctx, f.tenant, u); err != nil {
			f.t.Fatal(err)
		}
		ids[n] = u.ID
	}
	for name, members := range map[string][]string{"AxonFlow Admins": {ids["ann"], ids["bob"]}, "Developers": {ids["carl"]}} {
		g := &mapping.Group{ID: fmt.Sprintf("g-%d", time.Now().UnixNano()), Attrs: mapping.Attrs{"displayName": name}, Created: time.Now()}
		if err := f.st.CreateGroup(ctx, f.tenant, g, members); err != nil {
			f.t.Fatal(err)
		}
	}
	if _, err := admin.CreateToken(ctx, f.st, f.tenant, "okta", 0, time.Now()); err != nil {
		f.t.Fatal(err)
	}
}

// TestBrowserMappingPreview previews a group-to-role mapping (who gains and
// loses which role), saves it, and sees the member's new role.
func TestBrowserMappingPreview(t *testing.T) {
	f := newFixture(t, backends(t)["sqlite"](t), config.ConsoleConfig{})
	f.seed()
	ctx := browser(t)
	f.browserSignIn(ctx)
	run(t, ctx, "preview",
		chromedp.Navigate(f.srv.URL+"/ui/tenants/"+f.tenant+"/roles"),
		chromedp.WaitVisible(chromedp.CSS("#group")),
		chromedp.SendKeys(chromedp.CSS("#group"), "AxonFlow Admins"),
		chromedp.SetValue(chromedp.CSS("#role"), "admin"),
		chromedp.Click(chromedp.CSS("#preview-mapping")),
		chromedp.WaitVisible(chromedp.CSS("#preview-changes")))
	prev := textOf(t, ctx, "#preview-changes")
	for _, want := range []string{"ann@example.com", "bob@example.com", "admin", "viewer"} {
		if !strings.Contains(prev, want) {
			t.Errorf("preview lacks %q:\n%s", want, prev)
		}
	}
	if strings.Contains(prev, "carl@") {
		t.Errorf("preview names carl, who is not a member:\n%s", prev)
	}
	if ms, _ := admin.ListRoleMappings(context.Background(), f.st, f.tenant); len(ms) != 0 {
		t.Fatalf("the preview saved a mapping: %+v", ms)
	}
	screenshot(t, ctx, "mapping-preview")
	run(t, ctx, "save", chromedp.Click(chromedp.CSS("#save-mapping")), chromedp.WaitVisible(chromedp.CSS(".notice.ok")))
	if got := textOf(t, ctx, ".notice.ok"); !strings.Contains(got, "2 users' roles changed") {
		t.Errorf("saved notice = %q", got)
	}
	v, err := admin.ShowUserRoles(context.Background(), f.st, f.tenant, "ann@example.com")
	if err != nil || len(v.Roles) != 1 || v.Roles[0].Role != "admin" || v.Roles[0].Source != "scim" {
		t.Fatalf("ann's roles after save = %+v, %v", v, err)
	}
	run(t, ctx, "user page", chromedp.Navigate(f.srv.URL+"/ui/tenants/"+f.tenant+"/users/ann@example.com"), chromedp.WaitVisible(chromedp.CSS("#roles")))
	if got := textOf(t, ctx, "#roles"); !strings.Contains(got, "member of AxonFlow Admins") {
		t.Errorf("user page roles = %q", got)
	}
	// The operator of the change is the console's.
	lr, err := admin.QueryLog(context.Background(), f.st, f.tenant, admin.LogParams{Actor: "operator", Limit: 1})
	if err != nil || len(lr.Entries) != 1 || lr.Entries[0].Operation != "map_role" || lr.Entries[0].ActorID != "console:token" {
		t.Errorf("newest operator entry = %+v, %v", lr.Entries, err)
	}
}

// TestBrowserRotateToken rotates a token: the new secret is shown once,
// the old token keeps working for the grace period, and a reload shows no
// secret.
func TestBrowserRotateToken(t *testing.T) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, open(t), config.ConsoleConfig{})
			f.seed()
			old := f.tokens()[0]
			ctx := browser(t)
			f.browserSignIn(ctx)
			run(t, ctx, "rotate",
				chromedp.Navigate(f.srv.URL+"/ui/tenants/"+f.tenant+"/tokens"),
				chromedp.WaitVisible(chromedp.CSS("#rotate-"+old.ID)),
				chromedp.SetValue(chromedp.CSS("#grace-"+old.ID), "2h"),
				chromedp.Click(chromedp.CSS("#rotate-"+old.ID)),
				chromedp.WaitVisible(chromedp.CSS("#secret")))
			secret := strings.TrimSpace(textOf(t, ctx, "#secret"))
			if !strings.HasPrefix(secret, "scim_") {
				t.Fatalf("shown secret = %q", secret)
			}
			if name == "sqlite" {
				screenshot(t, ctx, "token-rotated")
			}
			toks := f.tokens()
			if len(toks) != 2 {
				t.Fatalf("tokens after rotate = %+v", toks)
			}
			for _, tk := range toks {
				if tk.ID == old.ID {
					if d := tk.ExpiresAt.Sub(f.clock.now()); d != 2*time.Hour {
						t.Errorf("old token expires in %v, want the 2h grace", d)
					}
				} else if !strings.HasPrefix(secret, tk.Prefix) || !tk.ExpiresAt.IsZero() {
					t.Errorf("new token %+v: secret %q... not its, or it expires", tk, secret[:8])
				}
			}
			run(t, ctx, "reload", chromedp.Navigate(f.srv.URL+"/ui/tenants/"+f.tenant+"/tokens"), chromedp.WaitVisible(chromedp.CSS("#tokens")))
			html, err := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("html")))
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(html, secret) {
				t.Error("the secret is shown again after a reload")
			}
		})
	}
}

// TestBrowserRefusals: a form whose CSRF token was tampered with is
// refused with nothing changed, and so is a form posted after the session's
// idle timeout.
func TestBrowserRefusals(t *testing.T) {
	f := newFixture(t, backends(t)["sqlite"](t), config.ConsoleConfig{SessionIdleTimeout: 30 * time.Minute, SessionMaxAge: 12 * time.Hour})
	f.seed()
	ctx := browser(t)
	f.browserSignIn(ctx)
	run(t, ctx, "tampered CSRF",
		chromedp.Navigate(f.srv.URL+"/ui/tenants/"+f.tenant+"/tokens"),
		chromedp.WaitVisible(chromedp.CSS("#create-token")),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Evaluate[any](`document.querySelectorAll('input[name=csrf]').forEach(function(e){e.value='forged'})`)(ctx, tg)
			return err
		}),
		chromedp.Click(chromedp.CSS("#create-token")),
		chromedp.WaitVisible(chromedp.CSS(".notice.bad")))
	if got := textOf(t, ctx, "h1"); got != "Request refused" {
		t.Errorf("tampered CSRF: h1 = %q", got)
	}
	if n := len(f.tokens()); n != 1 {
		t.Errorf("tokens after the refused form = %d, want 1", n)
	}
	run(t, ctx, "form before expiry", chromedp.Navigate(f.srv.URL+"/ui/tenants/"+f.tenant+"/tokens"), chromedp.WaitVisible(chromedp.CSS("#create-token")))
	f.clock.add(31 * time.Minute)
	run(t, ctx, "expired session", chromedp.Click(chromedp.CSS("#create-token")), chromedp.WaitVisible(chromedp.CSS(".notice.bad")))
	if got := textOf(t, ctx, ".notice.bad"); !strings.Contains(got, "session expired") {
		t.Errorf("expired session: %q", got)
	}
	if n := len(f.tokens()); n != 1 {
		t.Errorf("tokens after the expired form = %d, want 1", n)
	}
	run(t, ctx, "back to sign-in", chromedp.Navigate(f.srv.URL+"/ui/tenants/"+f.tenant), chromedp.WaitVisible(chromedp.CSS("#token")))
	if got := textOf(t, ctx, "main"); !strings.Contains(got, "Your session expired") {
		t.Errorf("sign-in page after expiry: %q", got)
	}
}

// submitAndWait runs action (a click or key press that submits a form) and
// waits until a new page has loaded that shows sel: the old page may show
// sel too, so waiting for sel alone could read the old page.
func submitAndWait(t *testing.T, ctx context.Context, what string, action chromedp.Action[chromedp.Void], sel string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](`window.__oldPage = true`)); err != nil {
		t.Fatal(err)
	}
	run(t, ctx, what, action)
	check := `window.__oldPage === undefined && document.readyState === "complete" && document.querySelector(` + "`" + sel + "`" + `) !== null`
	for range 400 {
		// Errors are expected while the old page unloads.
		if ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](check)); err == nil && ok {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
	t.Fatalf("%s: no new page showing %s\npage text:\n%s", what, sel, body)
}
