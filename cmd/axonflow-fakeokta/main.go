// Command axonflow-fakeokta runs the fake Okta Management API of
// sync/oktatest on loopback with a generated org, so an operator can try
// `axonflow-sync reconcile` (and the schedule and admin API) without a real
// Okta org. It writes a ready axonflow-sync YAML configuration pointing at
// itself and serves until interrupted. For local trials only: it listens on
// 127.0.0.1 and accepts one fixed SSWS token.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/axonflow/axonflow-sync/sync/oktatest"
)

func main() {
	os.Exit(run())
}

func run() int {
	fs := flag.NewFlagSet("axonflow-fakeokta", flag.ContinueOnError)
	tenant := fs.String("tenant", "acme", "the axonflow-sync tenant the written configuration reconciles")
	users := fs.Int("users", 20, "app users to generate")
	groups := fs.Int("groups", 3, "groups to generate (all assigned to the app)")
	memberships := fs.Int("memberships", 30, "group memberships to generate")
	out := fs.String("config-out", "fakeokta.yaml", "where to write the axonflow-sync configuration")
	if err := fs.Parse(os.Args[1:]); err != nil {
		return 2
	}
	srv := oktatest.New(oktatest.WithoutRateLimits())
	defer srv.Close()
	res := srv.Seed(oktatest.GenOptions{Users: *users, Groups: *groups, Memberships: *memberships})
	cfg := fmt.Sprintf(`# Written by axonflow-fakeokta: a fake Okta org on %s (for local trials).
tenants:
  %s:
    okta:
      orgURL: %s
      appID: %s
      apiToken: %s
      allowInsecureHTTP: true
    reconcile: {mode: report, maxChanges: 1000, maxChangePercent: 100}
`, srv.URL, *tenant, srv.URL, res.AppID, srv.Token)
	if err := os.WriteFile(*out, []byte(cfg), 0o600); err != nil {
		fmt.Fprintf(os.Stderr, "axonflow-fakeokta: %v\n", err)
		return 1
	}
	fmt.Printf("fake Okta org at %s: app %s, %d app users, %d groups, %d memberships\n",
		srv.URL, res.AppID, len(res.UserIDs), len(res.GroupIDs), res.Memberships)
	fmt.Printf("configuration written to %s; try:\n  axonflow-sync reconcile --config %s --tenant %s\n", *out, *out, *tenant)
	fmt.Println("serving until Ctrl-C")
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	<-stop
	return 0
}
