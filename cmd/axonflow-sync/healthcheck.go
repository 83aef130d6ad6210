package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"time"
)

// healthcheck is the container health check: it asks the admin listener's
// /readyz (or --url) and exits 0 when it answers 200 within --timeout, 1
// otherwise. It uses the same configuration as serve, so the address
// follows AXONFLOW_SYNC_ADMIN_LISTEN; a wildcard host (0.0.0.0, ::, "") is
// probed on loopback.
func (e env) healthcheck(ctx context.Context, args []string) int {
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	url := fs.String("url", "", "URL to probe (default: http://<admin listener>/readyz)")
	timeout := fs.Duration("timeout", 3*time.Second, "how long to wait for the answer")
	cfg, ok := e.parse(fs, args)
	if !ok {
		return exitConfig
	}
	target := *url
	if target == "" {
		host, port, err := net.SplitHostPort(cfg.AdminListen)
		if err != nil {
			fmt.Fprintf(e.stderr, "healthcheck: adminListen %q: %v\n", cfg.AdminListen, err)
			return exitConfig
		}
		if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
			host = "127.0.0.1"
		}
		target = "http://" + net.JoinHostPort(host, port) + "/readyz"
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		fmt.Fprintf(e.stderr, "healthcheck: %v\n", err)
		return exitConfig
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintf(e.stderr, "healthcheck: %s: %v\n", target, err)
		return exitFail
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(e.stderr, "healthcheck: %s answered %s\n", target, resp.Status)
		return exitFail
	}
	fmt.Fprintf(e.stdout, "ok %s\n", target)
	return exitOK
}
