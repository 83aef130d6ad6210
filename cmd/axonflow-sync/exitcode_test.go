package main

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/axonflow/axonflow-sync/internal/admin"
	"github.com/axonflow/axonflow-sync/store"
)

// TestExitCode: the CLI's table of exit codes: a rejected value is a usage
// error (2), everything else 1 (README: exit codes).
func TestExitCode(t *testing.T) {
	for _, c := range []struct {
		err  error
		want int
	}{
		{admin.Invalid("bad role"), exitConfig},
		{&store.UnknownMembersError{IDs: []string{"u"}}, exitConfig},
		{&admin.APIError{Status: 404, Code: admin.CodeNotFound, Message: "no user"}, exitFail},
		{&admin.APIError{Status: 409, Code: admin.CodeConflict, Message: "expired"}, exitFail},
		{fmt.Errorf("x: %w", store.ErrNotFound), exitFail},
		{fmt.Errorf("x: %w", store.ErrUnavailable), exitFail},
		{context.DeadlineExceeded, exitFail},
		{errors.New("boom"), exitFail},
	} {
		if got := exitCode(c.err); got != c.want {
			t.Errorf("exitCode(%v) = %d, want %d", c.err, got, c.want)
		}
	}
}
