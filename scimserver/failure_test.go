package scimserver_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/store"
)

// faultyState makes user reads (GetUser, UserContext, LookupUserContext) fail (or panic) on demand.
type faultyState struct {
	store.State
	mode atomic.Value // "", "unavailable", "boom", "panic"
}

func (f *faultyState) fault() error {
	switch m, _ := f.mode.Load().(string); m {
	case "unavailable":
		return fmt.Errorf("dial tcp 10.0.0.1:6379: connection refused: %w", store.ErrUnavailable)
	case "boom":
		return errors.New("secret internal detail 0xdeadbeef")
	case "panic":
		panic("handler bug with secret 0xdeadbeef")
	}
	return nil
}

func (f *faultyState) GetUser(ctx context.Context, tenant, id string) (*mapping.User, error) {
	if err := f.fault(); err != nil {
		return nil, err
	}
	return f.State.GetUser(ctx, tenant, id)
}

// UserContext fails like GetUser: it is how GET /Users/{id} reads a user.
func (f *faultyState) UserContext(ctx context.Context, tenant string, ids []string, withUsers bool) (store.UserContext, error) {
	if err := f.fault(); err != nil {
		return store.UserContext{}, err
	}
	return f.State.UserContext(ctx, tenant, ids, withUsers)
}

// LookupUserContext fails like GetUser: it is how a userName or externalId
// lookup reads a user.
func (f *faultyState) LookupUserContext(ctx context.Context, tenant string, idx store.Index, value string) (store.UserContext, error) {
	if err := f.fault(); err != nil {
		return store.UserContext{}, err
	}
	return f.State.LookupUserContext(ctx, tenant, idx, value)
}

// TestStoreFailures: an unreachable store is a 503 with Retry-After, any
// other failure (and a panic) a 500; all are SCIM errors that leak nothing.
func TestStoreFailures(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			fs := &faultyState{State: b.open(t)}
			e := newEnv(t, fs)
			id := e.createUser(t, "fail@example.com")
			for _, c := range []struct {
				mode   string
				status int
			}{{"unavailable", 503}, {"boom", 500}, {"panic", 500}} {
				fs.mode.Store(c.mode)
				for _, r := range []*response{
					e.get(t, "/Users/"+id),
					e.patch(t, "/Users/"+id, op("replace", "title", "x")),
					e.get(t, "/Users"+filterQS(`userName eq "fail@example.com"`)),
				} {
					d := mustSCIMError(t, r, c.status, "")
					if strings.Contains(string(r.Raw), "deadbeef") || strings.Contains(string(r.Raw), "10.0.0.1") {
						t.Errorf("%s: %s leaks internals", c.mode, r)
					}
					if c.status == 503 && r.Header.Get("Retry-After") == "" {
						t.Errorf("503 without Retry-After")
					}
					if c.status == 500 && !strings.Contains(d, r.Header.Get("X-Request-Id")) {
						t.Errorf("500 detail %q does not give the request id %q", d, r.Header.Get("X-Request-Id"))
					}
				}
			}
			fs.mode.Store("")
			if r := e.get(t, "/Users/"+id); r.Status != http.StatusOK || jstr(r.Body, "title") != "" {
				t.Fatalf("after failures: %s", r)
			}
			// The observer saw every request, with the status sent.
			var s503, s500, changed int
			for _, ev := range e.events.all() {
				switch ev.Status {
				case 503:
					s503++
				case 500:
					s500++
				}
				if ev.Changed {
					changed++
				}
			}
			if s503 != 3 || s500 != 6 || changed != 1 {
				t.Errorf("events: %d×503, %d×500, %d changed; want 3, 6, 1", s503, s500, changed)
			}
		})
	}
}
