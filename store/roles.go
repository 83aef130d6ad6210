package store

import (
	"errors"
	"fmt"

	"github.com/axonflow/axonflow-sync/mapping"
)

// CheckAssignment is the check every backend's AssignRole makes before it
// writes: role not empty and source mapping.SourceManual or
// mapping.SourceAPI (scim and default roles are derived, never stored). It
// returns a plain error (a caller's bug, not a store condition).
func CheckAssignment(role, source string) error {
	if role == "" {
		return errors.New("store: empty role")
	}
	if !mapping.ValidAssignmentSource(source) {
		return fmt.Errorf("store: role source %q cannot be stored (want %s or %s)", source, mapping.SourceManual, mapping.SourceAPI)
	}
	return nil
}
