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
// round trip, the user-context read as a read-only script (EVALSHA_RO, as
// the server sends it) on the
// same keys (HMGET of the user record, SMEMBERS of its groups, HMGET of
// each of those groups, SMEMBERS of its roles, HGETALL of the role
// mappings, GET of the default role: the commands of redisstore's
// UserContext script, see floorScript), on net/http's ServeMux and
// go-redis with their defaults, and then a canned body: the bytes the real server returned for
// one of the users. No authentication logic (a request without an
// Authorization header is refused, nothing else is checked), decoding,
// rendering, JSON, logging or metrics. Driven like the get phase (same
// generator, connections, CPU layout and duration), it shows what this
// stack reaches on this machine before the server does any work of its
// own: the floor under the server's cost per request and the ceiling above
// its throughput, measured rather than assumed.
const floorCommand = "__floor-server"

// floorScript is the shape of redisstore's UserContext script for one user
// with the user (its luaUserContext; this module does not import the
// server's): KEYS roles:mappings, roles:default; ARGV the tenant's key
// base, the user id, then the user's and the group's record fields, each
// list preceded by its length. It returns false for no such user, else the
// replies of the same commands in the same order, flattened into one string
// as redisstore's scripts flatten theirs (length-prefixed strings and
// lists, one bulk reply for go-redis to read).
var floorScript = redis.NewScript(`
local b, id = ARGV[1], ARGV[2]
local n = tonumber(ARGV[3])
local uf = {unpack(ARGV, 4, 3 + n)}
local m = tonumber(ARGV[4 + n])
local gf = {unpack(ARGV, 5 + n, 4 + n + m)}
local u = redis.call('HMGET', b .. 'user:' .. id, unpack(uf))
local mo = redis.call('SMEMBERS', b .. 'memberof:' .. id)
local groups = {}
for _, g in ipairs(mo) do
  local v = redis.call('HMGET', b .. 'group:' .. g, unpack(gf))
  if v[1] then
    groups[#groups + 1] = g
    groups[#groups + 1] = v
  end
end
local roles = redis.call('SMEMBERS', b .. 'roles:user:' .. id)
if not u[1] then return false end
local r = {{u}, {mo}, redis.call('HGETALL', KEYS[1]), redis.call('GET', KEYS[2]), {roles}, groups}
local o = {}
local function put(s)
  if s then o[#o + 1] = #s; o[#o + 1] = ':'; o[#o + 1] = s else o[#o + 1] = '-' end
end
local function putl(l)
  o[#o + 1] = #l; o[#o + 1] = '*'
  for _, s in ipairs(l) do put(s) end
end
local function putll(l)
  o[#o + 1] = #l; o[#o + 1] = '*'
  for _, x in ipairs(l) do putl(x) end
end
putll(r[1]); putll(r[2]); putl(r[3]); put(r[4]); putll(r[5])
o[#o + 1] = #groups / 2; o[#o + 1] = '*'
for i = 1, #groups, 2 do put(groups[i]); putl(groups[i + 1]) end
return table.concat(o)
`)

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
	groupFields := []string{"doc", "origin", "created", "lm", "v", "okta"}
	keys := []string{f.keyBase + "roles:mappings", f.keyBase + "roles:default"}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /scim/v2/Users/{id}", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if r.Header.Get("Authorization") == "" {
			http.Error(w, "no token", http.StatusUnauthorized)
			return
		}
		id := r.PathValue("id")
		args := make([]any, 0, 4+len(userFields)+len(groupFields))
		args = append(args, f.keyBase, id, len(userFields))
		for _, x := range userFields {
			args = append(args, x)
		}
		args = append(args, len(groupFields))
		for _, x := range groupFields {
			args = append(args, x)
		}
		err := floorScript.RunRO(ctx, rc, keys, args...).Err()
		if errors.Is(err, redis.Nil) {
			http.Error(w, "no such user", http.StatusNotFound)
			return
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
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

// floorRounds compares the real server's GET with the stack floor's in
// interleaved rounds (--rounds; ABBA: get, floor, floor, get, ...), each
// side driven alone for --duration ÷ --rounds per round while the other
// idles on the same CPU (layout.Server), and returns the two sums as rows:
// "get (floor rounds)", the real server, and "get (stack floor)". Drift of
// the VM's speed during the comparison hits both sides alike, which two
// phases of --duration one after the other do not (the get phase stays,
// measured alone before). The floor is warmed up (connections, its Redis
// pool, the script cache) before the first round; the real server's CPU
// profile, if any, is not taken during the rounds.
func (b *bench) floorRounds(ctx context.Context, dir string, f floorFlags) ([]*phaseResult, error) {
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
	defer func() { b.c, b.serverPid, b.prof = realClient, realPid, realProf }()
	b.prof = nil
	getOp := func(ctx context.Context, w int, r *rand.Rand, n int) outcome {
		return is(http.StatusOK)(b.c.do(ctx, http.MethodGet, "/Users/"+b.pick(r).id, nil, false))
	}
	b.c = fc
	if warm := drive(ctx, b.opt.conns, time.Time{}, 20*b.opt.conns, b.opt.seed^0xf100, getOp); warm.ok == 0 {
		return nil, fmt.Errorf("floor: warm-up: no request succeeded (%s; %s)", warm.errors, warm.firstError)
	}
	rounds := b.opt.rounds
	slice := b.opt.duration / time.Duration(rounds)
	var server, floor []*phaseResult
	for round := range rounds {
		order := []bool{false, true} // false: the real server, true: the floor
		if round%2 == 1 {
			order = []bool{true, false}
		}
		for _, onFloor := range order {
			name := fmt.Sprintf("get-server-r%d", round)
			b.c, b.serverPid = realClient, realPid
			if onFloor {
				name = fmt.Sprintf("get-floor-r%d", round)
				b.c, b.serverPid = fc, c.pid()
			}
			p, err := b.measure(ctx, phaseSpec{name: name, duration: slice, op: getOp})
			if err != nil {
				return nil, err
			}
			if onFloor {
				floor = append(floor, p)
			} else {
				server = append(server, p)
			}
		}
	}
	return []*phaseResult{
		mergePhases(floorServerPhaseName, fmt.Sprintf("GET /Users/{id} on the real server, in %d rounds interleaved with the stack floor's (ABBA)", rounds), server),
		mergePhases(floorPhaseName, fmt.Sprintf("GET /Users/{id} on the stack floor: net/http + go-redis, one round trip (the user-context script), a canned body of get's size; %d rounds interleaved with the real server's (ABBA)", rounds), floor),
	}, nil
}

// floorPhaseName is the floor's row in the report (its interleaved rounds);
// floorServerPhaseName the real server's row of the same rounds.
const (
	floorPhaseName       = "get (stack floor)"
	floorServerPhaseName = "get (floor rounds)"
)
