package clusters

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"sync"

	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
)

// Proxy mode (ProcessOptions.DelayLinks): the kernel here cannot delay (no
// netem qdisc), so when a slowlink is scheduled every route link of a
// docker cluster goes through a userspace proxy on the host, a Link, as
// with the process backend, and no kernel rule is used at all: a rule keyed
// on a peer's address would not match traffic that comes from a proxy.
//
// The proxy from -> to listens on the run network's gateway address (the
// host's side of the bridge, which the containers reach) and forwards to
// to's container address on the route port, looked up at each dial: the
// engine may give a container another address when it restarts. Node
// from's config lists its routes as its proxies' addresses, and every node
// advertises a sink (which closes whatever connects), so no node learns a
// peer's own address from gossip and routes around a cut (see
// ProcessCluster.configure).

// dockerProxies is a docker cluster's route links in proxy mode.
type dockerProxies struct {
	gw    netip.Addr
	links map[[2]string]*Link // [from, to] -> proxy
	sink  *sink

	mu sync.Mutex
	ip map[string]netip.Addr // node -> its address at its last start
}

// newDockerProxies makes a proxy for every directed link between names and
// the sink, all listening on the network nw's gateway address.
func newDockerProxies(ctx context.Context, cli *testcontainers.DockerClient, nw string, names []string) (*dockerProxies, error) {
	r, err := cli.NetworkInspect(ctx, nw, client.NetworkInspectOptions{})
	if err != nil {
		return nil, fmt.Errorf("inspect network %s: %w", nw, err)
	}
	p := &dockerProxies{links: map[[2]string]*Link{}, ip: map[string]netip.Addr{}}
	for _, c := range r.Network.IPAM.Config {
		if c.Gateway.Is4() {
			p.gw = c.Gateway
			break
		}
	}
	if !p.gw.IsValid() {
		return nil, fmt.Errorf("network %s has no IPv4 gateway for the link proxies to listen on", nw)
	}
	listen := net.JoinHostPort(p.gw.String(), "0")
	if p.sink, err = newSinkOn(listen); err != nil {
		return nil, err
	}
	for _, from := range names {
		for _, to := range names {
			if from == to {
				continue
			}
			l, err := NewLinkFunc(from, to, listen, func() (string, error) { return p.target(to) })
			if err != nil {
				p.close()
				return nil, fmt.Errorf("link %s->%s: %w", from, to, err)
			}
			p.links[[2]string{from, to}] = l
		}
	}
	return p, nil
}

// target is node to's route address now.
func (p *dockerProxies) target(to string) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	ip, ok := p.ip[to]
	if !ok {
		return "", fmt.Errorf("%s has not started", to)
	}
	return net.JoinHostPort(ip.String(), strconv.Itoa(dockerRoutePort)), nil
}

// started records the address of a node that has just started.
func (p *dockerProxies) started(name string, ip netip.Addr) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ip[name] = ip
}

// routes are node from's routes: its proxies to every peer.
func (p *dockerProxies) routes(from string, names []string) []string {
	var rs []string
	for _, to := range names {
		if l := p.links[[2]string{from, to}]; l != nil {
			rs = append(rs, "nats-route://"+l.Addr())
		}
	}
	return rs
}

// recover heals every link and takes delays and rate limits away.
func (p *dockerProxies) recover() {
	for _, l := range p.links {
		l.HealAll()
		l.SetDelay(0)
		l.SetRate(0)
	}
}

func (p *dockerProxies) close() {
	for _, l := range p.links {
		l.Close()
	}
	if p.sink != nil {
		p.sink.close()
	}
}
