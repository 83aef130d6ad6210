package oktasource

import (
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/axonflow/axonflow-sync/sync/oktatest"
	"github.com/rs/zerolog"
)

// pagesFor is the number of pages a listing of n items takes at size per
// page (at least one: an empty listing still costs a call).
func pagesFor(n, size int) int64 { return int64(max(1, (n+size-1)/size)) }

// minPullCalls is the fewest Okta calls a Pull of appID (no push groups) can
// make: every listing paged at the client's page sizes, no retries.
func minPullCalls(srv *oktatest.Server, appID string) int64 {
	calls := pagesFor(len(srv.AppUsers(appID)), 500) + pagesFor(len(srv.AppGroups(appID)), 200)
	for _, g := range srv.AppGroups(appID) {
		calls += pagesFor(len(srv.GroupMembers(g)), 200)
	}
	return calls
}

// newFake starts a fake org that is closed with the test.
func newFake(t testing.TB, opts ...oktatest.Option) *oktatest.Server {
	t.Helper()
	srv := oktatest.New(opts...)
	t.Cleanup(srv.Close)
	return srv
}

// testConfig is a Config for srv with SSWS auth and millisecond backoff.
func testConfig(srv *oktatest.Server) Config {
	return Config{
		OrgURL: srv.URL, AppID: oktatest.DefaultAppID, APIToken: srv.Token, AllowInsecureHTTP: true,
		MaxRetries: 3, RetryWaitMin: time.Millisecond, RetryWaitMax: 5 * time.Millisecond,
		RequestTimeout: 10 * time.Second,
	}
}

// newClient builds a Client for srv; mod adjusts the config first.
func newClient(t testing.TB, srv *oktatest.Server, mod func(*Config)) *Client {
	t.Helper()
	cfg := testConfig(srv)
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(cfg, zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// asIncomplete asserts err is an *IncompleteError with the given reason.
func asIncomplete(t testing.TB, err error, reason Reason) *IncompleteError {
	t.Helper()
	var ie *IncompleteError
	if !errors.As(err, &ie) {
		t.Fatalf("error %v (%T) is not an *IncompleteError", err, err)
	}
	if ie.Reason != reason {
		t.Fatalf("reason %q, want %q: %v", ie.Reason, reason, err)
	}
	return ie
}

var (
	testKeyOnce sync.Once
	testKey     *rsa.PrivateKey
)

// rsaKey returns a 2048-bit RSA key shared by the tests (generated once).
func rsaKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	testKeyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		testKey = k
	})
	return testKey
}

func zeroLogger() zerolog.Logger { return zerolog.Nop() }
