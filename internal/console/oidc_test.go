package console_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/rs/zerolog"
	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"

	"github.com/axonflow/axonflow-sync/config"
	"github.com/axonflow/axonflow-sync/internal/admin"
	"github.com/axonflow/axonflow-sync/internal/console"
)

// groupsStorage is zitadel's example OP storage with a groups claim (and
// the email, which the OP leaves out of an ID token issued with an access
// token) in the ID token.
type groupsStorage struct {
	*storage.Storage
	users  storage.UserStore
	groups map[string][]string // subject → groups
}

// SetUserinfoFromRequest implements op.CanSetUserinfoFromRequest: the ID
// token's claims.
func (g groupsStorage) SetUserinfoFromRequest(ctx context.Context, ui *zoidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	if err := g.Storage.SetUserinfoFromRequest(ctx, ui, req, scopes); err != nil {
		return err
	}
	if u := g.users.GetUserByID(req.GetSubject()); u != nil {
		ui.Email = u.Email
	}
	ui.AppendClaims("groups", g.groups[req.GetSubject()])
	return nil
}

// oidcFixture is a console configured for OIDC against a real OP (zitadel's
// example OP) running in the test.
type oidcFixture struct {
	*fixture
	op *httptest.Server
}

func newOIDCFixture(t *testing.T) *oidcFixture {
	t.Helper()
	opSrv := httptest.NewUnstartedServer(nil)
	issuer := "http://" + opSrv.Listener.Addr().String() + "/"
	consoleSrv := httptest.NewUnstartedServer(nil)
	redirect := "http://" + consoleSrv.Listener.Addr().String() + config.ConsoleCallbackPath
	storage.RegisterClients(storage.WebClient("axonflow-console", "console-secret", redirect))
	users := storage.NewUserStore(issuer) // id1 test-user@127.0.0.1, id2 test-user2; password verysecure
	gs := groupsStorage{Storage: storage.NewStorage(users), users: users,
		groups: map[string][]string{"id1": {"Everyone", "AxonFlow IAM"}, "id2": {"AxonFlow Viewers"}}}
	opSrv.Config.Handler = exampleop.SetupServer(issuer, gs, nil, false)
	opSrv.Start()
	t.Cleanup(opSrv.Close)

	st := backends(t)["sqlite"](t)
	f := &fixture{t: t, st: st, token: longToken(), clock: &clock{t: time.Now()}, tenant: "acme"}
	if _, err := st.EnsureTenant(context.Background(), f.tenant, time.Now()); err != nil {
		t.Fatal(err)
	}
	c, err := console.New(context.Background(), console.Options{Store: st, AdminToken: f.token, Logger: zerolog.Nop(), Now: f.clock.now,
		Console: config.ConsoleConfig{OIDC: config.ConsoleOIDCConfig{Issuer: issuer, ClientID: "axonflow-console", ClientSecret: "console-secret",
			RedirectURL: redirect, ViewerGroups: []string{"AxonFlow Viewers"}, ApproverGroups: []string{"AxonFlow IAM"}}}})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/ui/", c)
	consoleSrv.Config.Handler = mux
	consoleSrv.Start()
	t.Cleanup(consoleSrv.Close)
	f.srv = consoleSrv
	return &oidcFixture{fixture: f, op: opSrv}
}

// oidcSignIn signs in at the OP as username.
func (f *oidcFixture) oidcSignIn(ctx context.Context, username string) {
	f.t.Helper()
	run(f.t, ctx, "OIDC sign-in as "+username,
		chromedp.Navigate(f.srv.URL+"/ui/"),
		chromedp.WaitVisible(chromedp.CSS("#oidc-signin")),
		chromedp.Click(chromedp.CSS("#oidc-signin")),
		chromedp.WaitVisible(chromedp.CSS("#username")),
		chromedp.SendKeys(chromedp.CSS("#username"), username),
		chromedp.SendKeys(chromedp.CSS("#password"), "verysecure"),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/ui/tenants/acme"]`)))
}

// TestBrowserOIDCSignIn signs in through a real OpenID provider: an
// approver (groups claim) creates a token, recorded under their email and
// subject; a viewer sees no change buttons and a forged change form is
// refused; the token form is off; a callback that was not started here is
// refused.
func TestBrowserOIDCSignIn(t *testing.T) {
	f := newOIDCFixture(t)
	ctx := browser(t)
	f.oidcSignIn(ctx, "test-user@127.0.0.1")
	if got := textOf(t, ctx, "header"); !strings.Contains(got, "test-user@zitadel.ch · approver") {
		t.Errorf("header after OIDC sign-in = %q", got)
	}
	run(t, ctx, "create a token", chromedp.Navigate(f.srv.URL+"/ui/tenants/acme/tokens"),
		chromedp.WaitVisible(chromedp.CSS("#create-token")), chromedp.Click(chromedp.CSS("#create-token")),
		chromedp.WaitVisible(chromedp.CSS("#secret")))
	lr, err := admin.QueryLog(context.Background(), f.st, f.tenant, admin.LogParams{Actor: "operator", Limit: 1})
	if err != nil || len(lr.Entries) != 1 || lr.Entries[0].ActorID != "console:test-user@zitadel.ch sub=id1" {
		t.Errorf("operator of the token = %+v, %v", lr.Entries, err)
	}

	// A viewer, in a browser of their own.
	vctx := browser(t)
	f.oidcSignIn(vctx, "test-user2")
	if got := textOf(t, vctx, "header"); !strings.Contains(got, "viewer") {
		t.Errorf("viewer header = %q", got)
	}
	run(t, vctx, "viewer's tokens page", chromedp.Navigate(f.srv.URL+"/ui/tenants/acme/tokens"), chromedp.WaitVisible(chromedp.CSS("#tokens")))
	n, err := chromedp.Run(vctx, chromedp.Evaluate[int](`document.querySelectorAll('#create-token, [id^="rotate-"], [id^="revoke-"]').length`))
	if err != nil || n != 0 {
		t.Errorf("viewer sees %d change buttons (%v)", n, err)
	}
	// A change form with the viewer's own CSRF token is still refused.
	run(t, vctx, "viewer posts a change",
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Evaluate[any](`(function(){var f=document.createElement('form');f.method='post';f.action='/ui/tenants/acme/tokens';
				var i=document.createElement('input');i.name='csrf';i.value=document.querySelector('input[name=csrf]').value;f.appendChild(i);
				document.body.appendChild(f);f.submit();})()`)(ctx, tg)
			return err
		}),
		chromedp.WaitVisible(chromedp.CSS(".notice.bad")))
	if got := textOf(t, vctx, "h1"); got != "Not allowed" {
		t.Errorf("viewer's change: h1 = %q", got)
	}
	if n := len(f.tokens()); n != 1 {
		t.Errorf("tokens = %d, want 1 (the approver's)", n)
	}

	// The token form is off with OIDC; a callback not started here is refused.
	res, err := http.PostForm(f.srv.URL+"/ui/login", map[string][]string{"token": {f.token}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("token sign-in with OIDC configured: %d, want 403", res.StatusCode)
	}
	octx := browser(t)
	run(t, octx, "forged callback", chromedp.Navigate(f.srv.URL+"/ui/oidc/callback?state=forged&code=x"), chromedp.WaitVisible(chromedp.CSS(".notice.bad")))
	if got := textOf(t, octx, ".notice.bad"); !strings.Contains(got, "not started here") {
		t.Errorf("forged callback: %q", got)
	}
}
