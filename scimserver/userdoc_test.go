package scimserver_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/scimserver"
	"github.com/axonflow/axonflow-sync/store"
	"github.com/axonflow/axonflow-sync/store/redisstore"
)

// plainState hides every optional interface of the store it holds (a
// State and nothing else): the server reads users as it does without
// store.UserDocs.
type plainState struct{ store.State }

// TestGetUserDocMatchesDecoded: on both stores, GET /Users/{id} renders the
// user from its stored document (store.UserDocs, mapping.UserDoc); the
// same requests to a server on the same store without UserDocs (users
// decoded, then encoded) must get the same status, headers and bytes,
// and report the same events: for varied users (unicode, escapes,
// HTML-sensitive characters, the enterprise extension, groups, mapped,
// manual and default roles, HEAD), for documents that UserDoc does not
// copy (keys out of order, white space: decoded instead) and for one that
// does not decode (the same error), and for an unknown id.
func TestGetUserDocMatchesDecoded(t *testing.T) {
	t.Run("redis", func(t *testing.T) {
		st := openRedis(t).(*redisstore.Store)
		testGetUserDoc(t, st, func(tenant, id, doc string) error {
			return st.Client().HSet(context.Background(), "t:{"+tenant+"}:user:"+id, "doc", doc).Err()
		})
	})
	t.Run("sqlite", func(t *testing.T) {
		st := openSQLite(t)
		path, _ := sqlitePaths.Load(st)
		db, err := sql.Open("sqlite", path.(string))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		testGetUserDoc(t, st, func(tenant, id, doc string) error {
			res, err := db.Exec(`UPDATE scim_users SET doc = ? WHERE tenant = ? AND id = ?`, doc, tenant, id)
			if n, _ := res.RowsAffected(); err == nil && n != 1 {
				err = fmt.Errorf("%d rows updated", n)
			}
			return err
		})
	})
}

// testGetUserDoc is TestGetUserDocMatchesDecoded on st; setDoc replaces a
// user's stored document with raw bytes.
func testGetUserDoc(t *testing.T, st store.State, setDoc func(tenant, id, doc string) error) {
	ctx := context.Background()
	rec := store.Logged(st, nil)
	if _, ok := rec.(store.UserDocs); !ok {
		t.Fatalf("a Logged %T does not have UserDocs", st)
	}
	const ext = "https://scim.example.com" // the same base URL from both servers
	fast := newEnv(t, rec, func(o *scimserver.Options) { o.ExternalURL = ext })
	slow := *fast
	slow.events = &eventLog{}
	slowSrv := httptest.NewServer(scimserver.New(scimserver.Options{Store: plainState{rec}, Now: fast.clock.Now, Observer: slow.events, ExternalURL: ext}))
	t.Cleanup(slowSrv.Close)
	slow.srv, slow.base, slow.client = slowSrv, slowSrv.URL+scimserver.BasePath, slowSrv.Client()

	ent := map[string]any{"employeeNumber": "42", "manager": map[string]any{"value": "m-1", "displayName": "Bö <ss> & \"co\""}}
	ids := []string{
		fast.createUser(t, "ada@example.com"),
		fast.createUser(t, "ünïcödé+日本😀@example.com", map[string]any{"displayName": "A <b> & \"c\" \\ é", "nickName": "</script>"}),
		fast.createUser(t, "ext@example.com", map[string]any{mapping.SchemaEnterpriseUser: ent,
			"schemas": []any{mapping.SchemaUser, mapping.SchemaEnterpriseUser}}),
		fast.createUser(t, "empty-ext@example.com", map[string]any{mapping.SchemaEnterpriseUser: map[string]any{}}),
		fast.createUser(t, "inactive@example.com", map[string]any{"active": false, "title": "x", "phoneNumbers": []any{map[string]any{"value": "+1 555", "type": "work"}}}),
		fast.createUser(t, "bare@example.com", map[string]any{"active": nil, "name": nil, "emails": nil, "groups": nil, "locale": nil, "displayName": nil}),
	}
	admins := fast.createGroup(t, "Admins & <Ops>", ids[0], ids[1], ids[2])
	fast.createGroup(t, "Ünïcödé 日本", ids[1])
	if err := st.PutRoleMapping(ctx, fast.tenant, mapping.RoleMapping{Group: admins, Role: mapping.RoleAdmin, Source: mapping.SourceAPI}); err != nil {
		t.Fatal(err)
	}
	if err := st.AssignRole(ctx, fast.tenant, ids[3], mapping.RoleDeveloper, mapping.SourceManual); err != nil {
		t.Fatal(err)
	}
	if err := st.SetDefaultRole(ctx, fast.tenant, mapping.RoleViewer); err != nil {
		t.Fatal(err)
	}
	// Documents written by something other than encoding/json.
	unsorted := fast.createUser(t, "unsorted@example.com")
	spaced := fast.createUser(t, "spaced@example.com")
	broken := fast.createUser(t, "broken@example.com")
	marshalled := fast.createUser(t, "marshalled@example.com")
	mdoc, err := json.Marshal(map[string]any{"userName": "m\u2028@example.com", "displayName": "\t\u2029\x01<&>\xff", "x": json.Number("1.50"),
		"y": []any{1.5, nil, map[string]any{"b": "\u00e9", "a": []any{}}}})
	if err != nil {
		t.Fatal(err)
	}
	for id, doc := range map[string]string{
		marshalled: string(mdoc),
		unsorted:   `{"userName":"unsorted@example.com","active":true,"displayName":"\u003cU\u003e","userName":"dup@example.com"}`,
		spaced:     " {\n \"active\" : false , \"userName\" : \"spaced@example.com\" }\n",
		broken:     `{"userName":"broken@example.com",`,
	} {
		if err := setDoc(fast.tenant, id, doc); err != nil {
			t.Fatal(err)
		}
	}
	ids = append(ids, marshalled, unsorted, spaced, broken, "no-such-user")

	for _, id := range ids {
		for _, method := range []string{http.MethodGet, http.MethodHead} {
			rid := "req-" + id
			a := fast.do(t, method, "/Users/"+id, nil, withHeader("X-Request-Id", rid))
			b := slow.do(t, method, "/Users/"+id, nil, withHeader("X-Request-Id", rid))
			a.Header.Del("Date")
			b.Header.Del("Date")
			if a.Status != b.Status || string(a.Raw) != string(b.Raw) || !reflect.DeepEqual(a.Header, b.Header) {
				t.Errorf("%s %s:\n UserDoc %d %v %s\n decoded %d %v %s", method, id, a.Status, a.Header, a.Raw, b.Status, b.Header, b.Raw)
			}
		}
	}
	fe, se := fast.events.all(), slow.events.all()
	if len(fe) < 2*len(ids) || len(se) != 2*len(ids) {
		t.Fatalf("%d and %d events for %d requests", len(fe), len(se), 2*len(ids))
	}
	fe = fe[len(fe)-len(se):] // after the creates
	for i := range se {
		fe[i].Duration, se[i].Duration = 0, 0
		if !reflect.DeepEqual(fe[i], se[i]) {
			t.Errorf("event %d:\n UserDoc %+v\n decoded %+v", i, fe[i], se[i])
		}
	}
	if fe[2*(len(ids)-2)].Status != http.StatusInternalServerError && fe[2*(len(ids)-2)].Status != http.StatusServiceUnavailable {
		t.Errorf("the broken document: %+v", fe[2*(len(ids)-2)])
	}
	if got := fmt.Sprint(fe[0].Name, fe[2*(len(ids)-4)].Name); got != "ada@example.comdup@example.com" {
		t.Errorf("names %q", got)
	}
}

// withHeader sets the request header k to v.
func withHeader(k, v string) reqOpt {
	return func(r *http.Request) { r.Header.Set(k, v) }
}
