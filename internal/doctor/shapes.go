package doctor

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// SCIM schema URNs doctor checks for or sends.
const (
	schemaError = "urn:ietf:params:scim:api:messages:2.0:Error"
	schemaList  = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	schemaUser  = "urn:ietf:params:scim:schemas:core:2.0:User"
	schemaGroup = "urn:ietf:params:scim:schemas:core:2.0:Group"
	schemaPatch = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
)

// get walks v by object keys (matched case-insensitively, as SCIM attribute
// names are) and array indexes; nil when a step is missing.
func get(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			x, ok := m[k]
			if !ok {
				for mk, mv := range m {
					if strings.EqualFold(mk, k) {
						x, ok = mv, true
						break
					}
				}
			}
			if !ok {
				return nil
			}
			v = x
		case int:
			a, ok := v.([]any)
			if !ok || k >= len(a) {
				return nil
			}
			v = a[k]
		}
	}
	return v
}

// str returns the string at path, or "".
func str(v any, path ...any) string {
	s, _ := get(v, path...).(string)
	return s
}

// has reports whether path exists (even with a null value).
func has(v any, key string) bool {
	m, ok := v.(map[string]any)
	if !ok {
		return false
	}
	for k := range m {
		if strings.EqualFold(k, key) {
			return true
		}
	}
	return false
}

// hasSchema reports whether doc's "schemas" array holds urn.
func hasSchema(doc any, urn string) bool {
	l, _ := get(doc, "schemas").([]any)
	for _, s := range l {
		if x, ok := s.(string); ok && strings.EqualFold(x, urn) {
			return true
		}
	}
	return false
}

// describeJSON names a JSON value's type and shows it, for messages.
func describeJSON(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return fmt.Sprintf("the string %q", x)
	case json.Number:
		return "the number " + x.String()
	case bool:
		return "the boolean " + strconv.FormatBool(x)
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%v", v)
}

// intProblem says why doc[key] is not a JSON integer ("" if it is).
func intProblem(doc any, key string) string {
	if !has(doc, key) {
		return fmt.Sprintf("%q is missing", key)
	}
	v := get(doc, key)
	n, ok := v.(json.Number)
	if !ok {
		return fmt.Sprintf("%q is %s, not a JSON integer", key, describeJSON(v))
	}
	if _, err := strconv.ParseInt(n.String(), 10, 64); err != nil {
		return fmt.Sprintf("%q is %s, not an integer", key, n)
	}
	return ""
}

func intOf(doc any, key string) int {
	n, _ := get(doc, key).(json.Number)
	i, _ := strconv.Atoi(n.String())
	return i
}

// notJSON describes a body that is not a SCIM JSON object, or "".
func notJSON(res *response) string {
	if res.doc != nil {
		if _, ok := res.doc.(map[string]any); ok {
			return ""
		}
		return "the body is JSON but not an object"
	}
	ct := res.header.Get("Content-Type")
	if ct == "" {
		ct = "no Content-Type"
	}
	return fmt.Sprintf("the body is not JSON (%s; %s)", ct, bodySnippet(res.body))
}

// listProblems checks a ListResponse (RFC 7644 §3.4.2) the way Okta reads
// it. errs make Okta fail; warns do not.
func listProblems(res *response) (errs, warns []string, resources []any) {
	if p := notJSON(res); p != "" {
		return []string{p}, nil, nil
	}
	doc := res.doc
	for _, k := range []string{"totalResults", "itemsPerPage", "startIndex"} {
		if p := intProblem(doc, k); p != "" {
			errs = append(errs, p)
		}
	}
	switch v := get(doc, "Resources").(type) {
	case []any:
		resources = v
	case nil:
		if has(doc, "Resources") {
			errs = append(errs, `"Resources" is null, not an array`)
		} else {
			errs = append(errs, `there is no "Resources" array`)
		}
	default:
		errs = append(errs, fmt.Sprintf(`"Resources" is %s, not an array`, describeJSON(v)))
	}
	if !hasSchema(doc, schemaList) {
		warns = append(warns, `"schemas" does not name `+schemaList)
	}
	if intProblem(doc, "totalResults") == "" && intOf(doc, "totalResults") < len(resources) {
		errs = append(errs, fmt.Sprintf(`"totalResults" is %d but "Resources" holds %d`, intOf(doc, "totalResults"), len(resources)))
	}
	return errs, warns, resources
}

// errorProblems checks an error response against RFC 7644 §3.12 as Okta
// reads it: JSON, the Error schema, "status" as a string equal to the HTTP
// status, and a "detail".
func errorProblems(res *response) []string {
	if p := notJSON(res); p != "" {
		return []string{p}
	}
	var errs []string
	doc := res.doc
	if !hasSchema(doc, schemaError) {
		errs = append(errs, `"schemas" does not name the SCIM Error schema `+schemaError)
	}
	switch v := get(doc, "status").(type) {
	case string:
		if v != strconv.Itoa(res.status) {
			errs = append(errs, fmt.Sprintf(`"status" says %q but the HTTP status is %d`, v, res.status))
		}
	case nil:
		errs = append(errs, `"status" is missing`)
	default:
		errs = append(errs, fmt.Sprintf(`"status" is %s; Okta needs the string "%d"`, describeJSON(v), res.status))
	}
	if str(doc, "detail") == "" {
		errs = append(errs, `"detail" is missing`)
	}
	return errs
}

// userProblems lists what a user resource lacks for Okta's import and
// SPEC test: id, userName, name.givenName, name.familyName,
// emails[0].value, active (a boolean).
func userProblems(u any) []string {
	var miss []string
	for _, p := range []struct {
		name string
		path []any
	}{
		{"id", []any{"id"}},
		{"userName", []any{"userName"}},
		{"name.givenName", []any{"name", "givenName"}},
		{"name.familyName", []any{"name", "familyName"}},
		{"emails[0].value", []any{"emails", 0, "value"}},
	} {
		if strings.TrimSpace(str(u, p.path...)) == "" {
			if v := get(u, p.path...); v != nil {
				miss = append(miss, fmt.Sprintf("%s (it is %s)", p.name, describeJSON(v)))
			} else {
				miss = append(miss, p.name)
			}
		}
	}
	switch v := get(u, "active").(type) {
	case bool:
	case nil:
		miss = append(miss, "active")
	default:
		miss = append(miss, fmt.Sprintf("active as a boolean (it is %s)", describeJSON(v)))
	}
	return miss
}

// errSummary describes an error answer: `401: "the token expired"`.
func errSummary(res *response) string {
	s := strconv.Itoa(res.status)
	if t := str(res.doc, "scimType"); t != "" {
		s += " " + t
	}
	if d := str(res.doc, "detail"); d != "" {
		return s + ": " + strconv.Quote(d)
	}
	if res.doc == nil && len(res.body) > 0 {
		return s + " with " + bodySnippet(res.body)
	}
	return s
}
