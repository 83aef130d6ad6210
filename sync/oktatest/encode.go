package oktatest

import (
	"encoding/json"
	"maps"
	"sync/atomic"
	"time"
)

type href struct {
	Href string `json:"href"`
}

type jsonUser struct {
	ID              string         `json:"id"`
	Status          string         `json:"status"`
	Created         string         `json:"created"`
	Activated       *string        `json:"activated"`
	StatusChanged   *string        `json:"statusChanged"`
	LastLogin       *string        `json:"lastLogin"`
	LastUpdated     string         `json:"lastUpdated"`
	PasswordChanged *string        `json:"passwordChanged"`
	Type            map[string]any `json:"type"`
	Profile         map[string]any `json:"profile"`
	Credentials     map[string]any `json:"credentials"`
	Links           map[string]any `json:"_links"`
}

type jsonGroup struct {
	ID                    string         `json:"id"`
	Created               string         `json:"created"`
	LastUpdated           string         `json:"lastUpdated"`
	LastMembershipUpdated string         `json:"lastMembershipUpdated"`
	ObjectClass           []string       `json:"objectClass"`
	Type                  string         `json:"type"`
	Profile               map[string]any `json:"profile"`
	Links                 map[string]any `json:"_links"`
}

type jsonAppUser struct {
	ID              string         `json:"id"`
	ExternalID      *string        `json:"externalId"`
	Created         string         `json:"created"`
	LastUpdated     string         `json:"lastUpdated"`
	Scope           string         `json:"scope"`
	Status          string         `json:"status"`
	StatusChanged   string         `json:"statusChanged"`
	PasswordChanged *string        `json:"passwordChanged"`
	SyncState       string         `json:"syncState"`
	LastSync        *string        `json:"lastSync"`
	Credentials     map[string]any `json:"credentials"`
	Profile         map[string]any `json:"profile"`
	Links           map[string]any `json:"_links"`
	Embedded        map[string]any `json:"_embedded,omitempty"`
}

type jsonAppGroup struct {
	ID          string         `json:"id"`
	LastUpdated string         `json:"lastUpdated"`
	Priority    int            `json:"priority"`
	Profile     map[string]any `json:"profile"`
	Links       map[string]any `json:"_links"`
	Embedded    map[string]any `json:"_embedded,omitempty"`
}

func ts(t time.Time) string { return t.UTC().Format(TimeFormat) }

func tsp(t time.Time) *string {
	s := ts(t)
	return &s
}

// cached returns the bytes in p, computing and storing them on first use.
func cached(p *atomic.Pointer[[]byte], f func() []byte) []byte {
	if b := p.Load(); b != nil {
		return *b
	}
	b := f()
	p.Store(&b)
	return b
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("oktatest: encoding response: " + err.Error())
	}
	return b
}

func (s *Server) userJSON(u *userRec) []byte {
	return cached(&u.enc, func() []byte { return mustJSON(s.userObject(u)) })
}

func (s *Server) userObject(u *userRec) *jsonUser {
	profile := map[string]any{
		"firstName":   u.FirstName,
		"lastName":    u.LastName,
		"mobilePhone": nil,
		"secondEmail": nil,
		"login":       u.Login,
		"email":       u.Email,
	}
	maps.Copy(profile, u.Profile)
	created := ts(u.created)
	var activated *string
	if u.Status != StatusStaged {
		activated = &created
	}
	return &jsonUser{
		ID: u.ID, Status: u.Status, Created: created, Activated: activated, StatusChanged: &created,
		LastUpdated: created, Type: map[string]any{"id": "oty00000000000000001"},
		Profile:     profile,
		Credentials: map[string]any{"provider": map[string]any{"type": "OKTA", "name": "OKTA"}},
		Links:       map[string]any{"self": href{s.URL + "/api/v1/users/" + u.ID}},
	}
}

func (s *Server) groupJSON(g *groupRec) []byte {
	return cached(&g.enc, func() []byte { return mustJSON(s.groupObject(g)) })
}

func (s *Server) groupObject(g *groupRec) *jsonGroup {
	return &jsonGroup{
		ID: g.ID, Created: ts(g.created), LastUpdated: ts(g.created), LastMembershipUpdated: ts(g.memUpdated),
		ObjectClass: []string{"okta:user_group"}, Type: g.Type,
		Profile: map[string]any{"name": g.Name, "description": g.Description},
		Links: map[string]any{
			"logo":  []any{},
			"users": href{s.URL + "/api/v1/groups/" + g.ID + "/users"},
			"apps":  href{s.URL + "/api/v1/groups/" + g.ID + "/apps"},
		},
	}
}

func (s *Server) appUserJSON(v *appUserView, expand bool) []byte {
	if expand {
		return cached(&v.encX, func() []byte {
			o := s.appUserObject(v)
			o.Embedded = map[string]any{"user": json.RawMessage(s.userJSON(v.user))}
			return mustJSON(o)
		})
	}
	return cached(&v.enc, func() []byte { return mustJSON(s.appUserObject(v)) })
}

func (s *Server) appUserObject(v *appUserView) *jsonAppUser {
	u, a := v.user, v.a
	profile := a.profile
	if profile == nil {
		profile = map[string]any{
			"given_name":  u.FirstName,
			"family_name": u.LastName,
			"email":       u.Email,
			"login":       u.Login,
		}
	}
	var ext *string
	if a.externalID != "" {
		ext = &a.externalID
	}
	created := ts(a.created)
	var lastSync *string
	if a.syncState == SyncStateSynchronized {
		lastSync = &created
	}
	links := map[string]any{
		"app":  href{s.URL + "/api/v1/apps/" + v.appID},
		"user": href{s.URL + "/api/v1/users/" + u.ID},
	}
	if a.scope == ScopeGroup && a.viaGroup != "" {
		links["group"] = href{s.URL + "/api/v1/groups/" + a.viaGroup}
	}
	return &jsonAppUser{
		ID: u.ID, ExternalID: ext, Created: created, LastUpdated: created, Scope: a.scope, Status: a.status,
		StatusChanged: created, SyncState: a.syncState, LastSync: lastSync,
		Credentials: map[string]any{"userName": a.userName},
		Profile:     profile, Links: links,
	}
}

func (s *Server) appGroupJSON(v *appGroupView, expand bool) []byte {
	build := func(expand bool) []byte {
		o := &jsonAppGroup{
			ID: v.group.ID, LastUpdated: ts(v.ag.created), Priority: v.ag.priority, Profile: map[string]any{},
			Links: map[string]any{
				"app":   href{s.URL + "/api/v1/apps/" + v.appID},
				"self":  href{s.URL + "/api/v1/apps/" + v.appID + "/groups/" + v.group.ID},
				"group": href{s.URL + "/api/v1/groups/" + v.group.ID},
			},
		}
		if expand {
			o.Embedded = map[string]any{"group": json.RawMessage(s.groupJSON(v.group))}
		}
		return mustJSON(o)
	}
	if expand {
		return cached(&v.encX, func() []byte { return build(true) })
	}
	return cached(&v.enc, func() []byte { return build(false) })
}

// Prewarm encodes every user, group, app user and app group assignment now
// rather than on first request (the fake caches each object's JSON), so a
// benchmark's first iteration measures serving, not the fake's one-time
// encoding. Optional.
func (s *Server) Prewarm() {
	idx := s.snapshot()
	for _, u := range idx.users {
		s.userJSON(u)
	}
	for _, g := range idx.groups {
		s.groupJSON(g)
	}
	for _, ai := range idx.apps {
		for _, v := range ai.users {
			s.appUserJSON(v, false)
		}
		for _, v := range ai.groups {
			s.appGroupJSON(v, true)
		}
	}
}
