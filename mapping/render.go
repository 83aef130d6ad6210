package mapping

import (
	"strconv"
	"strings"
	"time"

	"github.com/axonflow/axonflow-sync/mapping/filter"
)

// Ref is a reference to another resource as shown in a User's readOnly
// groups or a Group's members: its id and display text (displayName or
// userName; "" to omit).
type Ref struct {
	ID      string
	Display string
}

// UserResource renders u as a SCIM User resource (RFC 7643 §4.1) with
// schemas, id, meta (created, lastModified, location = base+"/Users/"+id,
// version W/"<n>") and the readOnly groups. base is the SCIM base URL
// without a trailing slash (e.g. "https://host/scim/v2"). Times are UTC
// RFC 3339 with as many fractional digits as needed (up to nanoseconds).
// The enterprise extension and its schema URN appear only when it holds
// an attribute.
func UserResource(u *User, base string, groups []Ref) map[string]any {
	res := make(map[string]any, len(u.Attrs)+5)
	for k, v := range u.Attrs {
		res[k] = v
	}
	schemas := []any{SchemaUser}
	if ext, _ := u.Attrs[SchemaEnterpriseUser].(map[string]any); len(ext) > 0 {
		schemas = append(schemas, SchemaEnterpriseUser)
	} else {
		delete(res, SchemaEnterpriseUser)
	}
	res["schemas"] = schemas
	res["id"] = u.ID
	if _, ok := res["active"]; !ok {
		res["active"] = true
	}
	if len(groups) > 0 {
		gl := make([]any, len(groups))
		for i, g := range groups {
			e := map[string]any{"value": g.ID, "$ref": base + "/Groups/" + g.ID, "type": "direct"}
			if g.Display != "" {
				e["display"] = g.Display
			}
			gl[i] = e
		}
		res["groups"] = gl
	}
	res["meta"] = meta("User", u.Created, u.LastModified, base+"/Users/"+u.ID, u.Version)
	return res
}

// GroupResource renders g as a SCIM Group resource (RFC 7643 §4.2). members
// nil omits the attribute (excludedAttributes=members); an empty slice
// renders "members": [].
func GroupResource(g *Group, base string, members []Ref) map[string]any {
	res := make(map[string]any, len(g.Attrs)+4)
	for k, v := range g.Attrs {
		res[k] = v
	}
	res["schemas"] = []any{SchemaGroup}
	res["id"] = g.ID
	if members != nil {
		ml := make([]any, len(members))
		for i, m := range members {
			e := map[string]any{"value": m.ID, "$ref": base + "/Users/" + m.ID, "type": "User"}
			if m.Display != "" {
				e["display"] = m.Display
			}
			ml[i] = e
		}
		res["members"] = ml
	}
	res["meta"] = meta("Group", g.Created, g.LastModified, base+"/Groups/"+g.ID, g.Version)
	return res
}

func meta(rt string, created, modified time.Time, loc string, version int64) map[string]any {
	return map[string]any{
		"resourceType": rt,
		"created":      created.UTC().Format(time.RFC3339Nano),
		"lastModified": modified.UTC().Format(time.RFC3339Nano),
		"location":     loc,
		"version":      ETag(version),
	}
}

// ETag is the weak entity tag of a resource version (RFC 7644 §3.14).
func ETag(version int64) string { return `W/"` + strconv.FormatInt(version, 10) + `"` }

// Projection selects which attributes a response carries (RFC 7644
// §3.4.2.5, §3.9): either an attributes list or an excludedAttributes list.
type Projection struct {
	include []filter.AttrPath
	exclude []filter.AttrPath
}

// ParseProjection parses the comma-separated attributes and
// excludedAttributes query parameters for rt. Unknown attribute names are
// ignored (they select nothing); syntax errors are 400 invalidValue.
func ParseProjection(rt *ResourceType, attributes, excluded string) (Projection, error) {
	var p Projection
	var err error
	if p.include, err = parseAttrList(rt, attributes); err != nil {
		return p, err
	}
	if p.exclude, err = parseAttrList(rt, excluded); err != nil {
		return p, err
	}
	return p, nil
}

// Excludes reports whether the projection leaves out top-level attribute
// name entirely (e.g. members), so callers can skip loading it.
func (p Projection) Excludes(name string) bool {
	for _, e := range p.exclude {
		if e.URN == "" && e.Sub == "" && strings.EqualFold(e.Name, name) {
			return true
		}
	}
	if len(p.include) > 0 {
		for _, e := range p.include {
			if e.URN == "" && strings.EqualFold(e.Name, name) {
				return false
			}
		}
		return true
	}
	return false
}

// IsZero reports whether the projection returns default attributes.
func (p Projection) IsZero() bool { return len(p.include) == 0 && len(p.exclude) == 0 }

func parseAttrList(rt *ResourceType, s string) ([]filter.AttrPath, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []filter.AttrPath
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		p, err := filter.ParsePath(part)
		if err != nil || p.Filter != nil {
			return nil, badRequest(ScimInvalidValue, "attribute list entry %q is not an attribute path", part)
		}
		a := p.Attr
		if a.URN != "" && strings.EqualFold(a.URN, rt.Schema.ID) {
			a.URN = ""
		}
		out = append(out, a)
	}
	return out, nil
}

// Apply returns res reduced by the projection. id and schemas are always
// returned (RFC 7643 §7 returned "always").
func (p Projection) Apply(rt *ResourceType, res map[string]any) map[string]any {
	if p.IsZero() {
		return res
	}
	if len(p.include) > 0 {
		out := map[string]any{"schemas": res["schemas"], "id": res["id"]}
		for _, a := range p.include {
			copyPath(rt, res, out, a)
		}
		return out
	}
	out := make(map[string]any, len(res))
	for k, v := range res {
		out[k] = v
	}
	for _, a := range p.exclude {
		removePath(rt, out, a)
	}
	out["schemas"], out["id"] = res["schemas"], res["id"]
	return out
}

// keyOf finds the response key (and extension key, if any) for a path.
func keyOf(rt *ResourceType, res map[string]any, a filter.AttrPath) (extKey, key string, ok bool) {
	if a.URN != "" {
		ext := rt.Extension(a.URN)
		if ext == nil {
			return "", "", false
		}
		em, _ := res[ext.ID].(map[string]any)
		for k := range em {
			if strings.EqualFold(k, a.Name) {
				return ext.ID, k, true
			}
		}
		return ext.ID, "", false
	}
	if ext := rt.Extension(a.Name); ext != nil {
		return "", ext.ID, true
	}
	for k := range res {
		if strings.EqualFold(k, a.Name) {
			return "", k, true
		}
	}
	return "", "", false
}

func copyPath(rt *ResourceType, res, out map[string]any, a filter.AttrPath) {
	extKey, key, ok := keyOf(rt, res, a)
	if !ok || key == "" {
		return
	}
	src, dst := res, out
	if extKey != "" {
		src, _ = res[extKey].(map[string]any)
		d, _ := out[extKey].(map[string]any)
		if d == nil {
			d = map[string]any{}
			out[extKey] = d
		}
		dst = d
	}
	v := src[key]
	if a.Sub == "" {
		dst[key] = v
		return
	}
	switch x := v.(type) {
	case map[string]any:
		d, _ := dst[key].(map[string]any)
		if d == nil {
			d = map[string]any{}
		}
		for k, sv := range x {
			if strings.EqualFold(k, a.Sub) {
				d[k] = sv
			}
		}
		if len(d) > 0 {
			dst[key] = d
		}
	case []any:
		// Multi-valued: keep the sub-attribute of each element.
		l := make([]any, 0, len(x))
		for _, el := range x {
			if m, ok := el.(map[string]any); ok {
				n := map[string]any{}
				for k, sv := range m {
					if strings.EqualFold(k, a.Sub) {
						n[k] = sv
					}
				}
				l = append(l, n)
			}
		}
		dst[key] = l
	}
}

func removePath(rt *ResourceType, out map[string]any, a filter.AttrPath) {
	extKey, key, ok := keyOf(rt, out, a)
	if !ok || key == "" {
		return
	}
	dst := out
	if extKey != "" {
		em, _ := out[extKey].(map[string]any)
		cp := make(map[string]any, len(em))
		for k, v := range em {
			cp[k] = v
		}
		out[extKey] = cp
		dst = cp
	}
	if a.Sub == "" {
		delete(dst, key)
		return
	}
	switch x := dst[key].(type) {
	case map[string]any:
		cp := make(map[string]any, len(x))
		for k, v := range x {
			if !strings.EqualFold(k, a.Sub) {
				cp[k] = v
			}
		}
		dst[key] = cp
	case []any:
		l := make([]any, 0, len(x))
		for _, el := range x {
			if m, ok := el.(map[string]any); ok {
				cp := make(map[string]any, len(m))
				for k, v := range m {
					if !strings.EqualFold(k, a.Sub) {
						cp[k] = v
					}
				}
				l = append(l, cp)
			}
		}
		dst[key] = l
	}
}
