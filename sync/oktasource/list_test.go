package oktasource

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/axonflow/axonflow-sync/sync/oktatest"
)

// seedUsers seeds n app users (all direct) and returns their ids.
func seedUsers(srv *oktatest.Server, n int) []string {
	return srv.Seed(oktatest.GenOptions{Users: n, Groups: 1, Memberships: 1, DirectShare: 1}).UserIDs
}

func TestListAppUsersPagesWithMinimumCalls(t *testing.T) {
	srv := newFake(t)
	ids := seedUsers(srv, 2345) // 5 pages of 500
	c := newClient(t, srv, func(c *Config) { c.ExpandAppUsers = true })

	users, err := c.ListAppUsers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := srv.Calls(oktatest.RouteAppUsers); got != 5 {
		t.Errorf("Okta calls = %d, want the minimum 5", got)
	}
	if st := c.Stats(); st.APICalls != 5 || st.Pages != 5 || st.Retries != 0 {
		t.Errorf("stats %+v, want 5 calls, 5 pages, no retries", st)
	}
	if len(users) != len(ids) {
		t.Fatalf("%d users, want %d", len(users), len(ids))
	}
	// Every page's items are distinct objects with their own data: decoding
	// into a reused slice would have overwritten earlier pages.
	for i, u := range users {
		if u.ID != ids[i] {
			t.Fatalf("user %d is %s, want %s (lost or duplicated across pages)", i, u.ID, ids[i])
		}
		suffix := fmt.Sprintf(".%d@example.com", i+1)
		if !strings.HasSuffix(u.UserName, suffix) || !strings.HasSuffix(u.Login, suffix) ||
			u.Profile["email"] != u.Email || u.Scope != "USER" || u.Status != "ACTIVE" || u.UserStatus != "ACTIVE" {
			t.Fatalf("user %d has another user's data: %+v", i, u)
		}
	}
}

func TestListGroupMembersAcrossPages(t *testing.T) {
	srv := newFake(t)
	g := srv.AddGroup(oktatest.Group{Name: "Big"})
	var want []string
	for i := range 450 {
		id := srv.AddUser(oktatest.User{Email: fmt.Sprintf("m%03d@example.com", i), FirstName: "M", LastName: fmt.Sprint(i)})
		srv.AddGroupMember(g, id)
		want = append(want, id)
	}
	c := newClient(t, srv, nil)
	ms, err := c.ListGroupMembers(context.Background(), g)
	if err != nil {
		t.Fatal(err)
	}
	if srv.Calls(oktatest.RouteGroupUsers) != 3 {
		t.Errorf("calls %d, want 3 pages of 200", srv.Calls(oktatest.RouteGroupUsers))
	}
	got := make([]string, len(ms))
	for i, m := range ms {
		got[i] = m.ID
		if m.Email != fmt.Sprintf("m%03d@example.com", i) || m.Login != m.Email || m.Status != "ACTIVE" {
			t.Fatalf("member %d: %+v", i, m)
		}
	}
	if !slices.Equal(got, want) {
		t.Error("member ids differ from the seeded ones")
	}
}

func TestTransient5xxIsRetried(t *testing.T) {
	srv := newFake(t)
	seedUsers(srv, 2345)
	defer srv.FailNth(oktatest.RouteAppUsers, 3, 1, http.StatusServiceUnavailable)()
	c := newClient(t, srv, nil)
	users, err := c.ListAppUsers(context.Background())
	if err != nil {
		t.Fatalf("transient 503 on page 3 not absorbed: %v", err)
	}
	if len(users) != 2345 || srv.Calls(oktatest.RouteAppUsers) != 6 {
		t.Errorf("%d users in %d calls, want 2345 in 6", len(users), srv.Calls(oktatest.RouteAppUsers))
	}
	if st := c.Stats(); st.Retries != 1 || st.ServerErrors != 1 || st.Pages != 5 {
		t.Errorf("stats %+v", st)
	}
}

func TestPersistent5xxIsIncomplete(t *testing.T) {
	srv := newFake(t)
	seedUsers(srv, 2345)
	defer srv.FailNth(oktatest.RouteAppUsers, 3, -1, http.StatusInternalServerError)()
	c := newClient(t, srv, func(c *Config) { c.MaxRetries = 2 })
	users, err := c.ListAppUsers(context.Background())
	if users != nil {
		t.Error("partial list returned")
	}
	ie := asIncomplete(t, err, ReasonServerError)
	if ie.Pages != 2 || ie.Items != 1000 || ie.StatusCode != 500 || ie.Attempts != 3 || ie.ErrorCode == "" || ie.RequestID == "" {
		t.Errorf("incomplete error %+v", ie)
	}
	if got := srv.Calls(oktatest.RouteAppUsers); got != 5 {
		t.Errorf("calls %d, want 2 pages + 3 attempts", got)
	}
	if !strings.Contains(err.Error(), "app users of app") || !strings.Contains(err.Error(), "HTTP 500") {
		t.Errorf("message %q", err)
	}
}

func TestRepeatedCursorIsIncomplete(t *testing.T) {
	for _, from := range []int{1, 3} {
		t.Run(fmt.Sprint("from page ", from), func(t *testing.T) {
			srv := newFake(t)
			seedUsers(srv, 2345)
			srv.RepeatCursorFrom(oktatest.RouteAppUsers, from)
			c := newClient(t, srv, nil)
			_, err := c.ListAppUsers(context.Background())
			ie := asIncomplete(t, err, ReasonRepeatedCursor)
			if ie.Pages != from || srv.Calls(oktatest.RouteAppUsers) != int64(from) {
				t.Errorf("stopped after %d pages / %d calls, want %d", ie.Pages, srv.Calls(oktatest.RouteAppUsers), from)
			}
		})
	}
}

func TestRunawayPagingHitsPageCap(t *testing.T) {
	srv := newFake(t)
	seedUsers(srv, 700)
	srv.EndlessPaging(oktatest.RouteAppUsers)
	c := newClient(t, srv, func(c *Config) { c.PageCap = 8 })
	_, err := c.ListAppUsers(context.Background())
	ie := asIncomplete(t, err, ReasonPageCap)
	if ie.Pages != 8 || srv.Calls(oktatest.RouteAppUsers) != 8 {
		t.Errorf("%d pages, %d calls; want 8", ie.Pages, srv.Calls(oktatest.RouteAppUsers))
	}
}

func TestEmptyPageMidListingIsFollowed(t *testing.T) {
	srv := newFake(t)
	seedUsers(srv, 1200)
	srv.EmptyPageAt(oktatest.RouteAppUsers, 2)
	c := newClient(t, srv, nil)
	users, err := c.ListAppUsers(context.Background())
	if err != nil || len(users) != 1200 {
		t.Fatalf("%d users, %v", len(users), err)
	}
	if srv.Calls(oktatest.RouteAppUsers) != 4 {
		t.Errorf("calls %d, want 3 pages + 1 empty", srv.Calls(oktatest.RouteAppUsers))
	}
}

func TestUnauthorized(t *testing.T) {
	srv := newFake(t)
	seedUsers(srv, 10)
	c := newClient(t, srv, func(c *Config) { c.APIToken = "wrong" })
	_, err := c.ListAppUsers(context.Background())
	ie := asIncomplete(t, err, ReasonUnauthorized)
	if ie.StatusCode != 401 || ie.ErrorCode != "E0000011" {
		t.Errorf("%+v", ie)
	}
	if !strings.Contains(err.Error(), "check the API token") {
		t.Errorf("message %q does not say what to check", err)
	}
	if c.Stats().Retries != 0 || srv.Calls(oktatest.RouteAppUsers) != 1 {
		t.Error("401 was retried")
	}
}

func TestTimeoutIsRetried(t *testing.T) {
	srv := newFake(t)
	seedUsers(srv, 10)
	srv.AddFault(oktatest.Fault{Route: oktatest.RouteAppUsers, Kind: oktatest.FaultDelay, Delay: 2 * time.Second})
	c := newClient(t, srv, func(c *Config) { c.RequestTimeout = 200 * time.Millisecond })
	users, err := c.ListAppUsers(context.Background())
	if err != nil || len(users) != 10 {
		t.Fatalf("%d users, %v", len(users), err)
	}
	if c.Stats().Retries != 1 {
		t.Errorf("retries %d, want 1", c.Stats().Retries)
	}
}

func TestDisconnectsEndInTransportError(t *testing.T) {
	srv := newFake(t)
	seedUsers(srv, 10)
	srv.DisconnectNth(oktatest.RouteAppUsers, 1, -1)
	c := newClient(t, srv, func(c *Config) { c.MaxRetries = 2 })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err := c.ListAppUsers(ctx)
	asIncomplete(t, err, ReasonTransport) // not an endless SDK retry loop on EOF
	if c.Stats().APICalls != 3 {
		t.Errorf("api calls %d, want 3 attempts", c.Stats().APICalls)
	}
}

func TestTruncatedBodyIsRetried(t *testing.T) {
	srv := newFake(t)
	seedUsers(srv, 1200)
	srv.TruncateBodyNth(oktatest.RouteAppUsers, 2, 1)
	c := newClient(t, srv, nil)
	users, err := c.ListAppUsers(context.Background())
	if err != nil || len(users) != 1200 {
		t.Fatalf("%d users, %v", len(users), err)
	}
	if c.Stats().Retries != 1 {
		t.Errorf("retries %d, want 1", c.Stats().Retries)
	}

	srv.TruncateBodyNth(oktatest.RouteAppUsers, 1, -1)
	_, err = c.ListAppUsers(context.Background())
	if ie := asIncomplete(t, err, ReasonTransport); ie.Attempts != 4 {
		t.Errorf("%+v", ie)
	}
}

// TestThrottleWaitIsNotATimeout: time spent waiting for the bucket to reset
// does not count against RequestTimeout.
func TestThrottleWaitIsNotATimeout(t *testing.T) {
	srv := newFake(t, oktatest.WithRateLimit(oktatest.BucketGroups, 2, time.Second))
	g := srv.AddGroup(oktatest.Group{Name: "g"})
	c := newClient(t, srv, func(c *Config) { c.RequestTimeout, c.RateLimitReserve = 250*time.Millisecond, -1 })
	for range 5 {
		if _, err := c.GetGroup(context.Background(), g); err != nil {
			t.Fatal(err)
		}
	}
	if st := c.Stats(); st.ThrottleWaits < 1 || st.Retries != 0 || srv.Served429() != 0 {
		t.Errorf("stats %+v, 429s %d; want a throttle wait, no retries, no 429", st, srv.Served429())
	}
}

func TestGetGroupAndFindGroupByName(t *testing.T) {
	srv := newFake(t)
	admins := srv.AddGroup(oktatest.Group{Name: "Admins", Description: "all admins"})
	srv.AddGroup(oktatest.Group{Name: "Admins Europe"})
	srv.AddGroup(oktatest.Group{Name: "Ops"})
	srv.AddGroup(oktatest.Group{Name: "OPS"})
	c := newClient(t, srv, nil)
	ctx := context.Background()

	g, err := c.GetGroup(ctx, admins)
	if err != nil || g.Name != "Admins" || g.Description != "all admins" || g.Type != "OKTA_GROUP" {
		t.Fatalf("GetGroup: %+v, %v", g, err)
	}
	_, err = c.GetGroup(ctx, "00g00000000000009999")
	if ie := asIncomplete(t, err, ReasonNotFound); ie.ErrorCode != "E0000007" {
		t.Errorf("%+v", ie)
	}
	_, err = c.GetGroup(ctx, "../users")
	asIncomplete(t, err, ReasonInvalidInput)

	g, err = c.FindGroupByName(ctx, "admins")
	if err != nil || g.ID != admins {
		t.Fatalf("FindGroupByName(admins): %+v, %v", g, err)
	}
	_, err = c.FindGroupByName(ctx, "ops")
	asIncomplete(t, err, ReasonAmbiguous)
	_, err = c.FindGroupByName(ctx, "Adm")
	asIncomplete(t, err, ReasonNotFound)
}

func TestEnvironmentCannotOverrideConfig(t *testing.T) {
	srv := newFake(t)
	seedUsers(srv, 20)
	t.Setenv("OKTA_CLIENT_ORGURL", "https://bogus.example.invalid")
	t.Setenv("OKTA_CLIENT_TOKEN", "bogus")
	t.Setenv("OKTA_CLIENT_AUTHORIZATIONMODE", "Bearer")
	t.Setenv("OKTA_CLIENT_CACHE_ENABLED", "true")
	t.Setenv("OKTA_CLIENT_RATE_LIMIT_MAX_RETRIES", "5")
	t.Setenv("OKTA_CLIENT_REQUEST_TIMEOUT", "1")
	t.Setenv("OKTA_CLIENT_PROXY_HOST", "proxy.invalid")
	t.Setenv("OKTA_CLIENT_PROXY_PORT", "1")
	c := newClient(t, srv, nil)
	for range 2 {
		if users, err := c.ListAppUsers(context.Background()); err != nil || len(users) != 20 {
			t.Fatalf("%d users, %v", len(users), err)
		}
	}
	if srv.Calls(oktatest.RouteAppUsers) != 2 {
		t.Errorf("calls %d, want 2 (the SDK cache must stay off)", srv.Calls(oktatest.RouteAppUsers))
	}
}

func TestBucketKey(t *testing.T) {
	for path, want := range map[string]string{
		"/api/v1/apps/0oa1/users":     "apps",
		"/api/v1/apps/0oa1/groups":    "apps",
		"/api/v1/groups":              "groups",
		"/api/v1/groups/00g1":         "groups/{id}",
		"/api/v1/groups/00g1/users":   "groups/{id}/users",
		"/api/v1/users/00u1":          "users/{id}",
		"/oauth2/v1/token":            "oauth2/v1/token",
		"/api/v1/users/00u1/factors/": "users/{id}/factors",
	} {
		if got := bucketKey(path); got != want {
			t.Errorf("bucketKey(%q) = %q, want %q", path, got, want)
		}
	}
}

func TestParseRateHeadersCorrectsClockSkew(t *testing.T) {
	now := time.Now()
	okta := now.Add(-time.Hour) // Okta's clock is an hour behind ours
	h := http.Header{}
	h.Set("X-Rate-Limit-Limit", "100")
	h.Set("X-Rate-Limit-Remaining", "10")
	h.Set("X-Rate-Limit-Reset", fmt.Sprint(okta.Add(30*time.Second).Unix()))
	h.Set("Date", okta.UTC().Format(http.TimeFormat))
	rh, ok := parseRateHeaders(h, now)
	if !ok || rh.limit != 100 || rh.remaining != 10 {
		t.Fatalf("%+v %v", rh, ok)
	}
	if d := rh.reset.Sub(now); d < 28*time.Second || d > 32*time.Second {
		t.Errorf("reset in %v on the local clock, want about 30s", d)
	}
}
