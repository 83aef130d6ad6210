package scimserver_test

// Benchmarks of the hot SCIM paths through the handler (httptest.Recorder,
// no network), on both backends. They report allocations and assert no
// timings. Run with: go test -run NONE -bench . -benchmem ./scimserver

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/scimserver"
	"github.com/axonflow/axonflow-sync/store"
)

// benchEnv is a handler on one backend with one tenant and its token.
type benchEnv struct {
	st     store.State
	h      http.Handler
	tenant string
	auth   string
}

func newBenchEnv(b *testing.B, open func(testing.TB) store.State) *benchEnv {
	b.Helper()
	st := open(b)
	tenant := uniqueID("bench-")
	secret, _, err := store.IssueToken(context.Background(), st, tenant, "bench", 0, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	return &benchEnv{st: st, tenant: tenant, auth: "Bearer " + secret,
		h: scimserver.New(scimserver.Options{Store: st, Logger: zerolog.Nop()})}
}

// serve runs one Okta-shaped request through the handler and checks the status.
func (e *benchEnv) serve(b *testing.B, method, target string, body []byte, want int) *httptest.ResponseRecorder {
	var req *http.Request
	if body != nil {
		req = httptest.NewRequest(method, "http://scim.example.com"+scimserver.BasePath+target, bytes.NewReader(body))
		req.Header.Set("Content-Type", oktaCT)
	} else {
		req = httptest.NewRequest(method, "http://scim.example.com"+scimserver.BasePath+target, nil)
	}
	req.Header.Set("Authorization", e.auth)
	req.Header.Set("User-Agent", oktaUA)
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	if rec.Code != want {
		b.Fatalf("%s %s: %d %s", method, target, rec.Code, rec.Body.String())
	}
	return rec
}

func mustJSON(b *testing.B, v any) []byte {
	buf, err := json.Marshal(v)
	if err != nil {
		b.Fatal(err)
	}
	return buf
}

// eachBackendBench runs fn as sub-benchmarks "sqlite" and "redis".
func eachBackendBench(b *testing.B, fn func(b *testing.B, e *benchEnv)) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) { fn(b, newBenchEnv(b, be.open)) })
	}
}

// BenchmarkFilterLookup: Okta's assignment lookup, GET /Users?filter=
// userName eq "..." (another letter case), among 1,000 users.
func BenchmarkFilterLookup(b *testing.B) {
	eachBackendBench(b, func(b *testing.B, e *benchEnv) {
		const n = 1000
		seedUsers(b, e.st, e.tenant, "lookup-", n)
		targets := make([]string, n)
		for i := range targets {
			targets[i] = "/Users" + filterQS(fmt.Sprintf(`userName eq "LOOKUP-%d@EXAMPLE.COM"`, i)) + "&startIndex=1&count=100"
		}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			rec := e.serve(b, http.MethodGet, targets[i%n], nil, http.StatusOK)
			if !bytes.Contains(rec.Body.Bytes(), []byte(`"totalResults":1`)) {
				b.Fatalf("lookup found nothing: %s", rec.Body)
			}
			i++
		}
	})
}

// BenchmarkCreateUser: Okta's POST /Users of a full user, into a tenant
// that grows with b.N.
func BenchmarkCreateUser(b *testing.B) {
	eachBackendBench(b, func(b *testing.B, e *benchEnv) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			body := mustJSON(b, oktaUser(fmt.Sprintf("create-%d@example.com", i), fmt.Sprintf("00uBench%d", i)))
			e.serve(b, http.MethodPost, "/Users", body, http.StatusCreated)
			i++
		}
	})
}

// benchMemberAdd measures PATCH /Groups/{id} adding one member (with Okta's
// path-less rename) to a group of size members, built through the store in
// batches. Added members come from a pool of spares that is emptied out of
// the timer when used up, so the group stays at size+[0, pool) members.
func benchMemberAdd(b *testing.B, size int) {
	eachBackendBench(b, func(b *testing.B, e *benchEnv) {
		const pool = 1000
		ids := seedUsers(b, e.st, e.tenant, "member-", size+pool)
		members, spares := ids[:size], ids[size:]
		g := seedGroup(b, e.st, e.tenant, "Bench Group", members)
		bodies := make([][]byte, pool)
		for i, id := range spares {
			bodies[i] = mustJSON(b, patchBody(
				op("replace", "", map[string]any{"id": g, "displayName": "Bench Group"}),
				op("add", "members", []any{map[string]any{"value": id, "display": id}})))
		}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if i == pool {
				b.StopTimer()
				if _, err := e.st.UpdateGroup(context.Background(), e.tenant, g, store.GroupChange{Remove: spares, At: time.Now()}); err != nil {
					b.Fatal(err)
				}
				i = 0
				b.StartTimer()
			}
			e.serve(b, http.MethodPatch, "/Groups/"+g, bodies[i], http.StatusNoContent)
			i++
		}
	})
}

// BenchmarkMemberAdd10 adds one member to a 10-member group.
func BenchmarkMemberAdd10(b *testing.B) { benchMemberAdd(b, 10) }

// BenchmarkMemberAdd100k adds one member to a 100,000-member group: its
// cost should be close to BenchmarkMemberAdd10's (C18: a PATCH costs the
// delta, not the group size).
func BenchmarkMemberAdd100k(b *testing.B) { benchMemberAdd(b, 100_000) }

// BenchmarkGetUser: Okta's GET /Users/{id} of a full Okta-shaped user (name,
// emails, externalId, locale, displayName; in no group), among 100 users:
// authentication, the store read, rendering and JSON encoding.
func BenchmarkGetUser(b *testing.B) {
	eachBackendBench(b, func(b *testing.B, e *benchEnv) {
		const n = 100
		ids := make([]string, n)
		for i := range ids {
			rec := e.serve(b, http.MethodPost, "/Users", mustJSON(b, oktaUser(fmt.Sprintf("get-%d@example.com", i), fmt.Sprintf("00u%017d", i))), http.StatusCreated)
			var v struct{ ID string }
			if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil || v.ID == "" {
				b.Fatalf("create: %v %s", err, rec.Body)
			}
			ids[i] = "/Users/" + v.ID
		}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			e.serve(b, http.MethodGet, ids[i%n], nil, http.StatusOK)
			i++
		}
	})
}

// BenchmarkGetUserInGroups: GET /Users/{id} of a user in 3 of 10 groups,
// among 100 users: BenchmarkGetUser's work plus the groups' names (read
// with the user context, in the same store read).
func BenchmarkGetUserInGroups(b *testing.B) {
	eachBackendBench(b, func(b *testing.B, e *benchEnv) {
		const n, groups = 100, 10
		ids := seedUsers(b, e.st, e.tenant, "grouped-", n)
		for g := range groups {
			var members []string
			for i, id := range ids {
				if i%groups == g || (i+1)%groups == g || (i+2)%groups == g {
					members = append(members, id)
				}
			}
			grp := &mapping.Group{ID: fmt.Sprintf("g%d", g), Attrs: mapping.Attrs{"displayName": fmt.Sprintf("group-%d", g)},
				Created: time.Now().UTC(), LastModified: time.Now().UTC(), Version: 1}
			if err := e.st.CreateGroup(context.Background(), e.tenant, grp, members); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			rec := e.serve(b, http.MethodGet, "/Users/"+ids[i%n], nil, http.StatusOK)
			if !bytes.Contains(rec.Body.Bytes(), []byte(`"display":"group-`)) {
				b.Fatalf("no groups: %s", rec.Body)
			}
			i++
		}
	})
}
