package oktasource

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"
)

// PullOptions selects what Pull reads besides the app's own assignments.
type PullOptions struct {
	// PushGroups are extra groups whose members are read: Okta group ids
	// ("00g" + 17 characters) or exact group names (matched ignoring case;
	// a name matching no group or several groups fails the pull).
	PushGroups []string
	// MemberIDsOnly fills Snapshot.MemberIDs instead of Snapshot.Members,
	// for callers that only need who is a member: 16 bytes per membership
	// instead of a Member (96) and its strings.
	MemberIDsOnly bool
}

// Snapshot is a complete read of one Okta app: it only exists when Pull
// returned a nil error.
type Snapshot struct {
	AppID string
	// AppUsers are all app users (direct and group-scoped), sorted by id.
	AppUsers []AppUser
	// Groups are the groups in scope (assigned to the app, then push-only
	// groups), sorted by id.
	Groups []Group
	// Members maps every id in Groups to its members sorted by id (an empty,
	// non-nil slice for an empty group); nil with PullOptions.MemberIDsOnly.
	Members map[string][]Member
	// MemberIDs maps every id in Groups to its members' Okta ids, sorted,
	// with PullOptions.MemberIDsOnly (an empty, non-nil slice for an empty
	// group); nil otherwise.
	MemberIDs map[string][]string
	// Stats is the Okta traffic of this pull (exact when no other call uses
	// the Client at the same time).
	Stats      Stats
	StartedAt  time.Time
	FinishedAt time.Time
}

// Pull reads the app users, the app's group assignments, the push groups and
// the members of every group in scope, and returns them only if every read
// completed. Group members are fetched concurrently (Config.MaxInFlight
// requests at most, across everything the Client does); the first failure
// cancels the rest.
//
// On failure Pull returns a nil Snapshot and an error wrapping
// *IncompleteError, never a partial snapshot.
// Okta calls: ceil(appUsers/500) + ceil(appGroups/200) + Σ ceil(members/200)
// per group (at least 1) + one per push group given by id, one or more per
// push group given by name.
func (c *Client) Pull(ctx context.Context, opts PullOptions) (*Snapshot, error) {
	snap, users, err := PullAs(ctx, c, opts, keepAppUser, appUserID)
	if err != nil {
		return nil, err
	}
	snap.AppUsers = users
	return snap, nil
}

// PullAs is Pull for callers that keep their own form of each app user: conv
// converts every app user as its page is read (id returns a converted
// user's Okta id), and the converted users are returned sorted by id,
// repeated ids dropped, as Snapshot.AppUsers would be (which stays nil), so
// that the AppUsers and their converted copies are never held at once. As
// with Pull, nothing is returned on failure.
func PullAs[U any](ctx context.Context, c *Client, opts PullOptions, conv func(AppUser) U, id func(U) string) (*Snapshot, []U, error) {
	start := time.Now()
	before := c.Stats()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
		appUsers []U
		groups   []Group
		members  = map[string][]Member{}
		ids      = map[string][]string{}
	)
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if firstErr == nil {
			firstErr = err
			cancel()
		}
	}

	wg.Go(func() {
		u, err := listAppUsers(ctx, c, false, conv, id)
		if err != nil {
			fail(err)
			return
		}
		appUsers = u
	})

	wg.Go(func() {
		gs, err := c.groupsInScope(ctx, opts.PushGroups)
		if err != nil {
			fail(err)
			return
		}
		groups = gs
		jobs := make(chan string)
		var workers sync.WaitGroup
		for range min(c.cfg.MaxInFlight, len(gs)) {
			workers.Go(func() {
				for id := range jobs {
					if opts.MemberIDsOnly {
						ms, err := c.listGroupMemberIDs(ctx, id)
						if err != nil {
							fail(err)
							continue
						}
						if ms == nil {
							ms = []string{}
						}
						mu.Lock()
						ids[id] = ms
						mu.Unlock()
						continue
					}
					ms, err := c.listGroupMembers(ctx, id, true)
					if err != nil {
						fail(err)
						continue
					}
					if ms == nil {
						ms = []Member{}
					}
					mu.Lock()
					members[id] = ms
					mu.Unlock()
				}
			})
		}
	feed:
		for _, g := range gs {
			select {
			case jobs <- g.ID:
			case <-ctx.Done():
				break feed
			}
		}
		close(jobs)
		workers.Wait()
	})
	wg.Wait()

	if firstErr == nil && ctx.Err() != nil {
		firstErr = &IncompleteError{Listing: "pull of app " + c.cfg.AppID, Reason: ReasonCanceled, Err: ctx.Err()}
	}
	if firstErr == nil && len(members)+len(ids) != len(groups) {
		firstErr = &IncompleteError{Listing: "pull of app " + c.cfg.AppID, Reason: ReasonBadResponse,
			Err: errors.New("members missing for some groups")}
	}
	stats := c.Stats().Sub(before)
	if firstErr != nil {
		c.log.Warn().Err(firstErr).Int64("api_calls", stats.APICalls).Dur("took", time.Since(start)).
			Msg("okta pull incomplete; discarding it")
		return nil, nil, firstErr
	}
	if opts.MemberIDsOnly {
		members = nil
	} else {
		ids = nil
	}
	snap := &Snapshot{AppID: c.cfg.AppID, Groups: groups, Members: members, MemberIDs: ids,
		Stats: stats, StartedAt: start, FinishedAt: time.Now()}
	c.log.Info().Int("app_users", len(appUsers)).Int("groups", len(groups)).Int64("api_calls", stats.APICalls).
		Int64("pages", stats.Pages).Int64("retries", stats.Retries).Int64("rate_limited", stats.RateLimited).
		Int64("throttle_waits", stats.ThrottleWaits).Dur("throttle_wait", stats.ThrottleWait).
		Dur("took", snap.FinishedAt.Sub(start)).Msg("okta pull complete")
	return snap, appUsers, nil
}

// groupsInScope returns the app's groups plus the resolved push groups,
// deduplicated by id and sorted by id.
func (c *Client) groupsInScope(ctx context.Context, push []string) ([]Group, error) {
	appGroups, err := c.ListAppGroups(ctx)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]int, len(appGroups))
	out := appGroups
	for i, g := range out {
		byID[g.ID] = i
	}
	seen := map[string]bool{}
	for _, ref := range push {
		ref = strings.TrimSpace(ref)
		if ref == "" || seen[strings.ToLower(ref)] {
			continue
		}
		seen[strings.ToLower(ref)] = true
		var g *Group
		if i, ok := byID[ref]; ok {
			out[i].Pushed = true
			continue
		}
		if groupIDRE.MatchString(ref) {
			g, err = c.GetGroup(ctx, ref)
		} else {
			g, err = c.FindGroupByName(ctx, ref)
		}
		if err != nil {
			return nil, err
		}
		if i, ok := byID[g.ID]; ok {
			out[i].Pushed = true
			continue
		}
		g.Source, g.Pushed = SourcePush, true
		byID[g.ID] = len(out)
		out = append(out, *g)
	}
	slices.SortFunc(out, func(a, b Group) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}
