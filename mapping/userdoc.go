package mapping

import "sync"

// UserDoc is a user's stored attribute document (DecodeAttrsJSON's input)
// read for rendering without decoding it: Parse transcodes each top-level
// attribute once into the bytes AppendJSON writes for its decoded value,
// and AppendResource merges them with the resource's own members into
// what AppendUserResource writes for the decoded user. It is the
// single-user GET's rendering, which otherwise decodes the document into
// maps (an allocation per object, array and escaped string) only to
// encode them again. Get one with NewUserDoc, hand it back with Release.
// A UserDoc is not safe for concurrent use.
type UserDoc struct {
	enc      []byte      // the attributes' members, each `"key":value`
	members  []docMember // in key order, spans of enc
	userName string
	withExt  bool // the enterprise extension is a non-empty object
}

// docMember is one top-level attribute of a UserDoc: its key and the span
// of UserDoc.enc that holds `"key":value`.
type docMember struct {
	key        string
	start, end int
}

var userDocPool = sync.Pool{New: func() any { return &UserDoc{enc: make([]byte, 0, 1024), members: make([]docMember, 0, 24)} }}

// NewUserDoc returns an empty UserDoc from a pool.
func NewUserDoc() *UserDoc { return userDocPool.Get().(*UserDoc) }

// Release returns d to the pool (unless it grew past 64 KiB); d must not
// be used after.
func (d *UserDoc) Release() {
	if cap(d.enc) > 64<<10 {
		return
	}
	d.reset()
	userDocPool.Put(d)
}

func (d *UserDoc) reset() {
	d.enc = d.enc[:0]
	clear(d.members)
	d.members = d.members[:0]
	d.userName, d.withExt = "", false
}

// Parse reads doc into d and reports whether it could: true only when
// DecodeAttrsJSON(doc) decodes it without error into Attrs whose encoding
// Parse reproduces exactly, that is when doc is a JSON object (white space
// allowed around tokens) whose objects, at every level, have their keys
// in strictly increasing order after decoding (as encoding/json writes
// maps: no duplicate keys) and nest no deeper than DecodeAttrsJSON
// decodes itself. Any other document (invalid, "null", unsorted or
// duplicate keys) gives false, and the caller decodes it instead. The
// strings d keeps may be substrings of doc.
func (d *UserDoc) Parse(doc string) bool {
	d.reset()
	r := attrsDecoder{s: doc}
	r.space()
	if r.i >= len(r.s) || r.s[r.i] != '{' {
		return false
	}
	r.i++
	r.space()
	if r.i < len(r.s) && r.s[r.i] == '}' {
		r.i++
		r.space()
		return r.i == len(r.s)
	}
	for {
		if r.i >= len(r.s) || r.s[r.i] != '"' {
			return d.fail()
		}
		k, ok := r.str()
		if !ok || (len(d.members) > 0 && k <= d.members[len(d.members)-1].key) {
			return d.fail()
		}
		r.space()
		if r.i >= len(r.s) || r.s[r.i] != ':' {
			return d.fail()
		}
		r.i++
		r.space()
		start := len(d.enc)
		d.enc = appendString(d.enc, k)
		d.enc = append(d.enc, ':')
		val := len(d.enc)
		if k == "userName" && r.i < len(r.s) && r.s[r.i] == '"' {
			var s string
			if s, ok = r.str(); ok {
				d.userName = s
				d.enc = appendString(d.enc, s)
			}
		} else {
			d.enc, ok = r.appendDocValue(d.enc, 1)
		}
		if !ok {
			return d.fail()
		}
		if k == SchemaEnterpriseUser {
			d.withExt = d.enc[val] == '{' && d.enc[val+1] != '}'
		}
		d.members = append(d.members, docMember{key: k, start: start, end: len(d.enc)})
		r.space()
		if r.i >= len(r.s) {
			return d.fail()
		}
		switch r.s[r.i] {
		case ',':
			r.i++
			r.space()
		case '}':
			r.i++
			r.space()
			if r.i != len(r.s) {
				return d.fail()
			}
			return true
		default:
			return d.fail()
		}
	}
}

func (d *UserDoc) fail() bool {
	d.reset()
	return false
}

// UserName is User.UserName of the parsed document's user: its userName
// when that is a string, else "".
func (d *UserDoc) UserName() string { return d.userName }

// AppendResource appends what AppendUserResource(dst, u', base, groups,
// roles) appends for u' = u with the Attrs Parse read (u's own Attrs are
// not looked at): the parsed attributes' bytes merged, in key order, with
// the resource's own members. d must have been parsed (Parse true).
func (d *UserDoc) AppendResource(dst []byte, u *User, base string, groups []Ref, roles []RoleAssignment) []byte {
	// The resource's own members in key order; "active" only when the
	// attributes have none, groups and roles only when there are some.
	var own [6]string
	n := 0
	hasActive := false
	for _, m := range d.members {
		if m.key == "active" {
			hasActive = true
			break
		}
	}
	if !hasActive {
		own[n], n = "active", n+1
	}
	if len(groups) > 0 {
		own[n], n = "groups", n+1
	}
	own[n], own[n+1], n = "id", "meta", n+2
	if len(roles) > 0 {
		own[n], n = "roles", n+1
	}
	own[n], n = "schemas", n+1
	b := append(dst, '{')
	first := true
	next := 0
	writeOwn := func(key string) {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendString(b, key)
		b = append(b, ':')
		b = appendOwnMember(b, key, u, base, d.withExt, groups, roles)
	}
	for _, m := range d.members {
		switch {
		case m.key == "schemas" || m.key == "id" || m.key == "meta":
			continue
		case m.key == "groups" && len(groups) > 0:
			continue
		case m.key == "roles" && len(roles) > 0:
			continue
		case m.key == SchemaEnterpriseUser && !d.withExt:
			continue
		}
		for next < n && own[next] < m.key {
			writeOwn(own[next])
			next++
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, d.enc[m.start:m.end]...)
	}
	for ; next < n; next++ {
		writeOwn(own[next])
	}
	return append(b, '}')
}

// appendDocValue appends what AppendJSON writes for the value at r.i (no
// leading space) as the attrsDecoder's value would decode it, and reports
// false (with r and b in no particular state) where value would, or where
// an object's keys are not strictly increasing (see UserDoc.Parse).
func (r *attrsDecoder) appendDocValue(b []byte, depth int) ([]byte, bool) {
	if r.i >= len(r.s) {
		return b, false
	}
	switch c := r.s[r.i]; {
	case c == '"':
		s, ok := r.str()
		if !ok {
			return b, false
		}
		return appendString(b, s), true
	case c == '{':
		return r.appendDocObject(b, depth)
	case c == '[':
		if depth >= maxAttrsDepth {
			return b, false
		}
		var empty bool
		if b, empty = r.appendDocOpen(b, ']'); empty {
			return b, true
		}
		for {
			var ok, done bool
			if b, ok = r.appendDocValue(b, depth+1); !ok {
				return b, false
			}
			if b, done, ok = r.appendDocNext(b, ']'); !ok || done {
				return b, ok
			}
		}
	case c == 't':
		return append(b, "true"...), r.lit("true")
	case c == 'f':
		return append(b, "false"...), r.lit("false")
	case c == 'n':
		return append(b, "null"...), r.lit("null")
	case c == '-' || c >= '0' && c <= '9':
		n, ok := r.number()
		if !ok || !isValidNumber(string(n)) {
			return b, false
		}
		return append(b, n...), true
	}
	return b, false
}

// appendDocObject is appendDocValue for an object (r.s[r.i] is '{').
func (r *attrsDecoder) appendDocObject(b []byte, depth int) ([]byte, bool) {
	if depth >= maxAttrsDepth {
		return b, false
	}
	var empty bool
	if b, empty = r.appendDocOpen(b, '}'); empty {
		return b, true
	}
	var prev string
	for first := true; ; first = false {
		if r.i >= len(r.s) || r.s[r.i] != '"' {
			return b, false
		}
		k, ok := r.str()
		if !ok || (!first && k <= prev) {
			return b, false
		}
		prev = k
		r.space()
		if r.i >= len(r.s) || r.s[r.i] != ':' {
			return b, false
		}
		r.i++
		r.space()
		b = appendString(b, k)
		b = append(b, ':')
		if b, ok = r.appendDocValue(b, depth+1); !ok {
			return b, false
		}
		var done bool
		if b, done, ok = r.appendDocNext(b, '}'); !ok || done {
			return b, ok
		}
	}
}

// appendDocOpen appends the opening byte at r.i and reads it and the
// spaces after it; when the closing byte end follows at once it reads and
// appends it too and reports the array or object empty.
func (r *attrsDecoder) appendDocOpen(b []byte, end byte) (out []byte, empty bool) {
	b = append(b, r.s[r.i])
	r.i++
	r.space()
	if r.i < len(r.s) && r.s[r.i] == end {
		r.i++
		return append(b, end), true
	}
	return b, false
}

// appendDocNext reads what follows an element or member value (after
// spaces): a comma, appended (done false; the spaces after it are read
// too), or the closing byte end, appended (done true). Anything else,
// or the end of the input, is not ok.
func (r *attrsDecoder) appendDocNext(b []byte, end byte) (out []byte, done, ok bool) {
	r.space()
	if r.i >= len(r.s) {
		return b, false, false
	}
	switch r.s[r.i] {
	case ',':
		r.i++
		r.space()
		return append(b, ','), false, true
	case end:
		r.i++
		return append(b, end), true, true
	}
	return b, false, false
}
