package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// The stack floor (--floor, spawn mode, Redis store): a second server, this
// binary run as "axonflow-bench __floor-server", that answers
// GET /scim/v2/Users/{id} with the Redis work of axonflow-sync's GET once
// its token is verified from the in-process cache, and nothing else: ONE
// round trip, the pipeline of the user-context read on the same keys
// (HMGET of the user record, SMEMBERS of its groups, HGETALL of the role
// mappings, GET of the default role, SMEMBERS of its roles: the commands of
// redisstore's UserContext), on net/http's ServeMux and go-redis with their
// defaults, and then a canned body: the bytes the real server returned for
// one of the users. No authentication logic (a request without an
// Authorization header is refused, nothing else is checked), decoding,
// rendering, JSON, logging or metrics. Driven like the get phase (same
// generator, connections, CPU layout and duration), it shows what this
// stack reaches on this machine before the server does any work of its
// own: the floor under the server's cost per request and the ceiling above
// its throughput, measured rather than assumed.
const floorCommand = "__floor-server"

// floorFlags are what the benchmark passes to the floor server.
type floorFlags struct {
	listen, redisURL, keyBase, bodyFile string
}

// floorMain runs the floor server until SIGTERM/SIGKILL (its parent stops
// it). It returns the process exit code.
func floorMain(args []string, stderr io.Writer) int {
	var f floorFlags
	fs := flag.NewFlagSet(floorCommand, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.listen, "listen", "", "address")
	fs.StringVar(&f.redisURL, "redis-url", "", "Redis URL")
	fs.StringVar(&f.keyBase, "key-base", "", `tenant key prefix, e.g. "t:{bench}:"`)
	fs.StringVar(&f.bodyFile, "body-file", "", "the response body")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	body, err := os.ReadFile(f.bodyFile)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitFail
	}
	ro, err := redis.ParseURL(f.redisURL)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitFail
	}
	rc := redis.NewClient(ro)
	userFields := []string{"doc", "origin", "created", "lm", "v"}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /scim/v2/Users/{id}", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if r.Header.Get("Authorization") == "" {
			http.Error(w, "no token", http.StatusUnauthorized)
			return
		}
		id := r.PathValue("id")
		p := rc.Pipeline()
		user := p.HMGet(ctx, f.keyBase+"user:"+id, userFields...)
		p.SMembers(ctx, f.keyBase+"memberof:"+id)
		p.HGetAll(ctx, f.keyBase+"roles:mappings")
		p.Get(ctx, f.keyBase+"roles:default")
		p.SMembers(ctx, f.keyBase+"roles:user:"+id)
		if _, err := p.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		if v := user.Val(); len(v) == 0 || v[0] == nil {
			http.Error(w, "no such user", http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/scim+json")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {})
	srv := &http.Server{Addr: f.listen, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	if err := srv.ListenAndServe(); err != nil {
		fmt.Fprintln(stderr, err)
		return exitFail
	}
	return exitOK
}

// startFloor starts the floor server on a free port, on cpus, and waits
// until it answers; body is what it returns for every existing user.
func startFloor(ctx context.Context, dir string, f floorFlags, body []byte, cpus []int) (*child, string, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, "", err
	}
	port, err := freePort()
	if err != nil {
		return nil, "", err
	}
	f.listen = "127.0.0.1:" + strconv.Itoa(port)
	f.bodyFile = dir + "/floor-body.json"
	if err := os.WriteFile(f.bodyFile, body, 0o600); err != nil {
		return nil, "", err
	}
	cmd := exec.Command(self, floorCommand, "--listen", f.listen, "--redis-url", f.redisURL,
		"--key-base", f.keyBase, "--body-file", f.bodyFile)
	cmd.Env = serverEnv()
	c, err := startChild("floor server", cmd, "", cpus)
	if err != nil {
		return nil, "", err
	}
	if err := waitFor(ctx, c, 10*time.Second, func() error {
		conn, err := net.DialTimeout("tcp", f.listen, 200*time.Millisecond)
		if err == nil {
			conn.Close()
		}
		return err
	}); err != nil {
		c.stop(time.Second)
		return nil, "", err
	}
	return c, "http://" + f.listen + "/scim/v2", nil
}

// floorPhase drives the floor server like the get phase drives the real
// one and returns its row ("get (stack floor)").
func (b *bench) floorPhase(ctx context.Context, dir string, f floorFlags) (*phaseResult, error) {
	// The body the real server returns for a user, so the floor sends as
	// many bytes.
	r, err := b.c.do(ctx, http.MethodGet, "/Users/"+b.users[0].id, nil, true)
	if err != nil || r.status != http.StatusOK {
		return nil, fmt.Errorf("floor: reading a user's GET body: status %d: %v", r.status, err)
	}
	c, url, err := startFloor(ctx, dir, f, r.body, b.layout.Server)
	if err != nil {
		return nil, fmt.Errorf("floor server: %w", err)
	}
	defer c.stop(5 * time.Second)
	fc, err := newSCIMClient(url, b.opt.token, b.opt.conns)
	if err != nil {
		return nil, err
	}
	realClient, realPid, realProf := b.c, b.serverPid, b.prof
	b.c, b.serverPid, b.prof = fc, c.pid(), nil
	defer func() { b.c, b.serverPid, b.prof = realClient, realPid, realProf }()
	return b.measure(ctx, phaseSpec{
		name:    floorPhaseName,
		request: "GET /Users/{id} on the stack floor: net/http + go-redis, one round trip (the user-context pipeline), a canned body of get's size",
		op: func(ctx context.Context, w int, r *rand.Rand, n int) outcome {
			return is(http.StatusOK)(b.c.do(ctx, http.MethodGet, "/Users/"+b.pick(r).id, nil, false))
		},
	})
}

// floorPhaseName is the floor's row in the report.
const floorPhaseName = "get (stack floor)"
