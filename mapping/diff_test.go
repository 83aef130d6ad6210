package mapping_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/axonflow/axonflow-sync/mapping"
)

func TestDiffAttrs(t *testing.T) {
	ent := mapping.SchemaEnterpriseUser
	before := mapping.Attrs{
		"userName": "ada@example.com",
		"active":   true,
		"name":     map[string]any{"givenName": "Ada", "familyName": "Okafor"},
		"emails":   []any{map[string]any{"value": "ada@example.com", "type": "work"}},
		"title":    "Engineer",
		ent:        map[string]any{"department": "R&D", "manager": map[string]any{"value": "m1"}},
	}
	after := mapping.Attrs{
		"userName": "ada@example.com",
		"active":   false,
		"name":     map[string]any{"givenName": "Adah", "familyName": "Okafor", "middleName": "B"},
		"emails":   []any{map[string]any{"value": "ada@corp.example", "type": "work"}},
		ent:        map[string]any{"department": "Research", "manager": map[string]any{"value": "m2"}},
		"password": "S3cret!", // never reported, even if a caller leaves one in
	}
	got := mapping.DiffAttrs(before, after)
	want := []mapping.AttrChange{
		{Attr: "active", Before: true, After: false},
		{Attr: "emails", Before: before["emails"], After: after["emails"]},
		{Attr: "name.givenName", Before: "Ada", After: "Adah"},
		{Attr: "name.middleName", After: "B"},
		{Attr: "title", Before: "Engineer"},
		{Attr: ent + ":department", Before: "R&D", After: "Research"},
		{Attr: ent + ":manager.value", Before: "m1", After: "m2"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("DiffAttrs:\n got %#v\nwant %#v", got, want)
	}
	if op := mapping.ActiveChange(got); op != "deactivate" {
		t.Errorf("ActiveChange = %q; want deactivate", op)
	}
	if op := mapping.ActiveChange(mapping.DiffAttrs(after, before)); op != "reactivate" {
		t.Errorf("ActiveChange back = %q; want reactivate", op)
	}
	if d := mapping.DiffAttrs(before, before.Clone()); len(d) != 0 {
		t.Errorf("DiffAttrs(x, x) = %v; want none", d)
	}
	b, _ := json.Marshal(got)
	if strings.Contains(string(b), "S3cret") {
		t.Errorf("password leaked: %s", b)
	}

	// Create and delete: everything from or to nothing, complex values by sub-attribute.
	created := mapping.DiffAttrs(nil, mapping.Attrs{"userName": "x", "name": map[string]any{"givenName": "X"}})
	wantCreated := []mapping.AttrChange{{Attr: "name.givenName", After: "X"}, {Attr: "userName", After: "x"}}
	if !reflect.DeepEqual(created, wantCreated) {
		t.Errorf("create diff = %#v; want %#v", created, wantCreated)
	}
	deleted := mapping.DiffAttrs(mapping.Attrs{"displayName": "G"}, nil)
	if want := []mapping.AttrChange{{Attr: "displayName", Before: "G"}}; !reflect.DeepEqual(deleted, want) {
		t.Errorf("delete diff = %#v; want %#v", deleted, want)
	}
}

func TestMemberChange(t *testing.T) {
	if _, ok := mapping.MemberChange(nil, nil); ok {
		t.Error("MemberChange(nil, nil) reported a change")
	}
	var many []string
	for i := range 250 {
		many = append(many, fmt.Sprintf("u%d", i))
	}
	c, ok := mapping.MemberChange(many, []string{"x"})
	if !ok || c.Attr != "members" || len(c.Added) != mapping.MaxListedMembers || c.AddedCount != 250 ||
		!reflect.DeepEqual(c.Removed, []string{"x"}) || c.RemovedCount != 1 {
		t.Errorf("MemberChange = %+v", c)
	}
}
