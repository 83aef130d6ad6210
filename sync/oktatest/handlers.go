package oktatest

import (
	"bytes"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Default and maximum page sizes per endpoint (Okta Management API reference).
const (
	AppUsersDefaultLimit   = 50
	AppUsersMaxLimit       = 500
	AppGroupsDefaultLimit  = 20
	AppGroupsMaxLimit      = 200
	GroupUsersDefaultLimit = 1000
	GroupUsersMaxLimit     = 1000
	GroupsDefaultLimit     = 10000
	GroupsMaxLimit         = 10000
	UsersDefaultLimit      = 200
	UsersMaxLimit          = 200
)

// cursor is the decoded form of an opaque `after` value: either "continue after
// id last" or "page k beyond the end" (endless-paging fault).
type cursor struct {
	last string
	end  int // -1 unless an endless-paging cursor
}

const cursorSep = "\x1f"

func (s *Server) encodeCursor(c cursor) string {
	kind, val := "c1", c.last
	if c.end >= 0 {
		kind, val = "e1", strconv.Itoa(c.end)
	}
	raw := kind + cursorSep + val + cursorSep + strconv.FormatUint(s.nonce.Add(1), 36)
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

func decodeCursor(a string) (cursor, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(a)
	if err != nil {
		return cursor{}, false
	}
	parts := strings.Split(string(raw), cursorSep)
	if len(parts) != 3 {
		return cursor{}, false
	}
	switch parts[0] {
	case "c1":
		return cursor{last: parts[1], end: -1}, true
	case "e1":
		k, err := strconv.Atoi(parts[1])
		if err != nil {
			return cursor{}, false
		}
		return cursor{end: k}, true
	}
	return cursor{}, false
}

// page describes one listing to serve: n items sorted by id.
type page struct {
	n        int
	id       func(i int) string
	enc      func(i int) []byte
	defLimit int
	maxLimit int
}

func (s *Server) servePage(w http.ResponseWriter, r *http.Request, rc *reqCtx, p page) {
	q := r.URL.Query()
	limit := p.defLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			s.writeError(w, http.StatusBadRequest, "E0000001", "Api validation failed: limit")
			return
		}
		limit = min(n, p.maxLimit)
	}
	start, endK := 0, -1
	if a := q.Get("after"); a != "" {
		c, ok := decodeCursor(a)
		if !ok {
			s.writeError(w, http.StatusBadRequest, "E0000001", "Api validation failed: after")
			return
		}
		if c.end >= 0 {
			start, endK = p.n, c.end
		} else {
			start = sort.Search(p.n, func(i int) bool { return p.id(i) > c.last })
		}
	}
	end := min(start+limit, p.n)
	if rc.eff.emptyPage {
		end = start
	}
	self := s.URL + r.URL.Path
	if r.URL.RawQuery != "" {
		self += "?" + r.URL.RawQuery
	}
	nextURL := func(c cursor) string {
		nq := url.Values{}
		for k, v := range q {
			nq[k] = v
		}
		nq.Set("after", s.encodeCursor(c))
		nq.Set("limit", strconv.Itoa(limit))
		return s.URL + r.URL.Path + "?" + nq.Encode()
	}
	next := ""
	switch {
	case rc.eff.repeat:
		next = self
	case end < p.n && !rc.eff.dropNext:
		last := ""
		if end > 0 {
			last = p.id(end - 1)
		}
		next = nextURL(cursor{last: last, end: -1})
	case end >= p.n && rc.eff.endless:
		next = nextURL(cursor{end: endK + 1})
	}
	h := w.Header()
	h.Add("Link", "<"+self+`>; rel="self"`)
	if next != "" {
		h.Add("Link", "<"+next+`>; rel="next"`)
	}
	if rw := s.faults.rewriter(rc.route); rw != nil {
		enc := p.enc
		p.enc = func(i int) []byte { return rw(enc(i)) }
	}
	size := 2
	for i := start; i < end; i++ {
		size += len(p.enc(i)) + 1
	}
	buf := bytes.NewBuffer(make([]byte, 0, size))
	buf.WriteByte('[')
	for i := start; i < end; i++ {
		if i > start {
			buf.WriteByte(',')
		}
		buf.Write(p.enc(i))
	}
	buf.WriteByte(']')
	s.writeJSON(w, buf.Bytes())
}

func expands(r *http.Request, what string) bool {
	for _, e := range strings.Split(r.URL.Query().Get("expand"), ",") {
		if strings.TrimSpace(e) == what {
			return true
		}
	}
	return false
}

func (s *Server) handleAppUsers(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	appID := r.PathValue("appId")
	ai, ok := s.snapshot().apps[appID]
	if !ok {
		s.writeError(w, http.StatusNotFound, "E0000007", "Not found: Resource not found: "+appID+" (AppInstance)")
		return
	}
	users := ai.users
	if qv := strings.ToLower(r.URL.Query().Get("q")); qv != "" {
		users = nil
		for _, v := range ai.users {
			u := v.user
			if hasPrefixFold(u.FirstName, qv) || hasPrefixFold(u.LastName, qv) || hasPrefixFold(u.Email, qv) || hasPrefixFold(v.a.userName, qv) {
				users = append(users, v)
			}
		}
	}
	expand := expands(r, "user")
	s.servePage(w, r, rc, page{
		n:        len(users),
		id:       func(i int) string { return users[i].user.ID },
		enc:      func(i int) []byte { return s.appUserJSON(users[i], expand) },
		defLimit: AppUsersDefaultLimit, maxLimit: AppUsersMaxLimit,
	})
}

func (s *Server) handleAppGroups(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	appID := r.PathValue("appId")
	ai, ok := s.snapshot().apps[appID]
	if !ok {
		s.writeError(w, http.StatusNotFound, "E0000007", "Not found: Resource not found: "+appID+" (AppInstance)")
		return
	}
	groups := ai.groups
	expand := expands(r, "group")
	s.servePage(w, r, rc, page{
		n:        len(groups),
		id:       func(i int) string { return groups[i].group.ID },
		enc:      func(i int) []byte { return s.appGroupJSON(groups[i], expand) },
		defLimit: AppGroupsDefaultLimit, maxLimit: AppGroupsMaxLimit,
	})
}

func (s *Server) handleGroupUsers(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	gid := r.PathValue("groupId")
	members, ok := s.snapshot().members[gid]
	if !ok {
		s.writeError(w, http.StatusNotFound, "E0000007", "Not found: Resource not found: "+gid+" (UserGroup)")
		return
	}
	s.servePage(w, r, rc, page{
		n:        len(members),
		id:       func(i int) string { return members[i].ID },
		enc:      func(i int) []byte { return s.userJSON(members[i]) },
		defLimit: GroupUsersDefaultLimit, maxLimit: GroupUsersMaxLimit,
	})
}

func (s *Server) handleGroup(w http.ResponseWriter, r *http.Request, _ *reqCtx) {
	gid := r.PathValue("groupId")
	s.mu.RLock()
	g, ok := s.groups[gid]
	s.mu.RUnlock()
	if !ok {
		s.writeError(w, http.StatusNotFound, "E0000007", "Not found: Resource not found: "+gid+" (UserGroup)")
		return
	}
	s.writeJSON(w, s.groupJSON(g))
}

func (s *Server) handleUser(w http.ResponseWriter, r *http.Request, _ *reqCtx) {
	id := r.PathValue("id")
	s.mu.RLock()
	u, ok := s.users[id]
	if !ok {
		for _, c := range s.users {
			if strings.EqualFold(c.Login, id) {
				u, ok = c, true
				break
			}
		}
	}
	s.mu.RUnlock()
	if !ok {
		s.writeError(w, http.StatusNotFound, "E0000007", "Not found: Resource not found: "+id+" (User)")
		return
	}
	s.writeJSON(w, s.userJSON(u))
}

func hasPrefixFold(s, lowerPrefix string) bool {
	return len(s) >= len(lowerPrefix) && strings.ToLower(s[:len(lowerPrefix)]) == lowerPrefix
}

// handleGroups serves GET /api/v1/groups with q (name prefix, case-insensitive)
// and a small subset of search (attr eq|sw "value" joined by "and").
func (s *Server) handleGroups(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	all := s.snapshot().groups
	qv := strings.ToLower(r.URL.Query().Get("q"))
	var pred func(*groupRec) bool
	if sv := r.URL.Query().Get("search"); sv != "" {
		p, err := parseSearch(sv, map[string]func(*groupRec) string{
			"id":                  func(g *groupRec) string { return g.ID },
			"type":                func(g *groupRec) string { return g.Type },
			"profile.name":        func(g *groupRec) string { return g.Name },
			"profile.description": func(g *groupRec) string { return g.Description },
		})
		if err != nil {
			s.writeError(w, http.StatusBadRequest, "E0000031", "Invalid search criteria. "+err.Error())
			return
		}
		pred = p
	}
	groups := all
	if qv != "" || pred != nil {
		groups = nil
		for _, g := range all {
			if (qv == "" || hasPrefixFold(g.Name, qv)) && (pred == nil || pred(g)) {
				groups = append(groups, g)
			}
		}
	}
	s.servePage(w, r, rc, page{
		n:        len(groups),
		id:       func(i int) string { return groups[i].ID },
		enc:      func(i int) []byte { return s.groupJSON(groups[i]) },
		defLimit: GroupsDefaultLimit, maxLimit: GroupsMaxLimit,
	})
}

// handleUsers serves GET /api/v1/users: without search or filter,
// DEPROVISIONED users are left out, as in Okta.
func (s *Server) handleUsers(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	all := s.snapshot().users
	query := r.URL.Query()
	qv := strings.ToLower(query.Get("q"))
	var pred func(*userRec) bool
	sv := query.Get("search")
	if sv == "" {
		sv = query.Get("filter")
	}
	if sv != "" {
		p, err := parseSearch(sv, map[string]func(*userRec) string{
			"id":                func(u *userRec) string { return u.ID },
			"status":            func(u *userRec) string { return u.Status },
			"profile.login":     func(u *userRec) string { return u.Login },
			"profile.email":     func(u *userRec) string { return u.Email },
			"profile.firstName": func(u *userRec) string { return u.FirstName },
			"profile.lastName":  func(u *userRec) string { return u.LastName },
		})
		if err != nil {
			s.writeError(w, http.StatusBadRequest, "E0000031", "Invalid search criteria. "+err.Error())
			return
		}
		pred = p
	}
	var users []*userRec
	for _, u := range all {
		if pred == nil && u.Status == StatusDeprovisioned {
			continue
		}
		if qv != "" && !(hasPrefixFold(u.FirstName, qv) || hasPrefixFold(u.LastName, qv) || hasPrefixFold(u.Email, qv) || hasPrefixFold(u.Login, qv)) {
			continue
		}
		if pred != nil && !pred(u) {
			continue
		}
		users = append(users, u)
	}
	s.servePage(w, r, rc, page{
		n:        len(users),
		id:       func(i int) string { return users[i].ID },
		enc:      func(i int) []byte { return s.userJSON(users[i]) },
		defLimit: UsersDefaultLimit, maxLimit: UsersMaxLimit,
	})
}

var clauseRE = regexp.MustCompile(`^\s*([A-Za-z.]+)\s+(eq|sw)\s+"((?:[^"\\]|\\.)*)"\s*$`)

// parseSearch parses `attr eq "v" and attr sw "v"` (a subset of Okta's
// search syntax) over the attributes in attrs.
func parseSearch[T any](expr string, attrs map[string]func(T) string) (func(T) bool, error) {
	type clause struct {
		get     func(T) string
		op, val string
	}
	var cs []clause
	for _, part := range strings.Split(expr, " and ") {
		m := clauseRE.FindStringSubmatch(part)
		if m == nil {
			return nil, fmt.Errorf("unsupported expression %q", part)
		}
		get, ok := attrs[m[1]]
		if !ok {
			return nil, fmt.Errorf("unsupported attribute %q", m[1])
		}
		cs = append(cs, clause{get, m[2], strings.ReplaceAll(m[3], `\"`, `"`)})
	}
	return func(v T) bool {
		for _, c := range cs {
			got := c.get(v)
			switch c.op {
			case "eq":
				if got != c.val {
					return false
				}
			case "sw":
				if !hasPrefixFold(got, strings.ToLower(c.val)) {
					return false
				}
			}
		}
		return true
	}, nil
}

// requiredScope maps a route to the OAuth scope Okta requires for it.
func requiredScope(route string) string {
	switch routeBucket[route] {
	case BucketApps:
		return "okta.apps.read"
	case BucketGroups:
		return "okta.groups.read"
	default:
		return "okta.users.read"
	}
}

// authorize checks SSWS or Bearer credentials and writes 401/403 when they
// do not suffice.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request, route string, b *bucket, now time.Time) bool {
	h := r.Header.Get("Authorization")
	fail := func(status int, code, summary, wwwAuth string) bool {
		s.setRateHeaders(w, b.peek(now))
		if wwwAuth != "" {
			w.Header().Set("WWW-Authenticate", wwwAuth)
		}
		s.writeError(w, status, code, summary)
		return false
	}
	switch {
	case strings.HasPrefix(h, "SSWS "):
		if s.Token != "" && subtle.ConstantTimeCompare([]byte(h[len("SSWS "):]), []byte(s.Token)) == 1 {
			return true
		}
	case strings.HasPrefix(h, "Bearer "):
		scope := requiredScope(route)
		tok, ok := s.oauth.lookup(h[len("Bearer "):], now)
		realm := fmt.Sprintf(`Bearer authorization_uri="%s/oauth2/v1/authorize", realm="%s", scope="%s"`, s.URL, s.URL, scope)
		if !ok {
			return fail(http.StatusUnauthorized, "E0000011", "Invalid token provided",
				realm+`, error="invalid_token", error_description="The access token is invalid or has expired.", resource="`+r.URL.Path+`"`)
		}
		manage := strings.TrimSuffix(scope, ".read") + ".manage"
		if !tok.scopes[scope] && !tok.scopes[manage] {
			return fail(http.StatusForbidden, "E0000006", "You do not have permission to perform the requested action",
				realm+`, error="insufficient_scope", error_description="The access token provided does not contain the required scopes.", resource="`+r.URL.Path+`"`)
		}
		return true
	}
	return fail(http.StatusUnauthorized, "E0000011", "Invalid token provided", "")
}

// handleAppUser serves GET /api/v1/apps/{appId}/users/{userId}: the app
// user (404 E0000007 when not assigned).
func (s *Server) handleAppUser(w http.ResponseWriter, r *http.Request, _ *reqCtx) {
	ai, ok := s.snapshot().apps[r.PathValue("appId")]
	uid := r.PathValue("userId")
	if ok {
		for _, v := range ai.users {
			if v.user.ID == uid {
				s.writeJSON(w, s.appUserJSON(v, false))
				return
			}
		}
	}
	s.writeError(w, http.StatusNotFound, "E0000007", "Not found: Resource not found: "+uid+" (AppUser)")
}

// handleAppGroup serves GET /api/v1/apps/{appId}/groups/{groupId} (404
// when the group is not assigned to the app).
func (s *Server) handleAppGroup(w http.ResponseWriter, r *http.Request, _ *reqCtx) {
	ai, ok := s.snapshot().apps[r.PathValue("appId")]
	gid := r.PathValue("groupId")
	if ok {
		for _, v := range ai.groups {
			if v.group.ID == gid {
				s.writeJSON(w, s.appGroupJSON(v, false))
				return
			}
		}
	}
	s.writeError(w, http.StatusNotFound, "E0000007", "Not found: Resource not found: "+gid+" (ApplicationGroupAssignment)")
}

// handleUserGroups serves GET /api/v1/users/{id}/groups (one page: all of
// the user's groups).
func (s *Server) handleUserGroups(w http.ResponseWriter, r *http.Request, _ *reqCtx) {
	uid := r.PathValue("id")
	snap := s.snapshot()
	s.mu.RLock()
	_, known := s.users[uid]
	s.mu.RUnlock()
	if !known {
		s.writeError(w, http.StatusNotFound, "E0000007", "Not found: Resource not found: "+uid+" (User)")
		return
	}
	var parts [][]byte
	for _, g := range snap.groups {
		for _, m := range snap.members[g.ID] {
			if m.ID == uid {
				parts = append(parts, s.groupJSON(g))
				break
			}
		}
	}
	body := append([]byte("["), bytes.Join(parts, []byte(","))...)
	s.writeJSON(w, append(body, ']'))
}
