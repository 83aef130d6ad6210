package mapping

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/axonflow/axonflow-sync/mapping/internal/jsonesc"
)

// DecodeJSON parses a request body into a JSON object with numbers kept as
// json.Number. It rejects invalid UTF-8, an unpaired UTF-16 surrogate escape
// (encoding/json would silently store U+FFFD in its place; RFC 8259 §8.2),
// trailing data and non-object documents with a 400 invalidSyntax *Error.
func DecodeJSON(body []byte) (map[string]any, error) {
	if !utf8.Valid(body) {
		return nil, badRequest(ScimInvalidSyntax, "request body is not valid UTF-8")
	}
	if esc, ok := loneSurrogate(body); ok {
		return nil, badRequest(ScimInvalidSyntax, "request body has an unpaired UTF-16 surrogate escape %s: it encodes no character", esc)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, badRequest(ScimInvalidSyntax, "request body is not valid JSON: %v", err)
	}
	if dec.More() {
		return nil, badRequest(ScimInvalidSyntax, "request body has data after the JSON object")
	}
	if _, err := dec.Token(); err == nil {
		return nil, badRequest(ScimInvalidSyntax, "request body has data after the JSON object")
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, badRequest(ScimInvalidSyntax, "request body must be a JSON object")
	}
	return m, nil
}

// DecodeUser validates a POST or PUT /Users body (RFC 7644 §3.3, §3.5.1)
// and returns its client-writable attributes in canonical form. readOnly
// attributes (id, meta, groups, roles) are ignored, password is discarded,
// a missing schemas list defaults to the User schema, unknown schemas or
// attributes and wrong types are a 400 *Error, and userName is required.
// A missing (or null) active is stored as true, the value a user without one
// is rendered with, so a GET rendering decodes back to the same Attrs.
func DecodeUser(body []byte) (Attrs, error) {
	m, err := DecodeJSON(body)
	if err != nil {
		return nil, err
	}
	return decodeUser(m)
}

// decodeUser is DecodeUser on a parsed body (DecodeJSON's form); shared
// with NormalizeUser.
func decodeUser(m map[string]any) (Attrs, error) {
	attrs, _, _, err := decodeResource(UserType, m)
	if err != nil {
		return nil, err
	}
	defaultActive(attrs)
	return attrs, nil
}

// defaultActive makes a user's active attribute explicit: absent means true
// (RFC 7643 leaves the default to the provider; User.Active says the same).
func defaultActive(attrs Attrs) {
	if _, ok := attrs["active"]; !ok {
		attrs["active"] = true
	}
}

// DecodeGroup validates a POST or PUT /Groups body and returns its
// attributes (displayName, externalId) and, when the body has a members
// attribute, the member user ids (membersGiven true; an empty list is
// "no members"). Errors are 400 *Error values as for DecodeUser.
func DecodeGroup(body []byte) (attrs Attrs, members []string, membersGiven bool, err error) {
	m, err := DecodeJSON(body)
	if err != nil {
		return nil, nil, false, err
	}
	return decodeResource(GroupType, m)
}

func decodeResource(rt *ResourceType, m map[string]any) (Attrs, []string, bool, error) {
	if err := checkSchemas(rt, m["schemas"]); err != nil {
		return nil, nil, false, err
	}
	attrs := Attrs{}
	seen := make(map[string]string, len(m))
	var members []string
	membersGiven := false
	for k, v := range m {
		if k == "schemas" {
			continue
		}
		if strings.EqualFold(k, "schemas") {
			return nil, nil, false, badRequest(ScimInvalidSyntax, "attribute %q: use \"schemas\"", k)
		}
		urn, name := splitURNKey(rt, k)
		if urn == "" && name == "" {
			// Whole extension object, e.g. "urn:...:enterprise:2.0:User": {...}.
			ext := rt.Extension(k)
			if ext == nil {
				return nil, nil, false, badRequest(ScimInvalidSyntax, "unknown attribute or schema %q", k)
			}
			if v == nil {
				continue
			}
			obj, ok := v.(map[string]any)
			if !ok {
				return nil, nil, false, badRequest(ScimInvalidValue, "%s must be a JSON object", ext.ID)
			}
			for sk, sv := range obj {
				if err := putAttr(rt, attrs, seen, ext.ID, sk, sv); err != nil {
					return nil, nil, false, err
				}
			}
			continue
		}
		if rt == GroupType && urn == "" && strings.EqualFold(name, "members") {
			if _, dup := seen["members"]; dup {
				return nil, nil, false, badRequest(ScimInvalidSyntax, "attribute %q given twice", k)
			}
			seen["members"] = k
			ids, err := memberIDs(v)
			if err != nil {
				return nil, nil, false, err
			}
			members, membersGiven = ids, true
			continue
		}
		if err := putAttr(rt, attrs, seen, urn, name, v); err != nil {
			return nil, nil, false, err
		}
	}
	if err := checkRequired(rt, attrs); err != nil {
		return nil, nil, false, err
	}
	if err := checkIdentifiers(rt, attrs, nil); err != nil {
		return nil, nil, false, err
	}
	return attrs, members, membersGiven, nil
}

// splitURNKey splits a body key into schema URN and attribute name. A plain
// name gives ("", name); "urn:...:User:department" gives the extension URN
// and "department"; a key that is exactly an extension URN gives ("", "").
func splitURNKey(rt *ResourceType, k string) (urn, name string) {
	if !strings.HasPrefix(strings.ToLower(k), "urn:") {
		return "", k
	}
	if rt.Extension(k) != nil {
		return "", ""
	}
	i := strings.LastIndexByte(k, ':')
	return k[:i], k[i+1:]
}

func checkSchemas(rt *ResourceType, v any) error {
	if v == nil {
		return nil // default: the endpoint's schema (README: RFC choices)
	}
	list, ok := v.([]any)
	if !ok {
		return badRequest(ScimInvalidSyntax, "schemas must be an array of schema URNs")
	}
	core := false
	for _, s := range list {
		u, ok := s.(string)
		if !ok {
			return badRequest(ScimInvalidSyntax, "schemas must be an array of schema URNs")
		}
		switch {
		case strings.EqualFold(u, rt.Schema.ID):
			core = true
		case rt.Extension(u) != nil:
		default:
			return badRequest(ScimInvalidSyntax, "schema %q is not supported by %s resources", u, rt.Name)
		}
	}
	if !core && len(list) > 0 {
		return badRequest(ScimInvalidSyntax, "schemas must include %s", rt.Schema.ID)
	}
	return nil
}

// putAttr normalises one top-level attribute (optionally of extension urn)
// into attrs. readOnly and writeOnly attributes are dropped.
func putAttr(rt *ResourceType, attrs Attrs, seen map[string]string, urn, name string, v any) error {
	a, ext, ok := rt.lookup(urn, name)
	if !ok {
		if urn != "" {
			return badRequest(ScimInvalidSyntax, "unknown attribute %q", urn+":"+name)
		}
		return badRequest(ScimInvalidSyntax, "unknown attribute %q", name)
	}
	key := a.Name
	if ext != nil {
		key = ext.ID + ":" + a.Name
	}
	if prev, dup := seen[key]; dup {
		return badRequest(ScimInvalidSyntax, "attribute %q given twice (as %q)", name, prev)
	}
	seen[key] = name
	if a.Mutability == ReadOnly || a.Mutability == WriteOnly {
		return nil
	}
	nv, err := normalizeValue(a, v, displayPath(ext, a.Name))
	if err != nil || nv == nil {
		return err
	}
	target := attrs
	if ext != nil {
		em, _ := attrs[ext.ID].(map[string]any)
		if em == nil {
			em = map[string]any{}
			attrs[ext.ID] = em
		}
		target = em
	}
	target[a.Name] = nv
	return nil
}

func displayPath(ext *Schema, name string) string {
	if ext != nil {
		return ext.ID + ":" + name
	}
	return name
}

func checkRequired(rt *ResourceType, attrs Attrs) error {
	for _, a := range rt.Schema.Attributes {
		if a.Required {
			if _, ok := attrs[a.Name]; !ok {
				return badRequest(ScimInvalidValue, "attribute %q is required", a.Name)
			}
		}
	}
	return nil
}

// normalizeValue checks v against attribute a and returns it in canonical
// form, or nil when v means "unassigned" (null, "", [], {}).
func normalizeValue(a *Attribute, v any, path string) (any, error) {
	if v == nil {
		return nil, nil
	}
	if a.MultiValued {
		list, ok := v.([]any)
		if !ok {
			list = []any{v} // a single value for a multi-valued attribute
		}
		if len(list) > MaxMultiValues {
			return nil, badRequest(ScimInvalidValue, "attribute %q has %d values; at most %d are allowed", path, len(list), MaxMultiValues)
		}
		out := make([]any, 0, len(list))
		for _, e := range list {
			nv, err := normalizeSingle(a, e, path)
			if err != nil {
				return nil, err
			}
			if nv != nil && !containsEqual(out, nv) {
				out = append(out, nv)
			}
		}
		if len(out) == 0 {
			return nil, nil
		}
		return out, nil
	}
	if _, isList := v.([]any); isList {
		return nil, badRequest(ScimInvalidValue, "attribute %q is single-valued; got an array", path)
	}
	return normalizeSingle(a, v, path)
}

func normalizeSingle(a *Attribute, v any, path string) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch a.Type {
	case TypeComplex:
		obj, ok := v.(map[string]any)
		if !ok {
			return nil, badRequest(ScimInvalidValue, "attribute %q must be a JSON object", path)
		}
		out := make(map[string]any, len(obj))
		for k, sv := range obj {
			s := a.Sub(k)
			if s == nil {
				return nil, badRequest(ScimInvalidSyntax, "unknown sub-attribute %q of %q", k, path)
			}
			if _, dup := out[s.Name]; dup {
				return nil, badRequest(ScimInvalidSyntax, "sub-attribute %q of %q given twice", k, path)
			}
			if s.Mutability == ReadOnly {
				continue
			}
			nv, err := normalizeSingle(s, sv, path+"."+s.Name)
			if err != nil {
				return nil, err
			}
			if nv != nil {
				out[s.Name] = nv
			}
		}
		if len(out) == 0 {
			return nil, nil
		}
		return out, nil
	case TypeString, TypeReference, TypeBinary:
		s, ok := v.(string)
		if !ok {
			return nil, badRequest(ScimInvalidValue, "attribute %q must be a string", path)
		}
		if s == "" {
			return nil, nil
		}
		limit := MaxStringChars
		if a.Type == TypeBinary {
			limit = MaxBinaryChars
		}
		if n := utf8.RuneCountInString(s); n > limit {
			return nil, badRequest(ScimInvalidValue, "attribute %q is %d characters long; at most %d are allowed", path, n, limit)
		}
		return s, nil
	case TypeBoolean:
		switch b := v.(type) {
		case bool:
			return b, nil
		case string:
			switch {
			case strings.EqualFold(b, "true"):
				return true, nil
			case strings.EqualFold(b, "false"):
				return false, nil
			}
		}
		return nil, badRequest(ScimInvalidValue, "attribute %q must be a boolean", path)
	case TypeInteger, TypeDecimal:
		n, ok := v.(json.Number)
		if !ok {
			return nil, badRequest(ScimInvalidValue, "attribute %q must be a number", path)
		}
		if a.Type == TypeInteger {
			if _, err := n.Int64(); err != nil {
				return nil, badRequest(ScimInvalidValue, "attribute %q must be an integer", path)
			}
		}
		return n, nil
	case TypeDateTime:
		s, ok := v.(string)
		if !ok {
			return nil, badRequest(ScimInvalidValue, "attribute %q must be a dateTime string", path)
		}
		if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
			return nil, badRequest(ScimInvalidValue, "attribute %q must be an xsd:dateTime such as 2026-01-02T03:04:05Z", path)
		}
		return s, nil
	}
	return nil, badRequest(ScimInvalidValue, "attribute %q has an unsupported type", path)
}

// memberIDs extracts user ids from a members value: a list of
// {"value": id, "display"?, "type"?: "User", "$ref"?}. Only User members
// are supported.
func memberIDs(v any) ([]string, error) {
	if v == nil {
		return []string{}, nil
	}
	list, ok := v.([]any)
	if !ok {
		list = []any{v}
	}
	ids := make([]string, 0, len(list))
	seen := make(map[string]struct{}, len(list))
	for _, e := range list {
		obj, ok := e.(map[string]any)
		if !ok {
			return nil, badRequest(ScimInvalidValue, "members must be objects like {\"value\": \"<user id>\"}")
		}
		var id string
		for k, sv := range obj {
			switch strings.ToLower(k) {
			case "value":
				s, ok := sv.(string)
				if !ok || s == "" {
					return nil, badRequest(ScimInvalidValue, "members.value must be a non-empty string")
				}
				id = s
			case "type":
				if s, ok := sv.(string); !ok || !strings.EqualFold(s, "User") {
					return nil, badRequest(ScimInvalidValue, "members.type %v is not supported: only User members (no nested groups)", sv)
				}
			case "display", "$ref":
				// readOnly / derived: ignored.
			default:
				return nil, badRequest(ScimInvalidSyntax, "unknown sub-attribute %q of members", k)
			}
		}
		if id == "" {
			return nil, badRequest(ScimInvalidValue, "members.value is required")
		}
		if _, dup := seen[id]; !dup {
			seen[id] = struct{}{}
			ids = append(ids, id)
		}
	}
	return ids, nil
}

func containsEqual(list []any, v any) bool {
	for _, e := range list {
		if deepEqual(e, v) {
			return true
		}
	}
	return false
}

// deepEqual compares two normalised JSON values.
func deepEqual(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !deepEqual(v, w) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !deepEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	default:
		return a == b
	}
}

// Equal reports whether two attribute documents are the same.
func (a Attrs) Equal(b Attrs) bool { return deepEqual(map[string]any(a), map[string]any(b)) }

// Clone returns a deep copy of the document.
func (a Attrs) Clone() Attrs {
	if a == nil {
		return nil
	}
	return cloneValue(map[string]any(a)).(map[string]any)
}

func cloneValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = cloneValue(e)
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = cloneValue(e)
		}
		return l
	default:
		return v
	}
}

// loneSurrogate returns the first \uXXXX escape of the JSON text b that is
// a UTF-16 surrogate without its pair (a high one not followed by a low
// one, or a low one alone), and whether there is one. Backslashes occur
// only inside JSON strings, so a scan from escape to escape is exact.
func loneSurrogate(b []byte) (string, bool) {
	for i := 0; ; {
		j := bytes.IndexByte(b[i:], '\\')
		if j < 0 {
			return "", false
		}
		i += j
		_, n, lone, ok := jsonesc.Decode(b, i)
		if lone {
			return string(b[i : i+6]), true
		}
		if !ok { // malformed: encoding/json reports it
			n = 1
		}
		i += n
	}
}
