package sync

import (
	"context"
	"reflect"
	"testing"

	"github.com/rs/zerolog"

	"github.com/axonflow/axonflow-sync/sync/oktasource"
	"github.com/axonflow/axonflow-sync/sync/oktatest"
)

// TestPullDesiredEqualsBuildDesired: the desired state built while the app
// users are read (PullDesired, the reconciler's path) is the one
// BuildDesired builds from a complete snapshot, with member ids only or full
// members, and a failed pull returns nothing.
func TestPullDesiredEqualsBuildDesired(t *testing.T) {
	srv := oktatest.New(oktatest.WithoutRateLimits())
	t.Cleanup(srv.Close)
	res := srv.Seed(oktatest.GenOptions{Users: 1234, Groups: 17, Memberships: 2500})
	c, err := oktasource.New(oktasource.Config{OrgURL: srv.URL, AppID: res.AppID, APIToken: srv.Token,
		AllowInsecureHTTP: true, ExpandAppUsers: true}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	snap, err := c.Pull(ctx, oktasource.PullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := BuildDesired(snap)
	if len(want.Users) != 1234 || len(want.Groups) != 17 {
		t.Fatalf("built %d users, %d groups", len(want.Users), len(want.Groups))
	}
	for _, idsOnly := range []bool{true, false} {
		got, err := PullDesired(ctx, c, oktasource.PullOptions{MemberIDsOnly: idsOnly})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("MemberIDsOnly %v: PullDesired differs from BuildDesired(Pull)", idsOnly)
		}
	}
	remove := srv.RewriteItems(oktatest.RouteAppUsers, func(item []byte) []byte { return []byte("null") })
	defer remove()
	if d, err := PullDesired(ctx, c, oktasource.PullOptions{MemberIDsOnly: true}); err == nil || d != nil {
		t.Errorf("pull of null items: desired %v, error %v; want nothing and an error", d != nil, err)
	}
}
