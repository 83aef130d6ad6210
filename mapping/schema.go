package mapping

import "strings"

// AttrType is a SCIM attribute data type (RFC 7643 §2.3).
type AttrType string

// SCIM data types (RFC 7643 §2.3).
const (
	TypeString    AttrType = "string"
	TypeBoolean   AttrType = "boolean"
	TypeDecimal   AttrType = "decimal"
	TypeInteger   AttrType = "integer"
	TypeDateTime  AttrType = "dateTime"
	TypeReference AttrType = "reference"
	TypeComplex   AttrType = "complex"
	TypeBinary    AttrType = "binary"
)

// Mutability and returned characteristics (RFC 7643 §7).
const (
	ReadOnly  = "readOnly"
	ReadWrite = "readWrite"
	Immutable = "immutable"
	WriteOnly = "writeOnly"

	ReturnedAlways  = "always"
	ReturnedNever   = "never"
	ReturnedDefault = "default"
	ReturnedRequest = "request"
)

// Attribute is one attribute definition, shaped exactly as RFC 7643 §7
// publishes it at /Schemas.
type Attribute struct {
	Name            string       `json:"name"`
	Type            AttrType     `json:"type"`
	MultiValued     bool         `json:"multiValued"`
	Description     string       `json:"description,omitempty"`
	Required        bool         `json:"required"`
	CaseExact       bool         `json:"caseExact"`
	Mutability      string       `json:"mutability"`
	Returned        string       `json:"returned"`
	Uniqueness      string       `json:"uniqueness"`
	CanonicalValues []string     `json:"canonicalValues,omitempty"`
	ReferenceTypes  []string     `json:"referenceTypes,omitempty"`
	SubAttributes   []*Attribute `json:"subAttributes,omitempty"`
}

// Sub returns the sub-attribute named name (case-insensitive), or nil.
func (a *Attribute) Sub(name string) *Attribute {
	for _, s := range a.SubAttributes {
		if strings.EqualFold(s.Name, name) {
			return s
		}
	}
	return nil
}

// Schema is a SCIM schema definition (RFC 7643 §7).
type Schema struct {
	ID          string       `json:"id"`
	Name        string       `json:"name"`
	Description string       `json:"description"`
	Attributes  []*Attribute `json:"attributes"`
}

// Attr returns the top-level attribute named name (case-insensitive), or nil.
func (s *Schema) Attr(name string) *Attribute {
	for _, a := range s.Attributes {
		if strings.EqualFold(a.Name, name) {
			return a
		}
	}
	return nil
}

// ResourceType describes one SCIM resource type (RFC 7643 §6): its core
// schema and extensions.
type ResourceType struct {
	Name       string
	Endpoint   string
	Schema     *Schema
	Extensions []*Schema
}

// Extension returns the extension schema whose URN equals urn
// (case-insensitive), or nil.
func (rt *ResourceType) Extension(urn string) *Schema {
	for _, e := range rt.Extensions {
		if strings.EqualFold(e.ID, urn) {
			return e
		}
	}
	return nil
}

// Limits on client-supplied values. Lengths count characters (runes), not
// bytes. Exceeding one is a 400 invalidValue naming the attribute.
const (
	MaxStringChars = 2048  // any string attribute
	MaxBinaryChars = 65536 // binary attributes (e.g. x509Certificates.value)
	MaxMultiValues = 100   // elements of a multi-valued attribute other than members
)

func str_(name, desc string, caseExact bool) *Attribute {
	return &Attribute{Name: name, Type: TypeString, Description: desc, CaseExact: caseExact,
		Mutability: ReadWrite, Returned: ReturnedDefault, Uniqueness: "none"}
}

func multi(name, desc string, subs ...*Attribute) *Attribute {
	return &Attribute{Name: name, Type: TypeComplex, MultiValued: true, Description: desc,
		Mutability: ReadWrite, Returned: ReturnedDefault, Uniqueness: "none", SubAttributes: subs}
}

func boolAttr(name, desc string) *Attribute {
	return &Attribute{Name: name, Type: TypeBoolean, Description: desc,
		Mutability: ReadWrite, Returned: ReturnedDefault, Uniqueness: "none"}
}

func ref(name, desc string, types ...string) *Attribute {
	return &Attribute{Name: name, Type: TypeReference, Description: desc, CaseExact: true,
		Mutability: ReadWrite, Returned: ReturnedDefault, Uniqueness: "none", ReferenceTypes: types}
}

func readOnly(a *Attribute) *Attribute {
	a.Mutability = ReadOnly
	for _, s := range a.SubAttributes {
		readOnly(s)
	}
	return a
}

func canon(a *Attribute, values ...string) *Attribute { a.CanonicalValues = values; return a }

// stdMulti is the value/display/type/primary shape shared by emails,
// phoneNumbers, ims, photos, entitlements and x509Certificates.
func stdMulti(name, desc string, valueType AttrType, types ...string) *Attribute {
	v := str_("value", "The value.", false)
	v.Type = valueType
	if valueType == TypeReference {
		v.CaseExact = true
		v.ReferenceTypes = []string{"external"}
	}
	return multi(name, desc, v,
		str_("display", "A human-readable name, primarily used for display purposes.", false),
		canon(str_("type", "A label indicating the attribute's function.", false), types...),
		boolAttr("primary", "Indicates the primary or preferred value; at most one is true."),
	)
}

// UserSchema is the core User schema (RFC 7643 §4.1, §8.7.1). roles and
// groups are readOnly here: groups are managed through Group resources and
// roles are derived by AxonFlow from group mappings.
var UserSchema = &Schema{
	ID:          SchemaUser,
	Name:        "User",
	Description: "User Account",
	Attributes: []*Attribute{
		func() *Attribute {
			a := str_("userName", "Unique identifier for the User, typically the Okta login. Case-insensitive.", false)
			a.Required, a.Uniqueness = true, "server"
			return a
		}(),
		{Name: "name", Type: TypeComplex, Description: "The components of the user's real name.",
			Mutability: ReadWrite, Returned: ReturnedDefault, Uniqueness: "none",
			SubAttributes: []*Attribute{
				str_("formatted", "The full name.", false),
				str_("familyName", "The family name (Okta lastName).", false),
				str_("givenName", "The given name (Okta firstName).", false),
				str_("middleName", "The middle name(s).", false),
				str_("honorificPrefix", "The honorific prefix(es).", false),
				str_("honorificSuffix", "The honorific suffix(es).", false),
			}},
		str_("displayName", "The name of the User, suitable for display.", false),
		str_("nickName", "The casual way to address the user.", false),
		ref("profileUrl", "A URI pointing to the user's online profile.", "external"),
		str_("title", "The user's title.", false),
		str_("userType", "The relationship between the organization and the user.", false),
		str_("preferredLanguage", "The preferred written or spoken language (RFC 7231 Accept-Language).", false),
		str_("locale", "Default location for localization, e.g. en-US.", false),
		str_("timezone", "Time zone in IANA format, e.g. America/Los_Angeles.", false),
		boolAttr("active", "The user's administrative status; false means deactivated."),
		{Name: "password", Type: TypeString, Description: "Accepted and discarded: never stored or returned.",
			Mutability: WriteOnly, Returned: ReturnedNever, Uniqueness: "none"},
		stdMulti("emails", "Email addresses; the work email maps to Okta user.email.", TypeString, "work", "home", "other"),
		stdMulti("phoneNumbers", "Phone numbers.", TypeString, "work", "home", "mobile", "fax", "pager", "other"),
		stdMulti("ims", "Instant messaging addresses.", TypeString, "aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"),
		stdMulti("photos", "URLs of photos of the user.", TypeReference, "photo", "thumbnail"),
		multi("addresses", "Physical mailing addresses.",
			str_("formatted", "The full mailing address.", false),
			str_("streetAddress", "The full street address.", false),
			str_("locality", "The city or locality.", false),
			str_("region", "The state or region.", false),
			str_("postalCode", "The zip code or postal code.", false),
			str_("country", "The country name (ISO 3166-1 alpha-2).", false),
			canon(str_("type", "A label indicating the address's function.", false), "work", "home", "other"),
			boolAttr("primary", "Indicates the primary address."),
		),
		readOnly(multi("groups", "Groups the user belongs to, managed through Group resources.",
			str_("value", "The group's id.", false),
			ref("$ref", "The URI of the Group resource.", "Group"),
			str_("display", "The group's displayName.", false),
			canon(str_("type", "direct or indirect.", false), "direct", "indirect"),
		)),
		stdMulti("entitlements", "Entitlements of the user.", TypeString),
		readOnly(multi("roles", "AxonFlow roles derived from the user's mapped groups.",
			str_("value", "The role name.", false),
			str_("display", "A human-readable name.", false),
			str_("type", "The role's source: scim, manual or api.", false),
			boolAttr("primary", "Unused."),
		)),
		stdMulti("x509Certificates", "DER-encoded X.509 certificates.", TypeBinary),
	},
}

// EnterpriseUserSchema is the enterprise User extension (RFC 7643 §4.3).
var EnterpriseUserSchema = &Schema{
	ID:          SchemaEnterpriseUser,
	Name:        "EnterpriseUser",
	Description: "Enterprise User",
	Attributes: []*Attribute{
		str_("employeeNumber", "Numeric or alphanumeric identifier assigned to a person.", false),
		str_("costCenter", "Identifies the name of a cost center.", false),
		str_("organization", "Identifies the name of an organization.", false),
		str_("division", "Identifies the name of a division.", false),
		str_("department", "Identifies the name of a department.", false),
		{Name: "manager", Type: TypeComplex, Description: "The user's manager.",
			Mutability: ReadWrite, Returned: ReturnedDefault, Uniqueness: "none",
			SubAttributes: []*Attribute{
				str_("value", "The id of the manager's User resource.", false),
				ref("$ref", "The URI of the manager's User resource.", "User"),
				readOnly(str_("displayName", "The manager's displayName.", false)),
			}},
	},
}

// GroupSchema is the core Group schema (RFC 7643 §4.2). Only User members
// are supported (no nested groups).
var GroupSchema = &Schema{
	ID:          SchemaGroup,
	Name:        "Group",
	Description: "Group",
	Attributes: []*Attribute{
		func() *Attribute {
			a := str_("displayName", "A human-readable name for the Group. Unique per tenant, case-insensitive.", false)
			a.Required, a.Uniqueness = true, "server"
			return a
		}(),
		{Name: "members", Type: TypeComplex, MultiValued: true, Description: "The group's members (Users only).",
			Mutability: ReadWrite, Returned: ReturnedDefault, Uniqueness: "none",
			SubAttributes: []*Attribute{
				func() *Attribute {
					a := str_("value", "The member User's id.", false)
					a.Mutability = Immutable
					return a
				}(),
				func() *Attribute {
					a := ref("$ref", "The URI of the member resource.", "User")
					a.Mutability = Immutable
					return a
				}(),
				readOnly(str_("display", "The member's userName.", false)),
				canon(func() *Attribute {
					a := str_("type", "The member type: User.", false)
					a.Mutability = Immutable
					return a
				}(), "User"),
			}},
	},
}

// Common attributes present on every resource (RFC 7643 §3.1).
var (
	idAttr = &Attribute{Name: "id", Type: TypeString, CaseExact: true, Mutability: ReadOnly,
		Returned: ReturnedAlways, Uniqueness: "server"}
	externalIDAttr = &Attribute{Name: "externalId", Type: TypeString, CaseExact: true,
		Mutability: ReadWrite, Returned: ReturnedDefault, Uniqueness: "none"}
	metaAttr = readOnly(&Attribute{Name: "meta", Type: TypeComplex, Mutability: ReadOnly,
		Returned: ReturnedDefault, Uniqueness: "none", SubAttributes: []*Attribute{
			{Name: "resourceType", Type: TypeString, CaseExact: true, Returned: ReturnedDefault, Uniqueness: "none"},
			{Name: "created", Type: TypeDateTime, Returned: ReturnedDefault, Uniqueness: "none"},
			{Name: "lastModified", Type: TypeDateTime, Returned: ReturnedDefault, Uniqueness: "none"},
			{Name: "location", Type: TypeReference, CaseExact: true, Returned: ReturnedDefault, Uniqueness: "none"},
			{Name: "version", Type: TypeString, CaseExact: true, Returned: ReturnedDefault, Uniqueness: "none"},
		}})
)

// UserType and GroupType are the two resource types served (RFC 7643 §6).
var (
	UserType  = &ResourceType{Name: "User", Endpoint: "/Users", Schema: UserSchema, Extensions: []*Schema{EnterpriseUserSchema}}
	GroupType = &ResourceType{Name: "Group", Endpoint: "/Groups", Schema: GroupSchema}
)

// lookup resolves a top-level attribute of rt by optional schema URN and
// name: common attributes (id, externalId, meta), the core schema, or an
// extension. It returns the attribute and the extension schema it belongs
// to (nil for core/common). ok is false when the name is unknown.
func (rt *ResourceType) lookup(urn, name string) (a *Attribute, ext *Schema, ok bool) {
	if urn != "" && !strings.EqualFold(urn, rt.Schema.ID) {
		ext = rt.Extension(urn)
		if ext == nil {
			return nil, nil, false
		}
		a = ext.Attr(name)
		return a, ext, a != nil
	}
	switch {
	case strings.EqualFold(name, "id"):
		return idAttr, nil, true
	case strings.EqualFold(name, "externalId"):
		return externalIDAttr, nil, true
	case strings.EqualFold(name, "meta"):
		return metaAttr, nil, true
	}
	a = rt.Schema.Attr(name)
	return a, nil, a != nil
}
