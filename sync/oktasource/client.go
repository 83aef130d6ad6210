package oktasource

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"github.com/okta/okta-sdk-golang/v2/okta"
	"github.com/rs/zerolog"
)

// Client reads one Okta app's assignments and the groups in scope. It is safe
// for concurrent use. Create it with New.
type Client struct {
	cfg   Config
	log   zerolog.Logger
	sdk   *okta.Client
	stats *counters
}

// New validates cfg, applies defaults and builds a Client on
// github.com/okta/okta-sdk-golang/v2 (v2.20.0) with an HTTP transport of its
// own: bounded retries with backoff on 429, 5xx and network errors
// (hashicorp/go-retryablehttp), a proactive per-bucket throttle driven by
// X-Rate-Limit-* headers, and at most cfg.MaxInFlight requests in flight.
//
// Every SDK option is set explicitly, so values the SDK reads from
// ~/.okta/okta.yaml or OKTA_* environment variables cannot change the
// behaviour; the SDK's response cache is off and its own retries are disabled.
// New makes no request. It returns an error for an invalid Config or an
// unreadable / non-RSA private key.
func New(cfg Config, logger zerolog.Logger) (*Client, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	c := &Client{cfg: cfg, log: logger.With().Str("component", "oktasource").Str("okta_app", cfg.AppID).Logger(), stats: &counters{}}

	base := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          2 * cfg.MaxInFlight,
		MaxIdleConnsPerHost:   2 * cfg.MaxInFlight,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	inner := &transport{
		base: base,
		sem:  make(chan struct{}, cfg.MaxInFlight),
		throttle: &throttle{reserve: cfg.RateLimitReserve, maxWait: cfg.RateLimitMaxWait, stats: c.stats,
			log: c.log, buckets: map[string]*bucketState{}},
		stats:   c.stats,
		timeout: cfg.RequestTimeout,
	}
	rc := &retryablehttp.Client{
		// No http.Client.Timeout: it would also count time spent waiting for
		// the throttle and a free slot; the transport times each attempt.
		HTTPClient:   &http.Client{Transport: inner},
		Logger:       nil,
		RetryWaitMin: cfg.RetryWaitMin,
		RetryWaitMax: cfg.RetryWaitMax,
		RetryMax:     cfg.MaxRetries,
		CheckRetry:   retryPolicy,
		Backoff:      backoff(cfg.RateLimitMaxWait),
		ErrorHandler: giveUp,
		RequestLogHook: func(_ retryablehttp.Logger, req *http.Request, attempt int) {
			if attempt > 0 {
				c.stats.retries.Add(1)
				c.log.Debug().Str("method", req.Method).Str("path", req.URL.Path).Int("retry", attempt).Msg("retrying okta request")
			}
		},
	}
	hc := &http.Client{Transport: annotating{next: &retryablehttp.RoundTripper{Client: rc}}}

	opts := []okta.ConfigSetter{
		okta.WithOrgUrl(cfg.OrgURL),
		okta.WithHttpClientPtr(hc),
		okta.WithCache(false), // the SDK caches list calls for 300 s by default
		okta.WithCacheManager(nil),
		okta.WithCacheTtl(0),
		okta.WithCacheTti(0),
		okta.WithRateLimitMaxRetries(0), // our transport owns retries
		okta.WithRateLimitMaxBackOff(int64(cfg.RateLimitMaxWait / time.Second)),
		okta.WithRequestTimeout(0), // per-attempt timeouts live in the transport
		okta.WithConnectionTimeout(int64(cfg.RequestTimeout / time.Second)),
		okta.WithTestingDisableHttpsCheck(cfg.AllowInsecureHTTP),
		okta.WithUserAgentExtra(cfg.UserAgent),
		okta.WithProxyHost(""), okta.WithProxyPort(0), okta.WithProxyUsername(""), okta.WithProxyPassword(""),
		okta.WithClientAssertion(""),
	}
	if cfg.OAuth.ClientID != "" {
		keyPEM, err := cfg.OAuth.loadPrivateKey()
		if err != nil {
			return nil, err
		}
		signer, err := okta.CreateKeySigner(keyPEM, cfg.OAuth.KeyID)
		if err != nil {
			return nil, fmt.Errorf("oktasource: OAuth private key: %w", err)
		}
		opts = append(opts,
			okta.WithAuthorizationMode("PrivateKey"),
			okta.WithToken(""),
			okta.WithClientId(cfg.OAuth.ClientID),
			okta.WithScopes(cfg.OAuth.Scopes),
			okta.WithPrivateKey(keyPEM),
			okta.WithPrivateKeyId(cfg.OAuth.KeyID),
			okta.WithPrivateKeySigner(signer),
		)
	} else {
		opts = append(opts,
			okta.WithAuthorizationMode("SSWS"),
			okta.WithToken(cfg.APIToken),
			okta.WithClientId(""),
			okta.WithScopes(nil),
			okta.WithPrivateKey(""),
			okta.WithPrivateKeyId(""),
			okta.WithPrivateKeySigner(nil),
		)
	}
	_, sdk, err := okta.NewClient(context.Background(), opts...)
	if err != nil {
		return nil, fmt.Errorf("oktasource: okta client: %w", err)
	}
	c.sdk = sdk
	return c, nil
}

// Stats returns the client's cumulative traffic counters.
func (c *Client) Stats() Stats { return c.stats.snapshot() }
