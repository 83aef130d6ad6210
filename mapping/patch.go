package mapping

import (
	"slices"
	"strings"

	"github.com/axonflow/axonflow-sync/mapping/filter"
)

// PatchOp is one decoded PATCH operation (RFC 7644 §3.5.2).
type PatchOp struct {
	Op       string       // "add", "remove" or "replace" (lower case)
	Path     *filter.Path // nil when the operation has no path
	RawPath  string       // the path as sent, for error messages
	Value    any          // the JSON value (json.Number for numbers)
	HasValue bool         // whether "value" was present (even as null)
}

// MaxPatchOps is the most operations one PATCH request may carry.
const MaxPatchOps = 1000

// DecodePatch parses a PatchOp request body (RFC 7644 §3.5.2): schemas, if
// present, must list the PatchOp URN; Operations must be a non-empty array;
// op names are case-insensitive; paths are parsed here so a bad path is
// rejected before anything is read or written. Errors are 400 *Error values
// (invalidSyntax, invalidPath).
func DecodePatch(body []byte) ([]PatchOp, error) {
	m, err := DecodeJSON(body)
	if err != nil {
		return nil, err
	}
	if s, ok := m["schemas"]; ok {
		list, _ := s.([]any)
		found := false
		for _, u := range list {
			if us, ok := u.(string); ok && strings.EqualFold(us, SchemaPatchOp) {
				found = true
			}
		}
		if !found {
			return nil, badRequest(ScimInvalidSyntax, "schemas must be [%q]", SchemaPatchOp)
		}
	}
	var rawOps any
	for k, v := range m {
		if strings.EqualFold(k, "Operations") {
			rawOps = v
		} else if k != "schemas" {
			return nil, badRequest(ScimInvalidSyntax, "unknown PatchOp member %q", k)
		}
	}
	list, ok := rawOps.([]any)
	if !ok || len(list) == 0 {
		return nil, badRequest(ScimInvalidSyntax, "Operations must be a non-empty array")
	}
	if len(list) > MaxPatchOps {
		return nil, &Error{Status: 413, Detail: "too many PATCH operations"}
	}
	ops := make([]PatchOp, 0, len(list))
	for i, raw := range list {
		obj, ok := raw.(map[string]any)
		if !ok {
			return nil, badRequest(ScimInvalidSyntax, "Operations[%d] must be an object", i)
		}
		var op PatchOp
		for k, v := range obj {
			switch strings.ToLower(k) {
			case "op":
				s, _ := v.(string)
				switch strings.ToLower(s) {
				case "add", "remove", "replace":
					op.Op = strings.ToLower(s)
				default:
					return nil, badRequest(ScimInvalidSyntax, "Operations[%d].op %v: must be add, remove or replace", i, v)
				}
			case "path":
				s, ok := v.(string)
				if !ok {
					return nil, badRequest(ScimInvalidPath, "Operations[%d].path must be a string", i)
				}
				if strings.TrimSpace(s) == "" {
					continue
				}
				p, err := filter.ParsePath(s)
				if err != nil {
					return nil, badRequest(ScimInvalidPath, "Operations[%d].path %q: %v", i, s, err)
				}
				op.Path, op.RawPath = &p, s
			case "value":
				op.Value, op.HasValue = v, true
			default:
				return nil, badRequest(ScimInvalidSyntax, "Operations[%d]: unknown member %q", i, k)
			}
		}
		if op.Op == "" {
			return nil, badRequest(ScimInvalidSyntax, "Operations[%d].op is required", i)
		}
		if op.Op != "remove" && !op.HasValue {
			return nil, badRequest(ScimInvalidValue, "Operations[%d]: %s needs a value", i, op.Op)
		}
		if op.Op == "remove" && op.Path == nil {
			return nil, badRequest(ScimNoTarget, "Operations[%d]: remove needs a path", i)
		}
		ops = append(ops, op)
	}
	return ops, nil
}

// MemberDelta is the net effect of a PATCH on a group's members, folded in
// operation order: if Replace, the member set becomes Members; otherwise
// Add and Remove are disjoint deltas. It maps onto store.GroupChange.
type MemberDelta struct {
	Replace bool
	Members []string
	Add     []string
	Remove  []string
}

// Changed reports whether the delta does anything.
func (d *MemberDelta) Changed() bool { return d.Replace || len(d.Add) > 0 || len(d.Remove) > 0 }

// memberFold folds membership operations into a MemberDelta. Each id costs
// O(1) (the lists are indexed), so a PATCH naming tens of thousands of
// members costs time linear in its size, not quadratic.
type memberFold struct {
	replace              bool
	members, add, remove idSet
}

func (f *memberFold) addIDs(ids []string) {
	for _, id := range ids {
		if f.replace {
			f.members.put(id)
			continue
		}
		f.remove.del(id)
		f.add.put(id)
	}
}

func (f *memberFold) removeIDs(ids []string) {
	for _, id := range ids {
		if f.replace {
			f.members.del(id)
			continue
		}
		f.add.del(id)
		f.remove.put(id)
	}
}

func (f *memberFold) replaceIDs(ids []string) {
	*f = memberFold{replace: true}
	for _, id := range ids {
		f.members.put(id)
	}
}

// delta returns the folded MemberDelta (Members non-nil when Replace).
func (f *memberFold) delta() MemberDelta {
	if f.replace {
		return MemberDelta{Replace: true, Members: f.members.list()}
	}
	d := MemberDelta{}
	if f.add.len() > 0 {
		d.Add = f.add.list()
	}
	if f.remove.len() > 0 {
		d.Remove = f.remove.list()
	}
	return d
}

// idSet is an insertion-ordered set of non-empty ids with O(1) put, del and
// has; a deleted id leaves a hole that list skips, and putting it again
// appends it at the end (as deleting from and appending to a slice would).
type idSet struct {
	ids []string
	pos map[string]int // id → its index in ids
}

func (s *idSet) has(id string) bool { _, ok := s.pos[id]; return ok }
func (s *idSet) len() int           { return len(s.pos) }

func (s *idSet) put(id string) {
	if s.has(id) {
		return
	}
	if s.pos == nil {
		s.pos = map[string]int{}
	}
	s.pos[id] = len(s.ids)
	s.ids = append(s.ids, id)
}

func (s *idSet) del(id string) {
	if i, ok := s.pos[id]; ok {
		s.ids[i] = ""
		delete(s.pos, id)
	}
}

// list returns the ids in order (never nil).
func (s *idSet) list() []string {
	out := make([]string, 0, len(s.pos))
	for _, id := range s.ids {
		if id != "" {
			out = append(out, id)
		}
	}
	return out
}

// ApplyUserPatch applies ops in order to a copy of attrs and returns the
// result; attrs is not modified. id is the URL id (a path-less value may
// repeat it). The whole PATCH fails on the first bad operation, so nothing
// is half-applied. A removed active attribute becomes its default, true
// (as in DecodeUser). Errors are 400 *Error values (invalidPath, noTarget,
// invalidValue, mutability, invalidSyntax).
func ApplyUserPatch(attrs Attrs, id string, ops []PatchOp) (Attrs, error) {
	doc := attrs.Clone()
	if doc == nil {
		doc = Attrs{}
	}
	p := patcher{rt: UserType, id: id, doc: doc}
	for i := range ops {
		if err := p.apply(&ops[i]); err != nil {
			return nil, err
		}
	}
	if err := checkRequired(UserType, doc); err != nil {
		return nil, err
	}
	if err := checkIdentifiers(UserType, doc, attrs); err != nil {
		return nil, err
	}
	if _, had := attrs["active"]; had {
		defaultActive(doc)
	}
	return doc, nil
}

// ApplyGroupPatch is ApplyUserPatch for groups. Membership operations are
// folded into a MemberDelta instead of touching a member list; members
// returns the current member ids and is called only when a member value
// filter other than `value eq "..."` (or an "or" of those) must be evaluated.
func ApplyGroupPatch(attrs Attrs, id string, ops []PatchOp, members func() ([]string, error)) (Attrs, MemberDelta, error) {
	doc := attrs.Clone()
	if doc == nil {
		doc = Attrs{}
	}
	p := patcher{rt: GroupType, id: id, doc: doc, members: members}
	for i := range ops {
		if err := p.apply(&ops[i]); err != nil {
			return nil, MemberDelta{}, err
		}
	}
	if err := checkRequired(GroupType, doc); err != nil {
		return nil, MemberDelta{}, err
	}
	if err := checkIdentifiers(GroupType, doc, attrs); err != nil {
		return nil, MemberDelta{}, err
	}
	return doc, p.fold.delta(), nil
}

type patcher struct {
	rt      *ResourceType
	id      string
	doc     Attrs
	fold    memberFold
	members func() ([]string, error)
}

func (p *patcher) apply(op *PatchOp) error {
	if op.Path == nil {
		return p.applyPathless(op)
	}
	path := op.Path
	if p.rt == GroupType && path.Attr.URN == "" && strings.EqualFold(path.Attr.Name, "members") {
		return p.applyMembers(op)
	}
	a, ext, ok := p.rt.lookup(path.Attr.URN, path.Attr.Name)
	if !ok {
		return badRequest(ScimInvalidPath, "path %q: unknown attribute", op.RawPath)
	}
	switch a.Mutability {
	case ReadOnly:
		if strings.EqualFold(a.Name, "id") && op.Op != "remove" && op.Value == p.id {
			return nil
		}
		return badRequest(ScimMutability, "path %q: attribute %q is readOnly", op.RawPath, a.Name)
	case WriteOnly:
		return nil // password: accepted and discarded
	}
	container := p.container(ext, op.Op != "remove")
	if container == nil {
		return nil // removing from an absent extension
	}
	if path.Filter == nil {
		sub := path.Attr.Sub
		if sub == "" {
			err := p.applyAttr(op, a, container, displayPath(ext, a.Name), true)
			p.cleanup(container, a.Name, ext)
			return err
		}
		s := a.Sub(sub)
		if s == nil || a.Type != TypeComplex {
			return badRequest(ScimInvalidPath, "path %q: unknown sub-attribute", op.RawPath)
		}
		if s.Mutability == ReadOnly {
			return badRequest(ScimMutability, "path %q: sub-attribute %q is readOnly", op.RawPath, s.Name)
		}
		full := displayPath(ext, a.Name) + "." + s.Name
		if a.MultiValued {
			for _, el := range flatten(container[a.Name]) {
				if m, ok := el.(map[string]any); ok {
					if err := p.applySub(op, s, m, full); err != nil {
						return err
					}
				}
			}
			p.cleanup(container, a.Name, ext)
			return nil
		}
		m, _ := container[a.Name].(map[string]any)
		if m == nil {
			if op.Op == "remove" {
				return nil
			}
			m = map[string]any{}
			container[a.Name] = m
		}
		if err := p.applySub(op, s, m, full); err != nil {
			return err
		}
		p.cleanup(container, a.Name, ext)
		return nil
	}
	return p.applyValueFilter(op, a, ext, container)
}

// container returns the map holding attributes of ext (the document itself
// for core attributes), creating the extension map when create is set.
func (p *patcher) container(ext *Schema, create bool) map[string]any {
	if ext == nil {
		return p.doc
	}
	m, _ := p.doc[ext.ID].(map[string]any)
	if m == nil && create {
		m = map[string]any{}
		p.doc[ext.ID] = m
	}
	return m
}

// cleanup drops an attribute that became empty, and an empty extension.
func (p *patcher) cleanup(container map[string]any, name string, ext *Schema) {
	switch v := container[name].(type) {
	case map[string]any:
		if len(v) == 0 {
			delete(container, name)
		}
	case []any:
		if len(v) == 0 {
			delete(container, name)
		}
	}
	if ext != nil && len(container) == 0 {
		delete(p.doc, ext.ID)
	}
}

// applyPathless handles an operation without a path: its value is an
// object of attributes, each added or replaced (RFC 7644 §3.5.2.1, §3.5.2.3).
// Complex values merge their sub-attributes, so two path-less replaces of
// name.givenName and name.familyName keep both.
//
// A key may also be an attribute path with a sub-attribute, plain or
// URN-qualified ("name.givenName", "urn:...:enterprise:2.0:User:manager.value"),
// as Microsoft Entra ID sends (RFC 7644 §3.5.2: the value's keys are
// attribute paths). Such a key is applied exactly as an operation with that
// path would be (same lookups, same mutability and type checks), after the
// whole-attribute keys so the result does not depend on key order; a key
// with a value filter ("emails[type eq \"work\"].value") is 400 invalidPath.
func (p *patcher) applyPathless(op *PatchOp) error {
	obj, ok := op.Value.(map[string]any)
	if !ok {
		return badRequest(ScimInvalidValue, "a %s without a path needs an object value", op.Op)
	}
	if err := p.checkPathlessKeys(op.Op, obj); err != nil {
		return err
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	slices.Sort(keys) // a deterministic order (and first error) whatever the JSON's
	var dotted []string
	for _, k := range keys {
		v := obj[k]
		if isSubAttrKey(p.rt, k) {
			dotted = append(dotted, k)
			continue
		}
		switch {
		case k == "schemas" || strings.EqualFold(k, "meta"):
			continue
		case strings.EqualFold(k, "id"):
			if s, ok := v.(string); ok && s == p.id {
				continue
			}
			return badRequest(ScimMutability, "attribute \"id\" is readOnly")
		}
		if ext := p.rt.Extension(k); ext != nil {
			em, ok := v.(map[string]any)
			if !ok {
				if v == nil {
					continue
				}
				return badRequest(ScimInvalidValue, "%s must be a JSON object", ext.ID)
			}
			for sk, sv := range em {
				sub := PatchOp{Op: op.Op, Path: &filter.Path{Attr: filter.AttrPath{URN: ext.ID, Name: sk}}, RawPath: ext.ID + ":" + sk, Value: sv, HasValue: true}
				if err := p.applyNamed(&sub, true); err != nil {
					return err
				}
			}
			continue
		}
		urn, name := splitURNKey(p.rt, k)
		sub := PatchOp{Op: op.Op, Path: &filter.Path{Attr: filter.AttrPath{URN: urn, Name: name}}, RawPath: k, Value: obj[k], HasValue: true}
		if err := p.applyNamed(&sub, true); err != nil {
			return err
		}
	}
	slices.Sort(dotted)
	for _, k := range dotted {
		path, err := filter.ParsePath(k)
		if err != nil {
			return badRequest(ScimInvalidPath, "attribute path %q: %v", k, err)
		}
		if path.Filter != nil {
			return badRequest(ScimInvalidPath, "attribute path %q: a key of a path-less value cannot have a value filter; send it as the operation's path", k)
		}
		sub := PatchOp{Op: op.Op, Path: &path, RawPath: k, Value: obj[k], HasValue: true}
		if err := p.apply(&sub); err != nil {
			return err
		}
	}
	return nil
}

// checkPathlessKeys refuses a path-less value in which two keys name the
// same attribute or attribute path: they differ only in case ("displayName",
// "DISPLAYNAME"), one is URN-qualified and the other not, or one sits in an
// extension object and the other is the extension's URN-qualified path.
// Which one wins would be arbitrary, so it is 400 invalidValue (RFC 7644
// §3.12), naming both keys.
func (p *patcher) checkPathlessKeys(opName string, obj map[string]any) error {
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	seen := make(map[string]string, len(obj))
	claim := func(canon, k string) error {
		if prev, dup := seen[canon]; dup {
			return badRequest(ScimInvalidValue, "keys %q and %q of the %s value name the same attribute; send it once", prev, k, opName)
		}
		seen[canon] = k
		return nil
	}
	for _, k := range keys {
		if ext := p.rt.Extension(k); ext != nil {
			if em, ok := obj[k].(map[string]any); ok {
				for sk := range em {
					if err := claim(p.canonicalKey(ext.ID, sk), k+"."+sk); err != nil {
						return err
					}
				}
			}
			continue
		}
		urn, name := splitURNKey(p.rt, k)
		if err := claim(p.canonicalKey(urn, name), k); err != nil {
			return err
		}
	}
	return nil
}

// canonicalKey is a key's attribute path with its schema resolved (core or
// the extension's id) and case folded, for checkPathlessKeys.
func (p *patcher) canonicalKey(urn, name string) string {
	base, rest := name, ""
	if i := strings.IndexAny(name, ".["); i >= 0 {
		base, rest = name[:i], name[i:]
	}
	schema := strings.ToLower(urn)
	if a, ext, ok := p.rt.lookup(urn, base); ok {
		base, schema = a.Name, ""
		if ext != nil {
			schema = ext.ID
		}
	}
	return strings.ToLower(schema + ":" + base + rest)
}

// isSubAttrKey reports whether a key of a path-less PATCH value is an
// attribute path rather than an attribute name: its attribute part (after
// any schema URN) has a "." or a "[".
func isSubAttrKey(rt *ResourceType, k string) bool {
	_, name := splitURNKey(rt, k)
	return strings.ContainsAny(name, ".[")
}

// applyNamed applies a path-less member attribute; readOnly attributes in a
// path-less value (groups, roles) are ignored like in a PUT body.
func (p *patcher) applyNamed(op *PatchOp, pathless bool) error {
	if p.rt == GroupType && op.Path.Attr.URN == "" && strings.EqualFold(op.Path.Attr.Name, "members") {
		return p.applyMembers(op)
	}
	a, ext, ok := p.rt.lookup(op.Path.Attr.URN, op.Path.Attr.Name)
	if !ok {
		return badRequest(ScimInvalidPath, "unknown attribute %q", op.RawPath)
	}
	if a.Mutability == ReadOnly || a.Mutability == WriteOnly {
		return nil
	}
	container := p.container(ext, true)
	err := p.applyAttr(op, a, container, displayPath(ext, a.Name), pathless)
	p.cleanup(container, a.Name, ext)
	return err
}

// applyAttr applies add/replace/remove to a whole attribute.
func (p *patcher) applyAttr(op *PatchOp, a *Attribute, container map[string]any, full string, mergeComplex bool) error {
	switch op.Op {
	case "remove":
		if op.HasValue && op.Value != nil && a.MultiValued {
			// Remove the listed values (matched on the sub-attributes given).
			rm, err := normalizeValue(a, op.Value, full)
			if err != nil {
				return err
			}
			var keep []any
			for _, el := range flatten(container[a.Name]) {
				if !matchesAny(el, flatten(rm)) {
					keep = append(keep, el)
				}
			}
			if len(keep) == 0 {
				delete(container, a.Name)
			} else {
				container[a.Name] = keep
			}
			return nil
		}
		delete(container, a.Name)
		return nil
	case "add", "replace":
		nv, err := normalizeValue(a, op.Value, full)
		if err != nil {
			return err
		}
		if nv == nil {
			if op.Op == "replace" {
				delete(container, a.Name)
			}
			return nil
		}
		switch {
		case a.MultiValued && op.Op == "add":
			cur := flatten(container[a.Name])
			out := append([]any{}, cur...)
			for _, e := range nv.([]any) {
				if !containsEqual(out, e) {
					out = append(out, e)
				}
			}
			if len(out) > MaxMultiValues {
				return badRequest(ScimInvalidValue, "attribute %q would have %d values; at most %d are allowed", full, len(out), MaxMultiValues)
			}
			container[a.Name] = out
		case a.Type == TypeComplex && !a.MultiValued && mergeComplex:
			cur, _ := container[a.Name].(map[string]any)
			if cur == nil {
				cur = map[string]any{}
			}
			for k, v := range nv.(map[string]any) {
				cur[k] = v
			}
			container[a.Name] = cur
		default:
			container[a.Name] = nv
		}
		return nil
	}
	return badRequest(ScimInvalidSyntax, "unsupported op %q", op.Op)
}

// applySub applies an operation to one sub-attribute s of the complex value m.
func (p *patcher) applySub(op *PatchOp, s *Attribute, m map[string]any, full string) error {
	if op.Op == "remove" {
		delete(m, s.Name)
		return nil
	}
	nv, err := normalizeSingle(s, op.Value, full)
	if err != nil {
		return err
	}
	if nv == nil {
		delete(m, s.Name)
	} else {
		m[s.Name] = nv
	}
	return nil
}

// applyValueFilter handles paths like emails[type eq "work"].value.
// add/replace with no matching element creates one when the filter is a
// conjunction of `sub eq "v"` tests (the upsert identity providers expect);
// otherwise no match is 400 noTarget. remove with no match succeeds.
func (p *patcher) applyValueFilter(op *PatchOp, a *Attribute, ext *Schema, container map[string]any) error {
	path := op.Path
	full := displayPath(ext, a.Name)
	if !a.MultiValued || a.Type != TypeComplex {
		return badRequest(ScimInvalidPath, "path %q: %q is not multi-valued complex", op.RawPath, a.Name)
	}
	match, err := compileExpr(path.Filter, compiler{resolve: scoped(a)})
	if err != nil {
		e := err.(*Error)
		return badRequest(ScimInvalidPath, "path %q: %s", op.RawPath, e.Detail)
	}
	var s *Attribute
	if path.Sub != "" {
		if s = a.Sub(path.Sub); s == nil {
			return badRequest(ScimInvalidPath, "path %q: unknown sub-attribute %q", op.RawPath, path.Sub)
		}
		if s.Mutability == ReadOnly {
			return badRequest(ScimMutability, "path %q: sub-attribute %q is readOnly", op.RawPath, s.Name)
		}
	}
	elems := flatten(container[a.Name])
	out := make([]any, 0, len(elems)+1)
	matched := false
	for _, el := range elems {
		m, ok := el.(map[string]any)
		if !ok || !match(m) {
			out = append(out, el)
			continue
		}
		matched = true
		switch {
		case op.Op == "remove" && s == nil:
			continue // drop the element
		case s != nil:
			cp := cloneValue(m).(map[string]any)
			if err := p.applySub(op, s, cp, full+"."+s.Name); err != nil {
				return err
			}
			if len(cp) > 0 {
				out = append(out, cp)
			}
		default: // add/replace a whole element
			nv, err := normalizeSingle(a, op.Value, full)
			if err != nil {
				return err
			}
			nm, _ := nv.(map[string]any)
			if op.Op == "add" {
				cp := cloneValue(m).(map[string]any)
				for k, v := range nm {
					cp[k] = v
				}
				nm = cp
			}
			if len(nm) > 0 {
				out = append(out, nm)
			}
		}
	}
	if !matched && op.Op != "remove" {
		seed, ok := eqSeed(path.Filter, a)
		if !ok {
			return badRequest(ScimNoTarget, "path %q matches no value", op.RawPath)
		}
		if s != nil {
			if err := p.applySub(op, s, seed, full+"."+s.Name); err != nil {
				return err
			}
		} else {
			nv, err := normalizeSingle(a, op.Value, full)
			if err != nil {
				return err
			}
			nm, _ := nv.(map[string]any)
			for k, v := range nm {
				seed[k] = v
			}
		}
		out = append(out, seed)
		if len(out) > MaxMultiValues {
			return badRequest(ScimInvalidValue, "attribute %q would have %d values; at most %d are allowed", full, len(out), MaxMultiValues)
		}
	}
	if len(out) == 0 {
		delete(container, a.Name)
	} else {
		container[a.Name] = out
	}
	p.cleanup(container, a.Name, ext)
	return nil
}

// eqSeed turns a filter made only of `sub eq "value"` joined by "and" into
// the element those tests describe, e.g. {type: "work"}.
func eqSeed(e filter.Expr, a *Attribute) (map[string]any, bool) {
	out := map[string]any{}
	var walk func(e filter.Expr) bool
	walk = func(e filter.Expr) bool {
		switch x := e.(type) {
		case *filter.Logical:
			return x.And && walk(x.Left) && walk(x.Right)
		case *filter.Compare:
			s := a.Sub(x.Path.Name)
			if x.Op != filter.Eq || s == nil || x.Path.Sub != "" || x.Path.URN != "" {
				return false
			}
			var v any
			switch x.Value.Kind {
			case filter.KindString:
				v = x.Value.Str
			case filter.KindBool:
				v = x.Value.Bool
			default:
				return false
			}
			nv, err := normalizeSingle(s, v, a.Name+"."+s.Name)
			if err != nil || nv == nil {
				return false
			}
			out[s.Name] = nv
			return true
		}
		return false
	}
	return out, walk(e)
}

// matchesAny reports whether el equals one of the values on every
// sub-attribute that value gives (e.g. {"value": "x"} matches any element
// whose value is "x").
func matchesAny(el any, values []any) bool {
	for _, v := range values {
		vm, ok1 := v.(map[string]any)
		em, ok2 := el.(map[string]any)
		if !ok1 || !ok2 {
			if deepEqual(el, v) {
				return true
			}
			continue
		}
		all := true
		for k, want := range vm {
			if !deepEqual(em[k], want) {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

// applyMembers folds a members operation into the group's MemberDelta:
// add path members (or path-less {"members": [...]}) adds; remove with
// members[value eq "id"] or with a value list removes those ids; remove of
// members with no value empties the group; replace sets the whole list.
func (p *patcher) applyMembers(op *PatchOp) error {
	path := op.Path
	if path.Attr.Sub != "" || path.Sub != "" {
		return badRequest(ScimInvalidPath, "path %q: member sub-attributes cannot be changed; add or remove the member", op.RawPath)
	}
	if path.Filter != nil {
		if op.Op != "remove" {
			return badRequest(ScimInvalidPath, "path %q: use add with path \"members\" to add members", op.RawPath)
		}
		ids, ok := memberEqIDs(path.Filter)
		if !ok {
			match, err := compileExpr(path.Filter, compiler{resolve: scoped(GroupSchema.Attr("members"))})
			if err != nil {
				e := err.(*Error)
				return badRequest(ScimInvalidPath, "path %q: %s", op.RawPath, e.Detail)
			}
			if p.members == nil {
				return badRequest(ScimInvalidPath, "path %q: unsupported member filter", op.RawPath)
			}
			cur, err := p.currentMembers()
			if err != nil {
				return err
			}
			for _, id := range cur {
				if match(map[string]any{"value": id, "type": "User"}) {
					ids = append(ids, id)
				}
			}
		}
		p.fold.removeIDs(ids)
		return nil
	}
	switch op.Op {
	case "add":
		ids, err := memberIDs(op.Value)
		if err != nil {
			return err
		}
		p.fold.addIDs(ids)
	case "replace":
		ids, err := memberIDs(op.Value)
		if err != nil {
			return err
		}
		p.fold.replaceIDs(ids)
	case "remove":
		if !op.HasValue || op.Value == nil {
			p.fold.replaceIDs(nil)
			return nil
		}
		ids, err := memberIDs(op.Value)
		if err != nil {
			return err
		}
		p.fold.removeIDs(ids)
	}
	return nil
}

// currentMembers returns the member set as it stands after the delta so far.
func (p *patcher) currentMembers() ([]string, error) {
	if p.fold.replace {
		return p.fold.members.list(), nil
	}
	base, err := p.members()
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(base)+p.fold.add.len())
	in := make(map[string]bool, len(base)+p.fold.add.len())
	for _, id := range base {
		if !p.fold.remove.has(id) && !in[id] {
			in[id] = true
			out = append(out, id)
		}
	}
	for _, id := range p.fold.add.list() {
		if !in[id] {
			in[id] = true
			out = append(out, id)
		}
	}
	return out, nil
}

func memberEqIDs(e filter.Expr) ([]string, bool) {
	switch x := e.(type) {
	case *filter.Compare:
		if x.Op == filter.Eq && x.Path.URN == "" && x.Path.Sub == "" && strings.EqualFold(x.Path.Name, "value") && x.Value.Kind == filter.KindString {
			if x.Value.Str == "" {
				return nil, true
			}
			return []string{x.Value.Str}, true
		}
	case *filter.Logical:
		if !x.And {
			l, ok1 := memberEqIDs(x.Left)
			r, ok2 := memberEqIDs(x.Right)
			if ok1 && ok2 {
				return append(l, r...), true
			}
		}
	}
	return nil, false
}
