package scimserver

import (
	"encoding/json"
	"strings"

	"github.com/axonflow/axonflow-sync/mapping"
)

// What a request changed, for the Event (metrics, and the rejected
// requests' provisioning log entries; accepted changes are recorded by the
// store with the change, see store.Logged): the helpers below never fail a
// request; when a read they need fails, the event simply carries less.

// nameFromBody returns the string value of the top-level attribute attr
// (case-insensitive) of a JSON body that failed validation, so a rejected
// create can still be found by its userName or displayName; "" when there
// is none.
func nameFromBody(body []byte, attr string) string {
	var m map[string]any
	if json.Unmarshal(body, &m) != nil {
		return ""
	}
	for k, v := range m {
		if strings.EqualFold(k, attr) {
			if s, ok := v.(string); ok && len(s) <= 2048 {
				return s
			}
		}
	}
	return ""
}

// createdGroupChanges is what a group create changed: its attributes and
// its initial members.
func createdGroupChanges(attrs mapping.Attrs, members []string) []mapping.AttrChange {
	out := mapping.DiffAttrs(nil, attrs)
	if c, ok := mapping.MemberChange(members, nil); ok {
		out = append(out, c)
	}
	return out
}
