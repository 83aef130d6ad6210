package doctor

// A small, deliberately breakable SCIM server (not AxonFlow's): correct by
// default, with one switch per fault doctor must diagnose.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"
)

// faults are the ways the fake server can be broken.
type faults struct {
	numericStatus  bool // error "status" as a JSON number
	noErrorSchema  bool // error bodies without the Error schema
	noResources    bool // ListResponse without "Resources"
	wrongCT        bool // Content-Type text/html on every response
	stringTotal    bool // "totalResults" as a string
	unknownID200   bool // GET /Users/{unknown} answers 200
	filterAll      bool // filters are ignored: every user comes back
	caseSensitive  bool // userName filter is case-sensitive
	dupCreate      bool // POST of an existing userName is 201
	groups500      bool // GET /Groups is a 500
	incompleteUser bool // the seeded user has no name
	anyToken       bool // every Authorization value is accepted
	noUserDelete   bool // DELETE /Users/{id} is 405
	slowGroups     bool // GET /Groups takes 700 ms
}

type fakeSCIM struct {
	mu     sync.Mutex
	f      faults
	token  string
	n      int
	users  map[string]map[string]any
	uorder []string
	groups map[string]map[string]any
	gorder []string
	mux    *http.ServeMux
	// seen records "METHOD path" plus the request headers doctor sent.
	seen []http.Header
}

func newFake(token string, f faults) *fakeSCIM {
	s := &fakeSCIM{f: f, token: token, users: map[string]map[string]any{}, groups: map[string]map[string]any{}}
	seed := map[string]any{
		"schemas": []any{schemaUser}, "userName": "ada@example.com", "active": true,
		"name":   map[string]any{"givenName": "Ada", "familyName": "Okafor"},
		"emails": []any{map[string]any{"value": "ada@example.com", "primary": true, "type": "work"}},
	}
	if f.incompleteUser {
		delete(seed, "name")
	}
	s.addUser(seed)
	m := http.NewServeMux()
	m.HandleFunc("GET /scim/v2/ServiceProviderConfig", func(w http.ResponseWriter, r *http.Request) {
		s.json(w, 200, map[string]any{"schemas": []any{"urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"}, "patch": map[string]any{"supported": true}, "filter": map[string]any{"supported": true}})
	})
	m.HandleFunc("GET /scim/v2/ResourceTypes", func(w http.ResponseWriter, r *http.Request) { s.list(w, []any{map[string]any{"name": "User"}}) })
	m.HandleFunc("GET /scim/v2/Schemas", func(w http.ResponseWriter, r *http.Request) { s.list(w, []any{map[string]any{"id": schemaUser}}) })
	m.HandleFunc("GET /scim/v2/Users", s.authed(s.listUsers))
	m.HandleFunc("POST /scim/v2/Users", s.authed(s.createUser))
	m.HandleFunc("GET /scim/v2/Users/{id}", s.authed(s.getUser))
	m.HandleFunc("PUT /scim/v2/Users/{id}", s.authed(s.putUser))
	m.HandleFunc("PATCH /scim/v2/Users/{id}", s.authed(s.patchUser))
	m.HandleFunc("DELETE /scim/v2/Users/{id}", s.authed(s.deleteUser))
	m.HandleFunc("GET /scim/v2/Groups", s.authed(s.listGroups))
	m.HandleFunc("POST /scim/v2/Groups", s.authed(s.createGroup))
	m.HandleFunc("GET /scim/v2/Groups/{id}", s.authed(s.getGroup))
	m.HandleFunc("PATCH /scim/v2/Groups/{id}", s.authed(s.patchGroup))
	m.HandleFunc("DELETE /scim/v2/Groups/{id}", s.authed(s.deleteGroup))
	s.mux = m
	return s
}

func (s *fakeSCIM) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := r.Header.Clone()
	h.Set("X-Test-Request", r.Method+" "+r.URL.Path)
	s.seen = append(s.seen, h)
	s.mux.ServeHTTP(w, r)
}

// counts returns how many users and groups the server holds.
func (s *fakeSCIM) counts() (users, groups int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.users), len(s.groups)
}

func (s *fakeSCIM) addUser(u map[string]any) string {
	s.n++
	id := fmt.Sprintf("u-%04d", s.n)
	u["id"] = id
	s.users[id] = u
	s.uorder = append(s.uorder, id)
	return id
}

func (s *fakeSCIM) ct() string {
	if s.f.wrongCT {
		return "text/html; charset=utf-8"
	}
	return "application/scim+json"
}

func (s *fakeSCIM) json(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", s.ct())
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (s *fakeSCIM) err(w http.ResponseWriter, status int, scimType, detail string) {
	body := map[string]any{"detail": detail}
	if s.f.numericStatus {
		body["status"] = status
	} else {
		body["status"] = fmt.Sprint(status)
	}
	if !s.f.noErrorSchema {
		body["schemas"] = []any{schemaError}
	}
	if scimType != "" {
		body["scimType"] = scimType
	}
	s.json(w, status, body)
}

func (s *fakeSCIM) list(w http.ResponseWriter, res []any) {
	body := map[string]any{"schemas": []any{schemaList}, "startIndex": 1, "itemsPerPage": len(res)}
	if s.f.stringTotal {
		body["totalResults"] = fmt.Sprint(len(res))
	} else {
		body["totalResults"] = len(res)
	}
	if !s.f.noResources {
		body["Resources"] = res
	}
	s.json(w, 200, body)
}

func (s *fakeSCIM) authed(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.f.anyToken && r.Header.Get("Authorization") != "Bearer "+s.token {
			s.err(w, 401, "", "invalid token")
			return
		}
		h(w, r)
	}
}

var eqFilter = regexp.MustCompile(`^(\w+) eq "(.*)"$`)

// match applies a `attr eq "value"` filter (the only kind doctor sends).
func (s *fakeSCIM) match(r *http.Request, res map[string]any, attr string) bool {
	f := r.URL.Query().Get("filter")
	if f == "" || s.f.filterAll {
		return true
	}
	m := eqFilter.FindStringSubmatch(f)
	if m == nil || !strings.EqualFold(m[1], attr) {
		return false
	}
	v, _ := res[attr].(string)
	if s.f.caseSensitive {
		return v == m[2]
	}
	return strings.EqualFold(v, m[2])
}

func (s *fakeSCIM) listUsers(w http.ResponseWriter, r *http.Request) {
	count := 100
	if r.URL.Query().Get("count") == "1" {
		count = 1
	}
	var out []any
	for _, id := range s.uorder {
		if u := s.users[id]; s.match(r, u, "userName") && len(out) < count {
			out = append(out, u)
		}
	}
	if out == nil {
		out = []any{}
	}
	s.list(w, out)
}

func decode(r *http.Request) map[string]any {
	var m map[string]any
	_ = json.NewDecoder(r.Body).Decode(&m)
	return m
}

func (s *fakeSCIM) createUser(w http.ResponseWriter, r *http.Request) {
	u := decode(r)
	name, _ := u["userName"].(string)
	for _, x := range s.users {
		if strings.EqualFold(x["userName"].(string), name) && !s.f.dupCreate {
			s.err(w, 409, "uniqueness", "userName taken")
			return
		}
	}
	delete(u, "groups")
	s.addUser(u)
	s.json(w, 201, u)
}

func (s *fakeSCIM) getUser(w http.ResponseWriter, r *http.Request) {
	u, ok := s.users[r.PathValue("id")]
	if !ok && s.f.unknownID200 {
		u, ok = s.users[s.uorder[0]], true
	}
	if !ok {
		s.err(w, 404, "", "user not found")
		return
	}
	s.json(w, 200, u)
}

func (s *fakeSCIM) putUser(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, ok := s.users[id]; !ok {
		s.err(w, 404, "", "user not found")
		return
	}
	u := decode(r)
	delete(u, "groups")
	u["id"] = id
	s.users[id] = u
	s.json(w, 200, u)
}

func (s *fakeSCIM) patchUser(w http.ResponseWriter, r *http.Request) {
	u, ok := s.users[r.PathValue("id")]
	if !ok {
		s.err(w, 404, "", "user not found")
		return
	}
	ops, _ := decode(r)["Operations"].([]any)
	for _, o := range ops {
		op, _ := o.(map[string]any)
		if v, ok := op["value"].(map[string]any); ok && op["path"] == nil {
			for k, x := range v {
				u[k] = x
			}
		}
	}
	s.json(w, 200, u)
}

func (s *fakeSCIM) deleteUser(w http.ResponseWriter, r *http.Request) {
	if s.f.noUserDelete {
		s.err(w, 405, "", "users cannot be deleted")
		return
	}
	id := r.PathValue("id")
	if _, ok := s.users[id]; !ok {
		s.err(w, 404, "", "user not found")
		return
	}
	delete(s.users, id)
	for i, x := range s.uorder {
		if x == id {
			s.uorder = append(s.uorder[:i], s.uorder[i+1:]...)
			break
		}
	}
	w.WriteHeader(204)
}

func (s *fakeSCIM) listGroups(w http.ResponseWriter, r *http.Request) {
	if s.f.groups500 {
		s.err(w, 500, "", "database exploded")
		return
	}
	if s.f.slowGroups {
		time.Sleep(700 * time.Millisecond)
	}
	out := []any{}
	for _, id := range s.gorder {
		if g := s.groups[id]; s.match(r, g, "displayName") {
			out = append(out, g)
		}
	}
	s.list(w, out)
}

func (s *fakeSCIM) createGroup(w http.ResponseWriter, r *http.Request) {
	g := decode(r)
	s.n++
	id := fmt.Sprintf("g-%04d", s.n)
	g["id"] = id
	s.groups[id] = g
	s.gorder = append(s.gorder, id)
	s.json(w, 201, g)
}

func (s *fakeSCIM) getGroup(w http.ResponseWriter, r *http.Request) {
	g, ok := s.groups[r.PathValue("id")]
	if !ok {
		s.err(w, 404, "", "group not found")
		return
	}
	s.json(w, 200, g)
}

var memberPath = regexp.MustCompile(`^members\[value eq "(.*)"\]$`)

func (s *fakeSCIM) patchGroup(w http.ResponseWriter, r *http.Request) {
	g, ok := s.groups[r.PathValue("id")]
	if !ok {
		s.err(w, 404, "", "group not found")
		return
	}
	members, _ := g["members"].([]any)
	ops, _ := decode(r)["Operations"].([]any)
	for _, o := range ops {
		op, _ := o.(map[string]any)
		path, _ := op["path"].(string)
		switch {
		case op["op"] == "replace" && path == "":
			if v, ok := op["value"].(map[string]any); ok {
				g["displayName"] = v["displayName"]
			}
		case op["op"] == "add" && path == "members":
			l, _ := op["value"].([]any)
			members = append(members, l...)
		case op["op"] == "remove" && memberPath.MatchString(path):
			uid := memberPath.FindStringSubmatch(path)[1]
			var keep []any
			for _, m := range members {
				if m.(map[string]any)["value"] != uid {
					keep = append(keep, m)
				}
			}
			members = keep
		default:
			s.err(w, 400, "invalidPath", "unsupported operation")
			return
		}
	}
	if members == nil {
		members = []any{}
	}
	g["members"] = members
	w.WriteHeader(204)
}

func (s *fakeSCIM) deleteGroup(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, ok := s.groups[id]; !ok {
		s.err(w, 404, "", "group not found")
		return
	}
	delete(s.groups, id)
	for i, x := range s.gorder {
		if x == id {
			s.gorder = append(s.gorder[:i], s.gorder[i+1:]...)
			break
		}
	}
	w.WriteHeader(204)
}
