package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// Media types and schema URNs of Okta's requests.
const (
	scimJSON     = "application/scim+json"
	schemaUser   = "urn:ietf:params:scim:schemas:core:2.0:User"
	schemaGroup  = "urn:ietf:params:scim:schemas:core:2.0:Group"
	schemaPatch  = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	maxBodyBytes = 8 << 20
)

// scimClient sends SCIM requests with one bearer token over keep-alive
// connections (at most one per worker). It uses fasthttp's client, not
// net/http's: the generator shares the machine's CPUs with the server and
// Redis, and fasthttp spends about a third of the CPU per request that
// net/http's client does, which leaves that CPU to what is measured.
type scimClient struct {
	base string // http://host:port/scim/v2
	path string // /scim/v2: base's path, the prefix of every request path
	auth string // "Bearer scim_..."
	hc   *fasthttp.HostClient
}

func newSCIMClient(base, token string, conns int) (*scimClient, error) {
	u, err := url.Parse(base)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("--url %q: want http(s)://HOST:PORT/scim/v2", base)
	}
	hc := &fasthttp.HostClient{
		Addr:                     u.Host,
		IsTLS:                    u.Scheme == "https",
		MaxConns:                 conns,
		MaxConnWaitTimeout:       60 * time.Second,
		MaxIdleConnDuration:      90 * time.Second,
		ReadTimeout:              60 * time.Second,
		WriteTimeout:             60 * time.Second,
		MaxResponseBodySize:      maxBodyBytes,
		NoDefaultUserAgentHeader: true,
		DisablePathNormalizing:   true,
		Dial: func(addr string) (net.Conn, error) {
			return (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).Dial("tcp", addr)
		},
	}
	if u.Scheme == "https" {
		hc.Addr = fasthttp.AddMissingPort(u.Host, true)
	} else {
		hc.Addr = fasthttp.AddMissingPort(u.Host, false)
	}
	return &scimClient{base: base, path: strings.TrimSuffix(u.Path, "/"), auth: "Bearer " + token, hc: hc}, nil
}

// response is what an operation needs of a SCIM response.
type response struct {
	status int
	body   []byte // only when asked for (and for error statuses)
	tenant string // the X-AxonFlow-Tenant response header
}

// do sends one request and reads the whole response (kept only if keep or
// the status is an error), so the connection is reused. ctx bounds the
// wait: its deadline, when it has one, is the request's.
func (c *scimClient) do(ctx context.Context, method, path string, body []byte, keep bool) (response, error) {
	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.Header.SetMethod(method)
	req.SetRequestURI(c.path + path)
	req.Header.SetHost(c.hc.Addr)
	req.Header.Set("Authorization", c.auth)
	req.Header.Set("Accept", scimJSON)
	if body != nil {
		req.Header.SetContentType(scimJSON)
		req.SetBodyRaw(body)
	}
	var err error
	if dl, ok := ctx.Deadline(); ok {
		err = c.hc.DoDeadline(req, resp, dl)
	} else {
		err = c.hc.DoTimeout(req, resp, 60*time.Second)
	}
	if err != nil {
		return response{}, err
	}
	r := response{status: resp.StatusCode(), tenant: string(resp.Header.Peek("X-AxonFlow-Tenant"))}
	if keep || r.status >= 300 {
		r.body = append([]byte(nil), resp.Body()...)
	}
	return r, nil
}

// outcome is the result of one timed operation.
type outcome struct {
	status int   // HTTP status, 0 when the request failed before one came
	err    error // transport error, or a wrong answer with the expected status
	ok     bool
	kind   string // error key when not the status (e.g. "200-miss")
	stop   bool   // the worker has nothing left to do: not a request
}

func expect(r response, err error, want int) outcome {
	if err != nil {
		return outcome{err: err}
	}
	if r.status != want {
		return outcome{status: r.status, err: fmt.Errorf("status %d, want %d: %.300s", r.status, want, r.body)}
	}
	return outcome{status: r.status, ok: true}
}

// is returns expect with a fixed status, to wrap a call: is(200)(c.do(...)).
func is(want int) func(response, error) outcome {
	return func(r response, err error) outcome { return expect(r, err, want) }
}

// opFunc performs request number n (0-based, counted across all workers)
// of a phase on worker w.
type opFunc func(ctx context.Context, w int, r *rand.Rand, n int) outcome

// loadRun is the raw result of driving one operation.
type loadRun struct {
	requests   int
	ok         int
	errors     errorCounts
	firstError string
	lat        latencies
	wall       time.Duration
}

// drive runs op on conns workers until the deadline (zero: none) passes or
// count requests (0: unlimited) were started, whichever comes first, or ctx
// ends. Each worker has its own random source derived from seed.
func drive(ctx context.Context, conns int, deadline time.Time, count int, seed uint64, op opFunc) loadRun {
	var (
		next atomic.Int64
		mu   sync.Mutex
		out  = loadRun{errors: errorCounts{}}
		wg   sync.WaitGroup
	)
	start := time.Now()
	for w := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(seed, uint64(w)+1))
			var lat latencies
			errs := errorCounts{}
			ok := 0
			first := ""
			for ctx.Err() == nil {
				if !deadline.IsZero() && !time.Now().Before(deadline) {
					break
				}
				n := int(next.Add(1) - 1)
				if count > 0 && n >= count {
					break
				}
				t0 := time.Now()
				o := op(ctx, w, r, n)
				d := time.Since(t0)
				if o.stop {
					break
				}
				if ctx.Err() != nil && !o.ok {
					break // interrupted: not a server error
				}
				lat = append(lat, d)
				if o.ok {
					ok++
					continue
				}
				key := o.kind
				switch {
				case key != "":
				case o.status != 0:
					key = strconv.Itoa(o.status)
				default:
					key = "net"
				}
				errs[key]++
				if first == "" && o.err != nil {
					first = o.err.Error()
				}
			}
			mu.Lock()
			defer mu.Unlock()
			out.lat = append(out.lat, lat...)
			out.ok += ok
			for k, v := range errs {
				out.errors[k] += v
			}
			if out.firstError == "" {
				out.firstError = first
			}
		}()
	}
	wg.Wait()
	out.wall = time.Since(start)
	out.requests = len(out.lat)
	return out
}

// benchUser is a user the import created.
type benchUser struct {
	id, login string
}

// login and externalId of imported user n, unique per run.
func userLogin(run string, n int) string { return fmt.Sprintf("bench-%s-%06d@example.com", run, n) }
func userExternalID(run string, n int) string {
	return fmt.Sprintf("00u%s%011d", run, n) // 20 characters, like Okta's ids
}

// oktaCreateUser is the body Okta's SCIM 2.0 app POSTs to /Users.
func oktaCreateUser(login, externalID, given string) []byte {
	b, _ := json.Marshal(map[string]any{
		"schemas":     []string{schemaUser},
		"userName":    login,
		"name":        map[string]any{"givenName": given, "familyName": "Okafor"},
		"emails":      []any{map[string]any{"primary": true, "value": login, "type": "work"}},
		"displayName": given + " Okafor",
		"locale":      "en-US",
		"externalId":  externalID,
		"groups":      []any{},
		"password":    "Pw-" + externalID + "-Secret!",
		"active":      true,
	})
	return b
}

// oktaPutUser is Okta's full PUT /Users/{id}: the whole profile with id,
// an empty groups list, meta and the password.
func oktaPutUser(id, login, externalID, given string) []byte {
	b, _ := json.Marshal(map[string]any{
		"schemas":     []string{schemaUser},
		"id":          id,
		"userName":    login,
		"name":        map[string]any{"givenName": given, "familyName": "Okafor"},
		"emails":      []any{map[string]any{"primary": true, "value": login, "type": "work"}},
		"displayName": given + " Okafor",
		"locale":      "en-US",
		"externalId":  externalID,
		"groups":      []any{},
		"password":    "Pw-" + externalID + "-Secret!",
		"active":      true,
		"meta":        map[string]any{"resourceType": "User"},
	})
	return b
}

// oktaDeactivate is Okta's deactivation: replace without a path;
// oktaReactivate the same with active true.
var (
	oktaDeactivate = []byte(`{"schemas":["` + schemaPatch + `"],"Operations":[{"op":"replace","value":{"active":false}}]}`)
	oktaReactivate = []byte(`{"schemas":["` + schemaPatch + `"],"Operations":[{"op":"replace","value":{"active":true}}]}`)
)

// oktaCreateGroup is Okta's Group Push create.
func oktaCreateGroup(name string) []byte {
	b, _ := json.Marshal(map[string]any{"schemas": []string{schemaGroup}, "displayName": name, "members": []any{}})
	return b
}

// oktaAddMembers is Okta's membership push: one add of many members, each
// with its login as display.
func oktaAddMembers(users []benchUser) []byte {
	vals := make([]any, len(users))
	for i, u := range users {
		vals[i] = map[string]any{"value": u.id, "display": u.login}
	}
	b, _ := json.Marshal(map[string]any{
		"schemas":    []string{schemaPatch},
		"Operations": []any{map[string]any{"op": "add", "path": "members", "value": vals}},
	})
	return b
}

// oktaRemoveMember is Okta's removal of one member by value filter.
func oktaRemoveMember(id string) []byte {
	b, _ := json.Marshal(map[string]any{
		"schemas":    []string{schemaPatch},
		"Operations": []any{map[string]any{"op": "remove", "path": `members[value eq "` + id + `"]`}},
	})
	return b
}

// lookupPath is Okta's lookup before a create.
func lookupPath(login string) string {
	return "/Users?filter=" + url.QueryEscape(`userName eq "`+login+`"`) + "&startIndex=1&count=100"
}

// createdID reads the id of a 201 response.
func createdID(r response, err error) (string, outcome) {
	o := expect(r, err, http.StatusCreated)
	if !o.ok {
		return "", o
	}
	var v struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(r.body, &v); err != nil || v.ID == "" {
		return "", outcome{status: r.status, err: errors.New("201 without an id")}
	}
	return v.ID, o
}
