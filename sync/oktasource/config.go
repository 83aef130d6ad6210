package oktasource

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"
)

// Defaults applied by New to zero Config fields.
const (
	DefaultMaxInFlight      = 4
	DefaultRateLimitReserve = 0.5
	DefaultMaxRetries       = 4
	DefaultRetryWaitMin     = 500 * time.Millisecond
	DefaultRetryWaitMax     = 30 * time.Second
	DefaultRateLimitMaxWait = 65 * time.Second
	DefaultRequestTimeout   = 60 * time.Second
	DefaultPageCap          = 10000
	// MaxInFlightLimit is Okta's per-org concurrent request limit; more is refused.
	MaxInFlightLimit = 75
)

// DefaultScopes are the OAuth scopes requested when OAuthConfig.Scopes is empty:
// read access to apps, groups and users.
var DefaultScopes = []string{"okta.apps.read", "okta.groups.read", "okta.users.read"}

// Config configures a Client. OrgURL, AppID and exactly one of APIToken or
// OAuth are required; zero values of the other fields mean the defaults above.
type Config struct {
	// OrgURL is the Okta org, e.g. https://example.okta.com (no path; a
	// trailing slash is removed). Must be https unless AllowInsecureHTTP.
	OrgURL string
	// AppID is the id of the Okta app ("0oa…") whose assignments are read.
	AppID string
	// APIToken is an SSWS API token ("Authorization: SSWS …").
	APIToken string
	// OAuth selects private-key JWT client credentials (an Okta API service
	// app) instead of an API token.
	OAuth OAuthConfig
	// AllowInsecureHTTP permits an http:// OrgURL (tests against a fake only).
	AllowInsecureHTTP bool
	// MaxInFlight caps concurrent HTTP requests (default 4, at most 75).
	MaxInFlight int
	// RateLimitReserve is the share of each Okta rate-limit bucket left for
	// the org's other clients: requests pause until the bucket resets once
	// X-Rate-Limit-Remaining <= X-Rate-Limit-Limit × RateLimitReserve.
	// 0 means 0.5 (use at most half); negative means 0 (use the whole bucket);
	// must be < 1.
	RateLimitReserve float64
	// MaxRetries is how often a request is re-sent after 429, 5xx or a network
	// error/timeout (default 4; negative means no retries).
	MaxRetries int
	// RetryWaitMin and RetryWaitMax bound the exponential backoff between
	// retries of 5xx and network errors (defaults 500 ms and 30 s).
	RetryWaitMin time.Duration
	RetryWaitMax time.Duration
	// RateLimitMaxWait caps one wait for a rate-limit reset, whether after a
	// 429 or by the proactive throttle (default 65 s; Okta windows are 1 min).
	RateLimitMaxWait time.Duration
	// RequestTimeout bounds each HTTP attempt, body included (default 60 s).
	RequestTimeout time.Duration
	// PageCap is the most pages one listing may take before it is aborted as
	// runaway paging (default 10000).
	PageCap int
	// ExpandAppUsers requests expand=user on app users, filling AppUser's
	// Login, Email, FirstName, LastName and UserStatus from the Okta user
	// (larger responses, same number of calls).
	ExpandAppUsers bool
	// UserAgent is appended to the SDK's User-Agent (default "axonflow-sync").
	UserAgent string
}

// OAuthConfig selects OAuth 2.0 client credentials with a private-key JWT
// (Okta: https://developer.okta.com/docs/guides/implement-oauth-for-okta-serviceapp/).
type OAuthConfig struct {
	// ClientID of the API service app; non-empty enables OAuth.
	ClientID string
	// PrivateKeyPEM or PrivateKeyFile: an RSA private key, PEM-encoded as
	// PKCS#1 ("RSA PRIVATE KEY") or PKCS#8 ("PRIVATE KEY", as Okta's admin
	// console issues it). Literal `\n` sequences are accepted as newlines.
	PrivateKeyPEM  string
	PrivateKeyFile string
	// KeyID is the key's kid as registered in Okta (sent in the JWT header).
	KeyID string
	// Scopes requested for the access token (default DefaultScopes).
	Scopes []string
}

var (
	appIDRE   = regexp.MustCompile(`^[0-9A-Za-z]{1,64}$`)
	oktaIDRE  = regexp.MustCompile(`^[0-9A-Za-z]{1,64}$`)
	groupIDRE = regexp.MustCompile(`^00g[0-9A-Za-z]{17}$`)
)

// withDefaults validates c and fills defaults. It returns the normalized copy.
func (c Config) withDefaults() (Config, error) {
	u, err := url.Parse(strings.TrimRight(strings.TrimSpace(c.OrgURL), "/"))
	if err != nil || u.Host == "" {
		return c, fmt.Errorf("oktasource: OrgURL %q is not an absolute URL", c.OrgURL)
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && c.AllowInsecureHTTP:
	default:
		return c, fmt.Errorf("oktasource: OrgURL %q must use https", c.OrgURL)
	}
	if u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return c, fmt.Errorf("oktasource: OrgURL %q must be scheme://host only", c.OrgURL)
	}
	c.OrgURL = u.Scheme + "://" + u.Host
	if !appIDRE.MatchString(c.AppID) {
		return c, fmt.Errorf("oktasource: AppID %q is not an Okta app id", c.AppID)
	}
	hasToken, hasOAuth := c.APIToken != "", c.OAuth.ClientID != ""
	if hasToken == hasOAuth {
		return c, errors.New("oktasource: set exactly one of APIToken and OAuth.ClientID")
	}
	if hasOAuth {
		if (c.OAuth.PrivateKeyPEM == "") == (c.OAuth.PrivateKeyFile == "") {
			return c, errors.New("oktasource: set exactly one of OAuth.PrivateKeyPEM and OAuth.PrivateKeyFile")
		}
		if len(c.OAuth.Scopes) == 0 {
			c.OAuth.Scopes = DefaultScopes
		}
		c.OAuth.Scopes = append([]string(nil), c.OAuth.Scopes...)
	}
	if c.MaxInFlight == 0 {
		c.MaxInFlight = DefaultMaxInFlight
	}
	if c.MaxInFlight < 1 || c.MaxInFlight > MaxInFlightLimit {
		return c, fmt.Errorf("oktasource: MaxInFlight %d out of range 1..%d", c.MaxInFlight, MaxInFlightLimit)
	}
	switch {
	case c.RateLimitReserve == 0:
		c.RateLimitReserve = DefaultRateLimitReserve
	case c.RateLimitReserve < 0:
		c.RateLimitReserve = 0
	case c.RateLimitReserve >= 1:
		return c, fmt.Errorf("oktasource: RateLimitReserve %v must be < 1", c.RateLimitReserve)
	}
	switch {
	case c.MaxRetries == 0:
		c.MaxRetries = DefaultMaxRetries
	case c.MaxRetries < 0:
		c.MaxRetries = 0
	}
	if c.RetryWaitMin <= 0 {
		c.RetryWaitMin = DefaultRetryWaitMin
	}
	if c.RetryWaitMax <= 0 {
		c.RetryWaitMax = DefaultRetryWaitMax
	}
	if c.RetryWaitMax < c.RetryWaitMin {
		c.RetryWaitMax = c.RetryWaitMin
	}
	if c.RateLimitMaxWait <= 0 {
		c.RateLimitMaxWait = DefaultRateLimitMaxWait
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	if c.PageCap <= 0 {
		c.PageCap = DefaultPageCap
	}
	if c.UserAgent == "" {
		c.UserAgent = "axonflow-sync"
	}
	return c, nil
}

// loadPrivateKey reads the configured key and returns it as PKCS#1 PEM, the
// only form okta-sdk-golang v2 accepts.
func (o OAuthConfig) loadPrivateKey() (string, error) {
	data := []byte(o.PrivateKeyPEM)
	if o.PrivateKeyFile != "" {
		b, err := os.ReadFile(o.PrivateKeyFile)
		if err != nil {
			return "", fmt.Errorf("oktasource: reading OAuth.PrivateKeyFile: %w", err)
		}
		data = b
	}
	return toPKCS1PEM(data)
}

// toPKCS1PEM converts a PKCS#1 or PKCS#8 PEM RSA private key to PKCS#1 PEM.
func toPKCS1PEM(data []byte) (string, error) {
	data = []byte(strings.ReplaceAll(string(data), `\n`, "\n"))
	block, _ := pem.Decode(data)
	if block == nil {
		return "", errors.New("oktasource: OAuth private key is not PEM")
	}
	var key *rsa.PrivateKey
	switch block.Type {
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return "", fmt.Errorf("oktasource: parsing PKCS#1 private key: %w", err)
		}
		key = k
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return "", fmt.Errorf("oktasource: parsing PKCS#8 private key: %w", err)
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return "", fmt.Errorf("oktasource: OAuth private key is %T; Okta's SDK signs with RS256 and needs an RSA key", k)
		}
		key = rk
	case "ENCRYPTED PRIVATE KEY":
		return "", errors.New("oktasource: encrypted private keys are not supported; decrypt the key first")
	default:
		return "", fmt.Errorf("oktasource: unsupported PEM block %q (want RSA PRIVATE KEY or PRIVATE KEY)", block.Type)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})), nil
}
