package redisstore

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/store"
)

// logNameIndexCap is how many stream ids the name index keeps per name.
const logNameIndexCap = 1000

// logScanBatch is how many entries one XREVRANGE (or one pipeline of
// XRANGEs) reads.
const logScanBatch = 500

func (k keys) log() string { return k.base + "log" }
func (k keys) logName(name string) string {
	return k.base + "log:name:" + mapping.FoldKey(name)
}

// scriptAppendLog: KEYS log[, log:name:<n>]; ARGV time ms, maxlen, minid
// ms, ttl ms, entry JSON, name index cap. Adds the entry with id
// "<ms>-*" (or "*" when that id would not be after the stream's last one,
// or on Redis < 7), trims by count (~) and age (exact MINID), sets the
// stream's expiry, and files the id under the name. Returns {OK, id}.
var scriptAppendLog = redis.NewScript(`local A, K1, K2 = ARGV, KEYS[1], KEYS[2]
` + luaAppendLog + `
return {'OK', id}
`)

// luaAppendLog appends one entry: K1 the log stream, K2 the name index
// (nil: none), A the arguments of scriptAppendLog. It leaves the stream id
// in id. Shared by scriptAppendLog and the logged write scripts
// (loggedScript).
const luaAppendLog = `local id = redis.pcall('XADD', K1, 'MAXLEN', '~', A[2], A[1] .. '-*', 'e', A[5])
if type(id) == 'table' and id.err then
  id = redis.call('XADD', K1, 'MAXLEN', '~', A[2], '*', 'e', A[5])
end
redis.call('XTRIM', K1, 'MINID', A[3])
redis.call('PEXPIRE', K1, A[4])
if K2 then
  redis.call('LPUSH', K2, id)
  redis.call('LTRIM', K2, 0, tonumber(A[6]) - 1)
  redis.call('PEXPIRE', K2, A[4])
end`

// SetLogRetention changes the provisioning log retention of this Store
// (zero fields: the defaults); it applies from the next call. Options
// .LogRetention sets it at New/Open.
func (s *Store) SetLogRetention(r store.LogRetention) {
	r = r.WithDefaults()
	s.logRet.Store(&r)
}

// LogRetention returns the provisioning log retention in effect.
func (s *Store) LogRetention() store.LogRetention { return s.retention() }

func (s *Store) retention() store.LogRetention {
	if r := s.logRet.Load(); r != nil {
		return *r
	}
	return store.LogRetention{}.WithDefaults()
}

// AppendLog adds e to the tenant's log stream t:{T}:log and prunes it by
// count and age, in one script (one round trip). See the package doc.
func (s *Store) AppendLog(ctx context.Context, tenant string, e store.LogEntry) error {
	ks, args, err := s.logArgs(s.tk(tenant), e)
	if err != nil {
		return err
	}
	ctx, cancel := s.op(ctx)
	defer cancel()
	r, err := scriptAppendLog.Run(ctx, s.c, ks, args[:6]...).Result()
	if err != nil {
		return wrap(err)
	}
	return scriptStatus(r, nil)
}

// logArgs returns the keys (log[, log:name:<n>]) and arguments (time ms,
// maxlen, minid ms, ttl ms, entry JSON, name index cap, number of keys) that
// append e, normalised, to the tenant's log: scriptAppendLog takes the
// first six arguments, a logged write script (loggedScript) all seven
// after its own.
func (s *Store) logArgs(k keys, e store.LogEntry) ([]string, []any, error) {
	now := time.Now()
	e = store.NormalizeLogEntry(e, now)
	b, err := json.Marshal(e)
	if err != nil {
		return nil, nil, fmt.Errorf("redisstore: encode log entry: %w", err)
	}
	ret := s.retention()
	ks := []string{k.log()}
	if e.Name != "" {
		ks = append(ks, k.logName(e.Name))
	}
	ms := max(e.Time.UnixMilli(), 0)
	minID := max(now.Add(-ret.MaxAge).UnixMilli(), 0)
	return ks, []any{ms, ret.MaxEntries, minID, ret.MaxAge.Milliseconds(), b, logNameIndexCap, len(ks)}, nil
}

// withLog returns the script to run for a user or group write and its
// keys and arguments: plain when ctx carries no log entry
// (store.LogEntryOf), else logged with the entry's keys and arguments
// appended.
func (s *Store) withLog(ctx context.Context, k keys, plain, logged *redis.Script, ks []string, args []any) (*redis.Script, []string, []any, error) {
	e, ok := store.LogEntryOf(ctx)
	if !ok {
		return plain, ks, args, nil
	}
	lks, largs, err := s.logArgs(k, e)
	if err != nil {
		return nil, nil, nil, err
	}
	return logged, append(ks, lks...), append(args, largs...), nil
}

// QueryLog returns the tenant's matching entries newest first; see the
// package doc for how it reads the stream.
func (s *Store) QueryLog(ctx context.Context, tenant string, q store.LogQuery) ([]store.LogEntry, error) {
	ret := s.retention()
	if cutoff := time.Now().Add(-ret.MaxAge); q.Since.Before(cutoff) {
		q.Since = cutoff
	}
	ctx, cancel := s.op(ctx)
	defer cancel()
	k := s.tk(tenant)
	if q.Name != "" {
		return s.queryLogByName(ctx, tenant, k, q)
	}
	limit := q.EffectiveLimit()
	out := []store.LogEntry{}
	hi, lo := "+", strconv.FormatInt(max(q.Since.UnixMilli(), 0), 10)
	for {
		msgs, err := s.c.XRevRangeN(ctx, k.log(), hi, lo, logScanBatch).Result()
		if err != nil {
			return nil, wrap(err)
		}
		for _, m := range msgs {
			e, err := decodeLogEntry(m)
			if err != nil {
				return nil, err
			}
			if q.Match(&e) {
				e.Tenant = tenant
				if out = append(out, e); len(out) == limit {
					return out, nil
				}
			}
		}
		if len(msgs) < logScanBatch {
			return out, nil
		}
		hi = "(" + msgs[len(msgs)-1].ID
	}
}

// queryLogByName reads the name index, then the entries it lists, newest
// first, in pipelined batches.
func (s *Store) queryLogByName(ctx context.Context, tenant string, k keys, q store.LogQuery) ([]store.LogEntry, error) {
	ids, err := s.c.LRange(ctx, k.logName(q.Name), 0, logNameIndexCap-1).Result()
	if err != nil {
		return nil, wrap(err)
	}
	sinceMS := q.Since.UnixMilli()
	for i, id := range ids {
		if ms, _, _ := strings.Cut(id, "-"); parseInt(ms) < sinceMS {
			ids = ids[:i] // ids only grow: every later one is older
			break
		}
	}
	limit := q.EffectiveLimit()
	out := []store.LogEntry{}
	for len(ids) > 0 {
		n := min(len(ids), logScanBatch)
		pipe := s.c.Pipeline()
		cmds := make([]*redis.XMessageSliceCmd, n)
		for i, id := range ids[:n] {
			cmds[i] = pipe.XRange(ctx, k.log(), id, id)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return nil, wrap(err)
		}
		for _, c := range cmds {
			for _, m := range c.Val() { // none when trimmed since
				e, err := decodeLogEntry(m)
				if err != nil {
					return nil, err
				}
				if q.Match(&e) {
					e.Tenant = tenant
					if out = append(out, e); len(out) == limit {
						return out, nil
					}
				}
			}
		}
		ids = ids[n:]
	}
	return out, nil
}

func parseInt(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

// decodeLogEntry decodes the JSON of one stream entry (numbers in Before
// and After as json.Number, as attribute documents are).
func decodeLogEntry(m redis.XMessage) (store.LogEntry, error) {
	var e store.LogEntry
	v, _ := m.Values["e"].(string)
	dec := json.NewDecoder(bytes.NewReader([]byte(v)))
	dec.UseNumber()
	if err := dec.Decode(&e); err != nil {
		return store.LogEntry{}, fmt.Errorf("redisstore: log entry %s: %w", m.ID, err)
	}
	return e, nil
}
