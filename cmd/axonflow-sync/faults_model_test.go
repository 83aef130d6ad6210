package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/axonflow/axonflow-sync/internal/testredis"
	"github.com/axonflow/axonflow-sync/scimserver"
	"github.com/axonflow/axonflow-sync/store"
)

// The model of TestFaultConcurrentWorkersModel: what the directory must hold
// after the acknowledged operations, replayed in the order they were
// answered.

type modelUser struct {
	userName, displayName, givenName string
	active                           bool
}

type dirModel struct {
	users   map[string]*modelUser      // id → user
	groups  map[string]string          // id → displayName
	members map[string]map[string]bool // group id → member ids
	renamed map[string]bool            // ids of users whose userName changed
	retired map[string]bool            // userNames given up by a rename
}

// modelOp is one acknowledged operation: seq is the order in which its 2xx
// answer arrived (global), apply changes the model as the request did.
type modelOp struct {
	seq   int64
	desc  string
	apply func(m *dirModel)
}

// TestFaultConcurrentWorkersModel: 16 workers send 2,000 random SCIM
// operations (user creates, userName and displayName renames, PUTs,
// deactivations and reactivations, group creates and renames, member adds
// and removes) to one server. Each worker owns the users and groups it
// creates (only it renames, replaces or deactivates them); membership
// changes go to shared groups too, but a (group, user) pair is only ever
// changed by the user's owner, so operations on different resources
// commute and each resource sees its operations in one worker's order. The
// final directory must equal the replay of the acknowledged operations in
// the order their answers arrived: users, names, active flags, groups,
// memberships (from both sides) and the userName index; store verify is
// clean. On Redis and on the embedded store.
func TestFaultConcurrentWorkersModel(t *testing.T) {
	for _, name := range []string{"redis", "embedded"} {
		t.Run(name, func(t *testing.T) {
			be := embeddedBackend(t)
			if name == "redis" {
				be = redisBackend(testredis.URL(t))
			}
			testWorkersModel(t, be)
		})
	}
}

func testWorkersModel(t *testing.T, be storeBackend) {
	st := be.open(t)
	const (
		workers      = 16
		opsPerWorker = 125 // 2,000 in all
		sharedGroups = 4
		budget       = 60 * time.Second
	)
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	tenant := fmt.Sprintf("model-%d", time.Now().UnixNano())
	secret, _, err := store.IssueToken(context.Background(), st, tenant, "okta", 0, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(scimserver.New(scimserver.Options{Store: st, Logger: zerolog.Nop()}))
	t.Cleanup(srv.Close)
	c := newSCIMClient(strings.TrimPrefix(srv.URL, "http://"), secret, workers)

	model := &dirModel{users: map[string]*modelUser{}, groups: map[string]string{}, members: map[string]map[string]bool{},
		renamed: map[string]bool{}, retired: map[string]bool{}}
	var shared []string
	for i := range sharedGroups {
		name := fmt.Sprintf("Shared %d", i)
		id := c.must(t, 201, "POST", "/Groups", oktaGroupBody(name))["id"].(string)
		shared = append(shared, id)
		model.groups[id], model.members[id] = name, map[string]bool{}
	}

	var seq atomic.Int64
	deadline := time.Now().Add(budget)
	logs := make([][]modelOp, workers)
	errs := make([][]string, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(w)))
			// The worker's own view, to pick meaningful operations; the
			// model is built only from what was acknowledged.
			type ownUser struct {
				id, userName string
				active       bool
			}
			var users []*ownUser
			var groups []string // owned group ids
			in := map[[2]string]bool{}
			renames := 0
			for i := 0; i < opsPerWorker && time.Now().Before(deadline); i++ {
				var method, path, body, desc string
				var apply func(m *dirModel, resp map[string]any)
				var onAck func(resp map[string]any) // updates the worker's own view
				want := 200
				p := rng.IntN(100)
				if len(users) == 0 {
					p = 0
				}
				switch {
				case p < 20: // create a user
					un := fmt.Sprintf("m%d-%d@example.com", w, i)
					given := fmt.Sprintf("G%d-%d", w, i)
					method, path, body, want = "POST", "/Users", oktaUserBody(un, given, "Model"), 201
					desc = "create user " + un
					apply = func(m *dirModel, resp map[string]any) {
						m.users[resp["id"].(string)] = &modelUser{userName: un, displayName: given + " Model", givenName: given, active: true}
					}
					onAck = func(resp map[string]any) {
						users = append(users, &ownUser{id: resp["id"].(string), userName: un, active: true})
					}
				case p < 30: // rename userName (any letter case)
					u := users[rng.IntN(len(users))]
					renames++
					un := fmt.Sprintf("M%d-R%d@Example.com", w, renames)
					method, path, body = "PATCH", "/Users/"+u.id, oktaReplaceBody("userName", un)
					desc = "rename user " + u.id + " to " + un
					uid := u.id
					apply = func(m *dirModel, _ map[string]any) {
						m.retired[strings.ToLower(m.users[uid].userName)] = true
						m.users[uid].userName = un
						m.renamed[uid] = true
					}
					onAck = func(map[string]any) { u.userName = un }
				case p < 38: // displayName
					u := users[rng.IntN(len(users))]
					dn := fmt.Sprintf("Display %d-%d", w, i)
					method, path, body = "PATCH", "/Users/"+u.id, oktaReplaceBody("displayName", dn)
					desc = "displayName of " + u.id
					uid := u.id
					apply = func(m *dirModel, _ map[string]any) { m.users[uid].displayName = dn }
				case p < 45: // PUT: Okta's full replace with a new givenName
					u := users[rng.IntN(len(users))]
					given := fmt.Sprintf("P%d-%d", w, i)
					method, path = "PUT", "/Users/"+u.id
					body = fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":%q,"userName":%q,`+
						`"name":{"givenName":%q,"familyName":"Model"},"displayName":%q,"active":%t,"groups":[]}`,
						u.id, u.userName, given, given+" Model", u.active)
					desc = "PUT " + u.id
					uid, un, active := u.id, u.userName, u.active
					apply = func(m *dirModel, _ map[string]any) {
						m.users[uid] = &modelUser{userName: un, displayName: given + " Model", givenName: given, active: active}
					}
				case p < 55: // deactivate or reactivate (Okta's path-less PATCH)
					u := users[rng.IntN(len(users))]
					active := !u.active
					method, path, body = "PATCH", "/Users/"+u.id, oktaActiveBody(active)
					desc = fmt.Sprintf("active=%t %s", active, u.id)
					uid := u.id
					apply = func(m *dirModel, _ map[string]any) { m.users[uid].active = active }
					onAck = func(map[string]any) { u.active = active }
				case p < 60 && len(groups) < 3: // create an owned group
					dn := fmt.Sprintf("Team %d-%d", w, i)
					method, path, body, want = "POST", "/Groups", oktaGroupBody(dn), 201
					desc = "create group " + dn
					apply = func(m *dirModel, resp map[string]any) {
						id := resp["id"].(string)
						m.groups[id], m.members[id] = dn, map[string]bool{}
					}
					onAck = func(resp map[string]any) { groups = append(groups, resp["id"].(string)) }
				case p < 65 && len(groups) > 0: // rename an owned group
					g := groups[rng.IntN(len(groups))]
					dn := fmt.Sprintf("team %d-%d renamed", w, i)
					method, path, body, want = "PATCH", "/Groups/"+g, oktaReplaceBody("displayName", dn), 204
					desc = "rename group " + g
					apply = func(m *dirModel, _ map[string]any) { m.groups[g] = dn }
				default: // member add or remove, shared or owned group
					u := users[rng.IntN(len(users))]
					pool := shared
					if len(groups) > 0 && rng.IntN(3) == 0 {
						pool = groups
					}
					g := pool[rng.IntN(len(pool))]
					uid := u.id
					add := !in[[2]string{g, uid}]
					if rng.IntN(10) == 0 {
						add = !add // also adds of members and removes of non-members
					}
					want = 204
					if add {
						method, path, body = "PATCH", "/Groups/"+g, oktaAddMemberBody(uid, u.userName)
						desc = "add " + uid + " to " + g
						apply = func(m *dirModel, _ map[string]any) { m.members[g][uid] = true }
						onAck = func(map[string]any) { in[[2]string{g, uid}] = true }
					} else {
						method, path, body = "PATCH", "/Groups/"+g, oktaRemoveMemberBody(uid)
						desc = "remove " + uid + " from " + g
						apply = func(m *dirModel, _ map[string]any) { delete(m.members[g], uid) }
						onAck = func(map[string]any) { delete(in, [2]string{g, uid}) }
					}
				}
				code, b, err := c.do(method, path, body)
				n := seq.Add(1)
				if err != nil || code != want {
					errs[w] = append(errs[w], fmt.Sprintf("%s: %s %s: %d %v %s (want %d)", desc, method, path, code, err, b, want))
					continue // not acknowledged: the model ignores it
				}
				var resp map[string]any
				if len(b) > 0 {
					_ = json.Unmarshal(b, &resp)
				}
				logs[w] = append(logs[w], modelOp{seq: n, desc: desc, apply: func(m *dirModel) { apply(m, resp) }})
				if onAck != nil {
					onAck(resp)
				}
			}
		}()
	}
	wg.Wait()
	t.Logf("load: %v", time.Since(deadline.Add(-budget)))
	for w, es := range errs {
		for _, e := range es {
			t.Errorf("worker %d: %s", w, e)
		}
	}
	var all []modelOp
	for _, l := range logs {
		all = append(all, l...)
	}
	if len(all) != workers*opsPerWorker {
		t.Errorf("%d operations acknowledged, want %d (time budget %v)", len(all), workers*opsPerWorker, budget)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].seq < all[j].seq })
	for _, op := range all {
		op.apply(model)
	}
	t0 := time.Now()
	checkModel(t, c, model)
	t.Logf("check: %v", time.Since(t0))
	t0 = time.Now()
	verifyClean(t, be.env, tenant)
	t.Logf("verify: %v", time.Since(t0))
}

// checkModel compares the directory served by c with m: users (names,
// active), their groups (ids and display names), groups (names, members)
// and the userName index.
func checkModel(t *testing.T, c *scimClient, m *dirModel) {
	t.Helper()
	// Group membership from the users' side.
	want := map[string][]string{} // user id → sorted "gid=displayName"
	nMembers := 0
	for g, ms := range m.members {
		for uid := range ms {
			want[uid] = append(want[uid], g+"="+m.groups[g])
			nMembers++
		}
	}
	users := c.listAll(t, "/Users")
	if len(users) != len(m.users) {
		t.Errorf("%d users, model has %d", len(users), len(m.users))
	}
	for _, u := range users {
		id := u["id"].(string)
		mu, ok := m.users[id]
		if !ok {
			t.Errorf("user %s (%v) is not in the model", id, u["userName"])
			continue
		}
		name, _ := u["name"].(map[string]any)
		if u["userName"] != mu.userName || u["displayName"] != mu.displayName || name["givenName"] != mu.givenName ||
			(u["active"] == true) != mu.active {
			t.Errorf("user %s: userName %v displayName %v givenName %v active %v; model %+v",
				id, u["userName"], u["displayName"], name["givenName"], u["active"], *mu)
		}
		var got []string
		gs, _ := u["groups"].([]any)
		for _, g := range gs {
			gm := g.(map[string]any)
			got = append(got, fmt.Sprint(gm["value"], "=", gm["display"]))
		}
		slices.Sort(got)
		slices.Sort(want[id])
		if !slices.Equal(got, want[id]) {
			t.Errorf("user %s: groups %v, model %v", id, got, want[id])
		}
	}
	groups := c.listAll(t, "/Groups")
	if len(groups) != len(m.groups) {
		t.Errorf("%d groups, model has %d", len(groups), len(m.groups))
	}
	for _, g := range groups {
		id := g["id"].(string)
		dn, ok := m.groups[id]
		if !ok {
			t.Errorf("group %s (%v) is not in the model", id, g["displayName"])
			continue
		}
		if g["displayName"] != dn {
			t.Errorf("group %s: displayName %v, model %s", id, g["displayName"], dn)
		}
		got := memberIDs(c.must(t, 200, "GET", "/Groups/"+id, ""))
		for uid, n := range got {
			if n != 1 || !m.members[id][uid] {
				t.Errorf("group %s: member %s listed %d times, in model %t", id, uid, n, m.members[id][uid])
			}
		}
		for uid := range m.members[id] {
			if got[uid] == 0 {
				t.Errorf("group %s: member %s missing", id, uid)
			}
		}
	}
	// The userName index after the renames: a renamed user is found by its
	// new name (in any letter case), a name given up finds nobody.
	lookup := func(name string) []any {
		r := c.must(t, 200, "GET", "/Users?filter="+url.QueryEscape(fmt.Sprintf("userName eq %q", name)), "")
		res, _ := r["Resources"].([]any)
		return res
	}
	current := map[string]bool{}
	for _, mu := range m.users {
		current[strings.ToLower(mu.userName)] = true
	}
	for id, mu := range m.users {
		if m.renamed[id] {
			if res := lookup(strings.ToUpper(mu.userName)); len(res) != 1 || res[0].(map[string]any)["id"] != id {
				t.Errorf("filter userName eq %q: %v, want user %s", mu.userName, res, id)
			}
		}
	}
	for name := range m.retired {
		if res := lookup(name); !current[name] && len(res) != 0 {
			t.Errorf("filter userName eq %q (given up by a rename): %v", name, res)
		}
	}
	t.Logf("model: %d users (%d renamed), %d groups, %d memberships", len(m.users), len(m.renamed), len(m.groups), nMembers)
}
