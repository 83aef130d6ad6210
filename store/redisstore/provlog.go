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

// logRej is the stream of rejected entries; logRejName its name index.
func (k keys) logRej() string { return k.base + "log:rej" }
func (k keys) logRejName(name string) string {
	return k.base + "log:rej:name:" + mapping.FoldKey(name)
}

// logStreams are a log's two streams (accepted, rejected) with their name
// indexes, read by QueryLog.
func (k keys) logStreams(name string) [2][2]string {
	return [2][2]string{{k.log(), k.logName(name)}, {k.logRej(), k.logRejName(name)}}
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

// AppendLog adds e to the tenant's log stream (t:{T}:log, or t:{T}:log:rej
// for a rejected entry) and prunes that stream by count (MaxEntries,
// MaxRejections) and age, in one script (one round trip). See the package
// doc.
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
	stream, keep := k.log(), ret.MaxEntries
	if e.Rejected() {
		stream, keep = k.logRej(), ret.MaxRejections
	}
	ks := []string{stream}
	if e.Name != "" {
		if e.Rejected() {
			ks = append(ks, k.logRejName(e.Name))
		} else {
			ks = append(ks, k.logName(e.Name))
		}
	}
	ms := max(e.Time.UnixMilli(), 0)
	minID := max(now.Add(-ret.MaxAge).UnixMilli(), 0)
	return ks, []any{ms, keep, minID, ret.MaxAge.Milliseconds(), b, logNameIndexCap, len(ks)}, nil
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

// QueryLog returns the tenant's matching entries newest first: it reads
// the accepted and the rejected stream (only one of them for an outcome
// filter, except that a rejection logged before the streams were split
// is found in the accepted one) and merges them by time; see the package
// doc for how it reads a stream.
func (s *Store) QueryLog(ctx context.Context, tenant string, q store.LogQuery) ([]store.LogEntry, error) {
	ret := s.retention()
	if cutoff := time.Now().Add(-ret.MaxAge); q.Since.Before(cutoff) {
		q.Since = cutoff
	}
	ctx, cancel := s.op(ctx)
	defer cancel()
	streams := s.tk(tenant).logStreams(q.Name)
	var res [2][]store.LogEntry
	for i, st := range streams {
		if i == 1 && q.Outcome == store.OutcomeAccepted {
			break
		}
		var err error
		if q.Name != "" {
			res[i], err = s.queryLogByName(ctx, tenant, st[0], st[1], q)
		} else {
			res[i], err = s.queryLogStream(ctx, tenant, st[0], q)
		}
		if err != nil {
			return nil, err
		}
	}
	return store.MergeLogs(res[0], res[1], q.EffectiveLimit()), nil
}

// queryLogStream reads one log stream newest first with XREVRANGE in
// batches, down to Since.
func (s *Store) queryLogStream(ctx context.Context, tenant, stream string, q store.LogQuery) ([]store.LogEntry, error) {
	limit := q.EffectiveLimit()
	out := []store.LogEntry{}
	hi, lo := "+", strconv.FormatInt(max(q.Since.UnixMilli(), 0), 10)
	for {
		msgs, err := s.c.XRevRangeN(ctx, stream, hi, lo, logScanBatch).Result()
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

// queryLogByName reads a stream's name index, then the entries it lists,
// newest first, in pipelined batches.
func (s *Store) queryLogByName(ctx context.Context, tenant, stream, index string, q store.LogQuery) ([]store.LogEntry, error) {
	ids, err := s.c.LRange(ctx, index, 0, logNameIndexCap-1).Result()
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
			cmds[i] = pipe.XRange(ctx, stream, id, id)
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
