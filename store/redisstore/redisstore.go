// Package redisstore implements store.State on Redis (github.com/redis/go-redis/v9),
// for deployments that run several axonflow-sync replicas against one shared
// state. cmd wires it in; scimserver and sync use it only through store.State.
// It imports store, mapping and go-redis, nothing else of this module.
//
// # Key layout
//
// Every key starts with Options.KeyPrefix (default none). All keys of one
// tenant carry the Redis Cluster hash tag {tenant}, so they live in one hash
// slot and every multi-key change is one Lua script (EVALSHA) that Redis runs
// atomically, on a single server or on a Cluster alike. T is the tenant id
// with '%', '{' and '}' percent-escaped (and "" written as "%"), so no tenant
// id can break the hash tag or make two tenants share a key.
//
//	tenants                       HASH tenant id → created        (registry for ListTenants; global)
//	t:{T}:tenant                  HASH created                     (the tenant itself; scripts check it)
//	t:{T}:seq                     STRING counter                   (creation sequence of users and groups)
//	t:{T}:user:<id>               HASH doc origin created lm v un ex
//	t:{T}:users                   ZSET id → seq                    (stable paging; Total = ZCARD)
//	t:{T}:idx:userName            HASH FoldKey(userName) → id
//	t:{T}:idx:externalId:user     HASH externalId → id
//	t:{T}:group:<id>              HASH doc origin created lm v okta dn ex
//	t:{T}:groups                  ZSET id → seq
//	t:{T}:idx:displayName         HASH FoldKey(displayName) → id
//	t:{T}:idx:externalId:group    HASH externalId → id
//	t:{T}:members:<gid>           SET user ids                     (changed by SADD/SREM deltas)
//	t:{T}:memberof:<uid>          SET group ids                    (back-reference of members)
//	t:{T}:tokens                  HASH token id → secret hash      (ListTokens, id → hash)
//	t:{T}:lease:<name>            STRING owner token, PX ttl       (AcquireLease: SET NX PX; renew/release: compare in Lua)
//	t:{T}:runs                    ZSET run id → startedAt µs       (reconcile runs, newest = highest score)
//	t:{T}:runs:data               HASH run id → "startedAt report-JSON"
//	t:{T}:roles:mappings          HASH mapping.RoleMappingKey → JSON {group, byName, role, source}
//	t:{T}:roles:user:<uid>        SET "source:role"                (manual/api assignments; DeleteUser drops it)
//	t:{T}:roles:default           STRING role ("" = none)          (absent: never set)
//	t:{T}:log                     STREAM field e → LogEntry JSON   (provisioning log; see below)
//	t:{T}:log:name:<n>            LIST stream ids, newest first    (the log's name index; n = FoldKey(name))
//	t:{T}:log:rej                 STREAM field e → LogEntry JSON   (the log's rejected entries, a budget of their own)
//	t:{T}:log:rej:name:<n>        LIST stream ids, newest first    (t:{T}:log:rej's name index)
//	tokens:<sha256hex>            HASH tenant id name prefix created exp used revoked   (global)
//	tokens:invalidate             pub/sub channel: hashes of changed tokens, "*" = all   (token cache)
//	console:ended:<id>            STRING "1", expiring when the session would have   (global; store.Sessions)
//
// Record fields: doc is the JSON of mapping.Attrs (decoded with UseNumber, so
// numbers come back as json.Number); created and lm (lastModified) are UTC
// RFC 3339 with nanoseconds; v is the version; un, dn (folded) and ex are the
// index values the record is filed under, so scripts re-index without
// decoding JSON. Empty userName/displayName/externalId values are not indexed.
//
// Every key a script touches is passed in KEYS (computed in Go), so the scripts
// also run on Redis Cluster, which routes EVALSHA by its keys and rejects keys of
// other slots. Where the keys depend on data (the groups of a user being
// deleted, the members of a group being deleted or replaced), the store reads
// the set first and the script verifies that it was given every key it needs;
// if another writer changed the set in between, the script changes nothing
// and the store retries (optimistic, bounded). The exceptions are the
// read-only scripts of UserContext and LookupUserContext, which build the
// keys of the users they read (for LookupUserContext, the one it finds in
// the index) and of those users' groups from the tenant's key base: they
// carry the same hash tag, so they are in the slot of their KEYS.
//
// Token records are global because the tenant is unknown until the token is
// resolved; a token lives in two slots (tokens:<hash> and t:{T}:tokens), so
// CreateToken writes the tenant's index first and the record second. A crash
// in between leaves an id in t:{T}:tokens without a record, which
// authenticates nothing and which ListTokens skips.
//
// # Round trips
//
// One round trip is one network exchange (a command, a pipeline or an
// EVALSHA; the very first EVALSHA of a script on a server adds one EVAL).
//
//	TokenByHash                                                            0 (cached, see Token cache), else 1
//	Ping, GetUser, GetGroup, FindUser, FindGroup, ListTenants              1
//	GetUsers, GetGroups, UserGroups, GroupMembers                          1 (pipelined)
//	UserContext                                                            1 script (users, memberships, their groups, roles)
//	LookupUserContext                                                      1 script (index + user context)
//	CreateUser, UpdateUser, CreateGroup, UpdateGroup (deltas)              1 script (with its log entry, if any)
//	EnsureTenant                                                           1 (2 the first time a lost registry entry is repaired)
//	UpdateGroup with ReplaceMembers, DeleteUser, DeleteGroup               2 (SMEMBERS + script; +2 per retry)
//	ListUsers, ListGroups, ListTokens                                      2
//	CreateToken, RevokeToken, SetTokenExpiry, TouchToken                   2 (RevokeToken, SetTokenExpiry: 3 on a Cluster)
//	InvalidateTokens                                                       1 (PUBLISH)
//	AcquireLease, RenewLease, ReleaseLease, SaveRun, GetRun                1 (SaveRun: 1 script, trims too)
//	ListRuns                                                               2
//	PutRoleMapping, DeleteRoleMapping, ListRoleMappings, AssignRole        1 (AssignRole: 1 script)
//	UnassignRole, SetDefaultRole, DefaultRole                              1
//	UserRoles                                                              1 (pipelined)
//	AppendLog                                                              1 script (adds, trims, indexes)
//	QueryLog with Name                                                     2 (LRANGE + pipelined XRANGE)
//	QueryLog without Name                                                  1 per 500 entries scanned (XREVRANGE)
//
// A SCIM request thus costs, once its token is cached: GET /Users/{id} one
// round trip (UserContext), a userName or externalId lookup one
// (LookupUserContext), whether or not the user is in groups (the groups'
// names and creation times are read by the same script); a page of
// GET /Users three (ListUsers, then one UserContext for the page). The
// UserContext script runs 2-3 commands per user plus one per distinct
// group of theirs, and like any script it holds Redis while it runs: a
// handful of commands for one user, about 1,000 plus one per distinct
// group for a filter scan's page of 500 users.
//
// A user or group write made with a provisioning log entry (through
// store.Logged, as cmd wires every store) appends it in its own script: no
// round trip more. Per SCIM write request, besides the token's (TokenByHash,
// and TouchToken at most once a minute per token), with the store wired
// so (counted by internal/provlog's TestWriteRoundTrips):
//
//	POST /Users                                2   (create script, UserContext for the roles)
//	PUT, PATCH /Users/{id}                     3   (HMGET, update script, UserContext; +1 GetGroups if the user is in groups)
//	POST /Groups                               1   (create script)
//	PATCH /Groups/{id} adding/removing members 3   (HMGET, which of them are members, script; +1 with the group in the answer)
//	DELETE /Users/{id}, /Groups/{id}           3   (the name, for the entry; SMEMBERS + script)
//
// # Token cache
//
// TokenByHash answers from a per-process cache of token records (found
// tokens only: an unknown hash is never cached, so a flood of made-up
// tokens costs a Redis read each, which the SCIM server's authentication
// throttle bounds, and no memory). Redis pub/sub keeps it right: every
// change of a token's validity (RevokeToken, SetTokenExpiry, so rotation
// too) publishes the token's hash on <KeyPrefix>tokens:invalidate from
// inside the script that makes the change, and every Store that serves
// TokenByHash subscribes to that channel in a goroutine started by its
// first TokenByHash call and stopped by Close. The message "*" empties
// every cache (InvalidateTokens; there is no tenant deletion today, and
// one would send it). Changes made through a Store are seen by that Store
// at once.
//
// The cache is trusted only while the subscription is known to be live:
// the subscriber pings Redis on the subscription every 250 ms, and the
// pong of a ping sent at time t proves that every invalidation published
// before t has arrived (Redis answers a connection in order), so the cache
// is trusted until t + 1 s. Before the subscription is confirmed, once a
// ping goes unanswered for a second, after any error on the subscription
// and after every (re)subscription (messages may have been lost in
// between: the cache is emptied then), TokenByHash reads Redis on every
// call. A read that began before an invalidation or a reset is not cached
// (an epoch counter), so a lost race cannot store a stale record. A change
// is therefore honoured by every replica within a second, however the
// subscription fails. Each entry is also dropped after 10 s (a bound for
// what no message can fix: a record changed outside this package), and the
// cache holds at most 10,000 entries. TouchToken publishes nothing (another
// replica may show a LastUsedAt up to 10 s old).
//
// On a Cluster, PUBLISH reaches every node over the cluster bus and the
// subscription lives on the master of the channel's slot; so that the ping
// argument holds there too, RevokeToken and SetTokenExpiry also publish on
// that node after the script. With Sentinel the subscription follows the
// master like every connection (after a failover that leaves the old
// master up as a replica, invalidations reach it by replication). The
// Redis user needs access to the channel (ACL &tokens:invalidate with the
// KeyPrefix, or &*; Redis 7 gives new users none): without it SUBSCRIBE
// is refused, so the cache is never trusted and every TokenByHash reads
// Redis (the subscriber retries once a second), and RevokeToken and
// SetTokenExpiry fail (code internal, naming the permission) without
// changing anything, because replicas whose users may subscribe would not
// hear of the change and would go on answering from their caches. Options
// NoTokenCache turns the cache off.
//
// # Provisioning log
//
// Each tenant's log is one stream, t:{T}:log, inside the tenant's hash tag.
// An entry's stream id is <entry time in ms>-<seq> (the entry's own time, or
// the stream's last id when that time is older, so ids only grow and the id
// of an entry is never before its time; Redis < 7 falls back to a
// server-generated id). AppendLog is one script: XADD with MAXLEN ~
// MaxEntries (Redis trims whole stream nodes, so up to one node,
// stream-node-max-entries = 100 by default, more may remain), then an exact
// XTRIM MINID of now - MaxAge, then PEXPIRE MaxAge (a tenant that logs
// nothing for MaxAge loses the whole stream). QueryLog reads newest first
// with XREVRANGE from + down to the id of max(Since, now - MaxAge), filtering
// in Go; a Name query instead reads t:{T}:log:name:<FoldKey(name)>, a LIST
// of the newest 1,000 stream ids of entries with that name (LPUSH + LTRIM +
// PEXPIRE MaxAge in the same script), and skips ids trimmed from the stream
// since. Rejected entries (Status >= 400) go to a stream of their own,
// t:{T}:log:rej (name index t:{T}:log:rej:name:<n>), appended and trimmed
// the same way with MAXLEN ~ MaxRejections, so rejections never evict a
// change; QueryLog reads both and merges them by time (store.MergeLogs).
// Entries are JSON (store.LogEntry) with no secret in them. The
// user and group write scripts append their change's entry the same way
// (loggedScript, sharing scriptAppendLog's Lua), in the same script as the
// change; they first check that the log keys are a stream and a list (or
// absent), so a failing append cannot leave a change without its entry.
//
// # Errors and timeouts
//
// Every method runs under a deadline of Options.Timeout (on top of the
// caller's context). Connection failures, timeouts, a closed client and
// transient server states (LOADING, READONLY, CLUSTERDOWN, TRYAGAIN,
// MASTERDOWN, BUSY, OOM, ...) are returned wrapping store.ErrUnavailable
// (errors.Is works, and the cause stays in the chain); a missing record is
// store.ErrNotFound. While Redis refuses connections a call fails in about
// 0.1 s (NewClient's short retry backoff), and the first call after Redis is
// back reconnects (NewClient's dialer keeps go-redis's pool from pausing
// dialling for a second after repeated failures). go-redis retries some
// failed commands; a write whose reply was lost may thus run twice: creates
// recognise their own replay and succeed,
// membership deltas are idempotent, and an UpdateUser replay bumps the version
// once more (or reports ErrVersionMismatch when a version was expected).
package redisstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/store"
)

// DefaultTimeout is the deadline of one store call when Options.Timeout is 0.
const DefaultTimeout = 2 * time.Second

// maxRetries bounds the optimistic retries of DeleteUser, DeleteGroup and
// UpdateGroup with ReplaceMembers when a concurrent writer changes the set
// they read.
const maxRetries = 16

// Options configures a Store. The zero value is usable.
type Options struct {
	// Timeout is the deadline of every store call (all its round trips
	// together); 0 means DefaultTimeout (2 s). Open also uses it as the
	// dial timeout.
	Timeout time.Duration
	// KeyPrefix is prepended to every key (default none), e.g. "axf:" to
	// share one Redis database with other applications. It must not contain
	// '{' or '}' (that would move the Cluster hash tag).
	KeyPrefix string
	// LogRetention bounds each tenant's provisioning log (zero fields:
	// store.DefaultLogMaxEntries, store.DefaultLogMaxAge).
	LogRetention store.LogRetention
	// NoTokenCache makes TokenByHash read Redis on every call instead of
	// answering from the token cache kept by pub/sub (see TokenByHash).
	NoTokenCache bool
	// Warn, if set, is told (once per distinct cause, from the token
	// cache's subscriber goroutine) why the token cache cannot be trusted
	// for good: the Redis user may not SUBSCRIBE to the channel (ACL
	// NOPERM), so every TokenByHash reads Redis. cmd wires it to the log.
	Warn func(err error)
}

// Store is a store.State on Redis. It is safe for concurrent use by many
// goroutines and by many processes sharing one Redis.
type Store struct {
	c       redis.UniversalClient
	timeout time.Duration
	prefix  string
	logRet  atomic.Pointer[store.LogRetention]
	tc      *tokenCache // nil with Options.NoTokenCache
	sub     tokenSub
	warn    func(error)
	warned  string // last cause given to warn (subscriber goroutine only)

	ctxMu   sync.RWMutex
	ctxKeys map[string]*userCtxKeys // tenant → its user-context script keys

	// noRO is set once the server refused EVALSHA_RO: "unknown command"
	// (Redis before 7.0, or a proxy that lacks it) or NOPERM (an ACL user
	// without it); read-only scripts then go as EVALSHA.
	noRO atomic.Bool
}

// userCtxKeys are what every user-context script call of one tenant
// sends besides the ids (see userCtx): its KEYS (roles:mappings,
// roles:default; for a lookup, the index hash first) and its key base as
// an argument. The slices are never modified (go-redis copies them into
// the command). The heads are the same as the beginning of the EVALSHA
// commands (evalHead), boxed once: userContext's with the key base, the
// lookups' without.
type userCtxKeys struct {
	keys []string
	base any

	userContext, lookupUserName, lookupExternalID []any
}

// evalHead is the beginning of an EVALSHA command of sc on keys, its
// arguments boxed once: "evalsha", the script's SHA1, the number of keys,
// the keys, then extra (arguments that never change).
func evalHead(sc *redis.Script, keys []string, extra ...any) []any {
	return scriptHead(cmdEvalSHA, sc, keys, extra)
}

// evalHeadRO is evalHead for a script that only reads: EVALSHA_RO (Redis
// 7.0), which Redis runs while writes are paused (CLIENT PAUSE WRITE, as a
// failover or a Cluster's manual failover pauses them) and refuses if the
// script writes. runScript sends it as EVALSHA to a Redis before 7.0.
func evalHeadRO(sc *redis.Script, keys []string, extra ...any) []any {
	return scriptHead(cmdEvalSHARO, sc, keys, extra)
}

// The script commands runScript sends.
const (
	cmdEvalSHA   = "evalsha"
	cmdEvalSHARO = "evalsha_ro"
)

func scriptHead(name string, sc *redis.Script, keys []string, extra []any) []any {
	h := make([]any, 0, 3+len(keys)+len(extra))
	h = append(h, name, sc.Hash(), len(keys))
	for _, k := range keys {
		h = append(h, k)
	}
	return append(h, extra...)
}

// runScript runs cmd, an EVALSHA command of sc that begins with an
// evalHead of nkeys keys, as sc.Run would run the same keys and
// arguments, without copying and boxing them again: one command, and on
// NOSCRIPT (a Redis that lost its script cache) the script's EVAL.
//
// A read-only script's command (evalHeadRO) goes as EVALSHA_RO, its EVAL
// as EVAL_RO; to a Redis that refuses EVALSHA_RO (before 7.0 or behind a
// proxy without it: "ERR unknown command"; an ACL user without it:
// NOPERM) as EVALSHA and EVAL, from the first such answer on (warned
// once: reads then wait while writes are paused).
func (s *Store) runScript(ctx context.Context, sc *redis.Script, cmd []any, nkeys int) *redis.Cmd {
	ro := cmd[0] == cmdEvalSHARO
	if ro && s.noRO.Load() {
		cmd, ro = withCommand(cmd, cmdEvalSHA), false
	}
	c := s.processScript(ctx, cmd, nkeys)
	if ro && c.Err() != nil && refusesCommand(c.Err()) { // (errors.As would allocate for every call)
		if s.noRO.CompareAndSwap(false, true) && s.warn != nil {
			s.warn(fmt.Errorf("Redis refuses EVALSHA_RO (%v): reads go as EVALSHA from now on, and wait while writes are paused (a failover); grant the Redis user +evalsha_ro +eval_ro", c.Err()))
		}
		cmd, ro = withCommand(cmd, cmdEvalSHA), false
		c = s.processScript(ctx, cmd, nkeys)
	}
	if err := c.Err(); err != nil && (errors.Is(err, redis.ErrNoScript) || redis.HasErrorPrefix(err, "NOSCRIPT")) {
		keys := make([]string, nkeys)
		for i := range keys {
			keys[i], _ = cmd[3+i].(string)
		}
		if ro {
			return sc.EvalRO(ctx, s.c, keys, cmd[3+nkeys:]...)
		}
		return sc.Eval(ctx, s.c, keys, cmd[3+nkeys:]...)
	}
	return c
}

// processScript sends cmd, a script command whose keys start at its 4th
// element when nkeys > 0.
func (s *Store) processScript(ctx context.Context, cmd []any, nkeys int) *redis.Cmd {
	c := redis.NewCmd(ctx, cmd...)
	if nkeys > 0 {
		c.SetFirstKeyPos(3)
	}
	_ = s.c.Process(ctx, c)
	return c
}

// withCommand returns a copy of cmd with name as its command.
func withCommand(cmd []any, name string) []any {
	c := slices.Clone(cmd)
	c[0] = name
	return c
}

// refusesCommand reports whether err is Redis's answer to a command it
// does not have ("ERR unknown command 'evalsha_ro', with args ...") or
// that the ACL user may not run ("NOPERM ... 'evalsha_ro' command").
func refusesCommand(err error) bool {
	var re redis.Error
	if !errors.As(err, &re) {
		return false
	}
	msg := re.Error()
	return strings.HasPrefix(msg, "ERR unknown command") || strings.HasPrefix(msg, "NOPERM")
}

// userCtx returns tenant's userCtxKeys, built once per tenant (a GET
// would otherwise build three strings and box one): a pure function of
// the tenant id and the key prefix, so an entry never goes stale; one
// per tenant that made a request.
func (s *Store) userCtx(tenant string) *userCtxKeys {
	s.ctxMu.RLock()
	c := s.ctxKeys[tenant]
	s.ctxMu.RUnlock()
	if c != nil {
		return c
	}
	k := s.tk(tenant)
	c = &userCtxKeys{keys: []string{k.roleMappings(), k.defaultRole()}, base: k.base}
	c.userContext = evalHeadRO(scriptUserContext, c.keys, c.base)
	// A lookup's KEYS: the index hash, then the user context's.
	c.lookupUserName = evalHeadRO(scriptLookupUser, append([]string{k.idxUserName()}, c.keys...))
	c.lookupExternalID = evalHeadRO(scriptLookupUser, append([]string{k.idxUserExternalID()}, c.keys...))
	s.ctxMu.Lock()
	if s.ctxKeys == nil {
		s.ctxKeys = map[string]*userCtxKeys{}
	}
	s.ctxKeys[tenant] = c
	s.ctxMu.Unlock()
	return c
}

var (
	_ store.State     = (*Store)(nil)
	_ store.OpTimeout = (*Store)(nil)
	_ store.UserDocs  = (*Store)(nil)
)

// Open connects to the Redis at url ("redis://[user:pass@]host:port/db" or
// "rediss://..." for TLS; see redis.ParseURL for query options), checks it
// with PING and returns a Store: OpenUniversal with Config{URL: url}, so the
// client is NewClient's (context deadlines honoured, dials with
// Options.Timeout, fails fast while Redis refuses connections and reconnects
// as soon as it is back). Errors: a malformed
// URL or an invalid Options (plain error), an unreachable server (wrapping
// store.ErrUnavailable). One round trip.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	return OpenUniversal(ctx, Config{URL: url}, opts)
}

// New returns a Store on an existing client: a *redis.Client, a
// *redis.ClusterClient (every script keeps to one slot, so Cluster works as
// is) or a Sentinel failover client (redis.NewFailoverClient); a *redis.Ring
// is untested. The client should have ContextTimeoutEnabled set so that
// Options.Timeout bounds every call. New makes no round trip. The Store owns
// the client: Close closes it. New panics if opts.KeyPrefix contains '{' or
// '}' or opts.Timeout is negative (programming errors).
func New(client redis.UniversalClient, opts Options) *Store {
	if err := opts.validate(); err != nil {
		panic(err)
	}
	s := &Store{c: client, timeout: opts.timeout(), prefix: opts.KeyPrefix, warn: opts.Warn}
	if !opts.NoTokenCache {
		s.tc = newTokenCache()
	}
	s.SetLogRetention(opts.LogRetention)
	return s
}

func (o Options) validate() error {
	if strings.ContainsAny(o.KeyPrefix, "{}") {
		return fmt.Errorf("redisstore: KeyPrefix %q must not contain '{' or '}'", o.KeyPrefix)
	}
	if o.Timeout < 0 {
		return fmt.Errorf("redisstore: negative Timeout %v", o.Timeout)
	}
	return nil
}

func (o Options) timeout() time.Duration {
	if o.Timeout == 0 {
		return DefaultTimeout
	}
	return o.Timeout
}

// Client returns the underlying client (for health checks and tests).
func (s *Store) Client() redis.UniversalClient { return s.c }

// Ping checks that Redis answers (one round trip). Errors wrap
// store.ErrUnavailable.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := s.op(ctx)
	defer cancel()
	return wrap(s.c.Ping(ctx).Err())
}

// Close stops the token cache's subscriber goroutine (waiting for it) and
// closes the client and its connections. Calls after Close fail with
// errors wrapping store.ErrUnavailable.
func (s *Store) Close() error {
	s.stopTokenSub()
	return s.c.Close()
}

// OpTimeout is store.OpTimeout: every call is bounded by Options.Timeout
// (op), one round trip or script each.
func (s *Store) OpTimeout() time.Duration { return s.timeout }

// op returns ctx bounded by the store's timeout.
func (s *Store) op(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.timeout)
}

// wrap maps a go-redis error to the store's error contract: nil stays nil,
// redis.Nil becomes store.ErrNotFound, server replies that describe a
// permanent problem (a script bug, WRONGTYPE, NOPERM, ...) stay plain errors,
// and everything else (network, timeouts, closed client, transient server
// states) wraps store.ErrUnavailable with the cause still in the chain.
func wrap(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, redis.Nil):
		return store.ErrNotFound
	}
	var re redis.Error
	if errors.As(err, &re) && !transient(re) {
		return fmt.Errorf("redisstore: %w", err)
	}
	return fmt.Errorf("%w: redis: %w", store.ErrUnavailable, err)
}

// transient reports whether a server error reply means "try again later".
func transient(err redis.Error) bool {
	msg := strings.TrimPrefix(err.Error(), "ERR ")
	for _, p := range []string{"LOADING", "READONLY", "CLUSTERDOWN", "TRYAGAIN", "MASTERDOWN",
		"BUSY", "OOM", "NOREPLICAS", "MOVED", "ASK", "max number of clients"} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

// keys builds the keys of one tenant.
type keys struct{ base string } // prefix + "t:{T}:"

func (s *Store) tk(tenant string) keys {
	return keys{base: s.prefix + "t:{" + tag(tenant) + "}:"}
}

// tag escapes a tenant id for use inside a hash tag: '%', '{' and '}' are
// percent-encoded, and "" (which would make an empty tag, i.e. no tag) is
// written as "%", which no escaped id can be.
func tag(tenant string) string {
	if tenant == "" {
		return "%"
	}
	if !strings.ContainsAny(tenant, "%{}") {
		return tenant
	}
	r := strings.NewReplacer("%", "%25", "{", "%7B", "}", "%7D")
	return r.Replace(tenant)
}

func (k keys) tenant() string                { return k.base + "tenant" }
func (k keys) seq() string                   { return k.base + "seq" }
func (k keys) user(id string) string         { return k.base + "user:" + id }
func (k keys) users() string                 { return k.base + "users" }
func (k keys) idxUserName() string           { return k.base + "idx:userName" }
func (k keys) idxUserExternalID() string     { return k.base + "idx:externalId:user" }
func (k keys) group(id string) string        { return k.base + "group:" + id }
func (k keys) groups() string                { return k.base + "groups" }
func (k keys) idxDisplayName() string        { return k.base + "idx:displayName" }
func (k keys) idxGroupExternalID() string    { return k.base + "idx:externalId:group" }
func (k keys) members(gid string) string     { return k.base + "members:" + gid }
func (k keys) memberof(uid string) string    { return k.base + "memberof:" + uid }
func (k keys) tokens() string                { return k.base + "tokens" }
func (s *Store) tenantsKey() string          { return s.prefix + "tenants" }
func (s *Store) tokenKey(hash string) string { return s.prefix + "tokens:" + hash }

// Time encoding: UTC RFC 3339 with nanoseconds; "" is the zero time.
func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("redisstore: bad stored time %q: %w", s, err)
	}
	return t.UTC(), nil
}

// scriptResult splits a script reply {status, ...} into status and rest.
func scriptResult(v any) (string, []any, error) {
	a, ok := v.([]any)
	if !ok || len(a) == 0 {
		return "", nil, fmt.Errorf("redisstore: unexpected script reply %T", v)
	}
	st, ok := a[0].(string)
	if !ok {
		return "", nil, fmt.Errorf("redisstore: unexpected script status %T", a[0])
	}
	return st, a[1:], nil
}

// errRetry is the internal status of a script that was not given every key
// it needs because a concurrent writer changed a set in between.
var errRetry = errors.New("redisstore: concurrent change, retry")

// statusErr maps the common script statuses to errors. conflict values
// supplies the value of a conflicting attribute for the ConflictError.
func statusErr(st string, rest []any, values map[string]string) error {
	switch st {
	case "OK":
		return nil
	case "NOTFOUND":
		return store.ErrNotFound
	case "VERSION":
		return store.ErrVersionMismatch
	case "REPLACED":
		return store.ErrTokenReplaced
	case "RETRY":
		return errRetry
	case "NOPUBLISH":
		detail, _ := rest[0].(string)
		return &store.Error{Code: mapping.CodeInternal, Message: "redisstore: the Redis user may not PUBLISH on the token-cache channel (" + detail +
			"); nothing was changed: every serve replica would go on accepting the token from its cache. Grant the channel (ACL SETUSER <user> &<key prefix>tokens:invalidate) or use the serve replicas' Redis user"}
	case "LOGTYPE":
		return errors.New("redisstore: the provisioning log keys hold another type; nothing was written")
	case "CONFLICT":
		attr, _ := rest[0].(string)
		return &store.ConflictError{Attr: attr, Value: values[attr]}
	case "MEMBERS":
		var ids []string
		if len(rest) > 0 {
			if l, ok := rest[0].([]any); ok {
				for _, x := range l {
					if s, ok := x.(string); ok {
						ids = append(ids, s)
					}
				}
			}
		}
		return &store.MembersChangedError{Members: ids}
	case "UNKNOWN":
		var ids []string
		if len(rest) > 0 {
			if l, ok := rest[0].([]any); ok {
				for _, x := range l {
					if s, ok := x.(string); ok {
						ids = append(ids, s)
					}
				}
			}
		}
		return &store.UnknownMembersError{IDs: ids}
	}
	return fmt.Errorf("redisstore: unexpected script status %q", st)
}

// str returns a reply element as a string ("" for nil).
func str(v any) string {
	s, _ := v.(string)
	return s
}

// num returns a reply element (integer or decimal string) as an int64.
func num(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case string:
		n, _ := strconv.ParseInt(x, 10, 64)
		return n
	}
	return 0
}
