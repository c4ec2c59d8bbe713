// Package clusters starts and controls the NATS clusters a run tests.
// The process backend (the default) runs each node as a child process of
// jetstorm ("jetstorm node --config FILE"), so a node can be SIGKILLed,
// paused and restarted like a real server. Start (start.go) is the one way
// a cluster of any backend (Backends) is started.
package clusters

import (
	"context"
	"fmt"
	"syscall"
	"time"
)

// Node is one nats-server of a cluster.
type Node interface {
	Name() string // the node's name in jetstorm: n1, n2, ... (targets, logs, dirs)
	// ServerName is the node's server_name: its Name until a membership
	// fault replaces it (SetServerName) with a new peer of a new name.
	ServerName() string
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
	// SetServerBinary changes the nats-server executable for the node's
	// next start ("": the embedded server; see ServerBinary): the upgrade
	// fault. Process nodes only.
	SetServerBinary(bin string) error
	// SetServerName changes the node's server_name for its next start:
	// the membership fault brings a wiped node back as a new peer.
	SetServerName(name string) error
	// Store is the node's JetStream store, for faults that damage its
	// files; nil when jetstorm cannot reach it (external nodes).
	Store() Store
}

// Store is a node's JetStream store directory, seen as files by paths
// relative to it ("jetstream/$G/streams/S/msgs/1.blk"). The process backend
// serves it from the host directory (through powerfs when mounted, so
// changes are seen the way the server sees the disk); another backend may
// reach it another way. Writes are synced before they return.
type Store interface {
	// Files lists the non-empty regular files, sorted.
	Files() ([]string, error)
	Size(name string) (int64, error)
	ReadFile(name string) ([]byte, error)
	ReadAt(name string, b []byte, off int64) error
	WriteAt(name string, b []byte, off int64) error
	Truncate(name string, size int64) error
	// Wipe removes everything in the store (the node must be stopped).
	Wipe() error
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

// NodeByName looks a node up by its server_name (what the server's own
// reports call it) or else its name.
func NodeByName(c Cluster, name string) Node {
	// Server names first: an external cluster's servers may be called
	// n1.. in another order than jetstorm's node names (its URLs').
	for _, n := range c.Nodes() {
		if n.ServerName() == name {
			return n
		}
	}
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
	// Link controls the route link from -> to, nil when links are not proxied.
	Link(from, to string) LinkControl
	// ClientLink controls the link between a node and its clients, nil
	// when client links are not proxied.
	ClientLink(node string) LinkControl
}

// LinkControl is one direction of a route link between two nodes, as
// faults drive it. *Link (a userspace proxy) is the process backend's.
type LinkControl interface {
	Cut()                      // stop passing bytes, silently; nests (see Link.Cut)
	Heal()                     // undo one Cut
	HealAll()                  // undo every Cut
	IsCut() bool               // whether the link is cut now
	SetDelay(d time.Duration)  // added one-way latency; 0: none
	SetRate(bytesPerSec int64) // bandwidth limit; 0: none
	Stats() LinkStats
}

// NodeNames are the names a backend gives the nodes of an n-node cluster,
// known before the cluster exists (to check fault targets). Every backend
// so far names them n1..nN.
func NodeNames(backend string, n int) []string {
	var names []string
	for i := 1; i <= n; i++ {
		names = append(names, fmt.Sprintf("n%d", i))
	}
	return names
}

// Both local backends control their links.
var (
	_ Network = (*ProcessCluster)(nil)
	_ Network = (*DockerCluster)(nil)
)
