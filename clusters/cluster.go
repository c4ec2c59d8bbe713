// Package clusters starts and controls the NATS clusters a run tests.
// The process backend (the default) runs each node as a child process of
// jetstorm ("jetstorm node --config FILE"), so a node can be SIGKILLed,
// paused and restarted like a real server.
package clusters

import (
	"context"
	"syscall"
)

// Node is one nats-server of a cluster.
type Node interface {
	Name() string
	ClientURL() string  // nats://127.0.0.1:port
	MonitorURL() string // http://127.0.0.1:port
	Dir() string        // the node's directory: config, log, store
	LogPath() string
	Running() bool
	Pid() int // 0 when not running

	Start(ctx context.Context) error // start (or restart with the same config and store); waits until it accepts clients
	Kill() error                     // SIGKILL and wait for the exit
	Stop(ctx context.Context) error  // SIGTERM, SIGKILL if it does not exit in time
	Signal(sig syscall.Signal) error // any signal
	Pause() error                    // SIGSTOP
	Resume() error                   // SIGCONT
	Paused() bool
	// SetSyncInterval changes the jetstream sync_interval for the node's
	// next start (config value: "always", a quoted duration, "" = default).
	SetSyncInterval(v string) error
}

// Cluster is a set of nodes routed to each other.
type Cluster interface {
	Name() string
	Nodes() []Node
	// WaitHealthy returns when every node's /healthz reports JetStream
	// current (meta group and all assets), or ctx ends.
	WaitHealthy(ctx context.Context) error
	// Recover undoes every fault: heal links, resume paused nodes, start
	// stopped ones. It does not wait for health.
	Recover(ctx context.Context) error
	// Close kills everything the cluster started. Idempotent.
	Close(ctx context.Context) error
}

// Node looks a node up by name.
func NodeByName(c Cluster, name string) Node {
	for _, n := range c.Nodes() {
		if n.Name() == name {
			return n
		}
	}
	return nil
}

// ClientURLs lists every node's client URL.
func ClientURLs(c Cluster) []string {
	var urls []string
	for _, n := range c.Nodes() {
		urls = append(urls, n.ClientURL())
	}
	return urls
}

// Network is a cluster whose route links jetstorm controls.
type Network interface {
	// Link is the proxy on the route link from -> to, nil when links are not proxied.
	Link(from, to string) *Link
}
