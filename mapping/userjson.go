package mapping

import (
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// AppendUserResource appends the JSON of the User resource UserResource(u,
// base, groups) renders, with "roles" added when roles is not empty (one
// {"value": Role, "type": Source} element per assignment, in order;
// RolesAttr's value), byte for byte what AppendJSON writes for that map, without
// building it: the attributes are encoded from u.Attrs as they are and the
// resource's own members (schemas, id, active, groups, meta, roles) are
// written in their place in the sorted key order. It is the encoding of a
// single-user response without a projection (GET, PUT, PATCH, POST),
// which a map would cost a copy of the attributes, a map per group
// reference and per meta, and their key sorting. A differential test
// holds it to AppendJSON(UserResource(...)).
//
// Errors are AppendJSON's (a value of the attributes that cannot be
// encoded); dst is returned unchanged with the error.
func AppendUserResource(dst []byte, u *User, base string, groups []Ref, roles []RoleAssignment) ([]byte, error) {
	ext, _ := u.Attrs[SchemaEnterpriseUser].(map[string]any)
	withExt := len(ext) > 0
	kp := memberPool.Get().(*[]member)
	ms := (*kp)[:0]
	for k, v := range u.Attrs {
		switch {
		case k == "schemas" || k == "id" || k == "meta":
		case k == "groups" && len(groups) > 0:
		case k == "roles" && len(roles) > 0:
		case k == SchemaEnterpriseUser && !withExt:
		default:
			ms = append(ms, member{key: k, val: v, attr: true})
		}
	}
	ms = append(ms, member{key: "schemas"}, member{key: "id"}, member{key: "meta"})
	if _, ok := u.Attrs["active"]; !ok {
		ms = append(ms, member{key: "active"})
	}
	if len(groups) > 0 {
		ms = append(ms, member{key: "groups"})
	}
	if len(roles) > 0 {
		ms = append(ms, member{key: "roles"})
	}
	slices.SortFunc(ms, func(a, b member) int { return strings.Compare(a.key, b.key) })
	b := append(dst, '{')
	var err error
	for i, m := range ms {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, m.key)
		b = append(b, ':')
		if m.attr {
			if b, err = appendValue(b, m.val); err != nil {
				break
			}
			continue
		}
		b = appendOwnMember(b, m.key, u, base, withExt, groups, roles)
	}
	clear(ms)
	*kp = ms[:0]
	memberPool.Put(kp)
	if err != nil {
		return dst, err
	}
	return append(b, '}'), nil
}

// appendOwnMember appends the value of the User resource's own member key
// ("schemas", "id", "active", "groups", "meta" or "roles") as
// AppendUserResource writes it for u (attributes aside), base, whether the
// enterprise extension is rendered, groups and roles.
func appendOwnMember(b []byte, key string, u *User, base string, withExt bool, groups []Ref, roles []RoleAssignment) []byte {
	switch key {
	case "schemas":
		b = append(b, `["`+SchemaUser+`"`...)
		if withExt {
			b = append(b, `,"`+SchemaEnterpriseUser+`"`...)
		}
		b = append(b, ']')
	case "id":
		b = appendString(b, u.ID)
	case "active":
		b = append(b, "true"...)
	case "groups":
		b = append(b, '[')
		for j, g := range groups {
			if j > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"$ref":`...)
			b = appendStringJoin(b, base, "/Groups/", g.ID)
			if g.Display != "" {
				b = append(b, `,"display":`...)
				b = appendString(b, g.Display)
			}
			b = append(b, `,"type":"direct","value":`...)
			b = appendString(b, g.ID)
			b = append(b, '}')
		}
		b = append(b, ']')
	case "meta":
		b = appendMeta(b, "User", u.Created, u.LastModified, base, "/Users/", u.ID, u.Version)
	case "roles":
		b = append(b, '[')
		for j, a := range roles {
			if j > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"type":`...)
			b = appendString(b, a.Source)
			b = append(b, `,"value":`...)
			b = appendString(b, a.Role)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return b
}

// RolesAttr is the value of a user's readOnly roles attribute in a
// resource map: one {"value": Role, "type": Source} object per
// assignment of roles, in order.
func RolesAttr(roles []RoleAssignment) []any {
	out := make([]any, len(roles))
	for i, a := range roles {
		out[i] = map[string]any{"value": a.Role, "type": a.Source}
	}
	return out
}

// member is one top-level member of a resource AppendUserResource writes:
// an attribute (attr, with its value) or one of the resource's own.
type member struct {
	key  string
	val  any
	attr bool
}

// memberPool holds the member slices AppendUserResource sorts.
var memberPool = sync.Pool{New: func() any { s := make([]member, 0, 24); return &s }}

// appendMeta appends the JSON of meta(rt, created, modified, base+sep+id,
// version) as AppendJSON writes it (keys sorted).
func appendMeta(b []byte, rt string, created, modified time.Time, base, sep, id string, version int64) []byte {
	b = append(b, `{"created":"`...)
	b = created.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","lastModified":"`...)
	b = modified.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","location":`...)
	b = appendStringJoin(b, base, sep, id)
	b = append(b, `,"resourceType":`...)
	b = appendString(b, rt)
	b = append(b, `,"version":"W/\"`...)
	b = strconv.AppendInt(b, version, 10)
	return append(b, `\""}`...)
}

// appendStringJoin appends the JSON string of a+sep+c (sep plain ASCII
// that needs no escaping) without concatenating them: when a and c are
// valid UTF-8 their escapes are independent of what surrounds them, else
// the joined string is encoded (an invalid sequence could complete across
// the joint).
func appendStringJoin(b []byte, a, sep, c string) []byte {
	if !utf8.ValidString(a) || !utf8.ValidString(c) {
		return appendString(b, a+sep+c)
	}
	b = appendString(b, a)
	b = append(b[:len(b)-1], sep...)
	n := len(b)
	b = appendString(b, c)
	copy(b[n:], b[n+1:])
	return b[:len(b)-1]
}
