package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/axonflow/axonflow-sync/internal/testredis"
)

// opState is what the client knows about one write.
type opState int

const (
	notSent  opState = iota // never sent: must not be visible
	inFlight                // sent, no answer (the server died): either outcome is fine
	acked                   // answered 2xx: must survive any crash
)

// killUser is one user a load worker created (or tried to).
type killUser struct {
	userName string
	id       string  // set when the create was acknowledged
	create   opState // inFlight or acked
	deact    opState // the deactivation PATCH
}

// killMember is one membership add of a load worker.
type killMember struct {
	gid, uid string
	add      opState
}

// killWorker is the record of one load worker.
type killWorker struct {
	users   []*killUser
	members []*killMember
	errs    []string // unexpected answers before the kill
}

// TestFaultSIGKILLDurability: 6 workers send Okta-shaped writes (POST
// users, path-less deactivate PATCHes, group member adds) to the real serve
// binary; it is killed with SIGKILL mid-load (and on Redis, redis-server is
// SIGKILLed too and restarted from its append-only file, appendfsync
// always). After a restart every write that got a 2xx is there with the
// acknowledged state, nothing that was never sent is, and store verify is
// clean.
func TestFaultSIGKILLDurability(t *testing.T) {
	for _, name := range []string{"redis", "embedded"} {
		t.Run(name, func(t *testing.T) {
			var be storeBackend
			var rs *testredis.Server
			if name == "redis" {
				rs = testredis.Start(t, "--appendonly", "yes", "--appendfsync", "always")
				be = redisBackend(rs.URL())
			} else {
				be = embeddedBackend(t)
			}
			testSIGKILLDurability(t, be, rs)
		})
	}
}

func testSIGKILLDurability(t *testing.T, be storeBackend, rs *testredis.Server) {
	const (
		tenant     = "acme"
		workers    = 6
		groups     = 4
		minAcked   = 800              // acknowledged writes before the kill
		loadBudget = 15 * time.Second // the most the load may run before the kill
		maxOps     = 5000             // per worker
	)
	out, stderr, code := cli(t, be.env, "token", "create", "--tenant", tenant)
	if code != 0 {
		t.Fatalf("token create: %d %s", code, stderr)
	}
	token := strings.TrimSpace(out)
	d := startServe(t, append(be.env, "AXONFLOW_SYNC_LOG_LEVEL=warn"))
	c := newSCIMClient(d.api, token, workers)

	gids := make([]string, groups)
	for i := range gids {
		gids[i] = c.must(t, 201, "POST", "/Groups", oktaGroupBody(fmt.Sprintf("Kill Group %d", i)))["id"].(string)
	}

	var ackedN atomic.Int64
	var killed atomic.Bool
	stop := make(chan struct{})
	recs := make([]*killWorker, workers)
	var wg sync.WaitGroup
	for w := range workers {
		rec := &killWorker{}
		recs[w] = rec
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 42))
			var live []*killUser // acknowledged, not deactivated
			pairs := map[[2]string]bool{}
			for i := 0; i < maxOps; i++ {
				select {
				case <-stop:
					return
				default:
				}
				var method, path, body string
				var state *opState
				var onAck func(b []byte)
				switch p := rng.IntN(100); {
				case len(live) < 3 || p < 50: // create
					u := &killUser{userName: fmt.Sprintf("w%d-u%d@example.com", w, i), create: inFlight}
					rec.users = append(rec.users, u)
					method, path, body, state = "POST", "/Users", oktaUserBody(u.userName, "Kill", fmt.Sprint(i)), &u.create
					onAck = func(b []byte) {
						u.id = jsonField(b, "id")
						live = append(live, u)
					}
				case p < 70: // deactivate one user, once
					k := rng.IntN(len(live))
					u := live[k]
					live = append(live[:k], live[k+1:]...)
					u.deact = inFlight
					method, path, body, state = "PATCH", "/Users/"+u.id, oktaActiveBody(false), &u.deact
				default: // add a live user to a group it is not in yet
					u, g := live[rng.IntN(len(live))], gids[rng.IntN(len(gids))]
					if pairs[[2]string{g, u.id}] {
						continue
					}
					pairs[[2]string{g, u.id}] = true
					m := &killMember{gid: g, uid: u.id, add: inFlight}
					rec.members = append(rec.members, m)
					method, path, body, state = "PATCH", "/Groups/"+g, oktaAddMemberBody(u.id, u.userName), &m.add
				}
				code, b, err := c.do(method, path, body)
				if err != nil {
					if !killed.Load() {
						rec.errs = append(rec.errs, fmt.Sprintf("%s %s before the kill: %v", method, path, err))
					}
					return // the server is gone: this write stays inFlight
				}
				if code/100 != 2 {
					// An answer that is not a 2xx is not an acknowledgement
					// either; before the kill none is expected.
					if !killed.Load() {
						rec.errs = append(rec.errs, fmt.Sprintf("%s %s: %d %s", method, path, code, b))
					}
					return
				}
				*state = acked
				if onAck != nil {
					onAck(b)
				}
				ackedN.Add(1)
			}
		}()
	}

	deadline := time.Now().Add(loadBudget)
	for ackedN.Load() < minAcked && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	killed.Store(true)
	if err := d.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	close(stop)
	wg.Wait()
	if n := ackedN.Load(); n < minAcked {
		t.Fatalf("only %d writes acknowledged in %v before the kill (want %d)", n, loadBudget, minAcked)
	}
	for w, rec := range recs {
		for _, e := range rec.errs {
			t.Errorf("worker %d: %s", w, e)
		}
	}
	if rs != nil {
		killRedis(t, rs)
	}

	d2 := startServe(t, append(be.env, "AXONFLOW_SYNC_LOG_LEVEL=warn"))
	c2 := newSCIMClient(d2.api, token, 2)

	// Users: every acknowledged create with its acknowledged state.
	sent := map[string]*killUser{} // folded userName → record
	var nAcked, nInFlight, nDeactAcked, nMemberAcked int
	for _, rec := range recs {
		for _, u := range rec.users {
			sent[strings.ToLower(u.userName)] = u
			if u.create != acked {
				nInFlight++
				continue
			}
			nAcked++
			got := c2.must(t, 200, "GET", "/Users/"+u.id, "")
			if got["userName"] != u.userName {
				t.Errorf("user %s: userName %v, want %s", u.id, got["userName"], u.userName)
			}
			active := got["active"] == true
			switch u.deact {
			case acked:
				nDeactAcked++
				if active {
					t.Errorf("user %s: acknowledged deactivation lost (active)", u.userName)
				}
			case notSent:
				if !active {
					t.Errorf("user %s: inactive but no deactivation was sent", u.userName)
				}
			}
		}
	}
	// Nothing else: no user that was never sent, none twice.
	all := c2.listAll(t, "/Users")
	seen := map[string]bool{}
	for _, u := range all {
		un := strings.ToLower(u["userName"].(string))
		r, ok := sent[un]
		switch {
		case !ok:
			t.Errorf("user %s exists but was never sent", un)
		case seen[un]:
			t.Errorf("user %s exists twice", un)
		case r.create == acked && r.id != u["id"]:
			t.Errorf("user %s: id %v, acknowledged id %s", un, u["id"], r.id)
		}
		seen[un] = true
	}
	if len(all) < nAcked || len(all) > nAcked+nInFlight {
		t.Errorf("%d users after restart; %d acknowledged, %d in flight", len(all), nAcked, nInFlight)
	}

	// Memberships: acknowledged adds present, nothing never sent.
	pairs := map[[2]string]opState{}
	for _, rec := range recs {
		for _, m := range rec.members {
			pairs[[2]string{m.gid, m.uid}] = m.add
		}
	}
	for _, g := range gids {
		members := memberIDs(c2.must(t, 200, "GET", "/Groups/"+g, ""))
		for uid, n := range members {
			if st, ok := pairs[[2]string{g, uid}]; !ok || n != 1 {
				t.Errorf("group %s: member %s (%d times) was never added (or twice)", g, uid, n)
			} else if st == notSent {
				t.Errorf("group %s: member %s present but its add was never sent", g, uid)
			}
		}
		for p, st := range pairs {
			if p[0] == g && st == acked {
				nMemberAcked++
				if members[p[1]] == 0 {
					t.Errorf("group %s: acknowledged member %s lost", g, p[1])
				}
			}
		}
	}
	t.Logf("%s: %d acknowledged creates (%d in flight at the kill), %d deactivations, %d member adds survived",
		be.name, nAcked, nInFlight, nDeactAcked, nMemberAcked)
	verifyClean(t, be.env, tenant)
}

// jsonField returns the string field name of a JSON object ("" if absent).
func jsonField(b []byte, name string) string {
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	s, _ := m[name].(string)
	return s
}
