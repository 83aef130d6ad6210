package scimserver

import (
	"net/http"
	"net/netip"
	"strings"

	"github.com/axonflow/axonflow-sync/internal/auththrottle"

	"github.com/axonflow/axonflow-sync/mapping"
)

// baseURL returns the absolute SCIM base URL for Location and
// meta.location: Options.ExternalURL when it is set; otherwise the URL the
// client used (its TLS and Host), with X-Forwarded-Proto and
// X-Forwarded-Host honoured only when the TCP peer is inside
// Options.TrustedProxies (anyone else could poison a cache in front of the
// server with a host of their choosing).
func (s *Server) baseURL(r *http.Request) string {
	if s.externalURL != "" {
		return s.externalBase
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	host := r.Host
	if s.trustedPeer(r) {
		if p := r.Header.Get("X-Forwarded-Proto"); p == "https" || p == "http" {
			scheme = p
		}
		if h := r.Header.Get("X-Forwarded-Host"); h != "" && !strings.ContainsAny(h, "/ ,\\?#@") {
			host = h
		}
	}
	// Most servers are reached under one scheme and host: the last URL
	// built is kept, so a request under the same ones builds none.
	if c := s.lastBase.Load(); c != nil && c.scheme == scheme && c.host == host {
		return c.url
	}
	u := scheme + "://" + host + BasePath
	s.lastBase.Store(&builtBase{scheme: scheme, host: host, url: u})
	return u
}

// builtBase is a base URL baseURL built, with the scheme and host it was
// built from.
type builtBase struct{ scheme, host, url string }

// trustedPeer reports whether r's TCP peer is one of the trusted proxies.
func (s *Server) trustedPeer(r *http.Request) bool {
	if len(s.trusted) == 0 {
		return false
	}
	ip, err := netip.ParseAddr(auththrottle.ClientAddr(r))
	if err != nil {
		return false
	}
	ip = ip.Unmap()
	for _, p := range s.trusted {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// serviceProviderConfig answers GET /ServiceProviderConfig (RFC 7643 §5)
// truthfully: PATCH and filtering supported; bulk, sort, changePassword and
// ETags are not.
func (s *Server) serviceProviderConfig(w http.ResponseWriter, r *http.Request) {
	base := s.baseURL(r)
	writeJSON(w, 200, map[string]any{
		"schemas":          []string{"urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"},
		"documentationUri": "https://github.com/axonflow/axonflow-sync#readme",
		"patch":            map[string]any{"supported": true},
		"bulk":             map[string]any{"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
		"filter":           map[string]any{"supported": true, "maxResults": DefaultMaxResults},
		"changePassword":   map[string]any{"supported": false},
		"sort":             map[string]any{"supported": false},
		"etag":             map[string]any{"supported": false},
		"authenticationSchemes": []any{map[string]any{
			"type":        "oauthbearertoken",
			"name":        "OAuth Bearer Token",
			"description": "Authentication with a per-tenant SCIM token: Authorization: Bearer scim_...",
			"primary":     true,
		}},
		"meta": map[string]any{"resourceType": "ServiceProviderConfig", "location": base + "/ServiceProviderConfig"},
	})
}

func resourceTypeJSON(rt *mapping.ResourceType, base string) map[string]any {
	exts := make([]any, 0, len(rt.Extensions))
	for _, e := range rt.Extensions {
		exts = append(exts, map[string]any{"schema": e.ID, "required": false})
	}
	out := map[string]any{
		"schemas":     []string{"urn:ietf:params:scim:schemas:core:2.0:ResourceType"},
		"id":          rt.Name,
		"name":        rt.Name,
		"endpoint":    rt.Endpoint,
		"description": rt.Schema.Description,
		"schema":      rt.Schema.ID,
		"meta":        map[string]any{"resourceType": "ResourceType", "location": base + "/ResourceTypes/" + rt.Name},
	}
	if len(exts) > 0 {
		out["schemaExtensions"] = exts
	}
	return out
}

func listResponse(resources []any, total, start int) map[string]any {
	return map[string]any{
		"schemas":      []string{mapping.SchemaListResponse},
		"totalResults": total,
		"startIndex":   start,
		"itemsPerPage": len(resources),
		"Resources":    resources,
	}
}

// resourceTypes answers GET /ResourceTypes (RFC 7644 §4).
func (s *Server) resourceTypes(w http.ResponseWriter, r *http.Request) {
	base := s.baseURL(r)
	list := []any{resourceTypeJSON(mapping.UserType, base), resourceTypeJSON(mapping.GroupType, base)}
	writeJSON(w, 200, listResponse(list, len(list), 1))
}

func (s *Server) resourceType(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	for _, rt := range []*mapping.ResourceType{mapping.UserType, mapping.GroupType} {
		if strings.EqualFold(rt.Name, name) {
			writeJSON(w, 200, resourceTypeJSON(rt, s.baseURL(r)))
			return
		}
	}
	s.failStatus(w, r, 404, "", "no resource type "+name)
}

var allSchemas = []*mapping.Schema{mapping.UserSchema, mapping.EnterpriseUserSchema, mapping.GroupSchema}

func schemaJSON(sc *mapping.Schema, base string) map[string]any {
	return map[string]any{
		"schemas":     []string{"urn:ietf:params:scim:schemas:core:2.0:Schema"},
		"id":          sc.ID,
		"name":        sc.Name,
		"description": sc.Description,
		"attributes":  sc.Attributes,
		"meta":        map[string]any{"resourceType": "Schema", "location": base + "/Schemas/" + sc.ID},
	}
}

// schemas answers GET /Schemas (RFC 7643 §7).
func (s *Server) schemas(w http.ResponseWriter, r *http.Request) {
	base := s.baseURL(r)
	list := make([]any, 0, len(allSchemas))
	for _, sc := range allSchemas {
		list = append(list, schemaJSON(sc, base))
	}
	writeJSON(w, 200, listResponse(list, len(list), 1))
}

func (s *Server) schema(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	for _, sc := range allSchemas {
		if strings.EqualFold(sc.ID, id) {
			writeJSON(w, 200, schemaJSON(sc, s.baseURL(r)))
			return
		}
	}
	s.failStatus(w, r, 404, "", "no schema "+id)
}
