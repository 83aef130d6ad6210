package testredis

import (
	"context"
	"slices"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"
)

// Trips is a go-redis hook (add it with Client.AddHook) that counts the
// round trips made through a client: one per command sent alone, one per
// pipeline (an EVALSHA, a MULTI/EXEC or a pipeline of many commands is one).
// Connection handshakes (HELLO, AUTH, CLIENT, SELECT: go-redis passes them
// through hooks when it dials, the pub/sub subscriber's too) are not
// counted; pub/sub messages and pings do not pass hooks. Safe for
// concurrent use.
type Trips struct {
	// Skip, if set, leaves out the round trips it returns true for (e.g.
	// those that only read the global token records, which a cache serves).
	Skip func(cmds []redis.Cmder) bool

	mu   sync.Mutex
	n    int64
	sent []string
}

// N returns how many round trips were counted since the last Reset.
func (c *Trips) N() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// Reset returns the round trips counted since the last Reset, each as its
// command names joined by "+" ("hmget", "evalsha", "hmget+smembers"), and
// starts counting from zero.
func (c *Trips) Reset() (int, []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, sent := c.n, c.sent
	c.n, c.sent = 0, nil
	return int(n), sent
}

// DialHook implements redis.Hook.
func (c *Trips) DialHook(next redis.DialHook) redis.DialHook { return next }

// ProcessHook implements redis.Hook: one command, one round trip.
func (c *Trips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		c.count([]redis.Cmder{cmd})
		return next(ctx, cmd)
	}
}

// ProcessPipelineHook implements redis.Hook: one pipeline, one round trip.
func (c *Trips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		c.count(cmds)
		return next(ctx, cmds)
	}
}

func (c *Trips) count(cmds []redis.Cmder) {
	if slices.ContainsFunc(cmds, handshake) || (c.Skip != nil && c.Skip(cmds)) {
		return
	}
	names := make([]string, len(cmds))
	for i, cmd := range cmds {
		names[i] = cmd.Name()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	c.sent = append(c.sent, strings.Join(names, "+"))
}

// handshake reports whether cmd belongs to setting up a connection.
func handshake(cmd redis.Cmder) bool {
	switch cmd.Name() {
	case "hello", "auth", "client", "select":
		return true
	}
	return false
}
