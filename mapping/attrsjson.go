package mapping

import (
	"encoding/json"
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/axonflow/axonflow-sync/mapping/internal/jsonesc"
)

// DecodeAttrsJSON decodes a stored attribute document (a JSON object, as
// the stores write it with encoding/json) into Attrs: objects as
// map[string]any, arrays as []any, numbers as json.Number (their text),
// strings, bools and nil. The result is what encoding/json's Decoder with
// UseNumber gives for doc when doc is one valid JSON value with nothing but
// white space after it: the last of duplicate keys wins, invalid UTF-8 and
// unpaired surrogate escapes become U+FFFD, "null" gives nil Attrs. Any
// other document (invalid JSON, trailing data, a top-level value that is
// not an object, nesting deeper than 10,000) is decoded by encoding/json
// instead, so errors are its errors (wrapped by the caller). It exists
// because the stores decode one document per user and group they read,
// and encoding/json's reflection was the largest part of a GET's own CPU
// time after the network; the fuzz test FuzzDecodeAttrsJSON checks it
// against encoding/json.
func DecodeAttrsJSON(doc string) (Attrs, error) {
	d := attrsDecoder{s: doc}
	d.space()
	if strings.HasPrefix(d.s[d.i:], "null") {
		d.i += 4
		if d.space(); d.i == len(d.s) {
			return nil, nil
		}
		return decodeAttrsStd(doc)
	}
	if d.i < len(d.s) && d.s[d.i] == '{' {
		if m, ok := d.object(0); ok {
			if d.space(); d.i == len(d.s) {
				return Attrs(m), nil
			}
		}
	}
	return decodeAttrsStd(doc)
}

// decodeAttrsStd is DecodeAttrsJSON by encoding/json, with its errors.
func decodeAttrsStd(doc string) (Attrs, error) {
	dec := json.NewDecoder(strings.NewReader(doc))
	dec.UseNumber()
	var a Attrs
	if err := dec.Decode(&a); err != nil {
		return nil, err
	}
	if strings.TrimLeft(doc[dec.InputOffset():], " \t\n\r") != "" {
		return nil, errors.New("data after the JSON object")
	}
	return a, nil
}

// maxAttrsDepth is encoding/json's nesting limit.
const maxAttrsDepth = 10000

// attrsDecoder is a JSON reader over s from i; every method returns ok
// false on anything it does not accept (the caller falls back then).
type attrsDecoder struct {
	s string
	i int
}

func (d *attrsDecoder) space() {
	for d.i < len(d.s) {
		switch d.s[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// object reads an object; d.s[d.i] is '{'.
func (d *attrsDecoder) object(depth int) (map[string]any, bool) {
	if depth >= maxAttrsDepth {
		return nil, false
	}
	d.i++
	m := make(map[string]any)
	d.space()
	if d.i < len(d.s) && d.s[d.i] == '}' {
		d.i++
		return m, true
	}
	for {
		if d.i >= len(d.s) || d.s[d.i] != '"' {
			return nil, false
		}
		k, ok := d.str()
		if !ok {
			return nil, false
		}
		d.space()
		if d.i >= len(d.s) || d.s[d.i] != ':' {
			return nil, false
		}
		d.i++
		d.space()
		v, ok := d.value(depth + 1)
		if !ok {
			return nil, false
		}
		m[k] = v
		d.space()
		if d.i >= len(d.s) {
			return nil, false
		}
		switch d.s[d.i] {
		case ',':
			d.i++
			d.space()
		case '}':
			d.i++
			return m, true
		default:
			return nil, false
		}
	}
}

// array reads an array; d.s[d.i] is '['.
func (d *attrsDecoder) array(depth int) ([]any, bool) {
	if depth >= maxAttrsDepth {
		return nil, false
	}
	d.i++
	a := []any{}
	d.space()
	if d.i < len(d.s) && d.s[d.i] == ']' {
		d.i++
		return a, true
	}
	for {
		v, ok := d.value(depth + 1)
		if !ok {
			return nil, false
		}
		a = append(a, v)
		d.space()
		if d.i >= len(d.s) {
			return nil, false
		}
		switch d.s[d.i] {
		case ',':
			d.i++
			d.space()
		case ']':
			d.i++
			return a, true
		default:
			return nil, false
		}
	}
}

// value reads any value at d.i (no leading space).
func (d *attrsDecoder) value(depth int) (any, bool) {
	if d.i >= len(d.s) {
		return nil, false
	}
	switch c := d.s[d.i]; {
	case c == '"':
		return d.str()
	case c == '{':
		return d.object(depth)
	case c == '[':
		return d.array(depth)
	case c == 't':
		return true, d.lit("true")
	case c == 'f':
		return false, d.lit("false")
	case c == 'n':
		return nil, d.lit("null")
	case c == '-' || c >= '0' && c <= '9':
		return d.number()
	}
	return nil, false
}

func (d *attrsDecoder) lit(l string) bool {
	if !strings.HasPrefix(d.s[d.i:], l) {
		return false
	}
	d.i += len(l)
	return true
}

// number reads a number by JSON's grammar and returns its text.
func (d *attrsDecoder) number() (json.Number, bool) {
	s, start := d.s, d.i
	i := d.i
	if s[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			n++
		}
		return n
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case digits() == 0:
		return "", false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return "", false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return "", false
		}
	}
	d.i = i
	return json.Number(s[start:i]), true
}

// str reads a string; d.s[d.i] is '"'. Without escapes or invalid UTF-8
// it is a substring of the document (no copy).
func (d *attrsDecoder) str() (string, bool) {
	s := d.s
	start := d.i + 1
	for i := start; i < len(s); {
		c := s[i]
		switch {
		case c == '"':
			d.i = i + 1
			return s[start:i], true
		case c == '\\':
			return d.strSlow(start)
		case c < 0x20:
			return "", false
		case c < utf8.RuneSelf:
			i++
		default:
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 1 {
				return d.strSlow(start)
			}
			i += n
		}
	}
	return "", false
}

// strSlow reads the string that starts at start (after its quote),
// decoding escapes and replacing invalid UTF-8 as encoding/json does.
func (d *attrsDecoder) strSlow(start int) (string, bool) {
	s := d.s
	var b strings.Builder
	for i := start; i < len(s); {
		c := s[i]
		switch {
		case c == '"':
			d.i = i + 1
			return b.String(), true
		case c < 0x20:
			return "", false
		case c == '\\':
			r, n, _, ok := jsonesc.Decode(s, i)
			if !ok {
				return "", false
			}
			b.WriteRune(r) // U+FFFD for a lone surrogate, as encoding/json
			i += n
		case c < utf8.RuneSelf:
			b.WriteByte(c)
			i++
		default:
			r, n := utf8.DecodeRuneInString(s[i:])
			b.WriteRune(r) // U+FFFD for an invalid byte, as encoding/json
			i += n
		}
	}
	return "", false
}

// IdentityOfJSON is IdentityOf of the user whose stored attribute document
// is doc (DecodeAttrsJSON's input), without building the document: only
// userName, externalId, active, name and emails are read (into the
// Identity, no maps), every other value is only checked (what the
// reconciler reads of every user). It returns DecodeAttrsJSON's error for a
// document that does not decode. The strings it returns may be substrings
// of doc.
func IdentityOfJSON(doc string) (Identity, error) {
	d := attrsDecoder{s: doc}
	d.space()
	if d.i < len(d.s) && d.s[d.i] == '{' {
		if id, ok := d.identity(); ok {
			if d.space(); d.i == len(d.s) {
				return id, nil
			}
		}
	}
	a, err := DecodeAttrsJSON(doc)
	if err != nil {
		return Identity{}, err
	}
	return IdentityOf(&User{Attrs: a}), nil
}

// members calls fn for each member of the object at d.i ('{') with d.i at
// its value; fn reads the value (as value or skip would) and returns ok.
// The last of duplicate keys is the one that counts, as in object, when fn
// overwrites what it keeps.
func (d *attrsDecoder) members(depth int, fn func(k string) bool) bool {
	if depth >= maxAttrsDepth {
		return false
	}
	d.i++
	d.space()
	if d.i < len(d.s) && d.s[d.i] == '}' {
		d.i++
		return true
	}
	for {
		if d.i >= len(d.s) || d.s[d.i] != '"' {
			return false
		}
		k, ok := d.str()
		if !ok {
			return false
		}
		d.space()
		if d.i >= len(d.s) || d.s[d.i] != ':' {
			return false
		}
		d.i++
		d.space()
		if !fn(k) {
			return false
		}
		d.space()
		if d.i >= len(d.s) {
			return false
		}
		switch d.s[d.i] {
		case ',':
			d.i++
			d.space()
		case '}':
			d.i++
			return true
		default:
			return false
		}
	}
}

// stringOr reads the value at d.i: a string gives itself, anything else
// "" (as a type assertion to string would).
func (d *attrsDecoder) stringOr(depth int) (string, bool) {
	if d.i < len(d.s) && d.s[d.i] == '"' {
		return d.str()
	}
	return "", d.skip(depth)
}

// identity reads the top-level object at d.i ('{') as IdentityOf reads
// the decoded document.
func (d *attrsDecoder) identity() (Identity, bool) {
	id := Identity{Active: true}
	ok := d.members(0, func(k string) bool {
		var ok bool
		switch k {
		case "userName":
			id.UserName, ok = d.stringOr(1)
		case "externalId":
			id.ExternalID, ok = d.stringOr(1)
		case "active":
			switch {
			case strings.HasPrefix(d.s[d.i:], "true"):
				id.Active, ok = true, d.lit("true")
			case strings.HasPrefix(d.s[d.i:], "false"):
				id.Active, ok = false, d.lit("false")
			default:
				id.Active, ok = true, d.skip(1)
			}
		case "name":
			id.GivenName, id.FamilyName = "", ""
			if d.i < len(d.s) && d.s[d.i] == '{' {
				ok = d.members(1, func(k string) bool {
					switch k {
					case "givenName":
						var ok bool
						id.GivenName, ok = d.stringOr(2)
						return ok
					case "familyName":
						var ok bool
						id.FamilyName, ok = d.stringOr(2)
						return ok
					}
					return d.skip(2)
				})
			} else {
				ok = d.skip(1)
			}
		case "emails":
			id.Email, ok = d.workEmail()
		default:
			ok = d.skip(1)
		}
		return ok
	})
	return id, ok
}

// workEmail reads the emails value at d.i and returns what WorkEmail
// returns for it (a value that is not an array: "").
func (d *attrsDecoder) workEmail() (string, bool) {
	if d.i >= len(d.s) || d.s[d.i] != '[' {
		return "", d.skip(1)
	}
	d.i++
	d.space()
	var work, primary, first string
	found := false
	if d.i < len(d.s) && d.s[d.i] == ']' {
		d.i++
		return "", true
	}
	for {
		if d.i < len(d.s) && d.s[d.i] == '{' {
			var v, t string
			var p bool
			ok := d.members(2, func(k string) bool {
				var ok bool
				switch k {
				case "value":
					v, ok = d.stringOr(3)
				case "type":
					t, ok = d.stringOr(3)
				case "primary":
					switch {
					case strings.HasPrefix(d.s[d.i:], "true"):
						p, ok = true, d.lit("true")
					case strings.HasPrefix(d.s[d.i:], "false"):
						p, ok = false, d.lit("false")
					default:
						p, ok = false, d.skip(3)
					}
				default:
					ok = d.skip(3)
				}
				return ok
			})
			if !ok {
				return "", false
			}
			if !found {
				if strings.EqualFold(t, "work") && v != "" {
					work, found = v, true
				}
				if p && primary == "" {
					primary = v
				}
				if first == "" {
					first = v
				}
			}
		} else if !d.skip(2) {
			return "", false
		}
		d.space()
		if d.i >= len(d.s) {
			return "", false
		}
		switch d.s[d.i] {
		case ',':
			d.i++
			d.space()
		case ']':
			d.i++
			switch {
			case found:
				return work, true
			case primary != "":
				return primary, true
			}
			return first, true
		default:
			return "", false
		}
	}
}

// skip reads any value at d.i as value does, keeping nothing: no
// allocation unless a string holds escapes or invalid UTF-8.
func (d *attrsDecoder) skip(depth int) bool {
	if d.i >= len(d.s) {
		return false
	}
	switch c := d.s[d.i]; {
	case c == '"':
		_, ok := d.str()
		return ok
	case c == '{', c == '[':
		if depth >= maxAttrsDepth {
			return false
		}
		end := byte('}')
		if c == '[' {
			end = ']'
		}
		d.i++
		d.space()
		if d.i < len(d.s) && d.s[d.i] == end {
			d.i++
			return true
		}
		for {
			if c == '{' {
				if d.i >= len(d.s) || d.s[d.i] != '"' {
					return false
				}
				if _, ok := d.str(); !ok {
					return false
				}
				d.space()
				if d.i >= len(d.s) || d.s[d.i] != ':' {
					return false
				}
				d.i++
				d.space()
			}
			if !d.skip(depth + 1) {
				return false
			}
			d.space()
			if d.i >= len(d.s) {
				return false
			}
			switch d.s[d.i] {
			case ',':
				d.i++
				d.space()
			case end:
				d.i++
				return true
			default:
				return false
			}
		}
	}
	_, ok := d.value(depth)
	return ok
}
