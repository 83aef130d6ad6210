package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/store"
)

// TestErrorCodes: every store error carries its code through wrapping,
// keeps working with errors.Is/As, and gets the SCIM status and scimType
// store.ErrorStatus gave (mapping.SCIMStatus, which replaced it).
func TestErrorCodes(t *testing.T) {
	ce := &store.ConflictError{Attr: "userName", Value: "ada"}
	ue := &store.UnknownMembersError{IDs: []string{"u1", "u2"}}
	for _, c := range []struct {
		err      error
		code     string
		msg      string
		status   int
		scimType string
	}{
		{nil, "", "", 0, ""},
		{store.ErrNotFound, mapping.CodeNotFound, "store: not found", 404, ""},
		{fmt.Errorf("get: %w", store.ErrNotFound), mapping.CodeNotFound, "store: not found", 404, ""},
		{store.ErrVersionMismatch, mapping.CodeConcurrentChange, "store: version mismatch", 409, ""},
		{fmt.Errorf("%w: tenant acme", store.ErrLeaseLost), mapping.CodeConcurrentChange, "store: lease lost", 409, ""},
		{fmt.Errorf("%w: redis: %w", store.ErrUnavailable, errors.New("dial tcp")), mapping.CodeUnavailable, "store: unavailable", 503, ""},
		{fmt.Errorf("op: %w", context.DeadlineExceeded), mapping.CodeUnavailable, "op: context deadline exceeded", 503, ""},
		{fmt.Errorf("create: %w", ce), mapping.CodeConflict, `store: userName "ada" is already taken`, 409, mapping.ScimUniqueness},
		{ue, mapping.CodeInvalid, "store: unknown member ids: u1, u2", 400, mapping.ScimInvalidValue},
		{errors.New("boom"), mapping.CodeInternal, "boom", 500, ""},
		{context.Canceled, mapping.CodeInternal, "context canceled", 500, ""},
		{&mapping.Error{Status: 404, Detail: "no such path"}, mapping.CodeNotFound, "no such path", 404, ""},
		{&mapping.Error{Status: 413, Detail: "too big"}, mapping.CodeInvalid, "too big", 413, ""},
	} {
		if got := mapping.ErrorCode(c.err); got != c.code {
			t.Errorf("ErrorCode(%v) = %q, want %q", c.err, got, c.code)
		}
		if got := mapping.ErrorMessage(c.err); got != c.msg {
			t.Errorf("ErrorMessage(%v) = %q, want %q", c.err, got, c.msg)
		}
		if c.err == nil {
			continue
		}
		if s, st := mapping.SCIMStatus(c.err); s != c.status || st != c.scimType {
			t.Errorf("SCIMStatus(%v) = %d %q, want %d %q", c.err, s, st, c.status, c.scimType)
		}
	}
	var got *store.ConflictError
	if !errors.Is(fmt.Errorf("x: %w", store.ErrNotFound), store.ErrNotFound) || !errors.As(fmt.Errorf("x: %w", ce), &got) || got != ce ||
		errors.Is(store.ErrNotFound, store.ErrUnavailable) {
		t.Error("errors.Is/As no longer tell the store errors apart")
	}
}
