package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/axonflow/axonflow-sync/internal/testredis"
)

// outageResult is one SCIM request of TestRedisOutageDuringLoad.
type outageResult struct {
	op          string
	start, end  time.Time
	status      int
	err         error
	body        []byte
	retryAfter  string
	contentType string
	id          string // created user id (POST 201)
}

// TestRedisOutageDuringLoad stops Redis while four clients send Okta-shaped
// SCIM requests (create, get, lookup, deactivate), then restarts it on the
// same port (its AOF, appendfsync always, brings the data back). While it is
// down every request fails fast (within AXONFLOW_SYNC_REDIS_TIMEOUT plus a
// margin) with a 503 SCIM error and Retry-After, never a 500 or a hang, and
// /readyz is 503; within a second of Redis answering again requests succeed;
// afterwards every acknowledged create is there and `store verify` is clean.
func TestRedisOutageDuringLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("short: outage under load")
	}
	const (
		timeout = 500 * time.Millisecond
		// slack covers what is not a store call (HTTP, JSON, the race
		// detector on a busy 2-core machine).
		slack   = 500 * time.Millisecond
		workers = 4
	)
	srv := testredis.Start(t, "--appendonly", "yes", "--appendfsync", "always")
	env := []string{"AXONFLOW_SYNC_REDIS_URL=" + srv.URL(), "AXONFLOW_SYNC_REDIS_TIMEOUT=" + timeout.String()}
	out, stderr, code := cli(t, env, "token", "create", "--tenant", "acme")
	if code != 0 {
		t.Fatalf("token create: %d %s", code, stderr)
	}
	tok := strings.TrimSpace(out)
	d := startServe(t, env)
	base := "http://" + d.api + "/scim/v2"
	client := &http.Client{Timeout: 10 * time.Second}
	readyz := func() int {
		resp, err := client.Get("http://" + d.admin + "/readyz")
		if err != nil {
			t.Errorf("readyz: %v", err)
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}

	do := func(op, method, url, body string) outageResult {
		r := outageResult{op: op, start: time.Now()}
		req, _ := http.NewRequest(method, url, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		if body != "" {
			req.Header.Set("Content-Type", "application/scim+json")
		}
		resp, err := client.Do(req)
		r.end = time.Now()
		if err != nil {
			r.err = err
			return r
		}
		defer resp.Body.Close()
		r.body, _ = io.ReadAll(resp.Body)
		r.end = time.Now()
		r.status, r.retryAfter, r.contentType = resp.StatusCode, resp.Header.Get("Retry-After"), resp.Header.Get("Content-Type")
		if resp.StatusCode == 201 {
			var u struct{ ID string }
			_ = json.Unmarshal(r.body, &u)
			r.id = u.ID
		}
		return r
	}

	var mu sync.Mutex
	var results []outageResult
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			last := ""
			for j := 0; ; j++ {
				select {
				case <-stop:
					return
				default:
				}
				var r outageResult
				name := fmt.Sprintf("w%d-%d@example.com", w, j)
				switch {
				case j%4 == 0 || last == "":
					r = do("create", "POST", base+"/Users", fmt.Sprintf(userBody, name, name))
					if r.id != "" {
						last = r.id
					}
				case j%4 == 1:
					r = do("get", "GET", base+"/Users/"+last, "")
				case j%4 == 2:
					r = do("lookup", "GET", base+"/Users?filter="+urlq(fmt.Sprintf(`userName eq "w%d-%d@example.com"`, w, j-2)), "")
				default:
					r = do("deactivate", "PATCH", base+"/Users/"+last,
						`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":false}}]}`)
				}
				mu.Lock()
				results = append(results, r)
				mu.Unlock()
				time.Sleep(5 * time.Millisecond) // a steady load, not a spin
			}
		})
	}

	time.Sleep(700 * time.Millisecond)
	if c := readyz(); c != 200 {
		t.Errorf("readyz before the outage: %d", c)
	}
	downAt := time.Now()
	srv.Stop()
	stoppedAt := time.Now()
	time.Sleep(700 * time.Millisecond)
	if c := readyz(); c != 503 {
		t.Errorf("readyz while Redis is down: %d, want 503", c)
	}
	time.Sleep(700 * time.Millisecond)
	restartAt := time.Now()
	if err := srv.Restart(); err != nil {
		t.Fatalf("restart Redis: %v", err)
	}
	upAt := time.Now() // Restart returns once Redis answers PING
	time.Sleep(1500 * time.Millisecond)
	close(stop)
	wg.Wait()
	if c := readyz(); c != 200 {
		t.Errorf("readyz after Redis returned: %d", c)
	}

	statuses := map[string]map[int]int{}
	var down, firstOK, late, failedLate int
	var slowest time.Duration
	var failTimes []time.Duration // of the 503s while Redis was down
	var recovered time.Time
	for _, r := range results {
		if r.err != nil {
			t.Errorf("%s at +%v: transport error %v", r.op, r.start.Sub(downAt).Round(time.Millisecond), r.err)
			continue
		}
		if statuses[r.op] == nil {
			statuses[r.op] = map[int]int{}
		}
		statuses[r.op][r.status]++
		took := r.end.Sub(r.start)
		slowest = max(slowest, took)
		if took > timeout+slack {
			t.Errorf("%s at +%v took %v (status %d); the store timeout is %v", r.op, r.start.Sub(downAt).Round(time.Millisecond), took, r.status, timeout)
		}
		switch {
		case r.status >= 500 && r.status != 503:
			t.Errorf("%s at +%v: %d %s; want 503 when the store is down", r.op, r.start.Sub(downAt).Round(time.Millisecond), r.status, r.body)
		case r.status == 503:
			if r.retryAfter == "" || !strings.HasPrefix(r.contentType, "application/scim+json") ||
				!strings.Contains(string(r.body), `"urn:ietf:params:scim:api:messages:2.0:Error"`) || !strings.Contains(string(r.body), `"status":"503"`) {
				t.Errorf("%s: 503 without a SCIM error body or Retry-After: %q %q %s", r.op, r.retryAfter, r.contentType, r.body)
			}
			if r.start.After(stoppedAt) && r.end.Before(restartAt) {
				down++
				failTimes = append(failTimes, took)
			}
			if r.start.After(upAt.Add(time.Second)) {
				failedLate++
			}
		case r.status >= 400:
			t.Errorf("%s at +%v: %d %s", r.op, r.start.Sub(downAt).Round(time.Millisecond), r.status, r.body)
		default:
			if r.start.After(stoppedAt) && r.end.Before(restartAt) {
				t.Errorf("%s at +%v succeeded (%d) while Redis was down", r.op, r.start.Sub(downAt).Round(time.Millisecond), r.status)
			}
			if r.start.After(upAt) && (recovered.IsZero() || r.end.Before(recovered)) {
				recovered = r.end
				firstOK++
			}
			if r.start.After(upAt.Add(time.Second)) {
				late++
			}
		}
	}
	sort.Slice(failTimes, func(i, j int) bool { return failTimes[i] < failTimes[j] })
	var median time.Duration
	if len(failTimes) > 0 {
		median = failTimes[len(failTimes)/2]
	}
	t.Logf("%d requests; by op and status: %v; slowest %v; median 503 while down %v; first success %v after Redis returned",
		len(results), statuses, slowest, median, recovered.Sub(upAt).Round(time.Millisecond))
	if down < workers {
		t.Errorf("only %d requests ran entirely during the outage; the test did not exercise it", down)
	}
	if median > timeout/2 {
		t.Errorf("the median 503 while Redis was down took %v; want fast failures (well under the %v timeout)", median, timeout)
	}
	if recovered.IsZero() || recovered.Sub(upAt) > time.Second {
		t.Errorf("first success %v after Redis returned; want within 1s", recovered.Sub(upAt))
	}
	if failedLate > 0 || late == 0 {
		t.Errorf("more than 1s after Redis returned: %d failed, %d succeeded; want all to succeed", failedLate, late)
	}

	// Every acknowledged create survived (AOF, appendfsync always) and is
	// readable; the store is consistent.
	var ids []string
	for _, r := range results {
		if r.id != "" {
			ids = append(ids, r.id)
		}
	}
	sort.Strings(ids)
	for _, id := range ids {
		if r := do("check", "GET", base+"/Users/"+id, ""); r.status != 200 {
			t.Errorf("user %s (created with 201) after the outage: %d %s", id, r.status, r.body)
		}
	}
	if out, stderr, code := cli(t, env, "store", "verify"); code != 0 || !strings.Contains(out, "verdict: clean") {
		t.Errorf("store verify after the outage: exit %d\n%s%s", code, out, stderr)
	}
	if strings.Contains(d.settledLog(), `"status":500`) {
		t.Errorf("the server logged a 500:\n%s", d.stderr.String())
	}
}
