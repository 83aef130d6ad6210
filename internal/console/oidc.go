package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/axonflow/axonflow-sync/config"
)

// oidcClient is the console's OpenID Connect relying party.
type oidcClient struct {
	cfg      config.ConsoleOIDCConfig
	oauth    oauth2.Config
	verifier *oidc.IDTokenVerifier
	client   *http.Client
}

// newOIDC discovers the provider (OpenID Connect Discovery 1.0 §4).
func newOIDC(ctx context.Context, cfg config.ConsoleOIDCConfig, hc *http.Client) (*oidcClient, error) {
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	ctx = oidc.ClientContext(ctx, hc)
	p, err := oidc.NewProvider(ctx, cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("console.oidc.issuer: cannot discover the provider: %w", err)
	}
	return &oidcClient{cfg: cfg, client: hc,
		oauth: oauth2.Config{ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, RedirectURL: cfg.RedirectURL,
			Endpoint: p.Endpoint(), Scopes: []string{oidc.ScopeOpenID, "profile", "email", "groups"}},
		verifier: p.Verifier(&oidc.Config{ClientID: cfg.ClientID}),
	}, nil
}

// flow is an OIDC sign-in in progress, kept in the sealed flow cookie.
type flow struct {
	State    string `json:"state"`
	Nonce    string `json:"nonce"`
	Verifier string `json:"pkce"`
	Next     string `json:"next"`
	Started  int64  `json:"t"`
}

// oidcStart is GET /ui/login/oidc: it sends the browser to the provider
// (authorization code with PKCE S256; RFC 7636) with a fresh state and
// nonce.
func (c *Console) oidcStart(w http.ResponseWriter, r *http.Request) {
	if !c.oidcCfg.Enabled() {
		http.Redirect(w, r, "/ui/", http.StatusSeeOther)
		return
	}
	rp, err := c.relyingParty(r.Context())
	if err != nil {
		c.log.Error().Err(err).Msg("console: OIDC provider discovery failed")
		c.errorPage(w, r, nil, http.StatusBadGateway, "Sign-in unavailable", "The identity provider cannot be reached (console.oidc.issuer); see the server log.")
		return
	}
	f := flow{State: randomToken(), Nonce: randomToken(), Verifier: oauth2.GenerateVerifier(),
		Next: safeNext(r.URL.Query().Get("next")), Started: c.now().Unix()}
	c.setCookie(w, r, flowCookie, c.seal.seal(flowCookie, f), flowMaxAge)
	http.Redirect(w, r, rp.oauth.AuthCodeURL(f.State, oidc.Nonce(f.Nonce), oauth2.S256ChallengeOption(f.Verifier)), http.StatusFound)
}

// oidcCallback is GET /ui/oidc/callback: it checks the state against the
// flow cookie, exchanges the code (with the PKCE verifier), verifies the
// ID token (signature, issuer, audience, expiry) and its nonce, and maps
// the groups claim to viewer or approver.
func (c *Console) oidcCallback(w http.ResponseWriter, r *http.Request) {
	rp, err := c.relyingParty(r.Context())
	if !c.oidcCfg.Enabled() || err != nil {
		http.Redirect(w, r, "/ui/", http.StatusSeeOther)
		return
	}
	refuse := func(status int, msg string) {
		c.setCookie(w, r, flowCookie, "", 0)
		c.errorPage(w, r, nil, status, "Sign-in failed", msg)
	}
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		refuse(http.StatusForbidden, "The identity provider refused the sign-in: "+printable(e+" "+q.Get("error_description")))
		return
	}
	var f flow
	ck, err := r.Cookie(flowCookie)
	if err != nil || c.seal.open(flowCookie, ck.Value, &f) != nil || c.now().Sub(time.Unix(f.Started, 0)) > flowMaxAge {
		refuse(http.StatusBadRequest, "This sign-in was not started here or took longer than 10 minutes. Start again.")
		return
	}
	if q.Get("state") == "" || !equal(q.Get("state"), f.State) {
		refuse(http.StatusBadRequest, "The sign-in answer does not match the sign-in started here (state). Start again.")
		return
	}
	ctx := oidc.ClientContext(r.Context(), rp.client)
	tok, err := rp.oauth.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(f.Verifier))
	if err != nil {
		c.log.Warn().Err(err).Msg("console: OIDC code exchange failed")
		// The provider answered the token request with a 4xx (RFC 6749
		// §5.2: invalid_grant for a code already used, expired or not
		// issued to this client): the browser's request is at fault, so
		// 400. Anything else (unreachable, 5xx) is the provider's: 502.
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode >= 400 && re.Response.StatusCode < 500 {
			refuse(http.StatusBadRequest, "The identity provider did not accept the sign-in code: it was already used or has expired. Start again.")
			return
		}
		refuse(http.StatusBadGateway, "The identity provider did not accept the sign-in code (see the server log).")
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := rp.verifier.Verify(ctx, raw)
	if err != nil {
		c.log.Warn().Err(err).Msg("console: ID token rejected")
		refuse(http.StatusForbidden, "The identity provider's ID token could not be verified (see the server log).")
		return
	}
	if !equal(idt.Nonce, f.Nonce) {
		refuse(http.StatusForbidden, "The ID token is not for this sign-in (nonce). Start again.")
		return
	}
	var claims struct {
		Email  string   `json:"email"`
		Groups []string `json:"groups"`
	}
	if err := idt.Claims(&claims); err != nil {
		refuse(http.StatusForbidden, "The ID token's claims cannot be read: "+printable(err.Error()))
		return
	}
	approver := intersects(claims.Groups, rp.cfg.ApproverGroups)
	if !approver && !intersects(claims.Groups, rp.cfg.ViewerGroups) {
		refuse(http.StatusForbidden, "You are signed in at the identity provider as "+printable(claims.Email)+
			", but none of your groups (the ID token's groups claim) is a console viewer or approver group.")
		return
	}
	op := "console:" + printable(claims.Email) + " sub=" + printable(idt.Subject)
	c.newSession(w, r, &session{Operator: op, Subject: idt.Subject, Email: claims.Email, Approver: approver})
	http.Redirect(w, r, f.Next, http.StatusSeeOther)
}

// intersects reports whether a group of have is in want (exact names).
func intersects(have, want []string) bool {
	return slices.ContainsFunc(have, func(g string) bool { return slices.Contains(want, g) })
}

// safeNext returns next when it is a console path, else /ui/: never
// another site (an open redirect).
func safeNext(next string) string {
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || !strings.HasPrefix(u.Path, "/ui/") || strings.HasPrefix(next, "//") {
		return "/ui/"
	}
	return u.RequestURI()
}

// printable drops control characters and bounds s to 200 runes.
func printable(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return -1
	}, s)
	if r := []rune(s); len(r) > 200 {
		s = string(r[:200])
	}
	return s
}
