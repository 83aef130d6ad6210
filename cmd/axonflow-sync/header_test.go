package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/axonflow/axonflow-sync/internal/admin"
	"github.com/axonflow/axonflow-sync/store"
)

// TestLogTableHeader: the table's header is columns (its tabs aligned by
// the tabwriter), not escaped text, while an entry's untrusted text is
// still escaped.
func TestLogTableHeader(t *testing.T) {
	var b bytes.Buffer
	writeLogTable(&b, admin.LogResult{Tenant: "acme", Entries: []store.LogEntry{{Time: time.Unix(0, 0), Actor: store.ActorOperator,
		ActorID: "admin-api", OperatorClaim: "eve\x1b[2J", Operation: "create_token", Status: 201}}})
	out := b.String()
	if !strings.HasPrefix(out, "TIME  ") || strings.Contains(out, `\x09`) {
		t.Fatalf("header not aligned:\n%s", out)
	}
	if strings.Contains(out, "\x1b") || !strings.Contains(out, "admin-api (claims eve") {
		t.Fatalf("the operator claim is printed raw or missing:\n%q", out)
	}
}
