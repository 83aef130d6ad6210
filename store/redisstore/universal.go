package redisstore

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Config says how to reach Redis: exactly one of a single server (URL), a
// Redis Cluster (ClusterAddrs) or a master found through Redis Sentinel
// (SentinelMaster plus SentinelAddrs). cmd builds it from the redis.* keys of
// the configuration.
type Config struct {
	// URL is "redis://[user:pass@]host:port/db" or "rediss://..." (TLS) of a
	// single server; see redis.ParseURL for the query options. It must be
	// empty when ClusterAddrs or SentinelMaster is set.
	URL string
	// ClusterAddrs are host:port seed addresses of a Redis Cluster (any
	// reachable subset of its nodes; the client discovers the rest). Every
	// tenant's keys share one hash slot, so each store call runs on one node.
	ClusterAddrs []string
	// SentinelMaster is the master name Redis Sentinel monitors; the store
	// asks SentinelAddrs for its current address and follows failovers.
	SentinelMaster string
	// SentinelAddrs are host:port addresses of the Sentinels.
	SentinelAddrs []string
	// SentinelPassword authenticates to the Sentinels (requirepass of
	// sentinel.conf), if they require it.
	SentinelPassword string
	// Username and Password authenticate to the Redis servers (ACL user, or
	// only Password for requirepass). With URL they override the URL's user
	// information when set.
	Username string
	Password string
	// DB is the database number in Sentinel mode (Cluster has only 0; with
	// URL the URL's path gives it).
	DB int
	// TLS connects with TLS (the server certificate is verified against the
	// system roots and the host name dialled). A rediss:// URL implies it.
	TLS bool
}

// Mode returns "cluster", "sentinel" or "single" (URL).
func (c Config) Mode() string {
	switch {
	case len(c.ClusterAddrs) > 0:
		return "cluster"
	case c.SentinelMaster != "":
		return "sentinel"
	}
	return "single"
}

// String describes where c connects, without credentials, for logs:
// "redis redis://xxxxx@host:6379/0", "redis cluster a:1,b:2",
// "redis sentinel mymaster via s1:26379,s2:26379".
func (c Config) String() string {
	switch c.Mode() {
	case "cluster":
		return "redis cluster " + strings.Join(c.ClusterAddrs, ",")
	case "sentinel":
		return "redis sentinel " + c.SentinelMaster + " via " + strings.Join(c.SentinelAddrs, ",")
	}
	return "redis " + redactURL(c.URL)
}

// redactURL hides the user information of a Redis URL.
func redactURL(u string) string {
	at := strings.LastIndexByte(u, '@')
	scheme := strings.Index(u, "://")
	if at < 0 || scheme < 0 || at < scheme {
		return u
	}
	return u[:scheme+3] + "xxxxx" + u[at:]
}

// validate checks that c selects exactly one mode with what it needs.
func (c Config) validate() error {
	modes := 0
	if c.URL != "" {
		modes++
	}
	if len(c.ClusterAddrs) > 0 {
		modes++
	}
	if c.SentinelMaster != "" || len(c.SentinelAddrs) > 0 {
		modes++
	}
	switch {
	case modes == 0:
		return errors.New("redisstore: no Redis URL, cluster or sentinel addresses given")
	case modes > 1:
		return errors.New("redisstore: set only one of URL, ClusterAddrs, SentinelMaster")
	case len(c.SentinelAddrs) > 0 && c.SentinelMaster == "":
		return errors.New("redisstore: SentinelAddrs without SentinelMaster")
	case c.SentinelMaster != "" && len(c.SentinelAddrs) == 0:
		return errors.New("redisstore: SentinelMaster without SentinelAddrs")
	}
	for _, a := range append(append([]string(nil), c.ClusterAddrs...), c.SentinelAddrs...) {
		if a == "" || !strings.Contains(a, ":") {
			return fmt.Errorf("redisstore: address %q is not host:port", a)
		}
	}
	return nil
}

// NewClient builds the go-redis client c describes: a *redis.Client for URL,
// a *redis.ClusterClient for ClusterAddrs, a Sentinel failover
// *redis.Client (redis.NewFailoverClient) for SentinelMaster. Every one
// honours context deadlines (ContextTimeoutEnabled) and dials with
// opts.Timeout (default DefaultTimeout). It makes no round trip. Errors: an
// invalid c or a malformed URL.
func NewClient(c Config, opts Options) (redis.UniversalClient, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	var tlsConf *tls.Config
	if c.TLS {
		// ServerName stays empty: crypto/tls then checks each node's
		// certificate against the address dialled (one per cluster node).
		tlsConf = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	dial := opts.timeout()
	switch c.Mode() {
	case "cluster":
		return redis.NewClusterClient(&redis.ClusterOptions{
			Dialer:                lazyDialer(dial, tlsConf),
			MinRetryBackoff:       minRetryBackoff,
			MaxRetryBackoff:       maxRetryBackoff,
			Addrs:                 c.ClusterAddrs,
			Username:              c.Username,
			Password:              c.Password,
			TLSConfig:             tlsConf,
			DialTimeout:           dial,
			ContextTimeoutEnabled: true,
		}), nil
	case "sentinel":
		return redis.NewFailoverClient(&redis.FailoverOptions{
			Dialer:                lazyDialer(dial, tlsConf),
			MinRetryBackoff:       minRetryBackoff,
			MaxRetryBackoff:       maxRetryBackoff,
			MasterName:            c.SentinelMaster,
			SentinelAddrs:         c.SentinelAddrs,
			SentinelPassword:      c.SentinelPassword,
			Username:              c.Username,
			Password:              c.Password,
			DB:                    c.DB,
			TLSConfig:             tlsConf,
			DialTimeout:           dial,
			ContextTimeoutEnabled: true,
		}), nil
	}
	ro, err := redis.ParseURL(c.URL)
	if err != nil {
		return nil, fmt.Errorf("redisstore: %w", err)
	}
	ro.ContextTimeoutEnabled = true
	if ro.DialTimeout == 0 {
		ro.DialTimeout = dial
	}
	if c.Username != "" {
		ro.Username = c.Username
	}
	if c.Password != "" {
		ro.Password = c.Password
	}
	if c.TLS && ro.TLSConfig == nil {
		ro.TLSConfig = tlsConf
	}
	ro.Dialer = lazyDialer(ro.DialTimeout, ro.TLSConfig)
	ro.MinRetryBackoff, ro.MaxRetryBackoff = minRetryBackoff, maxRetryBackoff
	return redis.NewClient(ro), nil
}

// The backoff between go-redis's retries of a failed command (3 retries by
// default): short, so that a call to a Redis that refuses connections fails
// in about 0.1 s (the caller answers 503 and the client retries later)
// instead of spending its whole timeout on retries.
const (
	minRetryBackoff = 2 * time.Millisecond
	maxRetryBackoff = 20 * time.Millisecond
)

// lazyDialer dials TCP (with TLS when tlsConf is set, checking the
// certificate against the host dialled, as go-redis does) and, when the dial
// fails, returns a connection on which every call fails with the dial error
// instead of the error itself. The caller still gets that error at once
// (the connection's handshake fails, the pool drops the connection, the
// store answers store.ErrUnavailable), but go-redis's pool does not count a
// failed dial: after a number of those equal to its pool size, it would stop
// dialling and probe the server only once a second, so requests would keep
// failing for up to a second after Redis is back. With this dialer the
// first request after Redis returns connects.
func lazyDialer(timeout time.Duration, tlsConf *tls.Config) func(ctx context.Context, network, addr string) (net.Conn, error) {
	nd := &net.Dialer{Timeout: timeout, KeepAlive: 5 * time.Minute}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		var c net.Conn
		var err error
		if tlsConf != nil {
			c, err = (&tls.Dialer{NetDialer: nd, Config: tlsConf}).DialContext(ctx, network, addr)
		} else {
			c, err = nd.DialContext(ctx, network, addr)
		}
		if err != nil {
			return failedConn{err: err}, nil
		}
		return c, nil
	}
}

// failedConn is a connection whose dial failed: reads and writes return the
// dial error.
type failedConn struct{ err error }

func (c failedConn) Read([]byte) (int, error)         { return 0, c.err }
func (c failedConn) Write([]byte) (int, error)        { return 0, c.err }
func (c failedConn) Close() error                     { return nil }
func (c failedConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c failedConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (c failedConn) SetDeadline(time.Time) error      { return nil }
func (c failedConn) SetReadDeadline(time.Time) error  { return nil }
func (c failedConn) SetWriteDeadline(time.Time) error { return nil }

// OpenUniversal connects as c describes (see NewClient), checks the
// connection with PING and returns a Store. Open(ctx, url, opts) is
// OpenUniversal(ctx, Config{URL: url}, opts). Errors: an invalid c or opts
// (plain error), an unreachable server, cluster or sentinel (wrapping
// store.ErrUnavailable). One round trip (in Sentinel mode, plus the query
// of the master's address).
func OpenUniversal(ctx context.Context, c Config, opts Options) (*Store, error) {
	client, err := NewClient(c, opts)
	if err != nil {
		return nil, err
	}
	s := New(client, opts)
	if err := s.Ping(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}
