package mapping

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// The pull side (sync) builds users' and groups' attributes from Go values
// (Okta profiles, ApplyIdentity) and stores them in exactly the form a SCIM
// write gives them: NormalizeUser and NormalizeGroup apply the validation
// and normalisation of DecodeUser and DecodeGroup (the same code) to Go
// values, with no JSON text in between.

// NormalizeUser validates attrs as the attributes of a User resource and
// returns them in canonical form: the same Attrs, or the same *Error, that
// DecodeUser returns for a body holding attrs (encoded by encoding/json)
// and schemas [SchemaUser] plus SchemaEnterpriseUser when attrs has that
// key. Values may be any Go values encoding/json encodes; an error of
// encoding/json (e.g. a NaN float) is returned as is.
func NormalizeUser(attrs Attrs) (Attrs, error) {
	m, err := jsonBody(attrs)
	if err != nil {
		return nil, err
	}
	schemas := []any{SchemaUser}
	if _, ok := attrs[SchemaEnterpriseUser]; ok {
		schemas = append(schemas, SchemaEnterpriseUser)
	}
	m["schemas"] = schemas
	return decodeUser(m)
}

// NormalizeGroup validates attrs as the attributes of a Group resource
// (displayName, externalId) and returns them in canonical form, as
// DecodeGroup returns them for a body holding attrs and schemas
// [SchemaGroup]; a members key is validated and dropped (members are kept
// apart from the attributes). Errors as for NormalizeUser.
func NormalizeGroup(attrs Attrs) (Attrs, error) {
	m, err := jsonBody(attrs)
	if err != nil {
		return nil, err
	}
	m["schemas"] = []any{SchemaGroup}
	out, _, _, err := decodeResource(GroupType, m)
	return out, err
}

// jsonBody returns attrs as DecodeJSON would return them after
// encoding/json encoded them: a new map (never nil) sharing nothing
// mutable with attrs.
func jsonBody(attrs Attrs) (map[string]any, error) {
	v, err := jsonValue(map[string]any(attrs))
	if err != nil {
		return nil, err
	}
	m, _ := v.(map[string]any)
	if m == nil { // a nil Attrs encodes as null
		m = map[string]any{}
	}
	return m, nil
}

// jsonValue returns v as it reads back (numbers as json.Number) after
// encoding/json encoded it. JSON-shaped values (nil, bool, valid UTF-8
// strings, plain json.Numbers, []any, map[string]any with valid UTF-8
// keys) are copied as they are; anything else (other Go types, invalid
// UTF-8, which the encoder replaces, odd json.Numbers) goes through
// encoding/json itself, so the result is the encoder's.
func jsonValue(v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case bool:
		return x, nil
	case string:
		if utf8.ValidString(x) {
			return x, nil
		}
	case json.Number:
		if plainNumber(x) {
			return x, nil
		}
	case []any:
		if x == nil {
			return nil, nil
		}
		out := make([]any, len(x))
		for i, e := range x {
			ev, err := jsonValue(e)
			if err != nil {
				return nil, err
			}
			out[i] = ev
		}
		return out, nil
	case map[string]any:
		if x == nil {
			return nil, nil
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			if !utf8.ValidString(k) {
				return jsonRoundTrip(v) // the encoder rewrites keys; they may collide
			}
			ev, err := jsonValue(e)
			if err != nil {
				return nil, err
			}
			out[k] = ev
		}
		return out, nil
	}
	return jsonRoundTrip(v)
}

// plainNumber reports whether n is a JSON number the encoder writes as it
// is and the decoder reads back unchanged.
func plainNumber(n json.Number) bool {
	s := string(n)
	if s == "" || !(s[0] == '-' || s[0] >= '0' && s[0] <= '9') || s[len(s)-1] < '0' || s[len(s)-1] > '9' {
		return false
	}
	return json.Valid([]byte(s))
}

// jsonRoundTrip encodes v with encoding/json and decodes it again with
// numbers as json.Number.
func jsonRoundTrip(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out any
	if err := dec.Decode(&out); err != nil {
		return nil, err
	}
	return out, nil
}
