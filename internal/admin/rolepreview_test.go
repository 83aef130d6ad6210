package admin_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/axonflow/axonflow-sync/internal/admin"
	"github.com/axonflow/axonflow-sync/mapping"
)

// TestPreviewRoleMapping: the preview names exactly who gains and loses
// which role, matches what MapRole then does, and writes nothing.
func TestPreviewRoleMapping(t *testing.T) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			f := newRoleFixture(t, open(t))
			ann, bob := f.user("ann"), f.user("bob")
			f.user("carl")
			f.group("Admins", ann, bob)
			if _, err := admin.AssignRole(f.ctx, f.st, f.tenant, bob, "admin", ""); err != nil {
				t.Fatal(err)
			}
			m := mapping.RoleMapping{Group: "admins", ByName: true, Role: "admin"}
			p, err := admin.PreviewRoleMapping(f.ctx, f.st, f.tenant, m, false)
			if err != nil {
				t.Fatal(err)
			}
			// ann: viewer (default) → admin; bob already has admin (manual): no change of names.
			want := []admin.RoleChange{{UserID: ann, UserName: "ann@example.com", Gains: []string{"admin"}, Loses: []string{"viewer"}}}
			if p.Members != 2 || !reflect.DeepEqual(p.Changes, want) {
				t.Fatalf("preview = %+v; want members 2, changes %+v", p, want)
			}
			f.wantRoles("ann", "viewer/default") // nothing written
			res, err := admin.MapRole(f.ctx, f.st, f.tenant, m, time.Now())
			if err != nil || res.UsersUpdated != len(p.Changes) {
				t.Fatalf("MapRole = %+v, %v; preview said %d", res, err, len(p.Changes))
			}
			p, err = admin.PreviewRoleMapping(f.ctx, f.st, f.tenant, m, true)
			if err != nil || p.Replaces != "admin" || len(p.Changes) != 1 || p.Changes[0].Loses[0] != "admin" {
				t.Fatalf("unmap preview = %+v, %v", p, err)
			}
			if _, err := admin.PreviewRoleMapping(f.ctx, f.st, f.tenant, mapping.RoleMapping{Group: "nobody", ByName: true}, true); err == nil {
				t.Error("unmapping a group without a mapping: no error")
			}
			if _, err := admin.PreviewRoleMapping(f.ctx, f.st, f.tenant, mapping.RoleMapping{Group: "x", ByName: true, Role: "emperor"}, false); err == nil {
				t.Error("unknown role: no error")
			}
		})
	}
}
