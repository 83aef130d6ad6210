package scimserver

import (
	"context"
	"fmt"

	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/store"
)

// scanPage is how many resources a filter scan reads per store call.
const scanPage = 500

// window keeps, of the matches a filter scan finds in order, only those
// on the requested page (0-based [from, to)) and counts them all, so a
// scan holds one store page and one response page, never the tenant.
type window[T any] struct {
	from, to, total int
	items           []T
}

func newWindow[T any](p listParams) *window[T] {
	from := p.startIndex - 1
	return &window[T]{from: from, to: from + p.count}
}

// add records the next match.
func (w *window[T]) add(x T) {
	if w.total >= w.from && w.total < w.to {
		w.items = append(w.items, x)
	}
	w.total++
}

// scanTenant reads a tenant's users or groups (list: store.State.ListUsers
// or ListGroups) in creation order, scanPage at a time, and calls each
// with every page. A tenant holding more than max records is refused
// with 400 tooMany on the first page, before anything is matched, so one
// request never costs more than max records read and rendered.
func scanTenant[T any](ctx context.Context, list func(ctx context.Context, off, n int) (store.Page[T], error),
	max int, kind, filter string, each func([]T) error) error {
	for off := 0; ; off += scanPage {
		page, err := list(ctx, off, scanPage)
		if err != nil {
			return err
		}
		if off == 0 && page.Total > max {
			return &mapping.Error{Status: 400, ScimType: mapping.ScimTooMany, Detail: fmt.Sprintf(
				"filter %q is not an indexed eq (userName, externalId, displayName or id) and would scan the tenant's %d %s, more than the %d one request may scan: filter with an indexed eq, or page without a filter",
				filter, page.Total, kind, max)}
		}
		if err := each(page.Items); err != nil {
			return err
		}
		if len(page.Items) < scanPage || off+len(page.Items) >= max {
			return nil
		}
	}
}
