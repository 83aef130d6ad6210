package sync

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"

	"github.com/axonflow/axonflow-sync/internal/testredis"
	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/store"
	"github.com/axonflow/axonflow-sync/store/redisstore"
	"github.com/axonflow/axonflow-sync/store/sqlitestore"
	"github.com/axonflow/axonflow-sync/sync/oktasource"
	"github.com/axonflow/axonflow-sync/sync/oktatest"
)

func TestMain(m *testing.M) { os.Exit(testredis.Main(m)) }

const app = oktatest.DefaultAppID

// backends are the store backends every end-to-end test runs against.
var backends = []string{"redis", "sqlite"}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// openStore opens a fresh store of the given backend, closed with the test.
func openStore(t testing.TB, backend string) store.State {
	t.Helper()
	ctx := context.Background()
	var st store.State
	var err error
	switch backend {
	case "redis":
		st, err = redisstore.Open(ctx, testredis.URL(t), redisstore.Options{Timeout: 10 * time.Second})
	case "sqlite":
		st, err = sqlitestore.Open(ctx, t.TempDir()+"/axonflow-sync.db", zerolog.Nop())
	default:
		t.Fatalf("unknown backend %q", backend)
	}
	if err != nil {
		t.Fatalf("open %s store: %v", backend, err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// env is one tenant in a fresh store plus a fake Okta org.
type env struct {
	t      testing.TB
	ctx    context.Context
	okta   *oktatest.Server
	st     store.State
	tenant string
	runner *Runner
	limits Limits
	// cfg adjusts the Okta config of every run (nil: none).
	cfg func(*oktasource.Config)
}

func newEnv(t testing.TB, backend string, opts ...oktatest.Option) *env {
	t.Helper()
	srv := oktatest.New(opts...)
	t.Cleanup(srv.Close)
	srv.AddApp(app)
	e := &env{t: t, ctx: context.Background(), okta: srv, st: openStore(t, backend),
		tenant: "t-" + randHex(6), limits: Limits{MaxChanges: 10000, MaxChangePercent: 100}}
	if _, err := e.st.EnsureTenant(e.ctx, e.tenant, time.Now()); err != nil {
		t.Fatal(err)
	}
	e.runner = NewRunner(RunnerOptions{Store: loggedStore(t, e.st), Logger: testLogger(t), Replica: "test-replica", LeaseTTL: 5 * time.Second})
	return e
}

func testLogger(t testing.TB) zerolog.Logger {
	return zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)
}

// oktaConfig is the Okta connection to the fake with millisecond backoff.
func (e *env) oktaConfig() oktasource.Config {
	c := oktasource.Config{OrgURL: e.okta.URL, AppID: app, APIToken: e.okta.Token, AllowInsecureHTTP: true,
		MaxRetries: 3, RetryWaitMin: time.Millisecond, RetryWaitMax: 5 * time.Millisecond, RequestTimeout: 10 * time.Second}
	if e.cfg != nil {
		e.cfg(&c)
	}
	return c
}

func (e *env) options(mode Mode) RunOptions {
	return RunOptions{Tenant: e.tenant, Mode: mode, Trigger: "test", Okta: e.oktaConfig(), Limits: e.limits}
}

// run runs one reconciliation and fails the test on an error.
func (e *env) run(mode Mode) *Report {
	e.t.Helper()
	rep, err := e.runner.Run(e.ctx, e.options(mode))
	if err != nil {
		e.t.Fatalf("%s run: %v", mode, err)
	}
	return rep
}

// oktaUser adds an Okta user assigned to the app directly with app user
// status status ("" = ACTIVE) and returns its id.
func (e *env) oktaUser(login, first, last string, status string, opts ...oktatest.AppUserOption) string {
	id := e.okta.AddUser(oktatest.User{Login: login, Email: login, FirstName: first, LastName: last})
	e.okta.AssignUser(app, id, oktatest.ScopeUser, status, opts...)
	return id
}

// oktaGroup adds an Okta group assigned to the app with the given members.
func (e *env) oktaGroup(name string, members ...string) string {
	id := e.okta.AddGroup(oktatest.Group{Name: name})
	for _, m := range members {
		e.okta.AddGroupMember(id, m)
	}
	e.okta.AssignGroup(app, id)
	return id
}

// pushUser stores a user as Okta's SCIM push would have created it.
func (e *env) pushUser(oktaID, login, first, last string, active bool, origin string) string {
	e.t.Helper()
	attrs, err := normalizeUser(mapping.ApplyIdentity(nil, mapping.IdentityFromOkta(oktaID, login, login, first, last, active)))
	if err != nil {
		e.t.Fatal(err)
	}
	now := time.Now().UTC()
	u := &mapping.User{ID: uuid.NewString(), Attrs: attrs, Origin: origin, Created: now, LastModified: now}
	if err := e.st.CreateUser(e.ctx, e.tenant, u); err != nil {
		e.t.Fatalf("CreateUser %s: %v", login, err)
	}
	return u.ID
}

// pushGroup stores a group as Okta's group push would have (no Okta id).
func (e *env) pushGroup(name, origin, oktaID string, members ...string) string {
	e.t.Helper()
	now := time.Now().UTC()
	g := &mapping.Group{ID: uuid.NewString(), Attrs: mapping.Attrs{"displayName": name}, OktaID: oktaID,
		Origin: origin, Created: now, LastModified: now}
	if err := e.st.CreateGroup(e.ctx, e.tenant, g, members); err != nil {
		e.t.Fatalf("CreateGroup %s: %v", name, err)
	}
	return g.ID
}

// snapshot is everything of the tenant in the store, for "nothing changed"
// assertions: users and groups (with versions) and memberships.
type snapshot struct {
	Users   map[string]*mapping.User
	Groups  map[string]*mapping.Group
	Members map[string][]string
}

func (e *env) snapshot() snapshot {
	e.t.Helper()
	s := snapshot{Users: map[string]*mapping.User{}, Groups: map[string]*mapping.Group{}, Members: map[string][]string{}}
	us, err := e.st.ListUsers(e.ctx, e.tenant, 0, 1_000_000)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, u := range us.Items {
		s.Users[u.ID] = u
	}
	gs, err := e.st.ListGroups(e.ctx, e.tenant, 0, 1_000_000)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, g := range gs.Items {
		s.Groups[g.ID] = g
		ms, err := e.st.GroupMembers(e.ctx, e.tenant, g.ID)
		if err != nil {
			e.t.Fatal(err)
		}
		slices.Sort(ms)
		s.Members[g.ID] = ms
	}
	return s
}

// sameSnapshot fails unless a and b hold the same objects at the same
// versions with the same members.
func sameSnapshot(t testing.TB, what string, a, b snapshot) {
	t.Helper()
	if len(a.Users) != len(b.Users) || len(a.Groups) != len(b.Groups) {
		t.Fatalf("%s: %d users / %d groups became %d / %d", what, len(a.Users), len(a.Groups), len(b.Users), len(b.Groups))
	}
	for id, u := range a.Users {
		v := b.Users[id]
		if v == nil || v.Version != u.Version || !v.Attrs.Equal(u.Attrs) {
			t.Fatalf("%s: user %s changed: %+v → %+v", what, id, u, v)
		}
	}
	for id, g := range a.Groups {
		h := b.Groups[id]
		if h == nil || h.Version != g.Version || !slices.Equal(a.Members[id], b.Members[id]) {
			t.Fatalf("%s: group %s changed", what, id)
		}
	}
}

// count returns how many drift entries of kind rep has.
func count(rep *Report, k Kind) int { return rep.Summary[k] }

// findDrift returns the entries of kind k.
func findDrift(rep *Report, k Kind) []Drift {
	var out []Drift
	for _, d := range rep.Drift {
		if d.Kind == k {
			out = append(out, d)
		}
	}
	return out
}

// allBackends runs fn as a subtest per backend, in parallel.
func allBackends(t *testing.T, fn func(t *testing.T, backend string)) {
	for _, b := range backends {
		t.Run(b, func(t *testing.T) {
			t.Parallel()
			fn(t, b)
		})
	}
}

// loggedStore is st wired as cmd wires it: user and group writes recorded
// in the provisioning log (store.Logged); a failed rejected-entry write
// fails the test.
func loggedStore(t testing.TB, st store.State) store.State {
	return store.Logged(st, func(ctx context.Context, tenant string, e store.LogEntry) {
		if err := st.AppendLog(ctx, tenant, e); err != nil {
			t.Errorf("provisioning log entry not written: %v", err)
		}
	})
}
