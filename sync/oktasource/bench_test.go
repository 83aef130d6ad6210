package oktasource

import (
	"context"
	"testing"
	"time"

	"github.com/axonflow/axonflow-sync/sync/oktatest"
	"github.com/rs/zerolog"
)

// BenchmarkPull100k pulls an app with 100,000 app users, 2,000 assigned
// groups and 300,000 memberships from the fake (rate limits off, default
// MaxInFlight 4) and reports Okta API calls and pages per pull.
//
//	go test -run '^$' -bench Pull100k -benchtime 1x ./sync/oktasource/
func BenchmarkPull100k(b *testing.B) {
	srv := oktatest.New(oktatest.WithoutRateLimits())
	b.Cleanup(srv.Close)
	start := time.Now()
	res := srv.Seed(oktatest.GenOptions{Users: 100_000, Groups: 2_000, Memberships: 300_000})
	srv.Prewarm()
	b.Logf("seeded %d app users, %d groups, %d memberships in %v", len(res.UserIDs), len(res.GroupIDs), res.Memberships, time.Since(start))
	c, err := New(Config{OrgURL: srv.URL, AppID: res.AppID, APIToken: srv.Token, AllowInsecureHTTP: true}, zerolog.Nop())
	if err != nil {
		b.Fatal(err)
	}
	minCalls := minPullCalls(srv, res.AppID)
	var snap *Snapshot
	for b.Loop() {
		snap, err = c.Pull(context.Background(), PullOptions{})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if len(snap.AppUsers) != 100_000 || len(snap.Groups) != 2_000 {
		b.Fatalf("pulled %d app users, %d groups", len(snap.AppUsers), len(snap.Groups))
	}
	if snap.Stats.APICalls != minCalls {
		b.Fatalf("api calls = %d, want the minimum %d", snap.Stats.APICalls, minCalls)
	}
	b.ReportMetric(float64(snap.Stats.APICalls), "api-calls/op")
	b.ReportMetric(float64(snap.Stats.Pages), "pages/op")
	b.ReportMetric(float64(snap.FinishedAt.Sub(snap.StartedAt).Milliseconds()), "ms/pull")
}

// BenchmarkReadAppUserPage reads and converts a page of 500 expanded app
// users (as TestPageReadAllocations builds it) with the single-pass reader.
//
//	go test -run '^$' -bench ReadAppUserPage -benchmem ./sync/oktasource/
func BenchmarkReadAppUserPage(b *testing.B) {
	body := appUserPage(500)
	b.SetBytes(int64(len(body)))
	var v slimAppUser
	for b.Loop() {
		if err := readPage(body, func(s *scanner, null bool) error {
			if err := readAppUser(s, &v); err != nil {
				return err
			}
			_, err := convertSlimAppUser(&v, true, false)
			return err
		}); err != nil {
			b.Fatal(err)
		}
	}
}
