package store

import (
	"context"
	"fmt"
	"sort"
)

// Verifier is implemented by backends that can check, and repair, the
// consistency of a tenant's stored state: what `axonflow-sync store verify`
// runs. Both store/redisstore and store/sqlitestore implement it. It is a
// separate interface (not part of State) so that wrappers and fakes of State
// need not implement it.
type Verifier interface {
	// Verify checks tenant's indexes, creation-order lists, member sets,
	// membership back-references and role assignments against its user and
	// group records, and returns what it found (ErrNotFound if the tenant
	// does not exist). With repair it also fixes what can be fixed from the
	// records, which are the truth: dangling index, list, member and
	// assignment entries are removed, missing ones are rebuilt. A
	// uniqueness clash (two records with the same folded userName, say) is
	// reported but never repaired: which record keeps the value is the
	// operator's call. Each repair re-checks its premise atomically, so
	// Verify with repair is safe while the server runs; a change made
	// concurrently may still be reported (run it again).
	Verify(ctx context.Context, tenant string, repair bool) (VerifyReport, error)
}

// Problem kinds a VerifyReport names. Index problems concern the userName,
// externalId (users and groups) and displayName indexes; the example text
// names which.
const (
	// ProblemIndexDangling: an index entry names a record that does not
	// exist. Repair removes the entry.
	ProblemIndexDangling = "index-dangling"
	// ProblemIndexMismatch: an index entry names a record whose value
	// differs (the record was renamed but the old entry stayed; in SQLite,
	// an index column that disagrees with the record's document). Repair
	// removes (SQLite: corrects) the entry.
	ProblemIndexMismatch = "index-mismatch"
	// ProblemUnindexed: a record's value has no index entry naming it.
	// Repair adds the entry.
	ProblemUnindexed = "record-unindexed"
	// ProblemIndexClash: two or more records of a tenant have the same
	// unique value (folded userName or displayName, exact externalId).
	// Never repaired: rename or delete one of the records, then repair.
	ProblemIndexClash = "index-clash"
	// ProblemIndexFields: (Redis) the index values a record carries for
	// its scripts (un, dn, ex) disagree with its document. Repair rewrites
	// them from the document.
	ProblemIndexFields = "record-index-fields"
	// ProblemFoldKey: (Redis) a by-name role mapping or a provisioning-log
	// name index list is filed under a key written before mapping.FoldKey's
	// current rule (an upgrade from strings.ToLower folding). Repair
	// re-files it under the current key (merging into an existing one).
	ProblemFoldKey = "fold-key"
	// ProblemListDangling: (Redis) a creation-order list entry names a
	// record that does not exist. Repair removes it.
	ProblemListDangling = "list-dangling"
	// ProblemUnlisted: (Redis) a record is missing from its creation-order
	// list, so paging skips it. Repair appends it (it then lists last).
	ProblemUnlisted = "record-unlisted"
	// ProblemMemberDangling: a group's member set names a user that does
	// not exist. Repair removes the member.
	ProblemMemberDangling = "member-dangling"
	// ProblemMembersOrphan: a member set (SQLite: membership rows) of a
	// group that does not exist. Repair removes it.
	ProblemMembersOrphan = "members-orphan"
	// ProblemBackrefMissing: (Redis) a user is a member of a group but the
	// user's group list (memberof) lacks the group. Repair adds it.
	ProblemBackrefMissing = "backref-missing"
	// ProblemBackrefExtra: (Redis) a user's group list names a group the
	// user is not a member of (or that does not exist). Repair removes it.
	ProblemBackrefExtra = "backref-extra"
	// ProblemBackrefOrphan: (Redis) a group list of a user that does not
	// exist. Repair removes it.
	ProblemBackrefOrphan = "backref-orphan"
	// ProblemRoleDangling: role assignments of a user that does not exist.
	// Repair removes them.
	ProblemRoleDangling = "role-dangling"
	// ProblemRoleMalformed: a stored role assignment that cannot be read.
	// Repair removes it.
	ProblemRoleMalformed = "role-malformed"
	// ProblemTenantRegistry: (Redis) the tenant's record and its entry in
	// the global tenant registry (what ListTenants reads) disagree: one is
	// missing. Repair recreates it from the other.
	ProblemTenantRegistry = "tenant-registry"
	// ProblemRecordCorrupt: a user or group record that cannot be decoded.
	// Never repaired (restore it from a backup or delete it); its index
	// entries are left alone.
	ProblemRecordCorrupt = "record-corrupt"
)

// MaxExamples is how many examples a ProblemSummary keeps.
const MaxExamples = 5

// VerifyReport is what Verify found in one tenant (and, with repair, fixed).
type VerifyReport struct {
	// Tenant is the tenant verified.
	Tenant string `json:"tenant"`
	// Users, Groups and Memberships count the records (and member
	// entries) examined.
	Users       int `json:"users"`
	Groups      int `json:"groups"`
	Memberships int `json:"memberships"`
	// Repair says whether repairs were attempted.
	Repair bool `json:"repair"`
	// Problems lists the problems found, one entry per kind, by kind.
	Problems []ProblemSummary `json:"problems"`
}

// ProblemSummary counts the problems of one kind.
type ProblemSummary struct {
	// Kind is one of the Problem* constants.
	Kind string `json:"kind"`
	// Count is how many were found; Repaired how many of them were fixed.
	Count    int `json:"count"`
	Repaired int `json:"repaired"`
	// Examples describe up to MaxExamples of them.
	Examples []string `json:"examples"`
}

// Found returns the number of problems found.
func (r *VerifyReport) Found() int {
	n := 0
	for _, p := range r.Problems {
		n += p.Count
	}
	return n
}

// Remaining returns the number of problems found and not repaired.
func (r *VerifyReport) Remaining() int {
	n := 0
	for _, p := range r.Problems {
		n += p.Count - p.Repaired
	}
	return n
}

// Problem records one problem of kind, described by the format.
func (r *VerifyReport) Problem(kind, format string, a ...any) {
	p := r.summary(kind)
	p.Count++
	if len(p.Examples) < MaxExamples {
		p.Examples = append(p.Examples, fmt.Sprintf(format, a...))
	}
}

// Repaired records that n problems of kind were fixed.
func (r *VerifyReport) Repaired(kind string, n int) {
	if n > 0 {
		r.summary(kind).Repaired += n
	}
}

// summary returns the entry of kind, adding it in kind order.
func (r *VerifyReport) summary(kind string) *ProblemSummary {
	i := sort.Search(len(r.Problems), func(i int) bool { return r.Problems[i].Kind >= kind })
	if i == len(r.Problems) || r.Problems[i].Kind != kind {
		r.Problems = append(r.Problems, ProblemSummary{})
		copy(r.Problems[i+1:], r.Problems[i:])
		r.Problems[i] = ProblemSummary{Kind: kind, Examples: []string{}}
	}
	return &r.Problems[i]
}

// Get returns the summary of kind (zero if none was found).
func (r *VerifyReport) Get(kind string) ProblemSummary {
	for _, p := range r.Problems {
		if p.Kind == kind {
			return p
		}
	}
	return ProblemSummary{Kind: kind}
}
