package scimserver_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/axonflow/axonflow-sync/internal/testredis"
	"github.com/axonflow/axonflow-sync/store/redisstore"
)

// TestRedisRoundTripsPerRead: once a token has been used (so the token
// cache holds it), GET /Users/{id} and an indexed lookup (userName,
// externalId, id; unknown names too) each make exactly one Redis round
// trip, whether or not the user is in groups, and a page of GET /Users
// three (ListUsers' two and one UserContext for the whole page, groups
// included), counted by a go-redis hook on the store's client.
// A request is retried a few times when it took two (the cache is bypassed
// for a moment whenever its pub/sub lease lapses, e.g. on a busy machine);
// it must never take more, and must take exactly one at least once.
func TestRedisRoundTripsPerRead(t *testing.T) {
	st, err := redisstore.Open(context.Background(), testredis.URL(t), redisstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	rt := &testredis.Trips{}
	st.Client().AddHook(rt)
	e := newEnv(t, st)
	id := e.createUser(t, "rt-ada@example.com", map[string]any{"externalId": "rt-ext-ada"})
	grouped := e.createUser(t, "rt-bob@example.com")
	e.createGroup(t, "rt-admins", grouped)
	e.createGroup(t, "rt-ops", grouped, id)
	loner := e.createUser(t, "rt-cy@example.com")

	cost := func(path string) int64 {
		t.Helper()
		before := rt.N()
		r := e.get(t, path)
		if r.Status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, r.Status, r.Raw)
		}
		return rt.N() - before
	}
	filter := func(f string) string { return "/Users?filter=" + url.QueryEscape(f) }
	// Warm up: the first use writes lastUsedAt and loads the scripts, and the
	// token cache needs its subscription confirmed.
	deadline := time.Now().Add(10 * time.Second)
	for cost("/Users/"+id) != 1 {
		if time.Now().After(deadline) {
			t.Fatal("GET /Users/{id} never took a single round trip")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cost(filter(`userName eq "rt-ada@example.com"`))

	for _, c := range []struct {
		path string
		want int64
	}{
		{"/Users/" + id, 1},
		{"/Users/" + id + "?attributes=userName", 1},
		{filter(`userName eq "rt-ada@example.com"`), 1},
		{filter(`userName eq "RT-ADA@example.com" and active eq true`), 1},
		{filter(`externalId eq "rt-ext-ada"`), 1},
		{filter(`userName eq "nobody@example.com"`), 1},
		{filter(`id eq "` + id + `"`), 1},
		// A user in no group, and one in two: the groups are part of the
		// same read.
		{"/Users/" + loner, 1},
		{filter(`userName eq "rt-cy@example.com"`), 1},
		{"/Users/" + grouped, 1},
		{"/Users/" + grouped + "?attributes=groups", 1},
		{filter(`userName eq "rt-bob@example.com"`), 1},
		// A list page: ListUsers (2), then one UserContext of the page.
		{"/Users", 3},
		{"/Users?startIndex=2&count=1", 3},
	} {
		var got []int64
		for range 5 {
			n := cost(c.path)
			got = append(got, n)
			if n == c.want {
				break
			}
			if n < c.want || n > c.want+1 {
				break
			}
		}
		if got[len(got)-1] != c.want {
			t.Errorf("GET %s: %v round trips; want %d", c.path, got, c.want)
		}
	}
	// The groups come with that one read: names, in creation order.
	var names []string
	gs, _ := e.get(t, "/Users/"+grouped).Body["groups"].([]any)
	for _, g := range gs {
		m, _ := g.(map[string]any)
		names = append(names, fmt.Sprint(m["display"]))
	}
	if !slices.Equal(names, []string{"rt-admins", "rt-ops"}) {
		t.Errorf("GET /Users/%s groups %v; want [rt-admins rt-ops]", grouped, names)
	}
}
