package clusters

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strings"
	"time"
)

// NodeConfig is what a node's nats-server config file says.
type NodeConfig struct {
	Name, Cluster                   string // Cluster "" = standalone (no cluster block)
	ClientPort, HTTPPort, RoutePort int
	StoreDir                        string
	SyncInterval                    string // "" = server default
	Routes                          []string
	Advertise                       string // cluster advertise address; "" = the listen address
	RoutePingInterval               string // cluster ping_interval; "" = server default
	RoutePingMax                    int
	// Host is the address every port listens on; "" = 127.0.0.1. The
	// docker backend listens on 0.0.0.0 inside the container.
	Host string
	// NoAdvertise keeps the server from telling clients its other client
	// URLs: container addresses a client outside cannot reach.
	NoAdvertise bool
	// SystemUser adds a user of the system account ($SYS; see SysUser),
	// which the membership fault's $JS.API.SERVER.REMOVE needs. Clients
	// without credentials still land in the global account ($G), so the
	// stores keep their paths: nats-server adds a no-auth user for $G when
	// the system account is the only one configured.
	SystemUser bool
	// Streaming, when set, makes the node a NATS Streaming server (see
	// stan.go) clustered with Peers (the other nodes' names), in place of
	// JetStream.
	Streaming *STANOptions
	Peers     []string
}

// Render writes the config in nats-server's format, so a real nats-server
// binary of any version can run it too.
func (nc NodeConfig) Render() string {
	var b strings.Builder
	host := cmp.Or(nc.Host, "127.0.0.1")
	fmt.Fprintf(&b, "server_name: %s\n", nc.Name)
	fmt.Fprintf(&b, "listen: %s:%d\n", host, nc.ClientPort)
	fmt.Fprintf(&b, "http: %s:%d\n", host, nc.HTTPPort)
	fmt.Fprintf(&b, "logtime: true\n")
	// Lame duck (the lame-duck fault): the shortest duration the server
	// accepts (its default is 2 minutes), after a short grace period.
	fmt.Fprintf(&b, "lame_duck_duration: %q\nlame_duck_grace_period: %q\n", LameDuckDuration.String(), LameDuckGrace.String())
	if nc.SystemUser {
		fmt.Fprintf(&b, "accounts {\n  $SYS { users: [{user: %s, password: %q}] }\n}\n", SysUser, sysPasswordHash)
	}
	if nc.Streaming != nil {
		nc.renderStreaming(&b)
	} else {
		fmt.Fprintf(&b, "jetstream {\n  store_dir: %q\n", nc.StoreDir)
		if nc.SyncInterval != "" {
			fmt.Fprintf(&b, "  sync_interval: %s\n", nc.SyncInterval)
		}
		fmt.Fprintf(&b, "}\n")
	}
	if nc.Cluster == "" {
		return b.String() // standalone
	}
	fmt.Fprintf(&b, "cluster {\n  name: %s\n  listen: %s:%d\n", nc.Cluster, host, nc.RoutePort)
	if nc.Advertise != "" {
		fmt.Fprintf(&b, "  advertise: %q\n", nc.Advertise)
	}
	if nc.NoAdvertise {
		fmt.Fprintf(&b, "  no_advertise: true\n")
	}
	if nc.RoutePingInterval != "" {
		fmt.Fprintf(&b, "  ping_interval: %q\n  ping_max: %d\n", nc.RoutePingInterval, nc.RoutePingMax)
	}
	fmt.Fprintf(&b, "  routes: [\n")
	for _, r := range nc.Routes {
		fmt.Fprintf(&b, "    %s\n", r)
	}
	fmt.Fprintf(&b, "  ]\n}\n")
	return b.String()
}

// LameDuckDuration and LameDuckGrace are every node's lame duck settings:
// in lame duck mode a server stops taking clients, hands its Raft
// leaderships over and stops JetStream at once, waits LameDuckGrace, then
// closes its clients spread over the rest of LameDuckDuration (30 s is the
// least nats-server accepts), and exits.
const (
	LameDuckDuration = 30 * time.Second
	LameDuckGrace    = 2 * time.Second
)

// writeConfigFile writes a node's config file.
func writeConfigFile(node, path string, conf NodeConfig) error {
	if err := os.WriteFile(path, []byte(conf.Render()), 0o644); err != nil {
		return fmt.Errorf("node %s: write config: %w", node, err)
	}
	return nil
}

// FreePorts returns n distinct free TCP ports on 127.0.0.1, chosen below
// the kernel's ephemeral range: a port the kernel handed out as free (":0")
// can be taken as the source port of any outgoing connection before the node
// binds it, which made nodes fail with "address already in use".
func FreePorts(n int) ([]int, error) {
	lo, hi := portRange()
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	start := lo + rand.IntN(hi-lo)
	for p := start; len(ports) < n; {
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err == nil {
			ls = append(ls, l)
			ports = append(ports, p)
		}
		if p++; p >= hi {
			p = lo
		}
		if p == start {
			return nil, fmt.Errorf("no %d free ports in 127.0.0.1:%d-%d", n, lo, hi)
		}
	}
	return ports, nil
}

// portRange is where FreePorts looks: from 10000 up to the start of the
// ephemeral range (/proc/sys/net/ipv4/ip_local_port_range).
func portRange() (lo, hi int) {
	lo, hi = 10000, 32768
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		var a, z int
		if _, err := fmt.Sscan(string(b), &a, &z); err == nil && a > lo+1000 {
			hi = a
		}
	}
	return lo, hi
}
