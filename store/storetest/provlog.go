package storetest

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/store"
)

// LogRetainer is implemented by backends whose provisioning log retention
// can be read and changed on an open store (both built-in backends do);
// the retention subtests use it and are skipped for backends without it.
type LogRetainer interface {
	LogRetention() store.LogRetention
	SetLogRetention(store.LogRetention)
}

// logBase is a time near now: the log never returns entries older than
// its MaxAge (30 days by default), so log subtests cannot use t0.
func logBase() time.Time { return time.Now().UTC().Add(-time.Hour) }

// logEntry returns a full entry with every field set, at base+n ms.
func logEntry(base time.Time, n int, name string) store.LogEntry {
	return store.LogEntry{
		Time:         base.Add(time.Duration(n)*time.Millisecond + time.Duration(n)),
		Actor:        store.ActorOktaPush,
		ActorID:      "tok_" + fmt.Sprint(n),
		RequestID:    fmt.Sprintf("req-%d", n),
		ResourceType: "User",
		ResourceID:   fmt.Sprintf("u-%d", n),
		Name:         name,
		Operation:    "replace",
		Status:       200,
		Changes: []mapping.AttrChange{
			{Attr: "active", Before: true, After: false},
			{Attr: "name.givenName", Before: "Ada", After: "Adah ü \u2028 {x}"},
			{Attr: "title", After: "Engineer"},
		},
	}
}

func (f *fixture) appendLog(tenant string, e store.LogEntry) {
	f.t.Helper()
	if err := f.s.AppendLog(f.ctx, tenant, e); err != nil {
		f.t.Fatalf("AppendLog(%s, %s %q): %v", tenant, e.Operation, e.Name, err)
	}
}

func (f *fixture) queryLog(tenant string, q store.LogQuery) []store.LogEntry {
	f.t.Helper()
	es, err := f.s.QueryLog(f.ctx, tenant, q)
	if err != nil {
		f.t.Fatalf("QueryLog(%s, %+v): %v", tenant, q, err)
	}
	if es == nil {
		f.t.Fatalf("QueryLog(%s, %+v) = nil; want a (possibly empty) slice", tenant, q)
	}
	return es
}

// logRequestIDs returns the RequestIDs of es, in order.
func logRequestIDs(es []store.LogEntry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.RequestID
	}
	return out
}

// normalizedJSON round-trips v through JSON with UseNumber, as backends
// store and decode entries.
func normalizedJSON(t testing.TB, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	if err := dec.Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

func testLogRoundTrip(t *testing.T, f *fixture) {
	if es := f.queryLog(f.tenant, store.LogQuery{}); len(es) != 0 {
		t.Fatalf("a new tenant's log has %d entries", len(es))
	}
	base := logBase()
	full := logEntry(base, 1, "Ada@Example.com")
	full.Changes = append(full.Changes,
		mapping.AttrChange{Attr: "emails", Before: []any{map[string]any{"value": "a@x", "type": "work"}}, After: []any{}},
		mapping.AttrChange{Attr: "members", Added: []string{"u1", "u2"}, Removed: []string{"u3"}, AddedCount: 2, RemovedCount: 1},
		mapping.AttrChange{Attr: "x:count", Before: json.Number("3"), After: json.Number("4")},
	)
	rejected := store.LogEntry{
		Time: base.Add(time.Second), Actor: store.ActorOktaPush, ActorID: "tok_9", RequestID: "req-r",
		ResourceType: "User", Name: "bob@example.com", Operation: "create", Status: 409,
		ScimType: "uniqueness", Detail: `userName "bob@example.com" is already in use in this tenant`,
	}
	f.appendLog(f.tenant, full)
	f.appendLog(f.tenant, rejected)
	es := f.queryLog(f.tenant, store.LogQuery{})
	if len(es) != 2 {
		t.Fatalf("QueryLog = %d entries; want 2", len(es))
	}
	for i, want := range []store.LogEntry{rejected, full} {
		got := es[i]
		if got.Tenant != f.tenant {
			t.Errorf("entry %d Tenant = %q; want %q", i, got.Tenant, f.tenant)
		}
		wantTime(t, fmt.Sprintf("entry %d Time", i), got.Time, want.Time)
		if got.Time.Location() != time.UTC {
			t.Errorf("entry %d Time not UTC: %v", i, got.Time)
		}
		got.Tenant, got.Time, want.Time = "", time.Time{}, time.Time{}
		if !reflect.DeepEqual(normalizedJSON(t, got), normalizedJSON(t, want)) {
			t.Errorf("entry %d round trip:\n got %+v\nwant %+v", i, got, want)
		}
	}
	if !es[0].Rejected() || es[1].Rejected() {
		t.Errorf("Rejected() = %v, %v; want true, false", es[0].Rejected(), es[1].Rejected())
	}

	// Password changes are dropped; the zero time becomes now.
	secret := store.LogEntry{Actor: store.ActorOktaPush, Name: "p", Operation: "patch", Status: 200, RequestID: "req-p",
		Changes: []mapping.AttrChange{{Attr: "password", After: "S3cret!"}, {Attr: "nickName", After: "P"}}}
	before := time.Now()
	f.appendLog(f.tenant, secret)
	got := f.queryLog(f.tenant, store.LogQuery{Name: "p"})
	if len(got) != 1 || len(got[0].Changes) != 1 || got[0].Changes[0].Attr != "nickName" {
		t.Errorf("entry with a password change = %+v; want only the nickName change", got)
	} else if got[0].Time.Before(before.Add(-time.Second)) || got[0].Time.After(time.Now().Add(time.Second)) {
		t.Errorf("zero Time stored as %v; want about now", got[0].Time)
	}

	// Tenants are isolated.
	other := f.newTenant()
	if es := f.queryLog(other, store.LogQuery{}); len(es) != 0 {
		t.Errorf("another tenant sees %d entries", len(es))
	}
	if es := f.queryLog(other, store.LogQuery{Name: "bob@example.com"}); len(es) != 0 {
		t.Errorf("another tenant finds by name %d entries", len(es))
	}
}

func testLogFilters(t *testing.T, f *fixture) {
	base := logBase()
	type spec struct {
		rt, name, actor string
		status          int
	}
	specs := []spec{
		{"User", "ada@example.com", store.ActorOktaPush, 201},      // 0
		{"User", "ADA@example.com", store.ActorOktaPush, 400},      // 1
		{"Group", "Admins", store.ActorOktaPush, 201},              // 2
		{"User", "bob@example.com", store.ActorReconciler, 200},    // 3
		{"Group", "admins", store.ActorReconciler, 200},            // 4
		{"User", "ada@example.com", store.ActorOktaPush, 401},      // 5
		{"User", "ada@example.com", store.ActorOperator, 200},      // 6
		{"Group", "ada@example.com", store.ActorOktaPush, 409},     // 7: a group with a user's name
		{"User", "carol@example.com", store.ActorOktaPush, 503},    // 8
		{"User", "ada@example.com.evil", store.ActorOktaPush, 200}, // 9: not an exact match
	}
	for i, s := range specs {
		e := store.LogEntry{Time: base.Add(time.Duration(i) * time.Minute), Actor: s.actor, RequestID: fmt.Sprint(i),
			ResourceType: s.rt, Name: s.name, Operation: "create", Status: s.status}
		f.appendLog(f.tenant, e)
	}
	ids := func(ns ...int) []string {
		out := make([]string, len(ns))
		for i, n := range ns {
			out[i] = fmt.Sprint(n)
		}
		return out
	}
	for _, tc := range []struct {
		q    store.LogQuery
		want []string
	}{
		{store.LogQuery{}, ids(9, 8, 7, 6, 5, 4, 3, 2, 1, 0)},
		{store.LogQuery{Limit: 3}, ids(9, 8, 7)},
		{store.LogQuery{Name: "Ada@Example.COM"}, ids(7, 6, 5, 1, 0)},
		{store.LogQuery{Name: "ada@example.com", ResourceType: "User"}, ids(6, 5, 1, 0)},
		{store.LogQuery{Name: "ada@example.com", ResourceType: "User", Limit: 2}, ids(6, 5)},
		{store.LogQuery{Name: "admins", ResourceType: "Group"}, ids(4, 2)},
		{store.LogQuery{Outcome: store.OutcomeRejected}, ids(8, 7, 5, 1)},
		{store.LogQuery{Outcome: store.OutcomeAccepted, ResourceType: "User"}, ids(9, 6, 3, 0)},
		{store.LogQuery{Name: "ada@example.com", Outcome: store.OutcomeRejected, ResourceType: "User"}, ids(5, 1)},
		{store.LogQuery{Actor: store.ActorReconciler}, ids(4, 3)},
		{store.LogQuery{Since: base.Add(5 * time.Minute)}, ids(9, 8, 7, 6, 5)},
		{store.LogQuery{Since: base.Add(5*time.Minute + time.Nanosecond), Name: "ada@example.com"}, ids(7, 6)},
		{store.LogQuery{Since: time.Now().Add(time.Hour)}, nil},
		{store.LogQuery{Name: "nobody@example.com"}, nil},
	} {
		got := logRequestIDs(f.queryLog(f.tenant, tc.q))
		wantStrings(t, fmt.Sprintf("QueryLog(%+v)", tc.q), got, tc.want)
	}
}

// testLogOrder checks that entries come back in append order even when
// their times are not (two replicas with slightly different clocks).
func testLogOrder(t *testing.T, f *fixture) {
	base := logBase()
	for i, d := range []time.Duration{0, 2 * time.Second, time.Second, 3 * time.Second, 500 * time.Millisecond} {
		f.appendLog(f.tenant, store.LogEntry{Time: base.Add(d), Actor: store.ActorOktaPush, RequestID: fmt.Sprint(i),
			ResourceType: "User", Name: "skew", Operation: "patch", Status: 200})
	}
	want := []string{"4", "3", "2", "1", "0"}
	wantStrings(t, "QueryLog order", logRequestIDs(f.queryLog(f.tenant, store.LogQuery{})), want)
	wantStrings(t, "QueryLog by name order", logRequestIDs(f.queryLog(f.tenant, store.LogQuery{Name: "SKEW"})), want)
	// Since still filters by each entry's own time.
	wantStrings(t, "QueryLog since", logRequestIDs(f.queryLog(f.tenant, store.LogQuery{Since: base.Add(time.Second)})), []string{"3", "2", "1"})
	wantStrings(t, "QueryLog by name since", logRequestIDs(f.queryLog(f.tenant, store.LogQuery{Name: "skew", Since: base.Add(time.Second)})), []string{"3", "2", "1"})
}

func (f *fixture) retainer() LogRetainer {
	f.t.Helper()
	r, ok := f.s.(LogRetainer)
	if !ok {
		f.t.Skip("the backend cannot change its log retention (storetest.LogRetainer)")
	}
	old := r.LogRetention()
	f.t.Cleanup(func() { r.SetLogRetention(old) })
	return r
}

func testLogRetentionCount(t *testing.T, f *fixture) {
	const keep, total = 10, 400
	// Backends may keep a bounded number of entries beyond MaxEntries
	// (Redis trims whole stream nodes of 100 entries; see redisstore).
	const slack = 128
	f.retainer().SetLogRetention(store.LogRetention{MaxEntries: keep})
	base := logBase()
	other := f.newTenant()
	for i := range total {
		e := store.LogEntry{Time: base.Add(time.Duration(i) * time.Millisecond), Actor: store.ActorOktaPush,
			RequestID: fmt.Sprint(i), ResourceType: "User", Name: fmt.Sprintf("user-%d", i%3), Operation: "patch", Status: 200}
		f.appendLog(f.tenant, e)
		if i < 5 {
			f.appendLog(other, e)
		}
	}
	es := f.queryLog(f.tenant, store.LogQuery{Limit: total})
	if len(es) < keep || len(es) > keep+slack {
		t.Fatalf("after %d appends with MaxEntries %d: %d entries; want %d..%d", total, keep, len(es), keep, keep+slack)
	}
	for i := range keep {
		if want := fmt.Sprint(total - 1 - i); es[i].RequestID != want {
			t.Errorf("entry %d = %s; want %s (the newest are kept)", i, es[i].RequestID, want)
		}
	}
	byName := f.queryLog(f.tenant, store.LogQuery{Name: "user-0", Limit: total})
	if len(byName) == 0 || len(byName) > (keep+slack)/3+1 || byName[0].RequestID != fmt.Sprint(total-1-((total-1)%3)) {
		t.Errorf("by name after trimming: %v", logRequestIDs(byName))
	}
	// Count retention is per tenant.
	if got := f.queryLog(other, store.LogQuery{}); len(got) != 5 {
		t.Errorf("the other tenant has %d entries; want 5", len(got))
	}
}

func testLogRetentionAge(t *testing.T, f *fixture) {
	f.retainer().SetLogRetention(store.LogRetention{MaxAge: time.Hour})
	now := time.Now().UTC()
	for i, age := range []time.Duration{3 * time.Hour, 2 * time.Hour, 90 * time.Minute, 30 * time.Minute, time.Minute} {
		f.appendLog(f.tenant, store.LogEntry{Time: now.Add(-age), Actor: store.ActorOktaPush, RequestID: fmt.Sprint(i),
			ResourceType: "Group", Name: "G", Operation: "patch", Status: 200})
	}
	want := []string{"4", "3"}
	wantStrings(t, "entries within MaxAge", logRequestIDs(f.queryLog(f.tenant, store.LogQuery{})), want)
	wantStrings(t, "by name within MaxAge", logRequestIDs(f.queryLog(f.tenant, store.LogQuery{Name: "g"})), want)
	// Older entries are gone, not only hidden: widening the retention
	// again does not bring them back.
	f.retainer().SetLogRetention(store.LogRetention{MaxAge: 24 * time.Hour})
	wantStrings(t, "entries after widening MaxAge", logRequestIDs(f.queryLog(f.tenant, store.LogQuery{})), want)
	// A query never returns entries beyond MaxAge, even before they are pruned.
	f.retainer().SetLogRetention(store.LogRetention{MaxAge: 10 * time.Minute})
	wantStrings(t, "entries within a shorter MaxAge", logRequestIDs(f.queryLog(f.tenant, store.LogQuery{})), []string{"4"})
}

func testLogConcurrentAppend(t *testing.T, f *fixture) {
	const writers, each = 8, 25
	base := logBase()
	errs := parallel(writers, func(w int) error {
		for i := range each {
			e := store.LogEntry{Time: base.Add(time.Duration(i) * time.Millisecond), Actor: store.ActorOktaPush,
				RequestID: fmt.Sprintf("%d-%02d", w, i), ResourceType: "User", Name: fmt.Sprintf("w%d", w), Operation: "patch", Status: 200}
			if err := f.s.AppendLog(f.ctx, f.tenant, e); err != nil {
				return err
			}
		}
		return nil
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("writer %d: %v", i, err)
		}
	}
	es := f.queryLog(f.tenant, store.LogQuery{Limit: writers * each})
	if len(es) != writers*each {
		t.Fatalf("%d entries after concurrent appends; want %d", len(es), writers*each)
	}
	// Each writer's entries come back newest first.
	last := map[string]string{}
	seen := map[string]bool{}
	for _, e := range es {
		if seen[e.RequestID] {
			t.Fatalf("entry %s returned twice", e.RequestID)
		}
		seen[e.RequestID] = true
		w := e.Name
		if prev, ok := last[w]; ok && prev < e.RequestID {
			t.Errorf("writer %s: %s after %s; want newest first", w, e.RequestID, prev)
		}
		last[w] = e.RequestID
	}
	for w := range writers {
		got := logRequestIDs(f.queryLog(f.tenant, store.LogQuery{Name: fmt.Sprintf("W%d", w), Limit: 1000}))
		if len(got) != each || !slices.IsSortedFunc(got, func(a, b string) int { return strings.Compare(b, a) }) {
			t.Errorf("writer %d by name: %v", w, got)
		}
	}
}

// testLogRejectionsApart: a flood of rejected entries (what anyone holding,
// or having held, a token can cause) never evicts a change's entry:
// rejections have their own budget (LogRetention.MaxRejections). The log
// still reads both merged newest first by time, and every filter and the
// name index see both.
func testLogRejectionsApart(t *testing.T, f *fixture) {
	const changes, maxRej, flood = 30, 20, 1000
	// Redis trims whole stream nodes (see testLogRetentionCount).
	const slack = 128
	f.retainer().SetLogRetention(store.LogRetention{MaxEntries: 100, MaxRejections: maxRej})
	base := logBase()
	at := func(i int) time.Time { return base.Add(time.Duration(i) * time.Millisecond) }
	for i := range changes {
		f.appendLog(f.tenant, store.LogEntry{Time: at(i), Actor: store.ActorOktaPush, RequestID: fmt.Sprint("c", i),
			ResourceType: "User", Name: "ada", Operation: "patch", Status: 200})
	}
	for i := range flood {
		f.appendLog(f.tenant, store.LogEntry{Time: at(changes + i), Actor: store.ActorOktaPush, RequestID: fmt.Sprint("r", i),
			ResourceType: "User", Name: []string{"ada", "mallory"}[i%2], Operation: "read", Status: 401, Detail: "revoked"})
	}
	f.appendLog(f.tenant, store.LogEntry{Time: at(changes + flood), Actor: store.ActorOktaPush, RequestID: "last",
		ResourceType: "User", Name: "ada", Operation: "patch", Status: 200})

	acc := f.queryLog(f.tenant, store.LogQuery{Outcome: store.OutcomeAccepted, Limit: 1000})
	if len(acc) != changes+1 {
		t.Fatalf("%d accepted entries after %d rejections; want all %d changes", len(acc), flood, changes+1)
	}
	byName := f.queryLog(f.tenant, store.LogQuery{Name: "ADA", Outcome: store.OutcomeAccepted, Limit: 1000})
	if len(byName) != changes+1 {
		t.Fatalf("%d accepted entries by name; want %d", len(byName), changes+1)
	}
	rej := f.queryLog(f.tenant, store.LogQuery{Outcome: store.OutcomeRejected, Limit: 2000})
	if len(rej) < maxRej || len(rej) > maxRej+slack {
		t.Fatalf("%d rejected entries kept; want %d..%d", len(rej), maxRej, maxRej+slack)
	}
	if rej[0].RequestID != fmt.Sprint("r", flood-1) {
		t.Errorf("newest rejection %s; want r%d", rej[0].RequestID, flood-1)
	}
	// Merged in time order: the newest change, then the newest rejections,
	// ..., the changes last.
	all := f.queryLog(f.tenant, store.LogQuery{Limit: 5000})
	if len(all) != len(acc)+len(rej) {
		t.Fatalf("merged: %d entries; want %d", len(all), len(acc)+len(rej))
	}
	for i := 1; i < len(all); i++ {
		if all[i].Time.After(all[i-1].Time) {
			t.Fatalf("merged log not newest first at %d: %s after %s", i, all[i].RequestID, all[i-1].RequestID)
		}
	}
	if all[0].RequestID != "last" || all[1].RequestID != fmt.Sprint("r", flood-1) || all[len(all)-1].RequestID != "c0" {
		t.Errorf("merged order: first %s, %s, last %s", all[0].RequestID, all[1].RequestID, all[len(all)-1].RequestID)
	}
	if got := f.queryLog(f.tenant, store.LogQuery{Limit: 3}); len(got) != 3 || got[0].RequestID != "last" {
		t.Errorf("limit 3: %v", logRequestIDs(got))
	}
	if got := f.queryLog(f.tenant, store.LogQuery{Name: "mallory", Limit: 5000}); len(got) == 0 || len(got) > maxRej+slack {
		t.Errorf("by name mallory: %d entries", len(got))
	}
}
