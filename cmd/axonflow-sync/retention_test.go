package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/axonflow/axonflow-sync/config"
	"github.com/axonflow/axonflow-sync/internal/testredis"
	"github.com/axonflow/axonflow-sync/store"
)

// retainer is the part of either store that reports its log retention.
type retainer interface {
	LogRetention() store.LogRetention
}

// loadEnv loads the configuration from env alone (no flags, no file).
func loadEnv(t *testing.T, env map[string]string) *config.Config {
	t.Helper()
	cfg, err := config.Load(nil, func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("config.Load: %v", err)
	}
	return cfg
}

// TestLogRetentionDefaultsMatchStore: the configuration's defaults are the
// store's, so an operator who sets nothing keeps the documented retention.
func TestLogRetentionDefaultsMatchStore(t *testing.T) {
	cfg := loadEnv(t, nil)
	want := store.LogRetention{MaxEntries: store.DefaultLogMaxEntries, MaxRejections: store.DefaultLogMaxRejections, MaxAge: store.DefaultLogMaxAge}
	if got := logRetention(cfg); got != want {
		t.Errorf("default configuration gives %+v; store defaults are %+v", got, want)
	}
	if got := logRetention(&config.Config{}); got != want {
		t.Errorf("zero Config gives %+v; want the store defaults %+v", got, want)
	}
}

// TestOpenStoreAppliesLogRetention opens both backends through openStore
// with provisioningLog.maxEntries and maxAge set and checks that the store
// uses them: it reports them, trims by count and drops entries by age.
func TestOpenStoreAppliesLogRetention(t *testing.T) {
	ctx := context.Background()
	retention := map[string]string{
		"AXONFLOW_SYNC_PROVISIONING_LOG_MAX_ENTRIES":    "100",
		"AXONFLOW_SYNC_PROVISIONING_LOG_MAX_REJECTIONS": "200",
		"AXONFLOW_SYNC_PROVISIONING_LOG_MAX_AGE":        "1h",
	}
	want := store.LogRetention{MaxEntries: 100, MaxRejections: 200, MaxAge: time.Hour}
	for _, tc := range []struct {
		name string
		env  map[string]string
		// exact: the backend trims to exactly MaxEntries (Redis trims whole
		// stream nodes, so it may keep up to about 100 more).
		exact bool
	}{
		{"embedded", map[string]string{"AXONFLOW_SYNC_DATA_DIR": t.TempDir()}, true},
		{"redis", map[string]string{"AXONFLOW_SYNC_REDIS_URL": testredis.URL(t)}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range retention {
				tc.env[k] = v
			}
			st, desc, err := openStore(ctx, loadEnv(t, tc.env), zerolog.Nop())
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			r, ok := st.(retainer)
			if !ok {
				t.Fatalf("%s: %T does not report its log retention", desc, st)
			}
			if got := r.LogRetention(); got != want {
				t.Fatalf("%s: LogRetention() = %+v; want %+v", desc, got, want)
			}

			// Unique tenants: the shared Redis outlives this test.
			tenant := fmt.Sprintf("retention-%d", time.Now().UnixNano())
			now := time.Now()
			const total = 130
			for i := range total {
				e := store.LogEntry{Time: now.Add(time.Duration(i-total) * time.Millisecond), Actor: store.ActorOperator,
					RequestID: fmt.Sprint(i), ResourceType: "User", Operation: "patch", Status: 200}
				if err := st.AppendLog(ctx, tenant, e); err != nil {
					t.Fatal(err)
				}
			}
			es, err := st.QueryLog(ctx, tenant, store.LogQuery{Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			if len(es) < want.MaxEntries || (tc.exact && len(es) != want.MaxEntries) || len(es) >= total {
				t.Errorf("%s: %d entries after %d appends with maxEntries %d", desc, len(es), total, want.MaxEntries)
			}
			if len(es) > 0 && es[0].RequestID != fmt.Sprint(total-1) {
				t.Errorf("%s: newest entry %s; want %d", desc, es[0].RequestID, total-1)
			}

			// maxAge 1h: a 2-hour-old entry is neither kept nor shown (the
			// default 30 days would keep it).
			aged := tenant + "-aged"
			for _, e := range []store.LogEntry{
				{Time: now.Add(-2 * time.Hour), Actor: store.ActorOperator, RequestID: "old", Operation: "create_token", Status: 201},
				{Time: now.Add(-30 * time.Minute), Actor: store.ActorOperator, RequestID: "recent", Operation: "create_token", Status: 201},
			} {
				if err := st.AppendLog(ctx, aged, e); err != nil {
					t.Fatal(err)
				}
			}
			es, err = st.QueryLog(ctx, aged, store.LogQuery{})
			if err != nil {
				t.Fatal(err)
			}
			if len(es) != 1 || es[0].RequestID != "recent" {
				t.Errorf("%s: entries within maxAge 1h: %+v; want only the recent one", desc, es)
			}
		})
	}
}

// TestLogRetentionBadValuesExit2 runs the binary with a retention below the
// minimum: the command stops with exit code 2 naming the key.
func TestLogRetentionBadValuesExit2(t *testing.T) {
	for _, c := range []struct {
		env  []string
		args []string
		key  string
	}{
		{[]string{"AXONFLOW_SYNC_PROVISIONING_LOG_MAX_ENTRIES=10"}, []string{"token", "list", "--tenant", "acme"}, "provisioningLog.maxEntries"},
		{nil, []string{"log", "--tenant", "acme", "--provisioning-log-max-age", "30s"}, "provisioningLog.maxAge"},
	} {
		_, stderr, code := cli(t, append(c.env, "AXONFLOW_SYNC_DATA_DIR="+t.TempDir()), c.args...)
		if code != exitConfig || !strings.Contains(stderr, c.key) {
			t.Errorf("%v %v: exit %d, stderr %q; want exit %d naming %s", c.env, c.args, code, stderr, exitConfig, c.key)
		}
	}
}
