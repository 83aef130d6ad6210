package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/axonflow/axonflow-sync/mapping"
)

// The bad-input sweep runs the real serve binary, built with shorter HTTP
// read timeouts (go build -overlay sets the variables of serve.go from an
// extra file) so that slow clients are cut off within the test's time:
const (
	faultReadHeaderTimeout = 2 * time.Second
	faultReadTimeout       = 3 * time.Second
)

// shortTimeoutBinary builds, once per test binary, axonflow-sync with
// readHeaderTimeout and readTimeout set to the fault* values above.
func shortTimeoutBinary(t *testing.T) string {
	t.Helper()
	return overlayBinary(t, "short-timeouts", fmt.Sprintf("readHeaderTimeout = %d * time.Millisecond\n\treadTimeout = %d * time.Millisecond",
		faultReadHeaderTimeout.Milliseconds(), faultReadTimeout.Milliseconds()))
}

// startServeBin is startServe for another binary.
func startServeBin(t *testing.T, bin string, env []string) *daemon {
	t.Helper()
	d := &daemon{api: freeAddr(t), admin: freeAddr(t), stderr: newSafeBuf(), done: make(chan error, 1)}
	d.cmd = exec.Command(bin, "serve")
	d.cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "AXONFLOW_SYNC_LISTEN=" + d.api, "AXONFLOW_SYNC_ADMIN_LISTEN=" + d.admin}, env...)
	d.cmd.Stderr = d.stderr
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { d.done <- d.cmd.Wait() }()
	t.Cleanup(func() {
		_ = d.cmd.Process.Kill()
		<-d.done
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		if resp, err := http.Get("http://" + d.admin + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return d
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not become healthy; log:\n%s", d.stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestServeHTTPLimits: the production listener limits the sweep relies on.
func TestServeHTTPLimits(t *testing.T) {
	srv := newHTTPServer("127.0.0.1:0", http.NotFoundHandler(), zerolog.Nop())
	if srv.ReadHeaderTimeout != 10*time.Second || srv.ReadTimeout != 60*time.Second ||
		srv.WriteTimeout != 60*time.Second || srv.IdleTimeout != 120*time.Second || srv.MaxHeaderBytes != 64<<10 {
		t.Fatalf("listener limits %v %v %v %v %d", srv.ReadHeaderTimeout, srv.ReadTimeout, srv.WriteTimeout,
			srv.IdleTimeout, srv.MaxHeaderBytes)
	}
}

// sweep is one serve process under bad input, and what it answered.
type sweep struct {
	t     *testing.T
	d     *daemon
	c     *scimClient
	n     int // requests sent
	codes map[int]int
	uid   string // an existing user
	gid   string // an existing group
	seq   int
}

// reject sends a request that must be refused: a 4xx SCIM error (or, with
// allowOK, a 2xx), never a 5xx, a hang or a non-SCIM body.
func (s *sweep) reject(name, method, path, body string, allowOK bool) {
	s.t.Helper()
	s.n++
	start := time.Now()
	code, b, err := s.c.do(method, path, body)
	s.codes[code]++
	if err != nil {
		s.t.Errorf("%s: %s %s: %v after %v", name, method, path, err, time.Since(start).Round(time.Millisecond))
		return
	}
	switch {
	case code >= 200 && code < 300 && allowOK:
	case code >= 400 && code < 500:
		var e struct {
			Schemas []string `json:"schemas"`
			Status  string   `json:"status"`
			Detail  string   `json:"detail"`
		}
		if json.Unmarshal(b, &e) != nil || len(e.Schemas) != 1 || e.Schemas[0] != mapping.SchemaError || e.Status != strconv.Itoa(code) {
			s.t.Errorf("%s: %s %s: %d without a SCIM error body: %.300s", name, method, path, code, b)
		}
	default:
		s.t.Errorf("%s: %s %s: %d %.300s (body %.200s)", name, method, path, code, b, body)
	}
}

func (s *sweep) userName() string {
	s.seq++
	return fmt.Sprintf("sweep-%d@example.com", s.seq)
}

// TestFaultBadInputSweep sends the real serve binary malformed requests of
// every kind — truncated JSON, every User and Group attribute with every
// wrong JSON type (POST, PATCH with and without a path), 10,000-element
// arrays, 100,000-level nesting, invalid UTF-8, 1 MiB headers, bodies over
// 1 MiB, deeply nested filters — and slow clients (slowloris headers and
// bodies, 50 at a time, while normal requests must still answer quickly).
// Every answer is a 4xx SCIM error or a closed connection; the server
// never answers 5xx, never logs a panic and ends with as many goroutines as
// it started with.
func TestFaultBadInputSweep(t *testing.T) {
	env := []string{"AXONFLOW_SYNC_DATA_DIR=" + t.TempDir()}
	out, stderr, code := cli(t, env, "token", "create", "--tenant", "acme")
	if code != 0 {
		t.Fatalf("token create: %s", stderr)
	}
	token := strings.TrimSpace(out)
	d := startServeBin(t, shortTimeoutBinary(t), env)
	s := &sweep{t: t, d: d, c: newSCIMClient(d.api, token, 4), codes: map[int]int{}}
	s.uid = s.c.must(t, 201, "POST", "/Users", oktaUserBody("base@example.com", "Base", "User"))["id"].(string)
	s.gid = s.c.must(t, 201, "POST", "/Groups", oktaGroupBody("Base Group"))["id"].(string)
	baseGoroutines := goroutines(t, d)

	for _, part := range []struct {
		name string
		fn   func(*testing.T)
	}{
		{"truncated", s.truncated}, {"wrongTypes", s.wrongTypes}, {"envelopes", s.envelopes},
		{"hugeArrays", s.hugeArrays}, {"deepNesting", s.deepNesting}, {"invalidUTF8", s.invalidUTF8},
		{"queries", s.queries}, {"protocol", s.protocol}, {"hugeHeader", s.hugeHeader}, {"hugeBody", s.hugeBody}, {"slowClients", s.slowClients},
	} {
		t.Run(part.name, func(t *testing.T) {
			s.t = t
			defer func() { s.t = nil }()
			part.fn(t)
		})
	}
	s.t = t

	// The base resources are intact.
	if u := s.c.must(t, 200, "GET", "/Users/"+s.uid, ""); u["userName"] != "base@example.com" || u["active"] != true {
		t.Errorf("base user changed: %v", u)
	}
	// No stuck workers: once the slow connections are gone, the server is
	// back to the goroutines it had before the sweep (give or take a few
	// keep-alive connections; 100 slow clients would be 100 more).
	s.c.hc.CloseIdleConnections()
	deadline := time.Now().Add(5 * time.Second)
	for {
		n := goroutines(t, d)
		if n <= baseGoroutines+10 {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("%d goroutines after the sweep, %d before: stuck workers", n, baseGoroutines)
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Nothing was answered with 5xx or panicked, as the server log says.
	log := d.settledLog()
	if strings.Contains(log, "panic") {
		t.Errorf("the server log mentions a panic:\n%.3000s", log)
	}
	if m := regexp.MustCompile(`"status":5\d\d[^\n]*`).FindAllString(log, 5); len(m) > 0 {
		t.Errorf("the server logged 5xx answers: %v", m)
	}
	if d.cmd.ProcessState != nil {
		t.Errorf("serve exited: %v", d.cmd.ProcessState)
	}
	t.Logf("%d bad requests; statuses %v", s.n, s.codes)
}

// goroutines reads go_goroutines from the admin listener's /metrics.
func goroutines(t *testing.T, d *daemon) int {
	t.Helper()
	resp, err := http.Get("http://" + d.admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "go_goroutines "); ok {
			n, _ := strconv.ParseFloat(v, 64)
			return int(n)
		}
	}
	t.Fatal("no go_goroutines in /metrics")
	return 0
}

// Valid bodies, cut at every length.
func (s *sweep) truncated(t *testing.T) {
	bodies := []struct{ method, path, body string }{
		{"POST", "/Users", oktaUserBody("trunc@example.com", "Trun", "Cated")},
		{"PUT", "/Users/" + s.uid, oktaUserBody("base@example.com", "Base", "User")},
		{"PATCH", "/Users/" + s.uid, oktaActiveBody(false)},
		{"POST", "/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Trunc","members":[{"value":"` + s.uid + `"}]}`},
		{"PUT", "/Groups/" + s.gid, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Base Group","members":[]}`},
		{"PATCH", "/Groups/" + s.gid, oktaAddMemberBody(s.uid, "base@example.com")},
	}
	for _, b := range bodies {
		for n := 0; n < len(b.body); n++ {
			s.reject(fmt.Sprintf("%s %s cut at %d", b.method, b.path, n), b.method, b.path, b.body[:n], false)
		}
	}
}

// wrongValues are one value of each JSON type.
var wrongValues = map[string]any{
	"string": "x", "number": 42, "boolean": true, "object": map[string]any{"k": "v"}, "array": []any{"x"}, "null": nil,
}

// jsonKind is the JSON type a SCIM attribute takes.
func jsonKind(a *mapping.Attribute, element bool) string {
	switch {
	case a.MultiValued && !element:
		return "array"
	case a.Type == mapping.TypeComplex:
		return "object"
	case a.Type == mapping.TypeBoolean:
		return "boolean"
	case a.Type == mapping.TypeInteger || a.Type == mapping.TypeDecimal:
		return "number"
	}
	return "string"
}

// attrSlot is one place an attribute value goes: set(body, v) puts v there;
// patchPath is its PATCH path ("" when it has none).
type attrSlot struct {
	name      string
	kind      string // the right JSON type
	readOnly  bool
	set       func(body map[string]any, v any)
	patchPath string
}

// slots lists every attribute of rt (core, extension, common), every
// sub-attribute of complex ones and every element of multi-valued ones.
func slots(rt *mapping.ResourceType) []attrSlot {
	var out []attrSlot
	add := func(prefix, urn string, attrs []*mapping.Attribute, readOnly bool) {
		for _, a := range attrs {
			a := a
			ro := readOnly || a.Mutability == mapping.ReadOnly
			top := func(body map[string]any) map[string]any {
				if urn == "" {
					return body
				}
				ext, _ := body[urn].(map[string]any)
				if ext == nil {
					ext = map[string]any{}
					body[urn] = ext
				}
				return ext
			}
			pp := a.Name
			if urn != "" {
				pp = urn + ":" + a.Name
			}
			out = append(out, attrSlot{name: prefix + a.Name, kind: jsonKind(a, false), readOnly: ro, patchPath: pp,
				set: func(b map[string]any, v any) { top(b)[a.Name] = v }})
			if a.MultiValued {
				out = append(out, attrSlot{name: prefix + a.Name + "[]", kind: jsonKind(a, true), readOnly: ro,
					set: func(b map[string]any, v any) { top(b)[a.Name] = []any{v} }})
			}
			for _, sub := range a.SubAttributes {
				sub := sub
				slot := attrSlot{name: prefix + a.Name + "." + sub.Name, kind: jsonKind(sub, false),
					readOnly: ro || sub.Mutability == mapping.ReadOnly}
				if a.MultiValued {
					slot.name = prefix + a.Name + "[]." + sub.Name
					slot.set = func(b map[string]any, v any) { top(b)[a.Name] = []any{map[string]any{sub.Name: v}} }
				} else {
					slot.patchPath = pp + "." + sub.Name
					slot.set = func(b map[string]any, v any) { top(b)[a.Name] = map[string]any{sub.Name: v} }
				}
				out = append(out, slot)
			}
		}
	}
	add("", "", rt.Schema.Attributes, false)
	for _, ext := range rt.Extensions {
		add(ext.ID+":", ext.ID, ext.Attributes, false)
		out = append(out, attrSlot{name: ext.ID, kind: "object", patchPath: ext.ID,
			set: func(b map[string]any, v any) { b[ext.ID] = v }})
	}
	common := []*mapping.Attribute{
		{Name: "id", Type: mapping.TypeString, Mutability: mapping.ReadOnly},
		{Name: "externalId", Type: mapping.TypeString, Mutability: mapping.ReadWrite},
		{Name: "meta", Type: mapping.TypeComplex, Mutability: mapping.ReadOnly,
			SubAttributes: []*mapping.Attribute{{Name: "created", Type: mapping.TypeDateTime}, {Name: "version", Type: mapping.TypeString}}},
	}
	add("", "", common, false)
	out = append(out, attrSlot{name: "schemas", kind: "array", set: func(b map[string]any, v any) { b["schemas"] = v }},
		attrSlot{name: "schemas[]", kind: "string", set: func(b map[string]any, v any) { b["schemas"] = []any{v} }})
	return out
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// Every attribute with every wrong JSON type: POST bodies, PATCH with a
// path, path-less PATCH (Okta's form). A wrong type of a writable attribute
// is 400; readOnly attributes are ignored and null may mean "unset", so
// those may also succeed.
func (s *sweep) wrongTypes(t *testing.T) {
	for _, rt := range []*mapping.ResourceType{mapping.UserType, mapping.GroupType} {
		endpoint, id := "/Users", s.uid
		if rt == mapping.GroupType {
			endpoint, id = "/Groups", s.gid
		}
		for _, slot := range slots(rt) {
			for kind, v := range wrongValues {
				if kind == slot.kind {
					continue
				}
				// readOnly attributes are ignored, null means "not set"
				// (a missing schemas defaults from the endpoint, but
				// userName and a group's displayName, the first
				// attributes, are required), and password
				// is discarded unread.
				allowOK := slot.readOnly || (kind == "null" && slot.name != rt.Schema.Attributes[0].Name) ||
					(rt == mapping.UserType && slot.name == "password")
				name := fmt.Sprintf("%s %s=%s", rt.Name, slot.name, kind)
				body := map[string]any{"schemas": []any{rt.Schema.ID}}
				if rt == mapping.UserType {
					body["userName"] = s.userName()
				} else {
					body["displayName"] = "Sweep " + s.userName()
				}
				slot.set(body, v)
				s.reject("POST "+name, "POST", endpoint, mustJSON(body), allowOK)

				// PATCH replace with a path, then without (the value is an
				// object holding the attribute).
				if slot.patchPath != "" {
					ops := []any{map[string]any{"op": "replace", "path": slot.patchPath, "value": v}}
					s.reject("PATCH path "+name, "PATCH", endpoint+"/"+id,
						mustJSON(map[string]any{"schemas": []any{mapping.SchemaPatchOp}, "Operations": ops}), allowOK)
				}
				val := map[string]any{}
				slot.set(val, v)
				delete(val, "schemas")
				if len(val) > 0 && slot.name != "schemas" && slot.name != "schemas[]" {
					ops := []any{map[string]any{"op": "replace", "value": val}}
					s.reject("PATCH value "+name, "PATCH", endpoint+"/"+id,
						mustJSON(map[string]any{"schemas": []any{mapping.SchemaPatchOp}, "Operations": ops}), allowOK)
				}
			}
		}
	}
	// The resources the sweep PATCHed are unchanged by the refused ones
	// (null and readOnly PATCHes may have applied: restore the user).
	s.c.must(t, 200, "PUT", "/Users/"+s.uid, oktaUserBody("base@example.com", "Base", "User"))
	s.c.must(t, 200, "PUT", "/Groups/"+s.gid, oktaGroupBody("Base Group"))
}

// PatchOp and list envelopes with wrong types and values.
func (s *sweep) envelopes(t *testing.T) {
	urn := `"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"]`
	bodies := []string{
		`[]`, `"x"`, `42`, `true`, `null`, `{}`, `{"Operations":[]}`,
		`{"schemas":"urn:ietf:params:scim:api:messages:2.0:PatchOp","Operations":[]}`,
		`{"schemas":[42],"Operations":[]}`, `{"schemas":{},"Operations":[]}`, `{"schemas":null,"Operations":[]}`,
		`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"Operations":[{"op":"replace","value":{"active":false}}]}`,
		`{` + urn + `}`, `{` + urn + `,"Operations":null}`, `{` + urn + `,"Operations":{}}`, `{` + urn + `,"Operations":"x"}`,
		`{` + urn + `,"Operations":42}`, `{` + urn + `,"Operations":[42]}`, `{` + urn + `,"Operations":["x"]}`,
		`{` + urn + `,"Operations":[null]}`, `{` + urn + `,"Operations":[[]]}`, `{` + urn + `,"Operations":[{}]}`,
		`{` + urn + `,"Operations":[{"op":42,"path":"active","value":false}]}`,
		`{` + urn + `,"Operations":[{"op":null,"value":{"active":false}}]}`,
		`{` + urn + `,"Operations":[{"op":"frobnicate","value":{"active":false}}]}`,
		`{` + urn + `,"Operations":[{"op":["replace"],"value":{"active":false}}]}`,
		`{` + urn + `,"Operations":[{"op":"replace","path":42,"value":false}]}`,
		`{` + urn + `,"Operations":[{"op":"replace","path":true,"value":false}]}`,
		`{` + urn + `,"Operations":[{"op":"replace","path":{},"value":false}]}`,
		`{` + urn + `,"Operations":[{"op":"replace","path":"","value":false}]}`,
		`{` + urn + `,"Operations":[{"op":"replace","path":"active"}]}`,
		`{` + urn + `,"Operations":[{"op":"add","path":"members"}]}`,
		`{` + urn + `,"Operations":[{"op":"replace","value":"x"}]}`,
		`{` + urn + `,"Operations":[{"op":"replace","value":42}]}`,
		`{` + urn + `,"Operations":[{"op":"replace","value":[{"active":false}]}]}`,
		`{` + urn + `,"Operations":[{"op":"remove"}]}`,
		`{` + urn + `,"Operations":[{"op":"replace","path":"nosuch","value":"x"}]}`,
		`{` + urn + `,"Operations":[{"op":"replace","path":"emails[type eq","value":"x"}]}`,
		`{` + urn + `,"Operations":[{"op":"replace","path":"emails[type eq \"work\"].value.x","value":"x"}]}`,
		`{` + urn + `,"Operations":[{"op":"remove","path":"members[value eq 42]"}]}`,
		`{` + urn + `,"Operations":[{"op":"remove","path":"members[value eq \"x\"]"}],"extra":1}`,
		`{` + urn + `,"Operations":[{"op":"replace","value":{"active":false}}]} trailing`,
		`{` + urn + `,"Operations":[{"op":"replace","value":{"active":false}}]}{}`,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"schemas":[],"Operations":[]}`,
	}
	for _, p := range []string{"/Users/" + s.uid, "/Groups/" + s.gid} {
		for _, b := range bodies {
			// A PATCH the server may legitimately accept is one that
			// changes nothing (remove of a member that is not there, no
			// operations): allowed to succeed only when it is valid JSON
			// with a PatchOp schema.
			ok := strings.Contains(b, `"remove","path":"members[value eq \"x\"]"}]}`) && !strings.Contains(b, "extra")
			s.reject("PATCH envelope "+b, "PATCH", p, b, ok)
		}
	}
	for _, b := range []string{`[]`, `"x"`, `42`, `null`, `{}`, `{"schemas":[]}`, `{"userName":""}`, `{"displayName":""}`} {
		s.reject("POST Users "+b, "POST", "/Users", b, false)
		s.reject("POST Groups "+b, "POST", "/Groups", b, false)
		s.reject("PUT Users "+b, "PUT", "/Users/"+s.uid, b, false)
		s.reject("PUT Groups "+b, "PUT", "/Groups/"+s.gid, b, false)
	}
	// Ids that do not exist, or are not ids at all.
	for _, id := range []string{"nope", "00000000-0000-0000-0000-000000000000", strings.Repeat("a", 5000), "%00", "..", "%2e%2e"} {
		for _, m := range []string{"GET", "PUT", "PATCH", "DELETE"} {
			body := ""
			if m == "PUT" || m == "PATCH" {
				body = oktaActiveBody(false)
			}
			s.reject(m+" unknown id", m, "/Users/"+id, body, false)
			s.reject(m+" unknown group id", m, "/Groups/"+id, body, false)
		}
	}
}

// 10,000-element arrays everywhere an array goes: each is refused (or, for
// a few, accepted) as it should be, and costs the server CPU time linear in
// its size. The cost is measured, not timed, so that a loaded machine
// cannot fail the test: the serve process's CPU time for a 10,000-element
// body against a 1,000-element one, sent interleaved (ten small, one large)
// so that both see the same machine. Linear measures 4–12× (GC and fixed
// costs included), on an idle or a loaded machine. Quadratic would be 100×
// if the quadratic term were negligible at 1,000 elements; the ones this
// check has caught were not (removing 10,000 member ids took 0.4 s and
// measured 36–45×), hence a limit of 25×. The only wall-clock limit is a
// hang guard.
func (s *sweep) hugeArrays(t *testing.T) {
	const (
		maxRatio  = 25.0                   // per-request CPU time, large/small
		minCPU    = 100 * time.Millisecond // of the small bodies per case, so that GC and scheduling noise stay small
		maxRounds = 100
		hangGuard = 60 * time.Second // per request
	)
	defer func(c *scimClient) { s.c = c }(s.c)
	s.c = &scimClient{base: s.c.base, token: s.c.token, hc: &http.Client{Transport: s.c.hc.Transport, Timeout: hangGuard}}
	pid := s.d.cmd.Process.Pid

	many := func(n int, f func(i int) any) []any {
		out := make([]any, n)
		for i := range out {
			out[i] = f(i)
		}
		return out
	}
	emails := func(n int) []any {
		return many(n, func(i int) any { return map[string]any{"value": fmt.Sprintf("e%d@example.com", i), "type": "work"} })
	}
	members := func(n int) []any {
		return many(n, func(i int) any { return map[string]any{"value": fmt.Sprintf("00000000-0000-0000-0000-%012d", i)} })
	}
	orTerms := func(n int) string {
		terms := make([]string, n)
		for i := range terms {
			terms[i] = fmt.Sprintf(`value eq "00000000-0000-0000-0000-%012d"`, i)
		}
		return strings.Join(terms, " or ")
	}
	// User bodies carry nameSlot, replaced by a new userName at each send.
	const nameSlot = "sweep-NAME@example.com"
	user := func(k string, v any) string {
		return mustJSON(map[string]any{"schemas": []any{mapping.SchemaUser}, "userName": nameSlot, k: v})
	}
	patch := func(ops []any) string {
		return mustJSON(map[string]any{"schemas": []any{mapping.SchemaPatchOp}, "Operations": ops})
	}
	cases := []struct {
		name, method, path string
		body               func(n int) string // with n-element arrays
		ok                 bool
	}{
		{"emails", "POST", "/Users", func(n int) string { return user("emails", emails(n)) }, false},
		{"phoneNumbers", "PUT", "/Users/" + s.uid, func(n int) string {
			return user("phoneNumbers", many(n, func(i int) any { return map[string]any{"value": fmt.Sprint(i)} }))
		}, false},
		{"schemas", "POST", "/Users", func(n int) string { // one URN, repeated
			return user("schemas", many(n, func(int) any { return mapping.SchemaUser }))
		}, true},
		{"schemas mixed", "POST", "/Users", func(n int) string {
			return user("schemas", many(n, func(i int) any { return fmt.Sprintf("urn:x:%d", i) }))
		}, false},
		{"strings", "POST", "/Users", func(n int) string { return user("entitlements", many(n, func(i int) any { return fmt.Sprint(i) })) }, false},
		{"members", "POST", "/Groups", func(n int) string {
			return mustJSON(map[string]any{"displayName": "Huge", "members": members(n)})
		}, false},
		{"members PUT", "PUT", "/Groups/" + s.gid, func(n int) string {
			return mustJSON(map[string]any{"displayName": "Base Group", "members": members(n)})
		}, false},
		{"members PATCH add", "PATCH", "/Groups/" + s.gid, func(n int) string {
			return patch([]any{map[string]any{"op": "add", "path": "members", "value": members(n)}})
		}, false},
		{"operations", "PATCH", "/Users/" + s.uid, func(n int) string {
			return patch(many(n, func(i int) any { return map[string]any{"op": "replace", "path": "displayName", "value": fmt.Sprint(i)} }))
		}, false},
		{"emails PATCH", "PATCH", "/Users/" + s.uid, func(n int) string {
			return patch([]any{map[string]any{"op": "add", "path": "emails", "value": emails(n)}})
		}, false},
		// Removing non-members by a value filter changes nothing.
		{"members PATCH remove filter", "PATCH", "/Groups/" + s.gid, func(n int) string {
			return patch([]any{map[string]any{"op": "remove", "path": "members[" + orTerms(n) + "]"}})
		}, true},
		{"members PATCH remove", "PATCH", "/Groups/" + s.gid, func(n int) string {
			return patch([]any{map[string]any{"op": "remove", "path": "members", "value": members(n)}})
		}, true},
	}
	for _, c := range cases {
		small := 1_000
		if c.name == "operations" {
			small = mapping.MaxPatchOps + 1 // fewer are applied, not refused
		}
		large := 10 * small
		bodies := map[int]string{small: c.body(small), large: c.body(large)}
		// send sends the body of size n and returns the CPU time serve used
		// meanwhile.
		send := func(n int) time.Duration {
			body := bodies[n]
			if strings.Contains(body, nameSlot) {
				body = strings.Replace(body, nameSlot, s.userName(), 1)
			}
			before := readThreadCPU(t, pid)
			s.reject(fmt.Sprintf("%s (%d elements)", c.name, n), c.method, c.path, body, c.ok)
			return readThreadCPU(t, pid).since(before)
		}
		send(small) // warm-up
		send(large)
		// Rounds of ten small bodies and one large one, until the small
		// ones have used enough CPU time to measure.
		var cpu [2]time.Duration // small, large
		rounds := 0
		for rounds < maxRounds && (rounds < 2 || cpu[0] < minCPU) {
			for range 10 {
				cpu[0] += send(small)
			}
			cpu[1] += send(large)
			rounds++
		}
		// Per request: cpu[1]/rounds against cpu[0]/(10*rounds).
		ratio := 10 * float64(cpu[1]) / float64(max(cpu[0], 10*time.Millisecond))
		t.Logf("%s: %d elements %v, %d elements %v of CPU per request: %.1f×", c.name,
			small, cpu[0]/time.Duration(10*rounds), large, cpu[1]/time.Duration(rounds), ratio)
		if ratio > maxRatio {
			t.Errorf("%s: a %d-element body costs %.0f× the CPU time of a %d-element one (%v against %v per request; linear is about 10×)",
				c.name, large, ratio, small, cpu[1]/time.Duration(rounds), cpu[0]/time.Duration(10*rounds))
		}
	}
}

// threadCPU is the CPU time each thread of a process has used so far, by
// thread id, from /proc/<pid>/task/<tid>/schedstat (nanoseconds, unlike
// the clock ticks of /proc/<pid>/stat).
type threadCPU map[string]time.Duration

func readThreadCPU(t *testing.T, pid int) threadCPU {
	t.Helper()
	dir := fmt.Sprintf("/proc/%d/task", pid)
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := make(threadCPU, len(ents))
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name(), "schedstat"))
		if err != nil {
			continue // the thread has exited
		}
		f := strings.Fields(string(b))
		if len(f) == 0 {
			t.Fatalf("%s/%s/schedstat: %q", dir, e.Name(), b)
		}
		ns, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			t.Fatalf("%s/%s/schedstat: %q", dir, e.Name(), b)
		}
		out[e.Name()] = time.Duration(ns)
	}
	return out
}

// since returns the CPU time the process used from before to c, over the
// threads it has at c (a thread that exited meanwhile is left out: the Go
// runtime keeps its threads).
func (c threadCPU) since(before threadCPU) time.Duration {
	var d time.Duration
	for tid, ns := range c {
		d += ns - before[tid]
	}
	return d
}

// 100,000 levels of objects and arrays.
func (s *sweep) deepNesting(t *testing.T) {
	const depth = 100_000
	objs := strings.Repeat(`{"a":`, depth) + "1" + strings.Repeat("}", depth)
	arrs := strings.Repeat("[", depth) + strings.Repeat("]", depth)
	unclosed := strings.Repeat("[", depth)
	for _, v := range []string{objs, arrs, unclosed} {
		for _, tmpl := range []string{`{"userName":"deep@example.com","name":%s}`, `{"userName":%s}`, `%s`,
			`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":%s}]}`} {
			body := fmt.Sprintf(tmpl, v)
			s.reject("deep POST", "POST", "/Users", body, false)
			s.reject("deep PATCH", "PATCH", "/Users/"+s.uid, body, false)
			s.reject("deep group PATCH", "PATCH", "/Groups/"+s.gid, body, false)
		}
	}
}

// Invalid UTF-8 in bodies, paths and filters.
func (s *sweep) invalidUTF8(t *testing.T) {
	bad := []string{"\xff", "\xc3\x28", "\xed\xa0\x80", "a\xf0\x28\x8c\xbc", "\x80"}
	for _, b := range bad {
		s.reject("POST body", "POST", "/Users", `{"userName":"`+b+`@example.com"}`, false)
		s.reject("POST key", "POST", "/Users", `{"userName":"utf@example.com","`+b+`":1}`, false)
		s.reject("PATCH value", "PATCH", "/Users/"+s.uid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"displayName","value":"`+b+`"}]}`, false)
		s.reject("PATCH path", "PATCH", "/Users/"+s.uid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"`+b+`","value":"x"}]}`, false)
		s.reject("group PATCH", "PATCH", "/Groups/"+s.gid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":"members[value eq \"`+b+`\"]"}]}`, false)
		s.reject("path id", "GET", "/Users/"+url.PathEscape(b), "", false)
		// A filter with invalid UTF-8 matches nothing at best.
		s.reject("filter", "GET", "/Users?filter="+url.QueryEscape(`userName eq "`+b+`"`), "", true)
		s.reject("filter attr", "GET", "/Users?filter="+url.QueryEscape(b+` eq "x"`), "", false)
	}
}

// Broken query strings: filters (truncated, wrong types, nested 5,000 deep),
// paging, projections.
func (s *sweep) queries(t *testing.T) {
	valid := `userName eq "base@example.com" and (active eq true or emails[type eq "work" and value co "@"])`
	for n := 1; n < len(valid); n++ {
		q := valid[:n]
		// A prefix can itself be a filter (`userName eq "base@example.com"`
		// is); the others are 400.
		s.reject("filter prefix "+q, "GET", "/Users?filter="+url.QueryEscape(q), "", q == `userName eq "base@example.com"`)
	}
	nest := func(open, close string, n int) string {
		return strings.Repeat(open, n) + `userName eq "x"` + strings.Repeat(close, n)
	}
	filters := []struct {
		f  string
		ok bool
	}{
		{`userName eq 42`, true}, {`active eq "x"`, true}, {`active eq 1`, true}, {`meta.created gt "not a date"`, false},
		{`meta.created gt 42`, true}, {`userName eq null`, true}, {`userName eq true`, true}, {`emails eq "x"`, true},
		{`name eq "x"`, true}, {`nosuch eq "x"`, false}, {`userName xx "x"`, false}, {`userName eq`, false},
		{`userName eq "x" and`, false}, {`(userName eq "x"`, false}, {`userName eq "x")`, false}, {`not userName eq "x"`, false},
		{`emails[type eq "work"`, false}, {`emails[type eq "work"]]`, false}, {`userName eq "\"`, false},
		{`userName eq "` + strings.Repeat("x", 20000) + `"`, true},
		{nest("(", ")", 5000), true}, {nest("not(", ")", 3000), true}, {nest("(", "", 5000), false},
		{nest("emails[", "]", 2000), false},
		{strings.Repeat(`userName eq "x" or `, 1500) + `userName eq "y"`, true},
		{strings.Repeat(`userName eq "x" and `, 1500) + `userName eq "y"`, true},
	}
	for _, f := range filters {
		for _, ep := range []string{"/Users", "/Groups"} {
			s.reject("filter "+f.f[:min(len(f.f), 40)], "GET", ep+"?filter="+url.QueryEscape(f.f), "", f.ok)
		}
	}
	for _, q := range []struct {
		q  string
		ok bool
	}{
		{"startIndex=x", false}, {"count=x", false}, {"count=1.5", false},
		{"count=99999999999999999999999", true}, {"startIndex=-99999999999999999999", true}, // clamped
		{"attributes=nosuch.sub.sub", true}, {"excludedAttributes=" + strings.Repeat("a,", 5000), true},
		{"attributes=" + url.QueryEscape(strings.Repeat("name.", 2000)), true},
		// Malformed query strings: refused, not half-read.
		{"filter=" + strings.Repeat("%", 3), false}, {"filter=%zz", false}, {"filter=userName%20eq%20%22a;b%22", false},
		{"count=1;startIndex=2", false}, {"attributes=%", false},
	} {
		s.reject("query "+q.q[:min(len(q.q), 40)], "GET", "/Users?"+q.q, "", q.ok)
		s.reject("query "+q.q[:min(len(q.q), 40)], "GET", "/Users/"+s.uid+"?"+q.q, "", true)
	}
}

// rawExchange writes req on a fresh connection and returns the status line
// the server answers with ("" if it closed the connection without one).
func rawExchange(t *testing.T, addr string, req []byte, timeout time.Duration) (string, error) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(timeout))
	go func() { _, _ = c.Write(req) }() // the server may stop reading and answer first
	line, err := bufio.NewReader(c).ReadString('\n')
	return strings.TrimSpace(line), err
}

// Malformed HTTP: net/http answers most of these before the SCIM handler
// (plain text 400; 501 for a transfer coding and 505 for an HTTP version it
// does not implement) or closes the connection; the rest are SCIM 4xx.
func (s *sweep) protocol(t *testing.T) {
	auth := "Authorization: Bearer " + s.c.token + "\r\n"
	body := oktaUserBody("proto@example.com", "Proto", "Col")
	reqs := []string{
		"GET\r\n\r\n",
		"GET /scim/v2/Users\r\n\r\n",
		"GET /scim/v2/Users HTTP/9.9\r\nHost: x\r\n\r\n",
		"FOO BAR BAZ QUX\r\n\r\n",
		"\x00\x01\x02\r\n\r\n",
		"GET /scim/v2/Users HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n",
		"GET /scim/v2/Users HTTP/1.1\r\nHost: x\r\nBad Name: v\r\n\r\n",
		"GET /scim/v2/Users HTTP/1.1\r\nHost: x\r\nX: a\x00b\r\n\r\n",
		"GET /scim/v2/Users HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
		"POST /scim/v2/Users HTTP/1.1\r\nHost: x\r\n" + auth + "Content-Length: -1\r\n\r\n" + body,
		"POST /scim/v2/Users HTTP/1.1\r\nHost: x\r\n" + auth + "Content-Length: abc\r\n\r\n" + body,
		"POST /scim/v2/Users HTTP/1.1\r\nHost: x\r\n" + auth + "Content-Length: 5\r\nContent-Length: 6\r\n\r\n" + body,
		"POST /scim/v2/Users HTTP/1.1\r\nHost: x\r\n" + auth + "Content-Length: 99999999999999999999\r\n\r\n" + body,
		"POST /scim/v2/Users HTTP/1.1\r\nHost: x\r\n" + auth + "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
		"POST /scim/v2/Users HTTP/1.1\r\nHost: x\r\n" + auth + "Transfer-Encoding: gzip\r\n\r\n" + body,
		"POST /scim/v2/Users HTTP/1.1\r\nHost: x\r\n" + auth + "Transfer-Encoding: chunked\r\n\r\nzz\r\n" + body,
		"POST /scim/v2/Users HTTP/1.1\r\nHost: x\r\n" + auth + "Transfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n" + body,
		// A Content-Length shorter than the body: a truncated JSON request,
		// then garbage as the next request on the connection.
		"POST /scim/v2/Users HTTP/1.1\r\nHost: x\r\n" + auth + "Content-Length: 20\r\n\r\n" + body,
		"PATCH /scim/v2/Users/" + s.uid + " HTTP/1.1\r\nHost: x\r\n" + auth + "Content-Type: text/plain\r\nContent-Length: 2\r\n\r\n{}",
		"PATCH /scim/v2/Users/" + s.uid + " HTTP/1.1\r\nHost: x\r\n" + auth + "Content-Type: ;;;\r\nContent-Length: 2\r\n\r\n{}",
		"GET /scim/v2/Users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \xff\xfe\r\n\r\n",
		"GET /scim/v2/Users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer Bearer " + s.c.token + "\r\n\r\n",
		"GET /scim/v2/Users?filter=%zz HTTP/1.1\r\nHost: x\r\n" + auth + "\r\n",
		"GET /scim/v2/%zz HTTP/1.1\r\nHost: x\r\n" + auth + "\r\n",
		"GET * HTTP/1.1\r\nHost: x\r\n\r\n",
		"CONNECT x:1 HTTP/1.1\r\nHost: x\r\n\r\n",
	}
	status := regexp.MustCompile(`^HTTP/1\.[01] (\d{3}) `)
	for _, r := range reqs {
		s.n++
		line, err := rawExchange(t, s.d.api, []byte(r), 10*time.Second)
		if isTimeout(err) {
			t.Errorf("%.60q: no answer and no close within 10 s", r)
			continue
		}
		if line == "" {
			continue // closed
		}
		m := status.FindStringSubmatch(line)
		code := 0
		if m != nil {
			code, _ = strconv.Atoi(m[1])
		}
		s.codes[code]++
		if code < 400 || code >= 500 && code != 501 && code != 505 {
			t.Errorf("%.60q: %q, want a 4xx (501/505 for an unknown transfer coding/HTTP version)", r, line)
		}
	}
}

// A 1 MiB header: 431 or a closed connection.
func (s *sweep) hugeHeader(t *testing.T) {
	big := strings.Repeat("a", 1<<20)
	for _, hdr := range []string{"X-Big: " + big, "Authorization: Bearer " + big, "Cookie: " + big,
		strings.Repeat("X-Many: a\r\n", 100_000)[:1<<20-2]} {
		req := fmt.Sprintf("GET /scim/v2/Users HTTP/1.1\r\nHost: x\r\n%s\r\n\r\n", hdr)
		line, err := rawExchange(t, s.d.api, []byte(req), 10*time.Second)
		s.n++
		if line != "" && !strings.Contains(line, " 431 ") {
			t.Errorf("1 MiB header %.20s: %q, want 431 or a closed connection", hdr, line)
		}
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Errorf("1 MiB header %.20s: no answer and no close within 10 s", hdr)
		}
	}
	// A 1 MiB request line (URL) too.
	line, err := rawExchange(t, s.d.api, []byte("GET /scim/v2/Users?filter="+big+" HTTP/1.1\r\nHost: x\r\n\r\n"), 10*time.Second)
	if (line != "" && !strings.Contains(line, " 431 ") && !strings.Contains(line, " 414 ")) || isTimeout(err) {
		t.Errorf("1 MiB request line: %q %v", line, err)
	}
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// Bodies over 1 MiB: 413 (with Content-Length and chunked).
func (s *sweep) hugeBody(t *testing.T) {
	valid := oktaUserBody("huge@example.com", "Huge", "Body")
	pad := `{"userName":"huge@example.com","displayName":"` + strings.Repeat("x", 1<<20) + `"}`
	for _, b := range []string{pad, valid + strings.Repeat(" ", 1<<20), strings.Repeat("[", 2<<20)} {
		s.reject("huge body", "POST", "/Users", b, false)
		if s.codes[413] == 0 {
			t.Errorf("a %d-byte body was not answered 413", len(b))
		}
		// Chunked: no Content-Length, the server finds out while reading.
		req, _ := http.NewRequest("PATCH", s.c.base+"/Users/"+s.uid, io.MultiReader(strings.NewReader(b)))
		req.Header.Set("Authorization", "Bearer "+s.c.token)
		req.Header.Set("Content-Type", "application/scim+json")
		req.ContentLength = -1
		resp, err := s.c.hc.Do(req)
		s.n++
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 413 || !bytes.Contains(body, []byte(mapping.SchemaError)) {
				t.Errorf("chunked %d-byte body: %d %.200s, want a SCIM 413", len(b), resp.StatusCode, body)
			}
		} else if isTimeout(err) {
			t.Errorf("chunked %d-byte body: %v", len(b), err)
		}
	}
}

// Slowloris: 50 connections dribbling headers and 50 dribbling bodies. The
// server cuts each off (read header / read timeout); meanwhile normal
// requests answer quickly.
func (s *sweep) slowClients(t *testing.T) {
	const conns = 50
	type result struct {
		kind   string
		status string
		after  time.Duration
		err    error
	}
	results := make(chan result, 2*conns)
	stop := make(chan struct{})
	slow := func(kind, head string, drip func(i int) string) {
		start := time.Now()
		c, err := net.DialTimeout("tcp", s.d.api, time.Second)
		if err != nil {
			results <- result{kind: kind, err: err}
			return
		}
		defer c.Close()
		// Read whatever the server says, until it closes.
		got := make(chan string, 1)
		go func() {
			_ = c.SetReadDeadline(time.Now().Add(15 * time.Second))
			line, _ := bufio.NewReader(c).ReadString('\n')
			got <- strings.TrimSpace(line)
		}()
		if _, err := io.WriteString(c, head); err != nil {
			results <- result{kind: kind, err: err}
			return
		}
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case line := <-got:
				results <- result{kind: kind, status: line, after: time.Since(start)}
				return
			case <-stop:
				results <- result{kind: kind, err: fmt.Errorf("still open when the test gave up")}
				return
			case <-tick.C:
				_, _ = io.WriteString(c, drip(i)) // errors show up as a close
			}
		}
	}
	body := oktaUserBody("slow@example.com", "Slow", "Body")
	for i := range conns {
		go slow("header", "POST /scim/v2/Users HTTP/1.1\r\nHost: x\r\n", func(j int) string {
			return fmt.Sprintf("X-Slow-%d: %d\r\n", j, i)
		})
		go slow("body", fmt.Sprintf("POST /scim/v2/Users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"+
			"Content-Type: application/scim+json\r\nContent-Length: %d\r\n\r\n", s.c.token, len(body)+10_000),
			func(j int) string { return body[j%len(body) : j%len(body)+1] })
	}
	// While they all hang (before the first is cut off), normal requests
	// answer quickly: a server stalled by them would answer only once they
	// are cut off, after the read header timeout.
	slowStart := time.Now()
	time.Sleep(300 * time.Millisecond)
	var worst time.Duration
	for range 10 {
		start := time.Now()
		s.c.must(t, 200, "GET", "/Users?filter="+url.QueryEscape(`userName eq "base@example.com"`), "")
		s.c.must(t, 201, "POST", "/Users", oktaUserBody(s.userName(), "Normal", "Request"))
		worst = max(worst, time.Since(start))
		time.Sleep(30 * time.Millisecond)
	}
	if worst > faultReadHeaderTimeout/4 || time.Since(slowStart) > faultReadHeaderTimeout {
		t.Errorf("normal GET+POST: worst %v, all done %v after %d slow connections opened (read header timeout %v)",
			worst, time.Since(slowStart), 2*conns, faultReadHeaderTimeout)
	}
	timer := time.AfterFunc(10*time.Second, func() { close(stop) })
	defer timer.Stop()
	limits := map[string]time.Duration{"header": faultReadHeaderTimeout, "body": faultReadTimeout}
	var maxAfter = map[string]time.Duration{}
	for range 2 * conns {
		r := <-results
		s.n++
		if r.err != nil {
			t.Errorf("slow %s: %v", r.kind, r.err)
			continue
		}
		// A slow header gets no answer (the connection closes); a slow
		// body may get a 4xx SCIM error before the close.
		if r.status != "" && (r.kind == "header" || !regexp.MustCompile(`^HTTP/1\.1 4\d\d `).MatchString(r.status)) {
			t.Errorf("slow %s: answered %q", r.kind, r.status)
		}
		if r.after > limits[r.kind]+2*time.Second {
			t.Errorf("slow %s: cut off after %v, the limit is %v", r.kind, r.after, limits[r.kind])
		}
		maxAfter[r.kind] = max(maxAfter[r.kind], r.after)
	}
	t.Logf("slow connections cut off after at most %v (headers) and %v (bodies); normal requests meanwhile: worst %v",
		maxAfter["header"].Round(time.Millisecond), maxAfter["body"].Round(time.Millisecond), worst.Round(time.Millisecond))
}
