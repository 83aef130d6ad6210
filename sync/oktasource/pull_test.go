package oktasource

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/axonflow/axonflow-sync/sync/oktatest"
)

const app = "0oaapp00000000000001"

// handOrg builds a small org by hand: alice direct, bob and carol through
// Engineering, dave only in the (unassigned) push group Alumni, an empty
// assigned group, and a group named like the push group's prefix.
type handOrg struct {
	alice, bob, carol, dave string
	eng, empty, alumni      string
}

func seedHandOrg(srv *oktatest.Server) handOrg {
	var o handOrg
	o.alice = srv.AddUser(oktatest.User{Email: "alice@example.com", FirstName: "Alice", LastName: "Liddell"})
	o.bob = srv.AddUser(oktatest.User{Email: "bob@example.com", FirstName: "Bob", LastName: "Builder"})
	o.carol = srv.AddUser(oktatest.User{Email: "carol@example.com", FirstName: "Carol", LastName: "Danvers", Status: oktatest.StatusSuspended})
	o.dave = srv.AddUser(oktatest.User{Email: "dave@example.com", FirstName: "Dave", LastName: "Bowman"})
	o.eng = srv.AddGroup(oktatest.Group{Name: "Engineering"})
	o.empty = srv.AddGroup(oktatest.Group{Name: "Empty"})
	o.alumni = srv.AddGroup(oktatest.Group{Name: "Alumni"})
	srv.AddGroup(oktatest.Group{Name: "Alumni Board"})
	srv.AddGroupMember(o.eng, o.bob)
	srv.AddGroupMember(o.eng, o.carol)
	srv.AddGroupMember(o.alumni, o.dave)
	srv.AssignUser(app, o.alice, oktatest.ScopeUser, oktatest.StatusProvisioned, oktatest.WithExternalID("scim-alice"))
	srv.AssignGroup(app, o.eng)
	srv.AssignGroup(app, o.empty)
	return o
}

func TestPullSnapshot(t *testing.T) {
	srv := newFake(t)
	o := seedHandOrg(srv)
	c := newClient(t, srv, func(c *Config) { c.AppID = app })
	snap, err := c.Pull(context.Background(), PullOptions{PushGroups: []string{"alumni", o.eng, " ", "ALUMNI"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.AppUsers) != 3 {
		t.Fatalf("app users %+v", snap.AppUsers)
	}
	scopes := map[string]string{}
	for _, u := range snap.AppUsers {
		scopes[u.ID] = u.Scope
	}
	if scopes[o.alice] != "USER" || scopes[o.bob] != "GROUP" || scopes[o.carol] != "GROUP" {
		t.Errorf("scopes %v", scopes)
	}
	if a := snap.AppUsers[0]; a.ID != o.alice || a.ExternalID != "scim-alice" || a.Status != "PROVISIONED" || a.UserName != "alice@example.com" {
		t.Errorf("alice %+v", a)
	}
	want := map[string]Group{
		o.eng:    {ID: o.eng, Name: "Engineering", Type: "OKTA_GROUP", Source: SourceApp, Pushed: true},
		o.empty:  {ID: o.empty, Name: "Empty", Type: "OKTA_GROUP", Source: SourceApp},
		o.alumni: {ID: o.alumni, Name: "Alumni", Type: "OKTA_GROUP", Source: SourcePush, Pushed: true},
	}
	if len(snap.Groups) != len(want) {
		t.Fatalf("groups %+v", snap.Groups)
	}
	for _, g := range snap.Groups {
		if g != want[g.ID] {
			t.Errorf("group %+v, want %+v", g, want[g.ID])
		}
	}
	if ms := snap.Members[o.empty]; ms == nil || len(ms) != 0 {
		t.Errorf("empty group members %#v, want empty non-nil", ms)
	}
	if ms := snap.Members[o.eng]; len(ms) != 2 || ms[1].ID != o.carol || ms[1].Status != "SUSPENDED" || ms[1].FirstName != "Carol" {
		t.Errorf("Engineering members %+v", ms)
	}
	if ms := snap.Members[o.alumni]; len(ms) != 1 || ms[0].Login != "dave@example.com" {
		t.Errorf("Alumni members %+v", ms)
	}
	// 1 app users + 1 app groups + 1 name search + 3 member listings.
	if snap.Stats.APICalls != 6 || srv.TotalCalls() != 6 {
		t.Errorf("api calls %d (fake saw %d), want 6", snap.Stats.APICalls, srv.TotalCalls())
	}
}

func TestPullMinimumCallsOnGeneratedOrg(t *testing.T) {
	srv := newFake(t)
	res := srv.Seed(oktatest.GenOptions{Users: 3000, Groups: 90, Memberships: 9000})
	c := newClient(t, srv, nil)
	snap, err := c.Pull(context.Background(), PullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.AppUsers) != 3000 || len(snap.Groups) != 90 {
		t.Fatalf("%d app users, %d groups", len(snap.AppUsers), len(snap.Groups))
	}
	members := 0
	for _, g := range res.GroupIDs {
		if len(snap.Members[g]) != len(srv.GroupMembers(g)) {
			t.Fatalf("group %s: %d members, want %d", g, len(snap.Members[g]), len(srv.GroupMembers(g)))
		}
		members += len(snap.Members[g])
	}
	if members != res.Memberships {
		t.Errorf("%d memberships, want %d", members, res.Memberships)
	}
	if want := minPullCalls(srv, res.AppID); snap.Stats.APICalls != want || srv.TotalCalls() != want {
		t.Errorf("api calls %d (fake %d), want the minimum %d", snap.Stats.APICalls, srv.TotalCalls(), want)
	}
}

func TestPullFailsAsAWholeWhenOneGroupFails(t *testing.T) {
	srv := newFake(t)
	res := srv.Seed(oktatest.GenOptions{Users: 500, Groups: 30, Memberships: 1000})
	bad := res.GroupIDs[17]
	srv.AddFault(oktatest.Fault{Route: oktatest.RouteGroupUsers, Kind: oktatest.FaultStatus, Status: 503, Times: -1,
		Match: func(r *http.Request) bool { return r.PathValue("groupId") == bad }})
	c := newClient(t, srv, func(c *Config) { c.MaxRetries = 1 })
	snap, err := c.Pull(context.Background(), PullOptions{})
	if snap != nil {
		t.Fatal("partial snapshot returned")
	}
	ie := asIncomplete(t, err, ReasonServerError)
	if ie.Listing != "members of group "+bad || ie.Attempts != 2 {
		t.Errorf("%+v", ie)
	}
}

func TestPullUnknownPushGroup(t *testing.T) {
	srv := newFake(t)
	seedHandOrg(srv)
	c := newClient(t, srv, func(c *Config) { c.AppID = app })
	for _, ref := range []string{"Nobody", "00g00000000000000999"} {
		snap, err := c.Pull(context.Background(), PullOptions{PushGroups: []string{ref}})
		if snap != nil {
			t.Fatal("snapshot despite unknown push group")
		}
		asIncomplete(t, err, ReasonNotFound)
	}
}

func TestPullCanceled(t *testing.T) {
	srv := newFake(t)
	srv.Seed(oktatest.GenOptions{Users: 100, Groups: 20, Memberships: 200})
	srv.SlowDown(oktatest.RouteGroupUsers, 200*time.Millisecond)
	c := newClient(t, srv, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	snap, err := c.Pull(ctx, PullOptions{})
	if snap != nil {
		t.Fatal("snapshot despite cancellation")
	}
	asIncomplete(t, err, ReasonCanceled)
}

func TestPullRidesOut429Storm(t *testing.T) {
	srv := newFake(t)
	res := srv.Seed(oktatest.GenOptions{Users: 1500, Groups: 12, Memberships: 3000})
	srv.Storm429("", 6)
	c := newClient(t, srv, func(c *Config) { c.MaxRetries = 7 })
	snap, err := c.Pull(context.Background(), PullOptions{})
	if err != nil {
		t.Fatalf("429 storm not absorbed: %v", err)
	}
	st := snap.Stats
	if st.RateLimited != 6 || st.Retries != 6 || srv.Served429() != 6 {
		t.Errorf("stats %+v, fake served %d 429s; want 6 each", st, srv.Served429())
	}
	if want := minPullCalls(srv, res.AppID) + 6; st.APICalls != want {
		t.Errorf("api calls %d, want %d", st.APICalls, want)
	}
}

func TestPersistent429IsIncomplete(t *testing.T) {
	srv := newFake(t)
	srv.Seed(oktatest.GenOptions{Users: 10, Groups: 2, Memberships: 10})
	srv.Storm429(oktatest.RouteAppGroups, 1000)
	c := newClient(t, srv, func(c *Config) { c.MaxRetries = 2 })
	_, err := c.Pull(context.Background(), PullOptions{})
	ie := asIncomplete(t, err, ReasonRateLimited)
	if ie.ErrorCode != "E0000047" || ie.Attempts != 3 {
		t.Errorf("%+v", ie)
	}
}

// TestHonours429Reset: another client of the org exhausted the apps bucket;
// the 429's X-Rate-Limit-Reset says when it refills and the retry waits for it.
func TestHonours429Reset(t *testing.T) {
	srv := newFake(t, oktatest.WithRateLimit(oktatest.BucketApps, 3, time.Second))
	seedUsers(srv, 10)
	var reset time.Time
	for {
		// Exhaust the bucket like a neighbour would, leaving >= 400 ms of window.
		var resp *http.Response
		for range 4 {
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/v1/apps/"+oktatest.DefaultAppID+"/users", nil)
			req.Header.Set("Authorization", "SSWS "+srv.Token)
			r, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			r.Body.Close()
			resp = r
		}
		sec, _ := strconv.ParseInt(resp.Header.Get("X-Rate-Limit-Reset"), 10, 64)
		reset = time.Unix(sec, 0)
		if resp.StatusCode == 429 && time.Until(reset) >= 400*time.Millisecond {
			break
		}
		time.Sleep(time.Until(reset) + 10*time.Millisecond)
	}
	c := newClient(t, srv, func(c *Config) { c.RateLimitReserve = -1 })
	users, err := c.ListAppUsers(context.Background())
	if err != nil || len(users) != 10 {
		t.Fatalf("%d users, %v", len(users), err)
	}
	if time.Now().Before(reset) {
		t.Error("retried before the bucket reset")
	}
	if st := c.Stats(); st.RateLimited != 1 || st.Retries != 1 {
		t.Errorf("stats %+v, want one 429 and one retry", st)
	}
}

// TestProactiveThrottle: with a 4-request window and the default reserve of
// half the bucket, the client never takes more than 2 per window and never
// sees a 429.
func TestProactiveThrottle(t *testing.T) {
	srv := newFake(t, oktatest.WithRateLimit(oktatest.BucketApps, 4, time.Second))
	seedUsers(srv, 2800) // 6 pages: 3 windows at 2 requests each
	c := newClient(t, srv, nil)
	users, err := c.ListAppUsers(context.Background())
	if err != nil || len(users) != 2800 {
		t.Fatalf("%d users, %v", len(users), err)
	}
	st := c.Stats()
	if srv.Served429() != 0 || st.RateLimited != 0 {
		t.Errorf("%d 429s", srv.Served429())
	}
	if peak := srv.BucketPeak(oktatest.BucketApps); peak > 2 {
		t.Errorf("client used %d of 4 requests in one window, want <= 2 (reserve 0.5)", peak)
	}
	if st.ThrottleWaits < 1 || st.ThrottleWait <= 0 {
		t.Errorf("throttle never waited: %+v", st)
	}
}

func TestMaxInFlight(t *testing.T) {
	srv := newFake(t)
	srv.Seed(oktatest.GenOptions{Users: 200, Groups: 24, Memberships: 400})
	srv.SlowDown(oktatest.RouteGroupUsers, 30*time.Millisecond)
	c := newClient(t, srv, func(c *Config) { c.MaxInFlight = 3 })
	if _, err := c.Pull(context.Background(), PullOptions{}); err != nil {
		t.Fatal(err)
	}
	if m := srv.MaxConcurrent(); m > 3 || m < 2 {
		t.Errorf("fake saw %d concurrent requests, want 2..3 (MaxInFlight 3)", m)
	}
}

func pemOf(t *testing.T, pkcs8 bool) string {
	t.Helper()
	key := rsaKey(t)
	if pkcs8 {
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
}

func TestPrivateKeyAuth(t *testing.T) {
	cases := []struct {
		name string
		set  func(t *testing.T, o *OAuthConfig)
	}{
		{"PKCS1 PEM", func(t *testing.T, o *OAuthConfig) { o.PrivateKeyPEM = pemOf(t, false) }},
		{"PKCS8 file", func(t *testing.T, o *OAuthConfig) {
			p := filepath.Join(t.TempDir(), "key.pem")
			if err := os.WriteFile(p, []byte(pemOf(t, true)), 0o600); err != nil {
				t.Fatal(err)
			}
			o.PrivateKeyFile = p
		}},
		{"PKCS8 escaped newlines", func(t *testing.T, o *OAuthConfig) {
			o.PrivateKeyPEM = strings.ReplaceAll(pemOf(t, true), "\n", `\n`)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := newFake(t)
			o := seedHandOrg(srv)
			srv.RegisterServiceApp("0oaservice", &rsaKey(t).PublicKey, "key-1")
			c := newClient(t, srv, func(c *Config) {
				c.AppID, c.APIToken = app, ""
				c.OAuth = OAuthConfig{ClientID: "0oaservice", KeyID: "key-1"}
				tc.set(t, &c.OAuth)
			})
			snap, err := c.Pull(context.Background(), PullOptions{PushGroups: []string{o.alumni}})
			if err != nil {
				t.Fatal(err)
			}
			if len(snap.AppUsers) != 3 || len(snap.Groups) != 3 {
				t.Errorf("%d app users, %d groups", len(snap.AppUsers), len(snap.Groups))
			}
			if srv.TokensIssued() < 1 || snap.Stats.TokenRequests != srv.TokensIssued() {
				t.Errorf("tokens issued %d, client token requests %d", srv.TokensIssued(), snap.Stats.TokenRequests)
			}
		})
	}
}

func TestPrivateKeyAuthFailures(t *testing.T) {
	srv := newFake(t)
	seedHandOrg(srv)
	keyPEM := pemOf(t, false)
	srv.RegisterServiceApp("0oaappsonly", &rsaKey(t).PublicKey, "", "okta.apps.read")

	oauth := func(client string, scopes ...string) func(*Config) {
		return func(c *Config) {
			c.AppID, c.APIToken = app, ""
			c.OAuth = OAuthConfig{ClientID: client, PrivateKeyPEM: keyPEM, Scopes: scopes}
		}
	}
	// Unknown client: the token endpoint answers invalid_client.
	_, err := newClient(t, srv, oauth("0oanobody")).Pull(context.Background(), PullOptions{})
	if ie := asIncomplete(t, err, ReasonUnauthorized); ie.ErrorCode != "invalid_client" {
		t.Errorf("%+v", ie)
	}
	// Scope not granted to the app: invalid_scope.
	_, err = newClient(t, srv, oauth("0oaappsonly")).Pull(context.Background(), PullOptions{})
	if ie := asIncomplete(t, err, ReasonUnauthorized); ie.ErrorCode != "invalid_scope" {
		t.Errorf("%+v", ie)
	}
	// Token endpoint unreachable: a transport error that does not leak the
	// client assertion (sent in the query string) into the message.
	stop := srv.DisconnectNth(oktatest.RouteToken, 1, -1)
	_, err = newClient(t, srv, oauth("0oaappsonly", "okta.apps.read")).ListAppUsers(context.Background())
	stop()
	asIncomplete(t, err, ReasonTransport)
	if strings.Contains(err.Error(), "client_assertion") || strings.Contains(err.Error(), "eyJ") {
		t.Errorf("error leaks the client assertion: %v", err)
	}
	// A token without okta.groups.read is refused by the groups API: 403.
	c := newClient(t, srv, oauth("0oaappsonly", "okta.apps.read"))
	_, err = c.ListGroupMembers(context.Background(), "00g00000000000000001")
	if ie := asIncomplete(t, err, ReasonForbidden); ie.StatusCode != 403 {
		t.Errorf("%+v", ie)
	}
}

func TestConfigValidation(t *testing.T) {
	srv := newFake(t)
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecDER, _ := x509.MarshalPKCS8PrivateKey(ec)
	ecPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecDER}))
	bad := []func(*Config){
		func(c *Config) { c.OrgURL = "" },
		func(c *Config) { c.AllowInsecureHTTP = false }, // http:// fake URL
		func(c *Config) { c.OrgURL += "/api/v1" },
		func(c *Config) { c.AppID = "0oa/../x" },
		func(c *Config) { c.APIToken = "" },
		func(c *Config) { c.OAuth = OAuthConfig{ClientID: "x", PrivateKeyPEM: pemOf(t, false)} }, // both
		func(c *Config) { c.APIToken, c.OAuth = "", OAuthConfig{ClientID: "x"} },                 // no key
		func(c *Config) { c.APIToken, c.OAuth = "", OAuthConfig{ClientID: "x", PrivateKeyPEM: "junk"} },
		func(c *Config) { c.APIToken, c.OAuth = "", OAuthConfig{ClientID: "x", PrivateKeyPEM: ecPEM} },
		func(c *Config) {
			c.APIToken, c.OAuth = "", OAuthConfig{ClientID: "x", PrivateKeyFile: "/nonexistent/key.pem"}
		},
		func(c *Config) { c.MaxInFlight = 100 },
		func(c *Config) { c.RateLimitReserve = 1 },
	}
	for i, mod := range bad {
		cfg := testConfig(srv)
		mod(&cfg)
		if _, err := New(cfg, zeroLogger()); err == nil {
			t.Errorf("case %d: config accepted", i)
		}
	}
	cfg := testConfig(srv)
	cfg.OrgURL += "/"
	if _, err := New(cfg, zeroLogger()); err != nil {
		t.Errorf("trailing slash: %v", err)
	}
}
