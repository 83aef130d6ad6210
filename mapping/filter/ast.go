// Package filter parses SCIM filter expressions (RFC 7644 §3.4.2.2) and
// PATCH operation paths (RFC 7644 §3.5.2) into a small typed tree.
//
// It is pure and dependency-free: it knows nothing about schemas or stored
// resources. Evaluation against a resource lives in package mapping, which
// knows each attribute's type and caseExact flag. Any package may import it.
package filter

// AttrPath is an attribute reference: [URN ":"] name ["." sub].
// Names keep the case they were written in; callers compare them
// case-insensitively (RFC 7643 §2.1).
type AttrPath struct {
	// URN is the schema URN prefix ("" when absent), e.g.
	// "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User".
	URN string
	// Name is the attribute name, e.g. "emails".
	Name string
	// Sub is the sub-attribute name ("" when absent), e.g. "value".
	Sub string
}

// Op is a comparison operator (RFC 7644 Table 3).
type Op uint8

// Comparison operators. Pr (present) takes no value.
const (
	Eq Op = iota + 1 // "eq": equal
	Ne               // "ne": not equal
	Co               // "co": contains
	Sw               // "sw": starts with
	Ew               // "ew": ends with
	Pr               // "pr": present (has a non-empty value)
	Gt               // "gt": greater than
	Ge               // "ge": greater than or equal to
	Lt               // "lt": less than
	Le               // "le": less than or equal to
)

// ValueKind says which JSON type a comparison value has.
type ValueKind uint8

// Kinds of comparison value (RFC 7644 §3.4.2.2 compValue).
const (
	KindString ValueKind = iota + 1 // JSON string; Value.Str is decoded
	KindNumber                      // JSON number; Value.Str is its literal text
	KindBool                        // true or false; in Value.Bool
	KindNull                        // null
)

// Value is a comparison value. Str holds the decoded string for
// KindString, and the literal text for KindNumber (e.g. "42", "-1.5e3").
type Value struct {
	Kind ValueKind
	Str  string
	Bool bool
}

// Expr is a node of a filter tree: *Compare, *Logical, *Not or *ValuePath.
type Expr interface{ isExpr() }

// Compare is `attrPath op value` or `attrPath pr`.
type Compare struct {
	Path  AttrPath
	Op    Op
	Value Value // zero for Pr
}

// Logical is `left and right` (And true) or `left or right` (And false).
type Logical struct {
	And         bool
	Left, Right Expr
}

// Not is `not (x)`.
type Not struct{ X Expr }

// ValuePath is `attrPath[valFilter]` inside a filter, e.g.
// emails[type eq "work" and value co "@example.com"]. Paths inside Filter
// are relative to the elements of the multi-valued attribute Path
// (their Name is the sub-attribute, e.g. "type").
type ValuePath struct {
	Path   AttrPath // Sub is always ""
	Filter Expr
}

func (*Compare) isExpr()   {}
func (*Logical) isExpr()   {}
func (*Not) isExpr()       {}
func (*ValuePath) isExpr() {}

// Path is a PATCH operation path (RFC 7644 §3.5.2):
// attrPath, or valuePath with an optional trailing ".subAttr", e.g.
// `members[value eq "2819c223"]`, `emails[type eq "work"].value`,
// `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value`.
type Path struct {
	Attr   AttrPath // with Filter set, Attr.Sub is "" and the sub-attribute is in Sub
	Filter Expr     // nil unless the path has a value filter
	Sub    string   // sub-attribute after "]" ("" when absent)
}
