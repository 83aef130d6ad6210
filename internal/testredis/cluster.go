package testredis

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// clusterTimeout bounds how long a new cluster may take to reach
// cluster_state:ok on every node.
const clusterTimeout = 30 * time.Second

// Cluster is a Redis Cluster of master-only redis-server processes started by
// StartCluster. Every node is a *Server (Stop, Restart, Pause work per node;
// a restarted node comes back empty and outside the cluster).
type Cluster struct {
	// Nodes are the masters in slot order: Nodes[i] owns the i-th equal
	// share of the 16384 hash slots.
	Nodes []*Server
}

// Addrs returns the "127.0.0.1:port" addresses of the nodes, usable as the
// seed list of a cluster client.
func (c *Cluster) Addrs() []string {
	out := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		out[i] = n.Addr()
	}
	return out
}

// StartCluster starts a Redis Cluster of masters (>= 1) master nodes on free
// loopback ports, each a private server as from Start (own temporary
// directory, no persistence, stopped by t.Cleanup and, on Linux, killed by the
// kernel if the test binary dies) with cluster-enabled yes plus args. It
// splits the hash slots evenly (CLUSTER ADDSLOTSRANGE), gives every node its
// own config epoch, joins them (CLUSTER MEET) and waits until every node
// reports cluster_state:ok and knows all the others. It needs only
// redis-server (not redis-cli). It fails the test if the cluster does not
// form within 30 s.
func StartCluster(t testing.TB, masters int, args ...string) *Cluster {
	t.Helper()
	if masters < 1 {
		t.Fatalf("testredis: StartCluster needs at least one master, got %d", masters)
	}
	c := &Cluster{}
	nodeArgs := append([]string{"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"}, args...)
	for range masters {
		c.Nodes = append(c.Nodes, Start(t, nodeArgs...))
	}
	const slots = 16384
	for i, n := range c.Nodes {
		lo, hi := i*slots/masters, (i+1)*slots/masters-1
		if _, err := do(n.Addr(), "CLUSTER", "ADDSLOTSRANGE", strconv.Itoa(lo), strconv.Itoa(hi)); err != nil {
			t.Fatalf("testredis: CLUSTER ADDSLOTSRANGE on %s: %v", n.Addr(), err)
		}
		// Distinct epochs up front, as redis-cli --cluster create does, so
		// the nodes need not resolve epoch collisions after meeting.
		if _, err := do(n.Addr(), "CLUSTER", "SET-CONFIG-EPOCH", strconv.Itoa(i+1)); err != nil {
			t.Fatalf("testredis: CLUSTER SET-CONFIG-EPOCH on %s: %v", n.Addr(), err)
		}
	}
	for _, n := range c.Nodes[1:] {
		if _, err := do(c.Nodes[0].Addr(), "CLUSTER", "MEET", "127.0.0.1", strconv.Itoa(n.port)); err != nil {
			t.Fatalf("testredis: CLUSTER MEET %s: %v", n.Addr(), err)
		}
	}
	if err := c.waitOK(clusterTimeout); err != nil {
		t.Fatalf("testredis: %v", err)
	}
	return c
}

// waitOK waits until every node says cluster_state:ok and knows every node.
func (c *Cluster) waitOK(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	want := "cluster_known_nodes:" + strconv.Itoa(len(c.Nodes))
	for {
		var last string
		ready := true
		for _, n := range c.Nodes {
			v, err := do(n.Addr(), "CLUSTER", "INFO")
			info, _ := v.(string)
			if err != nil || !strings.Contains(info, "cluster_state:ok") || !strings.Contains(info, want) {
				ready = false
				last = fmt.Sprintf("%s: %v %s", n.Addr(), err, info)
				break
			}
		}
		if ready {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("cluster not ok within %v: %s", timeout, last)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// StartSentinel starts a Redis Sentinel (redis-server --sentinel) on a free
// loopback port that monitors master under the name masterName with quorum
// 1, down-after-milliseconds 1000 and failover-timeout 5000, so that one
// sentinel alone can fail over in a test. Like Start, it has its own
// temporary directory (holding the sentinel.conf it rewrites), is stopped by
// t.Cleanup and, on Linux, dies with the test binary. Clients find the
// master through it (redis.NewFailoverClient with SentinelAddrs
// {s.Addr()}). It fails the test if the sentinel does not start.
func StartSentinel(t testing.TB, masterName string, master *Server) *Server {
	t.Helper()
	dir := t.TempDir()
	conf := filepath.Join(dir, "sentinel.conf")
	body := fmt.Sprintf(`sentinel monitor %[1]s 127.0.0.1 %[2]d 1
sentinel down-after-milliseconds %[1]s 1000
sentinel failover-timeout %[1]s 5000
sentinel parallel-syncs %[1]s 1
`, masterName, master.port)
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		t.Fatalf("testredis: write sentinel.conf: %v", err)
	}
	s, err := startConf(dir, nil, conf)
	if err != nil {
		t.Fatalf("testredis: sentinel: %v", err)
	}
	t.Cleanup(s.Stop)
	return s
}

// do sends one command to addr on a fresh connection and returns the reply:
// a string for simple strings, bulk strings and integers, []any for arrays,
// nil for a null reply, and an error for an error reply.
func do(addr string, args ...string) (any, error) {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := c.Write([]byte(b.String())); err != nil {
		return nil, err
	}
	return readReply(bufio.NewReader(c))
}

// readReply reads one RESP2 reply.
func readReply(r *bufio.Reader) (any, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	line = strings.TrimSuffix(line, "\r\n")
	if line == "" {
		return nil, errors.New("empty reply line")
	}
	switch line[0] {
	case '+', ':':
		return line[1:], nil
	case '-':
		return nil, errors.New(line[1:])
	case '$':
		n, err := strconv.Atoi(line[1:])
		if err != nil || n < 0 {
			return nil, err
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, err
		}
		return string(buf[:n]), nil
	case '*':
		n, err := strconv.Atoi(line[1:])
		if err != nil || n < 0 {
			return nil, err
		}
		out := make([]any, n)
		for i := range out {
			if out[i], err = readReply(r); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("unexpected reply %q", line)
}
