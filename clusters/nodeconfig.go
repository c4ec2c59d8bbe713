package clusters

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strings"
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
}

// Render writes the config in nats-server's format, so a real nats-server
// binary of any version can run it too.
func (nc NodeConfig) Render() string {
	var b strings.Builder
	fmt.Fprintf(&b, "server_name: %s\n", nc.Name)
	fmt.Fprintf(&b, "listen: 127.0.0.1:%d\n", nc.ClientPort)
	fmt.Fprintf(&b, "http: 127.0.0.1:%d\n", nc.HTTPPort)
	fmt.Fprintf(&b, "logtime: true\n")
	fmt.Fprintf(&b, "jetstream {\n  store_dir: %q\n", nc.StoreDir)
	if nc.SyncInterval != "" {
		fmt.Fprintf(&b, "  sync_interval: %s\n", nc.SyncInterval)
	}
	fmt.Fprintf(&b, "}\n")
	if nc.Cluster == "" {
		return b.String() // standalone
	}
	fmt.Fprintf(&b, "cluster {\n  name: %s\n  listen: 127.0.0.1:%d\n", nc.Cluster, nc.RoutePort)
	if nc.Advertise != "" {
		fmt.Fprintf(&b, "  advertise: %q\n", nc.Advertise)
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
